// AVX2 layer norm: 8 lanes per step, two accumulators per reduction. The tail (< 8 elements) is
// read with masked loads (fast on AMD and Intel; masked stores are not) and finished in scalar
// code that rounds exactly like the vector operations.
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "core/status.h"
#include "kernels/layernorm.h"
#include "kernels/math/reduce_avx2.h"

namespace ratel::kernels {

namespace {

alignas(64) constexpr int32_t kTailMaskTable[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                    0,  0,  0,  0,  0,  0,  0,  0};

template <bool kSkip, bool kBeta>
void layernorm_row(size_t n, const float* x, const float* skip, const float* gamma,
                   const float* beta, float epsilon, float* y) {
  const size_t rem = n % 8;
  const size_t body = n - rem;
  const __m256i tail = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kTailMaskTable + 8 - rem));
  const __m256 tail_ps = _mm256_castsi256_ps(tail);

  // Pass 1: z (stored to y when a skip is added), sum (z - z0).
  const float z0 = kSkip ? x[0] + skip[0] : x[0];
  const __m256 vz0 = _mm256_set1_ps(z0);
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  auto load_z = [&](size_t i) {
    __m256 z = _mm256_loadu_ps(x + i);
    if constexpr (kSkip) {
      z = _mm256_add_ps(z, _mm256_loadu_ps(skip + i));
      _mm256_storeu_ps(y + i, z);
    }
    return z;
  };
  size_t i = 0;
  for (; i + 16 <= body; i += 16) {
    a0 = _mm256_add_ps(a0, _mm256_sub_ps(load_z(i), vz0));
    a1 = _mm256_add_ps(a1, _mm256_sub_ps(load_z(i + 8), vz0));
  }
  if (i < body) a0 = _mm256_add_ps(a0, _mm256_sub_ps(load_z(i), vz0));
  if (rem) {
    if constexpr (kSkip) {
      for (size_t j = body; j < n; ++j) y[j] = x[j] + skip[j];
    }
    const __m256 z = _mm256_maskload_ps(kSkip ? y + body : x + body, tail);
    a1 = _mm256_add_ps(a1, _mm256_and_ps(_mm256_sub_ps(z, vz0), tail_ps));
  }
  const float* src = kSkip ? y : x;
  const float fn = static_cast<float>(n);
  const float mean = z0 + math::reduce_add_avx2(_mm256_add_ps(a0, a1)) / fn;
  const __m256 vmean = _mm256_set1_ps(mean);

  // Pass 2: sum (z - mean)^2.
  a0 = _mm256_setzero_ps();
  a1 = _mm256_setzero_ps();
  for (i = 0; i + 16 <= body; i += 16) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(src + i), vmean);
    const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(src + i + 8), vmean);
    a0 = _mm256_fmadd_ps(d0, d0, a0);
    a1 = _mm256_fmadd_ps(d1, d1, a1);
  }
  if (i < body) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(src + i), vmean);
    a0 = _mm256_fmadd_ps(d0, d0, a0);
  }
  if (rem) {
    const __m256 d1 = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(src + body, tail), vmean), tail_ps);
    a1 = _mm256_fmadd_ps(d1, d1, a1);
  }
  const float var = math::reduce_add_avx2(_mm256_add_ps(a0, a1)) / fn;
  const float rstd_s = static_cast<float>(1.0 / std::sqrt(double{var} + epsilon));
  const __m256 rstd = _mm256_set1_ps(rstd_s);

  // Pass 3: y = (z - mean) * rstd * gamma + beta.
  for (i = 0; i < body; i += 8) {
    const __m256 nz = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(src + i), vmean), rstd);
    const __m256 g = _mm256_loadu_ps(gamma + i);
    _mm256_storeu_ps(y + i, kBeta ? _mm256_fmadd_ps(nz, g, _mm256_loadu_ps(beta + i))
                                  : _mm256_mul_ps(nz, g));
  }
  for (; i < n; ++i) {
    const float nz = (src[i] - mean) * rstd_s;
    y[i] = kBeta ? std::fma(nz, gamma[i], beta[i]) : nz * gamma[i];
  }
}

}  // namespace

void f32_layernorm__avx2_fma(size_t n, const float* x, const float* skip, const float* gamma,
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
