// Portable exp: the scalar form of the same approximation (math/exp_approx.h).
#include "kernels/math/exp_approx.h"
#include "kernels/softmax.h"

namespace ratel::kernels {

void f32_vexp__generic(size_t n, const float* x, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] = math::exp_approx(x[i]);
}

}  // namespace ratel::kernels
