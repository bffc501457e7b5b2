// RVV 1.0 GEMM microkernel, 7 x 4v tile: 7 rows times one LMUL=4 register group of columns, so
// NR = 4 * VLEN / 32 = VLEN / 8 floats (16 at VLEN 128 -- C908, C920v2 --, 32 at VLEN 256 -- K1 /
// X60 --). Vector-length agnostic: the same code for any VLEN; the table asks the detected VLEN
// for NR (f32_gemm_config.cpp) and packs B panels that wide.
//
// Register budget: 32 vector registers = 8 groups of 4. Seven hold the accumulators, one holds
// the B row of the current k; A comes as scalars (7 flw per k feed vfmacc.vf, no broadcast).
// Per k: 1 vle32 (4 registers), 7 flw, 7 vfmacc.vf of 4 registers each: 7 x VLEN/8 x 2 flops.
// That is XNNPACK's choice for RVV too (7x4v); a wider tile would spill.
//
// Edges: partial column panels just run with vl = nc (no stack copy, no masks: RVV's tail),
// partial row tiles instantiate the same template for 1..6 rows. Each C element is one chain of
// fused multiply-adds over k (vfmacc), continued across K blocks through C, so the result does
// not depend on the blocking or the thread count. The epilogue (bias, GELU, residual) runs in
// registers after the last K block, in the order of the other paths.
#include <array>
#include <utility>

#include <riscv_vector.h>

#include "core/status.h"
#include "kernels/f32-gemm/f32_gemm_rvv.h"
#include "kernels/math/vmath_rvv.h"

namespace ratel::kernels {
namespace {

constexpr size_t kMR = 7;
constexpr size_t kAStride = kF32Gemm7x4vRvvAStride;

// Bias, activation, residual for one row, then the store.
inline void finish_row(vfloat32m4_t acc, size_t r, float* __restrict c, size_t c_stride,
                       const GemmUkernelParams& p, size_t vl) {
  if (p.last_k_block) {
    if (p.bias != nullptr) acc = __riscv_vfadd_vv_f32m4(acc, __riscv_vle32_v_f32m4(p.bias, vl), vl);
    if (p.activation == Activation::kGelu) acc = math::gelu_rvv(acc, vl);
    if (p.residual != nullptr) {
      acc = __riscv_vfadd_vv_f32m4(
          acc, __riscv_vle32_v_f32m4(p.residual + r * p.residual_stride, vl), vl);
    }
  }
  __riscv_vse32_v_f32m4(c + r * c_stride, acc, vl);
}

// ROWS rows of nc <= NR columns. `nr` is the packed panel's row stride (NR).
template <size_t ROWS>
void tile(size_t nc, size_t kc, const float* __restrict a, const float* __restrict b, size_t nr,
          float* __restrict c, size_t c_stride, const GemmUkernelParams& p) {
  const size_t vl = __riscv_vsetvl_e32m4(nc);
  vfloat32m4_t c0, c1, c2, c3, c4, c5, c6;
  auto init = [&](size_t r) {
    return p.accumulate ? __riscv_vle32_v_f32m4(c + r * c_stride, vl)
                        : __riscv_vfmv_v_f_f32m4(0.0f, vl);
  };
  c0 = init(0);
  if constexpr (ROWS > 1) c1 = init(1);
  if constexpr (ROWS > 2) c2 = init(2);
  if constexpr (ROWS > 3) c3 = init(3);
  if constexpr (ROWS > 4) c4 = init(4);
  if constexpr (ROWS > 5) c5 = init(5);
  if constexpr (ROWS > 6) c6 = init(6);
  for (size_t k = 0; k < kc; ++k) {
    const vfloat32m4_t vb = __riscv_vle32_v_f32m4(b, vl);
    b += nr;
    c0 = __riscv_vfmacc_vf_f32m4(c0, a[k], vb, vl);
    if constexpr (ROWS > 1) c1 = __riscv_vfmacc_vf_f32m4(c1, a[1 * kAStride + k], vb, vl);
    if constexpr (ROWS > 2) c2 = __riscv_vfmacc_vf_f32m4(c2, a[2 * kAStride + k], vb, vl);
    if constexpr (ROWS > 3) c3 = __riscv_vfmacc_vf_f32m4(c3, a[3 * kAStride + k], vb, vl);
    if constexpr (ROWS > 4) c4 = __riscv_vfmacc_vf_f32m4(c4, a[4 * kAStride + k], vb, vl);
    if constexpr (ROWS > 5) c5 = __riscv_vfmacc_vf_f32m4(c5, a[5 * kAStride + k], vb, vl);
    if constexpr (ROWS > 6) c6 = __riscv_vfmacc_vf_f32m4(c6, a[6 * kAStride + k], vb, vl);
  }
  finish_row(c0, 0, c, c_stride, p, vl);
  if constexpr (ROWS > 1) finish_row(c1, 1, c, c_stride, p, vl);
  if constexpr (ROWS > 2) finish_row(c2, 2, c, c_stride, p, vl);
  if constexpr (ROWS > 3) finish_row(c3, 3, c, c_stride, p, vl);
  if constexpr (ROWS > 4) finish_row(c4, 4, c, c_stride, p, vl);
  if constexpr (ROWS > 5) finish_row(c5, 5, c, c_stride, p, vl);
  if constexpr (ROWS > 6) finish_row(c6, 6, c, c_stride, p, vl);
}

using TileFn = void (*)(size_t, size_t, const float* __restrict, const float* __restrict, size_t,
                        float* __restrict, size_t, const GemmUkernelParams&);

template <size_t... I>
constexpr std::array<TileFn, kMR> make_tiles(std::index_sequence<I...>) {
  return {&tile<I + 1>...};
}
constexpr std::array<TileFn, kMR> kTiles = make_tiles(std::make_index_sequence<kMR>());

}  // namespace

size_t f32_gemm_7x4v__rvv_nr() { return __riscv_vsetvlmax_e32m4(); }

void f32_gemm_7x4v__rvv(size_t mr, size_t nc, size_t kc, const float* __restrict a,
                        const float* __restrict packed_b, float* __restrict c, size_t c_stride,
                        const GemmUkernelParams& params) {
  const size_t nr = __riscv_vsetvlmax_e32m4();
  RATEL_ASSERT(mr >= 1 && mr <= kMR && nc >= 1 && nc <= nr && kc >= 1 && kc <= kAStride);
  kTiles[mr - 1](nc, kc, a, packed_b, nr, c, c_stride, params);
}

}  // namespace ratel::kernels
