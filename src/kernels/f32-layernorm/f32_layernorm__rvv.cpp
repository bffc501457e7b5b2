// RVV 1.0 layer norm: the three passes of the other paths (layernorm.h) on LMUL=4 groups, vl
// from the remaining count. Partial sums per lane (tail-undisturbed), finished by an ordered
// reduction; the mean as z0 + sum (z - z0) / n, rstd in double; y = (z - mean) * rstd * gamma
// + beta with the last step fused (as the AVX paths). The error bound of layernorm.h covers any
// summation order.
#include <cmath>

#include <riscv_vector.h>

#include "core/status.h"
#include "kernels/rvv_kernels.h"

namespace ratel::kernels {
namespace {

float sum_lanes(vfloat32m4_t v, size_t vlmax) {
  return __riscv_vfmv_f_s_f32m1_f32(
      __riscv_vfredosum_vs_f32m4_f32m1(v, __riscv_vfmv_s_f_f32m1(0.0f, 1), vlmax));
}

}  // namespace

void f32_layernorm__rvv(size_t n, const float* x, const float* skip, const float* gamma,
                        const float* beta, float epsilon, float* y) {
  RATEL_ASSERT(n >= 1 && x != nullptr && gamma != nullptr && y != nullptr);
  const size_t vlmax = __riscv_vsetvlmax_e32m4();
  // Pass 1: z = x + skip (stored to y: it is what the unfused Add would store), sum (z - z0).
  const float z0 = skip ? x[0] + skip[0] : x[0];
  vfloat32m4_t a = __riscv_vfmv_v_f_f32m4(0.0f, vlmax);
  for (size_t i = 0; i < n;) {
    const size_t vl = __riscv_vsetvl_e32m4(n - i);
    vfloat32m4_t z = __riscv_vle32_v_f32m4(x + i, vl);
    if (skip) {
      z = __riscv_vfadd_vv_f32m4(z, __riscv_vle32_v_f32m4(skip + i, vl), vl);
      __riscv_vse32_v_f32m4(y + i, z, vl);
    }
    a = __riscv_vfadd_vv_f32m4_tu(a, a, __riscv_vfsub_vf_f32m4(z, z0, vl), vl);
    i += vl;
  }
  const float* src = skip ? y : x;
  const float fn = static_cast<float>(n);
  const float mean = z0 + sum_lanes(a, vlmax) / fn;
  // Pass 2: sum (z - mean)^2.
  vfloat32m4_t q = __riscv_vfmv_v_f_f32m4(0.0f, vlmax);
  for (size_t i = 0; i < n;) {
    const size_t vl = __riscv_vsetvl_e32m4(n - i);
    const vfloat32m4_t d = __riscv_vfsub_vf_f32m4(__riscv_vle32_v_f32m4(src + i, vl), mean, vl);
    q = __riscv_vfmacc_vv_f32m4_tu(q, d, d, vl);
    i += vl;
  }
  const float var = sum_lanes(q, vlmax) / fn;
  const float rstd = static_cast<float>(1.0 / std::sqrt(double{var} + epsilon));
  // Pass 3: y = (z - mean) * rstd * gamma + beta.
  for (size_t i = 0; i < n;) {
    const size_t vl = __riscv_vsetvl_e32m4(n - i);
    const vfloat32m4_t nz = __riscv_vfmul_vf_f32m4(
        __riscv_vfsub_vf_f32m4(__riscv_vle32_v_f32m4(src + i, vl), mean, vl), rstd, vl);
    const vfloat32m4_t g = __riscv_vle32_v_f32m4(gamma + i, vl);
    const vfloat32m4_t out =
        beta ? __riscv_vfmadd_vv_f32m4(nz, g, __riscv_vle32_v_f32m4(beta + i, vl), vl)
             : __riscv_vfmul_vv_f32m4(nz, g, vl);
    __riscv_vse32_v_f32m4(y + i, out, vl);
    i += vl;
  }
}

}  // namespace ratel::kernels
