// RVV 1.0 GELU (erf form): math/vmath_rvv.h's gelu_rvv, LMUL=4, vl from the remaining count
// (no tail loop: the last step runs with a shorter vl).
#include <riscv_vector.h>

#include "kernels/math/vmath_rvv.h"
#include "kernels/rvv_kernels.h"

namespace ratel::kernels {

void f32_vgelu__rvv(size_t n, const float* x, float* y) {
  for (size_t i = 0; i < n;) {
    const size_t vl = __riscv_vsetvl_e32m4(n - i);
    __riscv_vse32_v_f32m4(y + i, math::gelu_rvv(__riscv_vle32_v_f32m4(x + i, vl), vl), vl);
    i += vl;
  }
}

}  // namespace ratel::kernels
