// f32 GEMM microkernels: the register-blocked inner loops under kernels/gemm.h.
//
// A microkernel computes one MR x NR tile of C for one K block:
//
//   C[mr x nc] = (accumulate ? C : 0) + A[mr x kc] * B[kc x nc]
//   then, if last_k_block:  C = activation(C + bias) + residual
//
// Operands (all fp32; the pointers never alias each other):
//   a         row-major mr x kc tile with row stride `a_stride`, a constant of each kernel (the
//             GEMM driver copies A into a stack tile with that stride, so the kernel reaches all
//             rows from one pointer with constant displacements; see gemm.cpp for why).
//   packed_b  kc rows of NR contiguous floats: a slice of one panel of pack_gemm_b's layout,
//             zero-padded past column nc. 64-byte aligned.
//   c         mr x nc, row stride c_stride (floats).
//   bias      nc floats or null; residual: mr x nc with row stride residual_stride, or null.
// Preconditions (asserted): 1 <= mr <= MR, 1 <= nc <= NR, 1 <= kc <= the kernel's a_stride.
//
// Accumulation is a chain of FMAs in k order per output element (a multiply and an add on the
// generic path), continued across K blocks through C, so a GEMM result does not depend on how
// K is blocked or on which thread computes the tile.
//
// Naming (XNNPACK's grammar): f32_gemm_<MR>x<NR>__<isa>, one file per kernel with that name.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cpu/cpu_features.h"

namespace ratel::kernels {

enum class Activation : uint8_t {
  kNone = 0,
  kGelu = 1,  // erf form, 0.5 x (1 + erf(x / sqrt 2)); see math/erf_approx.h for its error
};

struct GemmUkernelParams {
  bool accumulate = false;    // start from C (a later K block) instead of zero
  bool last_k_block = true;   // apply bias, activation and residual before storing
  Activation activation = Activation::kNone;
  const float* bias = nullptr;
  const float* residual = nullptr;
  size_t residual_stride = 0;
};

using GemmUkernelFn = void (*)(size_t mr, size_t nc, size_t kc, const float* __restrict a,
                               const float* __restrict packed_b, float* __restrict c,
                               size_t c_stride, const GemmUkernelParams& params);

// A microkernel and the blocking the GEMM driver uses with it.
struct GemmUkernel {
  GemmUkernelFn fn = nullptr;
  const char* name = "";
  cpu::Isa isa = cpu::Isa::kGeneric;
  size_t mr = 0;        // rows of the register tile
  size_t nr = 0;        // columns of the register tile = width of a packed B panel
  size_t k_block = 0;   // K block (the largest kc a call gets): the mr x k_block A tile stays
                         // in L1 while B panels stream from L2
  size_t a_stride = 0;  // row stride (floats) of the A tile the kernel reads; >= k_block
  size_t n_block = 0;   // N block (multiple of nr): its k_block x n_block slice of B stays in
                         // L2 while every row tile of the thread's rows passes over it
};

// The kernel for `isa` (which must be supported by this CPU to call it). Filled once.
const GemmUkernel& gemm_ukernel(cpu::Isa isa);
// The kernel for a B of `n` columns: gemm_ukernel(isa), except that AVX-512 runs B's up to 32
// columns wide (attention's P x V with head size 32, MiniLM's) on a 12 x 32 tile instead of
// computing half of every 6 x 64 tile on padding. Same FMA chain per element, so the same bits.
const GemmUkernel& gemm_ukernel_for(cpu::Isa isa, size_t n);

// --- the kernels (each defined in the file of the same name) ---
inline constexpr size_t kF32Gemm4x8GenericAStride = 256 + 4;
void f32_gemm_4x8__generic(size_t mr, size_t nc, size_t kc, const float* __restrict a,
                           const float* __restrict packed_b, float* __restrict c,
                           size_t c_stride, const GemmUkernelParams& params);

#if defined(__x86_64__)
inline constexpr size_t kF32Gemm6x16Avx2AStride = 256 + 16;
void f32_gemm_6x16__avx2_fma(size_t mr, size_t nc, size_t kc, const float* __restrict a,
                             const float* __restrict packed_b, float* __restrict c,
                             size_t c_stride, const GemmUkernelParams& params);

inline constexpr size_t kF32Gemm6x64Avx512AStride = 256 + 16;
void f32_gemm_6x64__avx512f(size_t mr, size_t nc, size_t kc, const float* __restrict a,
                            const float* __restrict packed_b, float* __restrict c,
                            size_t c_stride, const GemmUkernelParams& params);

inline constexpr size_t kF32Gemm12x32Avx512AStride = 256 + 16;
void f32_gemm_12x32__avx512f(size_t mr, size_t nc, size_t kc, const float* __restrict a,
                             const float* __restrict packed_b, float* __restrict c,
                             size_t c_stride, const GemmUkernelParams& params);
#endif

}  // namespace ratel::kernels
