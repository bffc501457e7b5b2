// erf and GELU approximations shared by every kernel path (portable scalar here; the AVX2 and
// AVX-512 versions in vmath_avx2.h / vmath_avx512.h evaluate the same formula with FMA).
//
//   erf(x) ~= x * P(x^2) / Q(x^2)  for |x| <= 4 (x clamped to [-4, 4]; erf(4) = 1 - 1.5e-8
//   rounds to 1.0f), P and Q of degree 5, Q(0) = 1, fitted by src/kernels/math/fit_erf.py.
//
// Error (max |approx - erf| over all x, against erf in double):
//   - the rational function itself, in exact arithmetic: 2.1e-8;
//   - evaluated in float32 with FMA (AVX2, AVX-512 paths): 3.6e-7 (fit_erf.py's simulation
//     says 3.2e-7 on its grid; tests/kernels/math_test.cpp measures over 1.3M points);
//   - evaluated in float32 with a separate multiply and add (generic path): 4.3e-7.
//   kErfMaxAbsError = 5e-7 bounds every path; the test asserts it. (1 ulp of 1.0f is 1.2e-7.)
// GELU(x) = 0.5 x (1 + erf(x / sqrt 2)) then has |error| <= 0.5 |x| * 5e-7 + 2 ulp(GELU(x)).
// That is the erf form ONNX's Gelu and BERT use, not the tanh approximation (whose error is
// ~1e-3, too large to match ONNX Runtime's outputs).
#pragma once

namespace ratel::kernels::math {

inline constexpr float kErfClamp = 4.0f;
inline constexpr float kSqrtHalf = 0.707106781186547524f;
// Coefficients of P and Q in x^2, lowest degree first.
inline constexpr float kErfP[6] = {1.128378987e+00f, 1.962513030e-01f, 5.346767232e-02f,
                                   4.003711045e-03f, 2.880371176e-04f, 1.974739234e-06f};
inline constexpr float kErfQ[6] = {1.000000000e+00f, 5.072543621e-01f, 1.164772809e-01f,
                                   1.544456184e-02f, 1.216364675e-03f, 3.747968731e-05f};
// Bound on every path (see above); tests use it as their tolerance.
inline constexpr float kErfMaxAbsError = 5e-7f;

inline float erf_approx(float x) {
  // Written so that NaN stays NaN (comparisons with NaN are false, so it passes through).
  float xc = x > kErfClamp ? kErfClamp : (x < -kErfClamp ? -kErfClamp : x);
  float t = xc * xc;
  float p = kErfP[5];
  for (int i = 4; i >= 0; --i) p = p * t + kErfP[i];
  float q = kErfQ[5];
  for (int i = 4; i >= 0; --i) q = q * t + kErfQ[i];
  return xc * p / q;
}

inline float gelu_approx(float x) {
  float half_x = 0.5f * x;
  return half_x + half_x * erf_approx(x * kSqrtHalf);
}

}  // namespace ratel::kernels::math
