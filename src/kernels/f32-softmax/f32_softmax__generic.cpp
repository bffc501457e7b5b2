// Portable softmax: the same three passes with math/exp_approx.h's scalar exp; four partial
// sums per reduction (independent chains the compiler can keep in registers or vectorize).
#include "core/status.h"
#include "kernels/math/exp_approx.h"
#include "kernels/softmax.h"

namespace ratel::kernels {

void f32_softmax__generic(size_t n, const float* x, float scale, const float* bias, float* y) {
  RATEL_ASSERT(n >= 1 && x != nullptr && y != nullptr);
  auto t_at = [&](size_t i) { return bias ? x[i] * scale + bias[i] : x[i] * scale; };
  // A NaN t never wins the max (the comparison is false), but exp(NaN - max) below is NaN, so
  // the sum and then every element become NaN.
  float m[4] = {-__builtin_inff(), -__builtin_inff(), -__builtin_inff(), -__builtin_inff()};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (size_t l = 0; l < 4; ++l) {
      const float t = t_at(i + l);
      m[l] = m[l] < t ? t : m[l];
    }
  }
  for (; i < n; ++i) {
    const float t = t_at(i);
    m[0] = m[0] < t ? t : m[0];
  }
  float max = m[0];
  for (size_t l = 1; l < 4; ++l) max = max < m[l] ? m[l] : max;

  float s[4] = {0, 0, 0, 0};
  for (i = 0; i + 4 <= n; i += 4) {
    for (size_t l = 0; l < 4; ++l) {
      const float e = math::exp_approx(t_at(i + l) - max);
      y[i + l] = e;
      s[l] += e;
    }
  }
  for (; i < n; ++i) {  // element j always goes to s[j % 4] (see the AVX-512 kernel)
    const float e = math::exp_approx(t_at(i) - max);
    y[i] = e;
    s[i % 4] += e;
  }
  const float inv = 1.0f / ((s[0] + s[1]) + (s[2] + s[3]));
  for (i = 0; i < n; ++i) y[i] *= inv;
}

}  // namespace ratel::kernels
