// exp approximation shared by the softmax and attention kernels (portable scalar here; the AVX2
// and AVX-512 versions in vexp_avx2.h / vexp_avx512.h evaluate the same formula with FMA).
//
//   exp(x) = 2^n * e^r,  n = round(x * log2 e),  r = x - n * ln 2 in [-ln2/2, ln2/2]
//
// reduced with Cody-Waite (ln 2 = kLn2Hi + kLn2Lo, kLn2Hi with 16 significant bits, so n * kLn2Hi
// is exact for |n| <= 127 and x - n * kLn2Hi is exact by Sterbenz); e^r ~= 1 + r * P(r), P of
// degree 4 fitted for minimal relative error by src/kernels/math/fit_exp.py; 2^n is built in the
// exponent bits.
//
// Domain: x in [kExpMin, kExpMax] gives a normal float. Outside it the portable and AVX2 paths
// return +0 below kExpMin (the true value is below FLT_MIN = 1.18e-38) and +inf above kExpMax
// (the true value is above 2.4e38: exp overflows ~0.35 earlier than the last finite float); the
// AVX-512 path (vexp_avx512.h) returns the subnormal result below and stays finite up to
// ln(FLT_MAX). Either way the absolute error below kExpMin is < FLT_MIN. NaN stays NaN,
// exp(-inf) = 0, exp(+inf) = +inf.
// Error (max |approx / exp - 1| for x in [kExpMin, kExpMax], against exp in double):
//   - the polynomial itself, in exact arithmetic: 9.1e-8;
//   - evaluated in float32 with FMA (the AVX paths): 1.6e-7 (simulated by fit_exp.py, measured
//     1.6e-7); the generic path rounds products and sums separately (measured 1.8e-7).
//     tests/kernels/softmax_test.cpp measures every path over a dense grid of [kExpMin, kExpMax]
//     and asserts <= kExpMaxRelError.
#pragma once

#include <cstdint>
#include <cstring>

namespace ratel::kernels::math {

inline constexpr float kLog2e = 1.44269504088896341f;
inline constexpr float kLn2Hi = 0.693145751953125f;         // 0x3F317200
inline constexpr float kLn2Lo = 1.428606765330187045e-06f;  // float(ln 2 - kLn2Hi)
// exp(kExpMin) is just above FLT_MIN; round(kExpMax * log2 e) = 127.
inline constexpr float kExpMin = -87.3365478515625f;
inline constexpr float kExpMax = 88.37f;
// Coefficients c1..c5 of e^r ~= 1 + r (c1 + r (c2 + r (c3 + r (c4 + r c5)))).
inline constexpr float kExpC[5] = {9.999997020e-01f, 4.999915063e-01f, 1.666763574e-01f,
                                   4.189793020e-02f, 8.290314116e-03f};
// 1.5 * 2^23: adding it rounds a float of magnitude < 2^22 to an integer (round to nearest
// even), which then sits in the low mantissa bits.
inline constexpr float kRoundMagic = 12582912.0f;
// Measured bound (see above); tests use it as their tolerance.
inline constexpr double kExpMaxRelError = 2.5e-7;

inline uint32_t float_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}
inline float bits_float(uint32_t u) {
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

inline float exp_approx(float x) {
  // Clamp (NaN passes through: both comparisons are false), so that n stays in [-126, 127].
  float xc = x < kExpMin ? kExpMin : x;
  xc = xc > kExpMax ? kExpMax : xc;
  const float t = xc * kLog2e + kRoundMagic;
  const float n = t - kRoundMagic;
  const uint32_t scale = (float_bits(t) - float_bits(kRoundMagic) + 127u) << 23;
  float r = xc - n * kLn2Hi;
  r = r - n * kLn2Lo;
  float p = kExpC[4];
  p = p * r + kExpC[3];
  p = p * r + kExpC[2];
  p = p * r + kExpC[1];
  p = p * r + kExpC[0];
  p = p * r + 1.0f;
  const float y = p * bits_float(scale);
  if (x < kExpMin) return 0.0f;
  if (x > kExpMax) return __builtin_inff();
  return y;
}

}  // namespace ratel::kernels::math
