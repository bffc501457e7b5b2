// AVX2 version of exp_approx (math/exp_approx.h): the same reduction and polynomial with FMA.
// Include only from translation units compiled with the AVX2 + FMA flags (see kernels/CMakeLists).
#pragma once

#if !defined(__AVX2__) || !defined(__FMA__)
#error "vexp_avx2.h needs -mavx2 -mfma"
#endif

#include <immintrin.h>

#include "kernels/math/exp_approx.h"

namespace ratel::kernels::math {

inline __m256 exp_avx2(__m256 x) {
  // max/min return their second operand when either is NaN: with x second, NaN passes through.
  __m256 xc = _mm256_max_ps(_mm256_set1_ps(kExpMin), x);
  xc = _mm256_min_ps(_mm256_set1_ps(kExpMax), xc);
  const __m256 magic = _mm256_set1_ps(kRoundMagic);
  const __m256 t = _mm256_fmadd_ps(xc, _mm256_set1_ps(kLog2e), magic);
  const __m256 n = _mm256_sub_ps(t, magic);
  const __m256i scale = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_sub_epi32(_mm256_castps_si256(t), _mm256_castps_si256(magic)),
                       _mm256_set1_epi32(127)),
      23);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), xc);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), r);
  __m256 p = _mm256_set1_ps(kExpC[4]);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpC[3]));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpC[2]));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpC[1]));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpC[0]));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  __m256 y = _mm256_mul_ps(p, _mm256_castsi256_ps(scale));
  // Below the domain: 0 (andnot clears the lanes); above: +inf.
  y = _mm256_andnot_ps(_mm256_cmp_ps(x, _mm256_set1_ps(kExpMin), _CMP_LT_OQ), y);
  return _mm256_blendv_ps(y, _mm256_set1_ps(__builtin_inff()),
                          _mm256_cmp_ps(x, _mm256_set1_ps(kExpMax), _CMP_GT_OQ));
}

}  // namespace ratel::kernels::math
