// ratel.QDense with integer activations (x_type u8, s8, s16) on the quantized GEMM
// (kernels/qgemm.h): the int8_asym, int8_asym_w_sym, int8_sym, uint8_asym and int16_sym schemes.
// The weights are packed once at load, with their scales and zero points folded into the packed
// column terms, so the original W, W_scale and W_zero_point are never read again.
//
// Per run: X's computed rows are quantized into the session's workspace with
// ops::quant::quantize_value itself (not a re-derivation of it), so xq is the reference's xq;
// the GEMM's integer accumulator is exact (mod 2^32, as the reference's) and its kFloat output
// stage performs the reference's float operations in the reference's order (scale, bias,
// residual). The result is therefore bit-identical to ops/quantized.cpp except for GELU: erf
// GELU runs in the GEMM epilogue and the tanh form after it (gelu_tanh_rows), both approximated
// as for ratel.Dense.
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "kernels/qgemm.h"
#include "ops/quant_math.h"
#include "runtime/kernels/fast_kernels.h"

namespace ratel::runtime {

namespace {

// Quantizing costs a few vector operations per element of X, little next to the GEMM's K
// multiply-adds per output: split it over the pool only when there is enough of it to pay for
// waking the workers.
constexpr int64_t kMinParallelQuantizeElements = int64_t{1} << 15;

struct XQuant {
  kernels::QType type = kernels::QType::kU8;
  float scale = 1.0f;
  int32_t zero_point = 0;
  int32_t qmin = 0, qmax = 0;
  const float* smooth = nullptr;  // X_smooth[k] (SmoothQuant), or none
};

size_t element_size(kernels::QType t) { return t == kernels::QType::kS16 ? 2 : 1; }

// rows x k floats -> quantized elements of the activation type, row-major, same stride.
template <typename T>
void quantize_rows(const float* x, T* q, int64_t begin, int64_t end, size_t k, const XQuant& p) {
  // Locals: a store through T* (a char type for u8/s8) may alias p, which would make the compiler
  // reload p's fields after every element and keep the loops scalar.
  const float scale = p.scale;
  const int32_t zero_point = p.zero_point, qmin = p.qmin, qmax = p.qmax;
  const float* const smooth = p.smooth;
  for (int64_t r = begin; r < end; ++r) {
    const float* xr = x + static_cast<size_t>(r) * k;
    T* qr = q + static_cast<size_t>(r) * k;
    // quantize_value's result lies in [qmin, qmax], within T's range: the cast is exact. The
    // smoothing product is the reference's one float multiplication.
    if (smooth) {
      for (size_t i = 0; i < k; ++i) {
        qr[i] = static_cast<T>(ops::quant::quantize_value(xr[i] * smooth[i], scale, zero_point, qmin, qmax));
      }
    } else {
      for (size_t i = 0; i < k; ++i) {
        qr[i] = static_cast<T>(ops::quant::quantize_value(xr[i], scale, zero_point, qmin, qmax));
      }
    }
  }
}

class QDenseIntKernel : public Kernel {
 public:
  QDenseIntKernel(kernels::PackedQGemmB weight, const XQuant& xq, std::vector<float> smooth, size_t max_rows,
                  kernels::Activation activation, bool gelu_tanh, std::string name)
      : weight_(std::move(weight)), xq_(xq), smooth_(std::move(smooth)), max_rows_(max_rows),
        activation_(activation), gelu_tanh_(gelu_tanh), name_(std::move(name)) {
    xq_.smooth = smooth_.empty() ? nullptr : smooth_.data();
  }

  Status run(const ExecContext& ctx, std::span<const Tensor* const> in,
             std::span<Tensor* const> out) const override {
    const Tensor& x = *in[0];
    const size_t k = weight_.view().k, n = weight_.view().n;
    const size_t m = static_cast<size_t>(ctx.rows_to_compute(x.numel() / static_cast<int64_t>(k)));
    if (m == 0) return Status::Ok();
    const size_t need = m * k * element_size(xq_.type);
    if (ctx.workspace == nullptr || ctx.workspace_size < need) {
      return internal_error("quantized dense needs {} bytes of workspace for {} rows, the session gave {}",
                            need, m, ctx.workspace_size);
    }
    quantize(ctx, x.data<float>(), ctx.workspace, static_cast<int64_t>(m), k);

    kernels::QGemmA a;
    a.type = xq_.type;
    a.data = ctx.workspace;
    a.stride = k;
    a.scale = xq_.scale;
    a.zero_point = xq_.zero_point;
    kernels::QGemmEpilogue epi;
    epi.output = kernels::QOutput::kFloat;
    epi.bias = in.size() > 4 && in[4] ? in[4]->data<float>() : nullptr;
    epi.activation = activation_;
    const float* residual = in.size() > 5 && in[5] ? in[5]->data<float>() : nullptr;
    // The tanh GELU comes after the GEMM, and the residual after it.
    if (residual && !gelu_tanh_) {
      epi.residual = residual;
      epi.residual_stride = n;
    }
    float* y = out[0]->mutable_data<float>();
    kernels::qgemm_packed(m, a, weight_.view(), y, n, epi, ctx.pool);
    if (gelu_tanh_) gelu_tanh_rows(ctx, y, m, n, residual);
    return Status::Ok();
  }

