// The RVV 1.0 GEMM microkernel (riscv64 builds with RATEL_RVV_KERNELS only; see
// f32_gemm_7x4v__rvv.cpp). Declared apart from f32_gemm_ukernel.h so that x86 builds never see it.
#pragma once

#include <cstddef>

#include "kernels/f32-gemm/f32_gemm_ukernel.h"

namespace ratel::kernels {

inline constexpr size_t kF32Gemm7x4vRvvAStride = 256 + 4;
// NR of the tile on this CPU: VLEN / 8 (one LMUL=4 group of fp32). Executes a vector
// instruction: call only where cpu::cpu_features().rvv holds.
size_t f32_gemm_7x4v__rvv_nr();
void f32_gemm_7x4v__rvv(size_t mr, size_t nc, size_t kc, const float* __restrict a,
                        const float* __restrict packed_b, float* __restrict c, size_t c_stride,
                        const GemmUkernelParams& params);

}  // namespace ratel::kernels
