// AVX-512 softmax: 16 lanes per step (two accumulators in the reductions), tails under a mask.
#include <immintrin.h>

#include "core/status.h"
#include "kernels/math/reduce_avx512.h"
#include "kernels/math/vexp_avx512.h"
#include "kernels/softmax.h"

namespace ratel::kernels {

void f32_softmax__avx512f(size_t n, const float* x, float scale, const float* bias, float* y) {
  RATEL_ASSERT(n >= 1 && x != nullptr && y != nullptr);
  const __m512 vscale = _mm512_set1_ps(scale);
  const __mmask16 tail = static_cast<__mmask16>((1u << (n % 16)) - 1);
  const size_t body = n - n % 16;
  auto t_at = [&](size_t i) {
    const __m512 xi = _mm512_loadu_ps(x + i);
    return bias ? _mm512_fmadd_ps(xi, vscale, _mm512_loadu_ps(bias + i)) : _mm512_mul_ps(xi, vscale);
  };
  auto t_tail = [&](size_t i) {
    const __m512 xi = _mm512_maskz_loadu_ps(tail, x + i);
    return bias ? _mm512_fmadd_ps(xi, vscale, _mm512_maskz_loadu_ps(tail, bias + i))
                : _mm512_mul_ps(xi, vscale);
  };

  // Pass 1: max t. (max(acc, t) returns t when either is NaN, so a NaN t reaches the max unless
  // a later element replaces it; either way exp(t - max) below is NaN for that element.)
  const __m512 neg_inf = _mm512_set1_ps(-__builtin_inff());
  __m512 m0 = neg_inf, m1 = neg_inf;
  size_t i = 0;
  for (; i + 32 <= body; i += 32) {
    m0 = math::max_avx512(m0, t_at(i));
    m1 = math::max_avx512(m1, t_at(i + 16));
  }
  if (i < body) m0 = math::max_avx512(m0, t_at(i));
  if (tail) m1 = _mm512_mask_max_ps(m1, tail, m1, t_tail(body));
  const float max = math::reduce_max_avx512(math::max_avx512(m0, m1));
  const __m512 vmax = _mm512_set1_ps(max);

  // Pass 2: e = exp(t - max), stored, summed. Element j always lands in lane j % 16 of
  // accumulator (j / 16) % 2, whatever n is: zeros appended to a row (keys the attention kernel
  // leaves out) then do not change the sum's rounding.
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  i = 0;
  for (; i + 32 <= body; i += 32) {
    const __m512 e0 = math::exp_avx512(_mm512_sub_ps(t_at(i), vmax));
    const __m512 e1 = math::exp_avx512(_mm512_sub_ps(t_at(i + 16), vmax));
    _mm512_storeu_ps(y + i, e0);
    _mm512_storeu_ps(y + i + 16, e1);
    s0 = _mm512_add_ps(s0, e0);
    s1 = _mm512_add_ps(s1, e1);
  }
  const bool odd_chunk = i < body;  // one full chunk left: it goes to s0, the tail to s1
  if (odd_chunk) {
    const __m512 e0 = math::exp_avx512(_mm512_sub_ps(t_at(i), vmax));
    _mm512_storeu_ps(y + i, e0);
    s0 = _mm512_add_ps(s0, e0);
  }
  if (tail) {
    const __m512 e1 = math::exp_avx512(_mm512_sub_ps(t_tail(body), vmax));
    _mm512_mask_storeu_ps(y + body, tail, e1);
    if (odd_chunk) {
      s1 = _mm512_mask_add_ps(s1, tail, s1, e1);
    } else {
      s0 = _mm512_mask_add_ps(s0, tail, s0, e1);
    }
  }
  const float sum = math::reduce_add_avx512(_mm512_add_ps(s0, s1));

  // Pass 3: normalize.
  const __m512 inv = _mm512_set1_ps(1.0f / sum);
  for (i = 0; i < body; i += 16) _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(y + i), inv));
  if (tail) {
    _mm512_mask_storeu_ps(y + body, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, y + body), inv));
  }
}

}  // namespace ratel::kernels
