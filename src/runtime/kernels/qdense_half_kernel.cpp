// ratel.QDense with f32 activations and half-size weights on the half-precision GEMM
// (kernels/hgemm.h): the float16 (fp16 weights), float16_w_int8 (int8 weights stored exactly as
// fp16, per-column scale after the sum) and bfloat16 (bf16 activations and weights) schemes. The
// weights are packed once at load; bias, GELU (erf) and residual run in the GEMM's epilogue, the
// tanh GELU right after it, as for ratel.Dense. Integer-activation QDense: qdense_int_kernel.cpp.
#include "kernels/hgemm.h"
#include "runtime/kernels/fast_kernels.h"

namespace ratel::runtime {

namespace {

class QDenseHalfKernel : public Kernel {
 public:
  QDenseHalfKernel(kernels::PackedHGemmB weight, kernels::Activation activation, bool gelu_tanh, const char* name)
      : weight_(std::move(weight)), activation_(activation), gelu_tanh_(gelu_tanh), name_(name) {}

  Status run(const ExecContext& ctx, std::span<const Tensor* const> in,
             std::span<Tensor* const> out) const override {
    const Tensor& x = *in[0];
    const size_t k = weight_.view().k, n = weight_.view().n;
    const size_t m = static_cast<size_t>(ctx.rows_to_compute(x.numel() / static_cast<int64_t>(k)));
    kernels::GemmEpilogue epi;
    epi.bias = in.size() > 4 && in[4] ? in[4]->data<float>() : nullptr;
    epi.activation = activation_;
    const float* residual = in.size() > 5 && in[5] ? in[5]->data<float>() : nullptr;
    if (residual && !gelu_tanh_) {
      epi.residual = residual;
      epi.residual_stride = n;
    }
    float* y = out[0]->mutable_data<float>();
    kernels::hgemm_packed(m, x.data<float>(), k, weight_.view(), y, n, epi, ctx.pool);
    if (gelu_tanh_) gelu_tanh_rows(ctx, y, m, n, residual);
    return Status::Ok();
  }
  const char* implementation() const override { return name_; }
  bool keeps_own_copy_of_input(size_t i) const override { return i == 1 || i == 2; }

 private:
  kernels::PackedHGemmB weight_;
  kernels::Activation activation_;
  bool gelu_tanh_;
  const char* name_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_qdense_half_kernel(const ir::Node& node) {
  if (node.domain != "ratel" || node.op_type != "QDense") return std::unique_ptr<Kernel>();
  const std::string x_type = *node.attrs.get_string("x_type", "");
  const ir::Value* w = node.inputs[1];
  const ir::Value* scale = node.has_input(2) ? node.inputs[2] : nullptr;
  if (!w->is_constant() || (scale && !scale->is_constant()) || node.has_input(3)) return std::unique_ptr<Kernel>();
  const std::optional<DenseActivation> act = dense_activation(node);
  if (!act) return std::unique_ptr<Kernel>();
  const size_t k = static_cast<size_t>(w->shape[0]), n = static_cast<size_t>(w->shape[1]);
  const float* scales = scale ? scale->constant.data<float>() : nullptr;
  const size_t scale_count = scale ? static_cast<size_t>(scale->constant.numel()) : 0;
  const auto* bits = static_cast<const uint16_t*>(w->constant.raw());
  Result<kernels::PackedHGemmB> packed = unsupported("no half-precision kernel");
  const char* name = "";
  if (x_type == "f32" && w->dtype == DType::kF16 && !scale) {
    packed = kernels::PackedHGemmB::pack_f16_bits(bits, k, n, n);
    name = "f32 x fp16-weight gemm";
  } else if (x_type == "f32" && w->dtype == DType::kI8 && scale) {
    packed = kernels::PackedHGemmB::pack_f16_from_s8(w->constant.data<int8_t>(), k, n, n, scales, scale_count);
    name = "f32 x int8-weight gemm (fp16 storage)";
  } else if (x_type == "bf16" && w->dtype == DType::kBF16 && !scale) {
    packed = kernels::PackedHGemmB::pack_bf16_bits(bits, k, n, n);
    name = "bf16 gemm";
  } else {
    return std::unique_ptr<Kernel>();
  }
  if (!packed.ok()) return packed.status().with_context(node.describe());
  return std::unique_ptr<Kernel>(new QDenseHalfKernel(std::move(packed).value(), act->epilogue, act->gelu_tanh, name));
}

}  // namespace ratel::runtime