  // The quantized X of the largest run (every row), which does not depend on the thread count.
  size_t workspace_bytes(int /*threads*/) const override {
    return max_rows_ * weight_.view().k * element_size(xq_.type);
  }
  const char* implementation() const override { return name_.c_str(); }
  // W, W_scale and W_zero_point live on in the packed weight; the bias is read at run time.
  bool keeps_own_copy_of_input(size_t i) const override { return (i >= 1 && i <= 3) || i == 6; }

 private:
  void quantize(const ExecContext& ctx, const float* x, void* q, int64_t m, size_t k) const {
    cpu::ThreadPool* pool = m * static_cast<int64_t>(k) >= kMinParallelQuantizeElements ? ctx.pool : nullptr;
    cpu::parallel_for(pool, m, [&](int64_t begin, int64_t end, int) {
      switch (xq_.type) {
        case kernels::QType::kU8: quantize_rows(x, static_cast<uint8_t*>(q), begin, end, k, xq_); break;
        case kernels::QType::kS8: quantize_rows(x, static_cast<int8_t*>(q), begin, end, k, xq_); break;
        case kernels::QType::kS16: quantize_rows(x, static_cast<int16_t*>(q), begin, end, k, xq_); break;
      }
    });
  }

  kernels::PackedQGemmB weight_;
  XQuant xq_;
  std::vector<float> smooth_;  // X_smooth, copied: the node's constant may be released
  size_t max_rows_;
  kernels::Activation activation_;
  bool gelu_tanh_;
  std::string name_;
};

bool static_shape(const ir::Value* v) {
  if (!v || !v->has_shape) return false;
  for (int64_t d : v->shape) {
    if (d < 0) return false;
  }
  return true;
}

// The activation quantization of the node's attributes, or nothing when they are not a valid
// integer form (f32 / bf16 activations; bad parameters, which the reference kernel reports).
std::optional<XQuant> read_x_quant(const ir::Node& node) {
  const Result<std::string> x_type = node.attrs.get_string("x_type", "");
  if (!x_type.ok()) return std::nullopt;
  XQuant p;
  DType storage;
  if (*x_type == "u8") {
    p.type = kernels::QType::kU8;
    storage = DType::kU8;
  } else if (*x_type == "s8") {
    p.type = kernels::QType::kS8;
    storage = DType::kI8;
  } else if (*x_type == "s16") {
    p.type = kernels::QType::kS16;
    storage = DType::kI16;
  } else {
    return std::nullopt;
  }
  const ops::quant::QRange r = ops::quant::storage_range(storage);
  auto scale = node.attrs.get_float("x_scale", 0.0f);
  auto zp = node.attrs.get_int("x_zero_point", 0);
  auto qmin = node.attrs.get_int("x_qmin", r.min);
  auto qmax = node.attrs.get_int("x_qmax", r.max);
  if (!scale.ok() || !zp.ok() || !qmin.ok() || !qmax.ok()) return std::nullopt;
  if (!(*scale > 0) || !std::isfinite(*scale) || *qmin < r.min || *qmax > r.max || *qmin > *qmax ||
      *zp < *qmin || *zp > *qmax || (p.type == kernels::QType::kS16 && *zp != 0)) {
    return std::nullopt;
  }
  p.scale = *scale;
  p.zero_point = static_cast<int32_t>(*zp);
  p.qmin = static_cast<int32_t>(*qmin);
  p.qmax = static_cast<int32_t>(*qmax);
  return p;
}

const char* qtype_name(kernels::QType t) {
  switch (t) {
    case kernels::QType::kU8: return "u8";
    case kernels::QType::kS8: return "s8";
    case kernels::QType::kS16: return "s16";
  }
  return "?";
}

}  // namespace

Result<std::unique_ptr<Kernel>> make_qdense_int_kernel(const ir::Node& node) {
  return make_qdense_int_kernel_with(node, nullptr);
}

Result<std::unique_ptr<Kernel>> make_qdense_int_kernel_with(const ir::Node& node,
                                                            const kernels::QGemmUkernel* ukernel) {
  if (node.domain != "ratel" || node.op_type != "QDense" || !node.has_input(0) || !node.has_input(1)) {
    return std::unique_ptr<Kernel>();
  }
  const std::optional<XQuant> xq = read_x_quant(node);
  if (!xq) return std::unique_ptr<Kernel>();
  const ir::Value* x = node.inputs[0];
  const ir::Value* w = node.inputs[1];
  const ir::Value* scale = node.has_input(2) ? node.inputs[2] : nullptr;
  const ir::Value* zero = node.has_input(3) ? node.inputs[3] : nullptr;
  const ir::Value* smooth = node.has_input(6) ? node.inputs[6] : nullptr;
  // Packing needs the weights and their quantization parameters at load time.
  if (!w->is_constant() || !scale || !scale->is_constant() || (zero && !zero->is_constant()) ||
      (smooth && !smooth->is_constant())) {
    return std::unique_ptr<Kernel>();
  }
  if (!static_shape(x) || x->dtype != DType::kF32 || scale->dtype != DType::kF32 ||
      (zero && zero->dtype != DType::kI32) || w->shape.size() != 2 || x->shape.empty() ||
      x->shape.back() != w->shape[0]) {
    return std::unique_ptr<Kernel>();  // the reference kernel reports the error
  }
  kernels::QGemmWeights qw;
  const bool int8_x = xq->type != kernels::QType::kS16;
  if (w->dtype == DType::kI8 && int8_x) {
    qw.type = kernels::QType::kS8;
  } else if (w->dtype == DType::kU8 && int8_x) {
    qw.type = kernels::QType::kU8;
  } else if (w->dtype == DType::kI16 && !int8_x) {
    qw.type = kernels::QType::kS16;
  } else {
    return std::unique_ptr<Kernel>();
  }
  const std::optional<DenseActivation> act = dense_activation(node);
  if (!act) return std::unique_ptr<Kernel>();
  const size_t k = static_cast<size_t>(w->shape[0]), n = static_cast<size_t>(w->shape[1]);
  if (k == 0 || n == 0) return std::unique_ptr<Kernel>();
  qw.data = w->constant.raw();
  qw.k = k;
  qw.n = n;
  qw.ldb = n;
  qw.scales = scale->constant.data<float>();
  qw.scale_count = static_cast<size_t>(scale->constant.numel());
  if (zero) {
    qw.zero_points = zero->constant.data<int32_t>();
    qw.zero_point_count = static_cast<size_t>(zero->constant.numel());
  }
  // The largest activation in the kernels' u8 domain (s8 is flipped to a + 128): 7-bit u8
  // activations let AVX2 use its vpmaddubsw kernel, which is exact only for them.
  const int a_u8_max = xq->type == kernels::QType::kU8 ? xq->qmax : 255;
  if (ukernel && ukernel->a_max_127 && a_u8_max > 127) {
    return invalid_argument("{}: kernel {} needs u8 activations <= 127, this layer's reach {}",
                            node.describe(), ukernel->name, a_u8_max);
  }
  Result<kernels::PackedQGemmB> packed =
      ukernel ? kernels::PackedQGemmB::pack(qw, *ukernel)
              : kernels::PackedQGemmB::pack(qw, cpu::active_isa(), a_u8_max);
  if (!packed.ok()) return packed.status().with_context(node.describe());
  const std::string name = std::string(qtype_name(xq->type)) + " x " + qtype_name(qw.type) + " qgemm (" +
                           packed->view().ukernel->name + ")";
  std::vector<float> smooth_factors;
  if (smooth) {
    if (smooth->dtype != DType::kF32 || smooth->constant.numel() != static_cast<int64_t>(k)) {
      return std::unique_ptr<Kernel>();  // the reference kernel reports the error
    }
    smooth_factors.assign(smooth->constant.data<float>(), smooth->constant.data<float>() + k);
  }
  const size_t max_rows = static_cast<size_t>(numel(x->shape)) / k;
  return std::unique_ptr<Kernel>(new QDenseIntKernel(std::move(packed).value(), *xq, std::move(smooth_factors),
                                                     max_rows, act->epilogue, act->gelu_tanh,
                                                     smooth ? name + ", smoothed" : name));
}

}  // namespace ratel::runtime
