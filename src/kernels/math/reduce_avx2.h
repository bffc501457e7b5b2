// Horizontal sum / max of an AVX vector (fixed order: halves folded, then quarters...).
// Include only from AVX2 translation units.
#pragma once

#if !defined(__AVX2__)
#error "reduce_avx2.h needs -mavx2"
#endif

#include <immintrin.h>

namespace ratel::kernels::math {

inline float reduce_add_avx2(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float reduce_max_avx2(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

}  // namespace ratel::kernels::math
