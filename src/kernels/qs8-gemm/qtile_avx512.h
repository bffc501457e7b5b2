// The AVX-512 integer register tile: ROWS x 16*NRV int32 accumulators in NRV x ROWS zmm
// registers. Per k group (4 bytes of A per row: four u8 or two s16), NRV 64-byte B vectors, one
// broadcast of A per row and NRV x ROWS multiply-accumulates (Op: vpdpbusd, vpdpwssd or
// vpmaddwd + vpaddd).
// Included only by *__avx512*.cpp kernel files.
#pragma once

#include <immintrin.h>

#include "kernels/qs8-gemm/qtile_common.h"

namespace ratel::kernels::detail {

template <size_t ROWS, size_t NRV, size_t A_STRIDE_BYTES, class Op>
struct QTileAvx512 {
  static constexpr size_t kNR = 16 * NRV;
  static void run(size_t groups, const uint8_t* __restrict a, const uint8_t* __restrict b,
                  int32_t* __restrict acc, bool accumulate) {
    __m512i c[ROWS][NRV];
#pragma GCC unroll 16
    for (size_t r = 0; r < ROWS; ++r) {
#pragma GCC unroll 4
      for (size_t v = 0; v < NRV; ++v) {
        c[r][v] = accumulate ? _mm512_loadu_si512(acc + r * kNR + 16 * v) : _mm512_setzero_si512();
      }
    }
    for (size_t g = 0; g < groups; ++g) {
      __m512i bv[NRV];
#pragma GCC unroll 4
      for (size_t v = 0; v < NRV; ++v) bv[v] = _mm512_load_si512(b + 64 * v);
      b += 64 * NRV;
#pragma GCC unroll 16
      for (size_t r = 0; r < ROWS; ++r) {
        const __m512i ar = _mm512_set1_epi32(load_group(a + r * A_STRIDE_BYTES + 4 * g));
#pragma GCC unroll 4
        for (size_t v = 0; v < NRV; ++v) c[r][v] = Op::mac(c[r][v], ar, bv[v]);
      }
    }
#pragma GCC unroll 16
    for (size_t r = 0; r < ROWS; ++r) {
#pragma GCC unroll 4
      for (size_t v = 0; v < NRV; ++v) _mm512_storeu_si512(acc + r * kNR + 16 * v, c[r][v]);
    }
  }
};

}  // namespace ratel::kernels::detail
