// AVX-512 versions of the approximations in erf_approx.h (same formula, evaluated with FMA).
// Include only from translation units compiled with the AVX-512 flags (see kernels/CMakeLists).
#pragma once

#if !defined(__AVX512F__) || !defined(__FMA__)
#error "vmath_avx512.h needs -mavx512f -mfma"
#endif

#include <immintrin.h>

#include "kernels/math/erf_approx.h"

namespace ratel::kernels::math {

inline __m512 erf_avx512(__m512 x) {
  // max/min return their second operand when the first is NaN: NaN in -> clamp value out, and
  // gelu_avx512 below still propagates the NaN through its 0.5 * x factor. (The maskz forms
  // with a full mask are the plain instructions; GCC 12's unmasked intrinsics trip a false
  // -Wmaybe-uninitialized.)
  const __mmask16 all = 0xFFFF;
  const __m512 xc = _mm512_maskz_max_ps(
      all, _mm512_maskz_min_ps(all, x, _mm512_set1_ps(kErfClamp)), _mm512_set1_ps(-kErfClamp));
  const __m512 t = _mm512_mul_ps(xc, xc);
  __m512 p = _mm512_set1_ps(kErfP[5]);
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(kErfP[4]));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(kErfP[3]));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(kErfP[2]));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(kErfP[1]));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(kErfP[0]));
  __m512 q = _mm512_set1_ps(kErfQ[5]);
  q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(kErfQ[4]));
  q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(kErfQ[3]));
  q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(kErfQ[2]));
  q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(kErfQ[1]));
  q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(kErfQ[0]));
  return _mm512_div_ps(_mm512_mul_ps(xc, p), q);
}

inline __m512 gelu_avx512(__m512 x) {
  const __m512 half_x = _mm512_mul_ps(x, _mm512_set1_ps(0.5f));
  const __m512 e = erf_avx512(_mm512_mul_ps(x, _mm512_set1_ps(kSqrtHalf)));
  return _mm512_fmadd_ps(half_x, e, half_x);
}

}  // namespace ratel::kernels::math
