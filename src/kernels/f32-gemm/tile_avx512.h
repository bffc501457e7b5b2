// The AVX-512 register tile: ROWS x (16 * NRV) accumulators in zmm registers. Included only by
// the f32_gemm_*__avx512f.cpp kernel files (compiled with -mavx512f ... -mfma).
#pragma once

#include <immintrin.h>

#include "kernels/f32-gemm/f32_gemm_ukernel.h"
#include "kernels/math/vmath_avx512.h"

namespace ratel::kernels::detail {

template <size_t ROWS, size_t NRV, size_t A_STRIDE>
struct TileAvx512 {
  static constexpr size_t kNR = 16 * NRV;

  static void run(size_t kc, const float* __restrict a, const float* __restrict b,
                  float* __restrict c, size_t c_stride, const GemmUkernelParams& params) {
    __m512 acc[ROWS][NRV];
#pragma GCC unroll 16
    for (size_t r = 0; r < ROWS; ++r) {
#pragma GCC unroll 4
      for (size_t v = 0; v < NRV; ++v) {
        acc[r][v] = params.accumulate ? _mm512_loadu_ps(c + r * c_stride + 16 * v)
                                      : _mm512_setzero_ps();
      }
    }
    // Per k: NRV aligned loads of B, ROWS broadcasts of A (one per row), ROWS * NRV FMAs.
    for (size_t k = 0; k < kc; ++k) {
      __m512 bv[NRV];
#pragma GCC unroll 4
      for (size_t v = 0; v < NRV; ++v) bv[v] = _mm512_load_ps(b + 16 * v);
      b += kNR;
#pragma GCC unroll 16
      for (size_t r = 0; r < ROWS; ++r) {
        const __m512 ar = _mm512_set1_ps(a[r * A_STRIDE + k]);
#pragma GCC unroll 4
        for (size_t v = 0; v < NRV; ++v) acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
      }
    }
    if (params.last_k_block) epilogue(acc, params);
#pragma GCC unroll 16
    for (size_t r = 0; r < ROWS; ++r) {
#pragma GCC unroll 4
      for (size_t v = 0; v < NRV; ++v) _mm512_storeu_ps(c + r * c_stride + 16 * v, acc[r][v]);
    }
  }

  // Inlined so that acc stays in registers (an out-of-line call would force it to memory).
  __attribute__((always_inline)) static inline void epilogue(__m512 (&acc)[ROWS][NRV],
                                                             const GemmUkernelParams& params) {
    if (params.bias != nullptr) {
#pragma GCC unroll 4
      for (size_t v = 0; v < NRV; ++v) {
        const __m512 bias = _mm512_loadu_ps(params.bias + 16 * v);
#pragma GCC unroll 16
        for (size_t r = 0; r < ROWS; ++r) acc[r][v] = _mm512_add_ps(acc[r][v], bias);
      }
    }
    if (params.activation == Activation::kGelu) {
#pragma GCC unroll 16
      for (size_t r = 0; r < ROWS; ++r) {
#pragma GCC unroll 4
        for (size_t v = 0; v < NRV; ++v) acc[r][v] = math::gelu_avx512(acc[r][v]);
      }
    }
    if (params.residual != nullptr) {
#pragma GCC unroll 16
      for (size_t r = 0; r < ROWS; ++r) {
        const float* row = params.residual + r * params.residual_stride;
#pragma GCC unroll 4
        for (size_t v = 0; v < NRV; ++v) {
          acc[r][v] = _mm512_add_ps(acc[r][v], _mm512_loadu_ps(row + 16 * v));
        }
      }
    }
  }
};

}  // namespace ratel::kernels::detail
