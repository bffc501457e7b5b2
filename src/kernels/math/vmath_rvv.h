// RVV 1.0 versions of the approximations in erf_approx.h and exp_approx.h: the same formulas, in
// the same order of operations as the AVX2 forms (vmath_avx2.h, vexp_avx2.h), evaluated with
// fused multiply-adds on LMUL=4 register groups (8 groups = the whole register file, which is
// what the GEMM tile uses too). The error bounds of those headers hold unchanged
// (kErfMaxAbsError, kExpMaxRelError: the FMA evaluation), and tests/riscv measures them.
//
// Include only from translation units compiled for RVV 1.0 (files named *__rvv*.cpp, which
// src/kernels/CMakeLists.txt compiles with -march=rv64gcv); vl is the caller's vector length.
#pragma once

#if !defined(__riscv_vector)
#error "vmath_rvv.h needs RVV 1.0 (-march=rv64gcv): include it only from *__rvv*.cpp files"
#endif

#include <riscv_vector.h>

#include "kernels/math/erf_approx.h"
#include "kernels/math/exp_approx.h"

namespace ratel::kernels::math {

// p * t + c with one rounding (c splatted).
inline vfloat32m4_t fma_c_rvv(vfloat32m4_t p, vfloat32m4_t t, float c, size_t vl) {
  return __riscv_vfmadd_vv_f32m4(p, t, __riscv_vfmv_v_f_f32m4(c, vl), vl);
}

// erf with NaN kept (RVV's vfmin/vfmax return the number when one operand is NaN, so the clamp
// alone would turn NaN into +-1; the generic path returns NaN, and so does this one).
inline vfloat32m4_t erf_rvv(vfloat32m4_t x, size_t vl) {
  vfloat32m4_t xc = __riscv_vfmin_vf_f32m4(__riscv_vfmax_vf_f32m4(x, -kErfClamp, vl), kErfClamp, vl);
  const vfloat32m4_t t = __riscv_vfmul_vv_f32m4(xc, xc, vl);
  vfloat32m4_t p = __riscv_vfmv_v_f_f32m4(kErfP[5], vl);
  p = fma_c_rvv(p, t, kErfP[4], vl);
  p = fma_c_rvv(p, t, kErfP[3], vl);
  p = fma_c_rvv(p, t, kErfP[2], vl);
  p = fma_c_rvv(p, t, kErfP[1], vl);
  p = fma_c_rvv(p, t, kErfP[0], vl);
  vfloat32m4_t q = __riscv_vfmv_v_f_f32m4(kErfQ[5], vl);
  q = fma_c_rvv(q, t, kErfQ[4], vl);
  q = fma_c_rvv(q, t, kErfQ[3], vl);
  q = fma_c_rvv(q, t, kErfQ[2], vl);
  q = fma_c_rvv(q, t, kErfQ[1], vl);
  q = fma_c_rvv(q, t, kErfQ[0], vl);
  const vfloat32m4_t e = __riscv_vfdiv_vv_f32m4(__riscv_vfmul_vv_f32m4(xc, p, vl), q, vl);
  const vbool8_t nan = __riscv_vmfne_vv_f32m4_b8(x, x, vl);
  return __riscv_vmerge_vvm_f32m4(e, x, nan, vl);
}

// 0.5 x + 0.5 x erf(x / sqrt 2), the last step fused (as gelu_avx2).
inline vfloat32m4_t gelu_rvv(vfloat32m4_t x, size_t vl) {
  const vfloat32m4_t half_x = __riscv_vfmul_vf_f32m4(x, 0.5f, vl);
  const vfloat32m4_t e = erf_rvv(__riscv_vfmul_vf_f32m4(x, kSqrtHalf, vl), vl);
  return __riscv_vfmacc_vv_f32m4(half_x, half_x, e, vl);
}

inline vfloat32m4_t exp_rvv(vfloat32m4_t x, size_t vl) {
  // Clamp into the domain; NaN lanes are restored at the end.
  vfloat32m4_t xc = __riscv_vfmax_vf_f32m4(x, kExpMin, vl);
  xc = __riscv_vfmin_vf_f32m4(xc, kExpMax, vl);
  const vfloat32m4_t magic = __riscv_vfmv_v_f_f32m4(kRoundMagic, vl);
  // t = xc * log2e + magic (fused), n = t - magic: round to nearest even of xc * log2e.
  const vfloat32m4_t t = __riscv_vfmacc_vf_f32m4(magic, kLog2e, xc, vl);
  const vfloat32m4_t n = __riscv_vfsub_vv_f32m4(t, magic, vl);
  const vuint32m4_t tbits = __riscv_vreinterpret_v_f32m4_u32m4(t);
  const vuint32m4_t scale = __riscv_vsll_vx_u32m4(
      __riscv_vadd_vx_u32m4(__riscv_vsub_vx_u32m4(tbits, float_bits(kRoundMagic), vl), 127u, vl),
      23, vl);
  // r = xc - n * ln2hi - n * ln2lo (each step fused, as _mm256_fnmadd_ps).
  vfloat32m4_t r = __riscv_vfnmsac_vf_f32m4(xc, kLn2Hi, n, vl);
  r = __riscv_vfnmsac_vf_f32m4(r, kLn2Lo, n, vl);
  vfloat32m4_t p = __riscv_vfmv_v_f_f32m4(kExpC[4], vl);
  p = fma_c_rvv(p, r, kExpC[3], vl);
  p = fma_c_rvv(p, r, kExpC[2], vl);
  p = fma_c_rvv(p, r, kExpC[1], vl);
  p = fma_c_rvv(p, r, kExpC[0], vl);
  p = fma_c_rvv(p, r, 1.0f, vl);
  vfloat32m4_t y = __riscv_vfmul_vv_f32m4(p, __riscv_vreinterpret_v_u32m4_f32m4(scale), vl);
  // Below the domain: 0; above: +inf; NaN: NaN.
  y = __riscv_vfmerge_vfm_f32m4(y, 0.0f, __riscv_vmflt_vf_f32m4_b8(x, kExpMin, vl), vl);
  y = __riscv_vfmerge_vfm_f32m4(y, __builtin_inff(), __riscv_vmfgt_vf_f32m4_b8(x, kExpMax, vl), vl);
  return __riscv_vmerge_vvm_f32m4(y, x, __riscv_vmfne_vv_f32m4_b8(x, x, vl), vl);
}

}  // namespace ratel::kernels::math
