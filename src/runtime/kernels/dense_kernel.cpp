// ratel.Dense on the packed GEMM: the weight is packed once when the model is prepared, bias,
// GELU (erf form) and residual run in the GEMM's epilogue. The tanh-approximated GELU of Google's
// BERT (TensorFlow exports) runs right after the GEMM, on rows still in cache, using the
// vectorized exp: tanh(u) = sign(u)·(1 - e)/(1 + e) with e = exp(-2|u|) never overflows, and
// exp's relative error (kernels/math/exp_approx.h, <= 2.5e-7) keeps tanh within ~1e-6.
#include <algorithm>
#include <cmath>

#include "kernels/gemm.h"
#include "kernels/softmax.h"
#include "runtime/kernels/fast_kernels.h"

namespace ratel::runtime {

namespace {

// y = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) over n floats, in place.
void gelu_tanh_inplace(float* y, size_t n, kernels::VexpKernelFn vexp) {
  constexpr size_t kBlock = 256;
  float u[kBlock], e[kBlock];
  for (size_t start = 0; start < n; start += kBlock) {
    const size_t len = std::min(kBlock, n - start);
    float* x = y + start;
    for (size_t i = 0; i < len; ++i) {
      u[i] = 0.7978845608f * (x[i] + 0.044715f * x[i] * x[i] * x[i]);
      e[i] = -2.0f * std::fabs(u[i]);
    }
    vexp(len, e, e);
    for (size_t i = 0; i < len; ++i) {
      const float t = (1.0f - e[i]) / (1.0f + e[i]);
      x[i] = 0.5f * x[i] * (1.0f + (u[i] < 0 ? -t : t));
    }
  }
}

class DenseKernel : public Kernel {
 public:
  DenseKernel(kernels::PackedGemmB weight, kernels::Activation activation, bool gelu_tanh)
      : weight_(std::move(weight)), activation_(activation), gelu_tanh_(gelu_tanh) {}

  Status run(const ExecContext& ctx, std::span<const Tensor* const> in,
             std::span<Tensor* const> out) const override {
    const Tensor& x = *in[0];
    const size_t k = weight_.view().k, n = weight_.view().n;
    const size_t m = static_cast<size_t>(ctx.rows_to_compute(x.numel() / static_cast<int64_t>(k)));
    kernels::GemmEpilogue epi;
    epi.bias = in.size() > 2 && in[2] ? in[2]->data<float>() : nullptr;
    epi.activation = activation_;
    const float* residual = in.size() > 3 && in[3] ? in[3]->data<float>() : nullptr;
    if (residual && !gelu_tanh_) {
      epi.residual = residual;
      epi.residual_stride = n;
    }
    float* y = out[0]->mutable_data<float>();
    kernels::gemm_packed(m, x.data<float>(), k, weight_.view(), y, n, epi, ctx.pool);
    if (gelu_tanh_) gelu_tanh_rows(ctx, y, m, n, residual);
    return Status::Ok();
  }
  const char* implementation() const override { return "f32 packed gemm"; }
  bool keeps_own_copy_of_input(size_t i) const override { return i == 1; }  // the packed weight

 private:
  kernels::PackedGemmB weight_;
  kernels::Activation activation_;
  bool gelu_tanh_;
};

}  // namespace

void gelu_tanh_rows(const ExecContext& ctx, float* y, size_t m, size_t n, const float* residual) {
  const kernels::VexpKernelFn vexp = kernels::vexp_kernel(cpu::active_isa());
  cpu::parallel_for(ctx.pool, static_cast<int64_t>(m), [&](int64_t begin, int64_t end, int) {
    for (int64_t r = begin; r < end; ++r) {
      float* row = y + static_cast<size_t>(r) * n;
      gelu_tanh_inplace(row, n, vexp);
      if (residual) {
        const float* res = residual + static_cast<size_t>(r) * n;
        for (size_t j = 0; j < n; ++j) row[j] += res[j];
      }
    }
  });
}

Result<std::unique_ptr<Kernel>> make_dense_kernel(const ir::Node& node) {
  if (node.domain != "ratel" || node.op_type != "Dense") return std::unique_ptr<Kernel>();
  const ir::Value* w = node.inputs[1];
  if (!w->is_constant() || w->dtype != DType::kF32) return std::unique_ptr<Kernel>();
  const std::optional<DenseActivation> act = dense_activation(node);
  if (!act) return std::unique_ptr<Kernel>();
  const size_t k = static_cast<size_t>(w->shape[0]), n = static_cast<size_t>(w->shape[1]);
  RATEL_ASSIGN_OR_RETURN(auto packed, kernels::PackedGemmB::pack(w->constant.data<float>(), k, n, n));
  return std::unique_ptr<Kernel>(new DenseKernel(std::move(packed), act->epilogue, act->gelu_tanh));
}

std::optional<DenseActivation> dense_activation(const ir::Node& node) {
  const Result<std::string> act = node.attrs.get_string("activation", "none");
  if (!act.ok()) return std::nullopt;
  if (*act == "none") return DenseActivation{};
  if (*act == "gelu") return DenseActivation{kernels::Activation::kGelu, false};
  if (*act == "gelu_tanh") return DenseActivation{kernels::Activation::kNone, true};
  return std::nullopt;
}

}  // namespace ratel::runtime
