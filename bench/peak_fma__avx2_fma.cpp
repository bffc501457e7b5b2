#include <immintrin.h>

#include "peak_fma.h"

namespace ratel::bench {

float peak_fma_avx2(uint64_t iterations) {
  __m256 acc[kPeakChainsAvx2];
  for (int i = 0; i < kPeakChainsAvx2; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  // acc = acc * 0.999 + 0.001 converges to 1: no overflow, no denormals.
  const __m256 scale = _mm256_set1_ps(0.999f);
  const __m256 shift = _mm256_set1_ps(0.001f);
  for (uint64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < kPeakChainsAvx2; ++i) acc[i] = _mm256_fmadd_ps(acc[i], scale, shift);
  }
  __m256 sum = _mm256_setzero_ps();
  for (int i = 0; i < kPeakChainsAvx2; ++i) sum = _mm256_add_ps(sum, acc[i]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  float total = 0;
  for (float lane : lanes) total += lane;
  return total;
}

}  // namespace ratel::bench
