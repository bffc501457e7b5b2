// The AVX2 integer register tile: ROWS x 16 int32 accumulators in 2 x ROWS ymm registers.
// Per k group (4 bytes of A per row), Op loads two B vectors of 8 columns (converting them if
// the panel is stored narrower), broadcasts A per row and multiply-accumulates
// (vpmaddwd + vpaddd, or vpdpbusd with AVX-VNNI). 6 rows: 12 accumulators + 2 B + A + a
// temporary = the 16 ymm registers. Included only by *__avx2* / *__avxvnni* / *_ymm files.
#pragma once

#include <immintrin.h>

#include "kernels/qs8-gemm/qtile_common.h"

namespace ratel::kernels::detail {

template <size_t ROWS, size_t A_STRIDE_BYTES, class Op>
struct QTileAvx2 {
  static void run(size_t groups, const uint8_t* __restrict a, const uint8_t* __restrict b,
                  int32_t* __restrict acc, bool accumulate) {
    __m256i c[ROWS][2];
#pragma GCC unroll 8
    for (size_t r = 0; r < ROWS; ++r) {
      c[r][0] = accumulate ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + r * 16))
                           : _mm256_setzero_si256();
      c[r][1] = accumulate
                    ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + r * 16 + 8))
                    : _mm256_setzero_si256();
    }
    for (size_t g = 0; g < groups; ++g) {
      const __m256i b0 = Op::load_b(b, 0);
      const __m256i b1 = Op::load_b(b, 1);
      b += Op::kGroupBytes;
#pragma GCC unroll 8
      for (size_t r = 0; r < ROWS; ++r) {
        const __m256i ar = _mm256_set1_epi32(load_group(a + r * A_STRIDE_BYTES + 4 * g));
        c[r][0] = Op::mac(c[r][0], ar, b0);
        c[r][1] = Op::mac(c[r][1], ar, b1);
      }
    }
#pragma GCC unroll 8
    for (size_t r = 0; r < ROWS; ++r) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + r * 16), c[r][0]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + r * 16 + 8), c[r][1]);
    }
  }
};

// B stored as 16-bit pairs (c2): 8 columns x 2 k = one 32-byte vector.
struct QOpMaddS16 {
  static constexpr size_t kGroupBytes = 64;
  static __m256i load_b(const uint8_t* b, size_t v) {
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(b + 32 * v));
  }
  static __m256i mac(__m256i c, __m256i a, __m256i b) {
    return _mm256_add_epi32(c, _mm256_madd_epi16(a, b));
  }
};

// B stored as 8-bit pairs (c2), sign-extended to 16 bits in the kernel (vpmovsxbw).
struct QOpMaddS8 {
  static constexpr size_t kGroupBytes = 32;
  static __m256i load_b(const uint8_t* b, size_t v) {
    return _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(b + 16 * v)));
  }
  static __m256i mac(__m256i c, __m256i a, __m256i b) {
    return _mm256_add_epi32(c, _mm256_madd_epi16(a, b));
  }
};

}  // namespace ratel::kernels::detail
