#include "kernels/f32-gemm/f32_gemm_reference.h"

#include <cmath>

#include "core/status.h"
#include "kernels/gemm.h"

namespace ratel::kernels {

double gelu_reference(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }

namespace {

// bias, activation and residual on one element, in double.
double apply_epilogue(double v, const float* bias, Activation activation, const float* residual) {
  if (bias != nullptr) v += *bias;
  if (activation == Activation::kGelu) v = gelu_reference(v);
  if (residual != nullptr) v += *residual;
  return v;
}

}  // namespace

void f32_gemm_ukernel_reference([[maybe_unused]] size_t tile_mr, size_t tile_nr, size_t a_stride, size_t mr,
                                size_t nc, size_t kc, const float* a, const float* packed_b,
                                float* c, size_t c_stride, const GemmUkernelParams& params) {
  RATEL_ASSERT(mr >= 1 && mr <= tile_mr && nc >= 1 && nc <= tile_nr && kc >= 1 && kc <= a_stride);
  for (size_t r = 0; r < mr; ++r) {
    for (size_t j = 0; j < nc; ++j) {
      double acc = params.accumulate ? c[r * c_stride + j] : 0.0;
      for (size_t k = 0; k < kc; ++k) {
        acc += double{a[r * a_stride + k]} * double{packed_b[k * tile_nr + j]};
      }
      if (params.last_k_block) {
        acc = apply_epilogue(
            acc, params.bias != nullptr ? params.bias + j : nullptr, params.activation,
            params.residual != nullptr ? params.residual + r * params.residual_stride + j
                                       : nullptr);
      }
      c[r * c_stride + j] = static_cast<float>(acc);
    }
  }
}

void gemm_reference(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b,
                    size_t b_stride_k, size_t b_stride_n, float* c, size_t ldc,
                    const GemmEpilogue& epilogue) {
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      double acc = 0.0;
      for (size_t kk = 0; kk < k; ++kk) {
        acc += double{a[i * lda + kk]} * double{b[kk * b_stride_k + j * b_stride_n]};
      }
      acc = apply_epilogue(
          acc, epilogue.bias != nullptr ? epilogue.bias + j : nullptr, epilogue.activation,
          epilogue.residual != nullptr ? epilogue.residual + i * epilogue.residual_stride + j
                                       : nullptr);
      c[i * ldc + j] = static_cast<float>(acc);
    }
  }
}

}  // namespace ratel::kernels
