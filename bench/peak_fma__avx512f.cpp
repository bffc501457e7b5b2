#include <immintrin.h>

#include "peak_fma.h"

namespace ratel::bench {

float peak_fma_avx512(uint64_t iterations) {
  __m512 acc[kPeakChainsAvx512];
  for (int i = 0; i < kPeakChainsAvx512; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  // acc = acc * 0.999 + 0.001 converges to 1: no overflow, no denormals.
  const __m512 scale = _mm512_set1_ps(0.999f);
  const __m512 shift = _mm512_set1_ps(0.001f);
  for (uint64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 24
    for (int i = 0; i < kPeakChainsAvx512; ++i) acc[i] = _mm512_fmadd_ps(acc[i], scale, shift);
  }
  __m512 sum = _mm512_setzero_ps();
  for (int i = 0; i < kPeakChainsAvx512; ++i) sum = _mm512_add_ps(sum, acc[i]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum);
  float total = 0;
  for (float lane : lanes) total += lane;
  return total;
}

}  // namespace ratel::bench
