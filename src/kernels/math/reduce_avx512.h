// Horizontal sum / max of an AVX-512 vector (fixed order: halves folded, then quarters...).
// GCC 12's _mm512_reduce_*_ps, and the unmasked max / shuffle / extract these need, trip a false
// -Wmaybe-uninitialized (their pass-through operand is _mm512_undefined_ps()); the maskz forms
// with a full mask are the same instructions. Include only from AVX-512 translation units.
#pragma once

#if !defined(__AVX512F__)
#error "reduce_avx512.h needs -mavx512f"
#endif

#include <immintrin.h>

namespace ratel::kernels::math {

inline constexpr __mmask16 kAllLanes = 0xFFFF;

// max(a, b) per lane; b when either is NaN (like maxps).
inline __m512 max_avx512(__m512 a, __m512 b) { return _mm512_maskz_max_ps(kAllLanes, a, b); }

inline float reduce_add_avx512(__m512 v) {
  v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(kAllLanes, v, v, _MM_SHUFFLE(1, 0, 3, 2)));
  v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(kAllLanes, v, v, _MM_SHUFFLE(2, 3, 0, 1)));
  __m128 s = _mm512_maskz_extractf32x4_ps(0xF, v, 0);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float reduce_max_avx512(__m512 v) {
  v = max_avx512(v, _mm512_maskz_shuffle_f32x4(kAllLanes, v, v, _MM_SHUFFLE(1, 0, 3, 2)));
  v = max_avx512(v, _mm512_maskz_shuffle_f32x4(kAllLanes, v, v, _MM_SHUFFLE(2, 3, 0, 1)));
  __m128 m = _mm512_maskz_extractf32x4_ps(0xF, v, 0);
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

}  // namespace ratel::kernels::math
