// Portable layer norm: the same three passes in scalar code with four partial sums per
// reduction (independent chains the compiler can keep in registers or vectorize).
#include <cmath>

#include "core/status.h"
#include "kernels/layernorm.h"

namespace ratel::kernels {

void f32_layernorm__generic(size_t n, const float* x, const float* skip, const float* gamma,
                            const float* beta, float epsilon, float* y) {
  RATEL_ASSERT(n >= 1 && x != nullptr && gamma != nullptr && y != nullptr);
  const float* src = x;
  if (skip) {
    for (size_t i = 0; i < n; ++i) y[i] = x[i] + skip[i];
    src = y;
  }
  const float z0 = src[0];
  float a[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (size_t l = 0; l < 4; ++l) a[l] += src[i + l] - z0;
  }
  for (; i < n; ++i) a[0] += src[i] - z0;
  const float fn = static_cast<float>(n);
  const float mean = z0 + ((a[0] + a[1]) + (a[2] + a[3])) / fn;

  float q[4] = {0, 0, 0, 0};
  for (i = 0; i + 4 <= n; i += 4) {
    for (size_t l = 0; l < 4; ++l) {
      const float d = src[i + l] - mean;
      q[l] += d * d;
    }
  }
  for (; i < n; ++i) {
    const float d = src[i] - mean;
    q[0] += d * d;
  }
  const float var = ((q[0] + q[1]) + (q[2] + q[3])) / fn;
  const float rstd = static_cast<float>(1.0 / std::sqrt(double{var} + epsilon));
  if (beta) {
    for (i = 0; i < n; ++i) y[i] = (src[i] - mean) * rstd * gamma[i] + beta[i];
  } else {
    for (i = 0; i < n; ++i) y[i] = (src[i] - mean) * rstd * gamma[i];
  }
}

}  // namespace ratel::kernels
