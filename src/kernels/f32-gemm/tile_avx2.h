// The AVX2 register tile: ROWS x (8 * NRV) accumulators in ymm registers. Included only by
// the f32_gemm_*__avx2_fma.cpp kernel files (compiled with -mavx2 -mfma).
#pragma once

#include <immintrin.h>

#include "kernels/f32-gemm/f32_gemm_ukernel.h"
#include "kernels/math/vmath_avx2.h"

namespace ratel::kernels::detail {

template <size_t ROWS, size_t NRV, size_t A_STRIDE>
struct TileAvx2 {
  static constexpr size_t kNR = 8 * NRV;

  static void run(size_t kc, const float* __restrict a, const float* __restrict b,
                  float* __restrict c, size_t c_stride, const GemmUkernelParams& params) {
    __m256 acc[ROWS][NRV];
#pragma GCC unroll 16
    for (size_t r = 0; r < ROWS; ++r) {
#pragma GCC unroll 4
      for (size_t v = 0; v < NRV; ++v) {
        acc[r][v] = params.accumulate ? _mm256_loadu_ps(c + r * c_stride + 8 * v)
                                      : _mm256_setzero_ps();
      }
    }
    // Per k: NRV aligned loads of B, ROWS broadcasts of A (one per row), ROWS * NRV FMAs.
    for (size_t k = 0; k < kc; ++k) {
      __m256 bv[NRV];
#pragma GCC unroll 4
      for (size_t v = 0; v < NRV; ++v) bv[v] = _mm256_load_ps(b + 8 * v);
      b += kNR;
#pragma GCC unroll 16
      for (size_t r = 0; r < ROWS; ++r) {
        const __m256 ar = _mm256_set1_ps(a[r * A_STRIDE + k]);
#pragma GCC unroll 4
        for (size_t v = 0; v < NRV; ++v) acc[r][v] = _mm256_fmadd_ps(ar, bv[v], acc[r][v]);
      }
    }
    if (params.last_k_block) epilogue(acc, params);
#pragma GCC unroll 16
    for (size_t r = 0; r < ROWS; ++r) {
#pragma GCC unroll 4
      for (size_t v = 0; v < NRV; ++v) _mm256_storeu_ps(c + r * c_stride + 8 * v, acc[r][v]);
    }
  }

  // Inlined so that acc stays in registers (an out-of-line call would force it to memory).
  __attribute__((always_inline)) static inline void epilogue(__m256 (&acc)[ROWS][NRV],
                                                             const GemmUkernelParams& params) {
    if (params.bias != nullptr) {
#pragma GCC unroll 4
      for (size_t v = 0; v < NRV; ++v) {
        const __m256 bias = _mm256_loadu_ps(params.bias + 8 * v);
#pragma GCC unroll 16
        for (size_t r = 0; r < ROWS; ++r) acc[r][v] = _mm256_add_ps(acc[r][v], bias);
      }
    }
    if (params.activation == Activation::kGelu) {
#pragma GCC unroll 16
      for (size_t r = 0; r < ROWS; ++r) {
#pragma GCC unroll 4
        for (size_t v = 0; v < NRV; ++v) acc[r][v] = math::gelu_avx2(acc[r][v]);
      }
    }
    if (params.residual != nullptr) {
#pragma GCC unroll 16
      for (size_t r = 0; r < ROWS; ++r) {
        const float* row = params.residual + r * params.residual_stride;
#pragma GCC unroll 4
        for (size_t v = 0; v < NRV; ++v) {
          acc[r][v] = _mm256_add_ps(acc[r][v], _mm256_loadu_ps(row + 8 * v));
        }
      }
    }
  }
};

}  // namespace ratel::kernels::detail
