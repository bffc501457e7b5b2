// AVX2 softmax: 8 lanes per step (two accumulators in the reductions). The tail (< 8 elements)
// is read with a masked load (fast on AMD and Intel; masked stores are not) and written through
// a stack copy.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "core/status.h"
#include "kernels/math/reduce_avx2.h"
#include "kernels/math/vexp_avx2.h"
#include "kernels/softmax.h"

namespace ratel::kernels {

namespace {

// Lanes [0, count) set: eight -1 then eight 0, read from offset 8 - count.
alignas(64) constexpr int32_t kTailMaskTable[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                    0,  0,  0,  0,  0,  0,  0,  0};

}  // namespace

void f32_softmax__avx2_fma(size_t n, const float* x, float scale, const float* bias, float* y) {
  RATEL_ASSERT(n >= 1 && x != nullptr && y != nullptr);
  const __m256 vscale = _mm256_set1_ps(scale);
  const size_t rem = n % 8;
  const size_t body = n - rem;
  const __m256i tail = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kTailMaskTable + 8 - rem));
  auto t_at = [&](size_t i) {
    const __m256 xi = _mm256_loadu_ps(x + i);
    return bias ? _mm256_fmadd_ps(xi, vscale, _mm256_loadu_ps(bias + i)) : _mm256_mul_ps(xi, vscale);
  };
  auto t_tail = [&](size_t i) {
    const __m256 xi = _mm256_maskload_ps(x + i, tail);
    return bias ? _mm256_fmadd_ps(xi, vscale, _mm256_maskload_ps(bias + i, tail))
                : _mm256_mul_ps(xi, vscale);
  };

  // Pass 1: max t (see the AVX-512 kernel for NaN).
  const __m256 neg_inf = _mm256_set1_ps(-__builtin_inff());
  __m256 m0 = neg_inf, m1 = neg_inf;
  size_t i = 0;
  for (; i + 16 <= body; i += 16) {
    m0 = _mm256_max_ps(m0, t_at(i));
    m1 = _mm256_max_ps(m1, t_at(i + 8));
  }
  if (i < body) m0 = _mm256_max_ps(m0, t_at(i));
  if (rem) m1 = _mm256_max_ps(m1, _mm256_blendv_ps(neg_inf, t_tail(body), _mm256_castsi256_ps(tail)));
  const float max = math::reduce_max_avx2(_mm256_max_ps(m0, m1));
  const __m256 vmax = _mm256_set1_ps(max);

  // Pass 2: e = exp(t - max), stored, summed. Element j always lands in lane j % 8 of
  // accumulator (j / 8) % 2, whatever n is: zeros appended to a row (keys the attention kernel
  // leaves out) then do not change the sum's rounding.
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  i = 0;
  for (; i + 16 <= body; i += 16) {
    const __m256 e0 = math::exp_avx2(_mm256_sub_ps(t_at(i), vmax));
    const __m256 e1 = math::exp_avx2(_mm256_sub_ps(t_at(i + 8), vmax));
    _mm256_storeu_ps(y + i, e0);
    _mm256_storeu_ps(y + i + 8, e1);
    s0 = _mm256_add_ps(s0, e0);
    s1 = _mm256_add_ps(s1, e1);
  }
  const bool odd_chunk = i < body;  // one full chunk left: it goes to s0, the tail to s1
  if (odd_chunk) {
    const __m256 e0 = math::exp_avx2(_mm256_sub_ps(t_at(i), vmax));
    _mm256_storeu_ps(y + i, e0);
    s0 = _mm256_add_ps(s0, e0);
  }
  if (rem) {
    const __m256 e1 = _mm256_and_ps(math::exp_avx2(_mm256_sub_ps(t_tail(body), vmax)),
                                    _mm256_castsi256_ps(tail));
    alignas(32) float buf[8];
    _mm256_store_ps(buf, e1);
    std::memcpy(y + body, buf, rem * sizeof(float));
    if (odd_chunk) {
      s1 = _mm256_add_ps(s1, e1);
    } else {
      s0 = _mm256_add_ps(s0, e1);
    }
  }
  const float sum = math::reduce_add_avx2(_mm256_add_ps(s0, s1));

  // Pass 3: normalize (the scalar tail rounds exactly like the vector multiply).
  const float inv_sum = 1.0f / sum;
  const __m256 inv = _mm256_set1_ps(inv_sum);
  for (i = 0; i < body; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), inv));
  for (; i < n; ++i) y[i] *= inv_sum;
}

}  // namespace ratel::kernels
