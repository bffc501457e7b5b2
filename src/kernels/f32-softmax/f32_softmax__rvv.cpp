// RVV 1.0 softmax: the three passes of the other paths on LMUL=4 groups, vl from the remaining
// count (RVV's tail handling: no masked loads, no scalar tail). Reductions keep one partial
// per lane of a full register group (tail-undisturbed adds), so element j always lands in lane
// j % VLMAX whatever n is, and are finished by an ordered sum over all VLMAX lanes: exps that
// are exactly 0 appended to a row do not change the other outputs' bits (softmax.h's promise).
// NaN: vfmax ignores NaN lanes, but exp(NaN - max) is NaN, so the sum and the row become NaN.
#include <riscv_vector.h>

#include "core/status.h"
#include "kernels/math/vmath_rvv.h"
#include "kernels/rvv_kernels.h"

namespace ratel::kernels {

void f32_softmax__rvv(size_t n, const float* x, float scale, const float* bias, float* y) {
  RATEL_ASSERT(n >= 1 && x != nullptr && y != nullptr);
  const size_t vlmax = __riscv_vsetvlmax_e32m4();
  auto t_at = [&](size_t i, size_t vl) {
    const vfloat32m4_t xi = __riscv_vle32_v_f32m4(x + i, vl);
    return bias ? __riscv_vfmadd_vf_f32m4(xi, scale, __riscv_vle32_v_f32m4(bias + i, vl), vl)
                : __riscv_vfmul_vf_f32m4(xi, scale, vl);
  };
  // Pass 1: max t.
  vfloat32m4_t m = __riscv_vfmv_v_f_f32m4(-__builtin_inff(), vlmax);
  for (size_t i = 0; i < n;) {
    const size_t vl = __riscv_vsetvl_e32m4(n - i);
    m = __riscv_vfmax_vv_f32m4_tu(m, m, t_at(i, vl), vl);
    i += vl;
  }
  const float max = __riscv_vfmv_f_s_f32m1_f32(__riscv_vfredmax_vs_f32m4_f32m1(
      m, __riscv_vfmv_s_f_f32m1(-__builtin_inff(), 1), vlmax));
  // Pass 2: e = exp(t - max), stored and summed.
  vfloat32m4_t s = __riscv_vfmv_v_f_f32m4(0.0f, vlmax);
  for (size_t i = 0; i < n;) {
    const size_t vl = __riscv_vsetvl_e32m4(n - i);
    const vfloat32m4_t e = math::exp_rvv(__riscv_vfsub_vf_f32m4(t_at(i, vl), max, vl), vl);
    __riscv_vse32_v_f32m4(y + i, e, vl);
    s = __riscv_vfadd_vv_f32m4_tu(s, s, e, vl);
    i += vl;
  }
  const float sum = __riscv_vfmv_f_s_f32m1_f32(
      __riscv_vfredosum_vs_f32m4_f32m1(s, __riscv_vfmv_s_f_f32m1(0.0f, 1), vlmax));
  // Pass 3: multiply by 1 / sum.
  const float inv = 1.0f / sum;
  for (size_t i = 0; i < n;) {
    const size_t vl = __riscv_vsetvl_e32m4(n - i);
    __riscv_vse32_v_f32m4(y + i, __riscv_vfmul_vf_f32m4(__riscv_vle32_v_f32m4(y + i, vl), inv, vl),
                          vl);
    i += vl;
  }
}

}  // namespace ratel::kernels
