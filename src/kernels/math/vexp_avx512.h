// AVX-512 version of exp_approx (math/exp_approx.h): the same reduction and polynomial with FMA;
// 2^n is applied with VSCALEFPS, which also handles both ends of the range, so only a clamp to
// [kExpScalefMin, kExpScalefMax] remains (keeping n and r finite; NaN passes through):
//   - below kExpMin the result is the correctly scaled subnormal (absolute error < 2^-149),
//     exactly 0 from kExpScalefMin = -104 down (exp(-104) < 2^-150), and exp(-inf) = 0;
//   - above kExpMax the result stays finite up to ln(FLT_MAX) = 88.72 and is +inf beyond
//     (the generic and AVX2 paths return 0 below kExpMin and +inf above kExpMax).
// Include only from translation units compiled with the AVX-512 flags (see kernels/CMakeLists).
#pragma once

#if !defined(__AVX512F__) || !defined(__FMA__)
#error "vexp_avx512.h needs -mavx512f -mfma"
#endif

#include <immintrin.h>

#include "kernels/math/exp_approx.h"

namespace ratel::kernels::math {

inline constexpr float kExpScalefMin = -104.0f;
inline constexpr float kExpScalefMax = 89.0f;  // exp(89) > FLT_MAX: scalef overflows to +inf

inline __m512 exp_avx512(__m512 x) {
  // max/min return their second operand when either is NaN: with x second, NaN passes through.
  // (maskz forms with a full mask are the plain instructions; GCC 12's unmasked intrinsics trip
  // a false -Wmaybe-uninitialized.)
  const __mmask16 all = 0xFFFF;
  __m512 xc = _mm512_maskz_max_ps(all, _mm512_set1_ps(kExpScalefMin), x);
  xc = _mm512_maskz_min_ps(all, _mm512_set1_ps(kExpScalefMax), xc);
  const __m512 n = _mm512_maskz_roundscale_ps(all, _mm512_mul_ps(xc, _mm512_set1_ps(kLog2e)),
                                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Hi), xc);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Lo), r);
  __m512 p = _mm512_set1_ps(kExpC[4]);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpC[3]));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpC[2]));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpC[1]));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpC[0]));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_maskz_scalef_ps(all, p, n);
}

}  // namespace ratel::kernels::math
