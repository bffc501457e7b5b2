// Portable gelu: the scalar form of the same approximation (math/erf_approx.h).
#include "kernels/math/erf_approx.h"
#include "kernels/vunary.h"

namespace ratel::kernels {

void f32_vgelu__generic(size_t n, const float* x, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] = math::gelu_approx(x[i]);
}

}  // namespace ratel::kernels
