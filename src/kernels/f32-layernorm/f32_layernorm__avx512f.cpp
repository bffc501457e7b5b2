// AVX-512 layer norm: 16 lanes per step, two accumulators per reduction, tails under a mask.
#include <immintrin.h>

#include <cmath>

#include "core/status.h"
#include "kernels/layernorm.h"
#include "kernels/math/reduce_avx512.h"

namespace ratel::kernels {

namespace {

template <bool kSkip, bool kBeta>
void layernorm_row(size_t n, const float* x, const float* skip, const float* gamma,
                   const float* beta, float epsilon, float* y) {
  const __mmask16 tail = static_cast<__mmask16>((1u << (n % 16)) - 1);
  const size_t body = n - n % 16;

  // Pass 1: z (stored to y when a skip is added), sum (z - z0).
  const float z0 = kSkip ? x[0] + skip[0] : x[0];
  const __m512 vz0 = _mm512_set1_ps(z0);
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  auto load_z = [&](size_t i) {
    __m512 z = _mm512_loadu_ps(x + i);
    if constexpr (kSkip) {
      z = _mm512_add_ps(z, _mm512_loadu_ps(skip + i));
      _mm512_storeu_ps(y + i, z);
    }
    return z;
  };
  size_t i = 0;
  for (; i + 32 <= body; i += 32) {
    a0 = _mm512_add_ps(a0, _mm512_sub_ps(load_z(i), vz0));
    a1 = _mm512_add_ps(a1, _mm512_sub_ps(load_z(i + 16), vz0));
  }
  if (i < body) a0 = _mm512_add_ps(a0, _mm512_sub_ps(load_z(i), vz0));
  if (tail) {
    __m512 z = _mm512_maskz_loadu_ps(tail, x + body);
    if constexpr (kSkip) {
      z = _mm512_add_ps(z, _mm512_maskz_loadu_ps(tail, skip + body));
      _mm512_mask_storeu_ps(y + body, tail, z);
    }
    a1 = _mm512_mask_add_ps(a1, tail, a1, _mm512_sub_ps(z, vz0));
  }
  const float* src = kSkip ? y : x;
  const float fn = static_cast<float>(n);
  const float mean = z0 + math::reduce_add_avx512(_mm512_add_ps(a0, a1)) / fn;
  const __m512 vmean = _mm512_set1_ps(mean);

  // Pass 2: sum (z - mean)^2.
  a0 = _mm512_setzero_ps();
  a1 = _mm512_setzero_ps();
  for (i = 0; i + 32 <= body; i += 32) {
    const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(src + i), vmean);
    const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(src + i + 16), vmean);
    a0 = _mm512_fmadd_ps(d0, d0, a0);
    a1 = _mm512_fmadd_ps(d1, d1, a1);
  }
  if (i < body) {
    const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(src + i), vmean);
    a0 = _mm512_fmadd_ps(d0, d0, a0);
  }
  if (tail) {
    const __m512 d1 = _mm512_maskz_sub_ps(tail, _mm512_maskz_loadu_ps(tail, src + body), vmean);
    a1 = _mm512_fmadd_ps(d1, d1, a1);
  }
  const float var = math::reduce_add_avx512(_mm512_add_ps(a0, a1)) / fn;
  const __m512 rstd = _mm512_set1_ps(static_cast<float>(1.0 / std::sqrt(double{var} + epsilon)));

  // Pass 3: y = (z - mean) * rstd * gamma + beta.
  for (i = 0; i < body; i += 16) {
    const __m512 nz = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(src + i), vmean), rstd);
    const __m512 g = _mm512_loadu_ps(gamma + i);
    _mm512_storeu_ps(y + i, kBeta ? _mm512_fmadd_ps(nz, g, _mm512_loadu_ps(beta + i))
                                  : _mm512_mul_ps(nz, g));
  }
  if (tail) {
    const __m512 nz =
        _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, src + body), vmean), rstd);
    const __m512 g = _mm512_maskz_loadu_ps(tail, gamma + body);
    _mm512_mask_storeu_ps(y + body, tail,
                          kBeta ? _mm512_fmadd_ps(nz, g, _mm512_maskz_loadu_ps(tail, beta + body))
                                : _mm512_mul_ps(nz, g));
  }
}

}  // namespace

void f32_layernorm__avx512f(size_t n, const float* x, const float* skip, const float* gamma,
                            const float* beta, float epsilon, float* y) {
  RATEL_ASSERT(n >= 1 && x != nullptr && gamma != nullptr && y != nullptr);
  if (skip) {
    beta ? layernorm_row<true, true>(n, x, skip, gamma, beta, epsilon, y)
         : layernorm_row<true, false>(n, x, skip, gamma, beta, epsilon, y);
  } else {
    beta ? layernorm_row<false, true>(n, x, skip, gamma, beta, epsilon, y)
         : layernorm_row<false, false>(n, x, skip, gamma, beta, epsilon, y);
  }
}

}  // namespace ratel::kernels
