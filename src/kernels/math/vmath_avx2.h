// AVX2 versions of the approximations in erf_approx.h (same formula, evaluated with FMA).
// Include only from translation units compiled with the AVX2 + FMA flags (see kernels/CMakeLists).
#pragma once

#if !defined(__AVX2__) || !defined(__FMA__)
#error "vmath_avx2.h needs -mavx2 -mfma"
#endif

#include <immintrin.h>

#include "kernels/math/erf_approx.h"

namespace ratel::kernels::math {

inline __m256 erf_avx2(__m256 x) {
  // max/min return their second operand when the first is NaN: NaN in -> clamp value out, and
  // gelu_avx2 below still propagates the NaN through its 0.5 * x factor.
  const __m256 xc = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(kErfClamp)),
                                  _mm256_set1_ps(-kErfClamp));
  const __m256 t = _mm256_mul_ps(xc, xc);
  __m256 p = _mm256_set1_ps(kErfP[5]);
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(kErfP[4]));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(kErfP[3]));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(kErfP[2]));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(kErfP[1]));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(kErfP[0]));
  __m256 q = _mm256_set1_ps(kErfQ[5]);
  q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(kErfQ[4]));
  q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(kErfQ[3]));
  q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(kErfQ[2]));
  q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(kErfQ[1]));
  q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(kErfQ[0]));
  return _mm256_div_ps(_mm256_mul_ps(xc, p), q);
}

inline __m256 gelu_avx2(__m256 x) {
  const __m256 half_x = _mm256_mul_ps(x, _mm256_set1_ps(0.5f));
  const __m256 e = erf_avx2(_mm256_mul_ps(x, _mm256_set1_ps(kSqrtHalf)));
  return _mm256_fmadd_ps(half_x, e, half_x);
}

}  // namespace ratel::kernels::math
