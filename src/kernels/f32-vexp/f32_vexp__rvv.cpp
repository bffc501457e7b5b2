// RVV 1.0 exp: math/vmath_rvv.h's exp_rvv, LMUL=4, vl from the remaining count.
#include <riscv_vector.h>

#include "kernels/math/vmath_rvv.h"
#include "kernels/rvv_kernels.h"

namespace ratel::kernels {

void f32_vexp__rvv(size_t n, const float* x, float* y) {
  for (size_t i = 0; i < n;) {
    const size_t vl = __riscv_vsetvl_e32m4(n - i);
    __riscv_vse32_v_f32m4(y + i, math::exp_rvv(__riscv_vle32_v_f32m4(x + i, vl), vl), vl);
    i += vl;
  }
}

}  // namespace ratel::kernels
