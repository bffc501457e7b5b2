// The GEMM dispatch table: one microkernel per Isa, with the blocking the driver uses with it.
//
// Blocking (floats): k_block = 256 keeps the MR x 256 A tile in a 32 KiB L1 (14 x 272 x 4 =
// 15 KiB for AVX-512) while each 256 x NR B panel streams from L2; n_block bounds the slice of B
// that all row tiles of a thread reuse (256 x 512 x 4 = 512 KiB, half of Zen 4's 1 MiB L2). Tuned with bench/gemm_bench on Zen 4 (bench/README.md).
#include "core/status.h"
#include "kernels/f32-gemm/f32_gemm_ukernel.h"
#include "kernels/gemm.h"

namespace ratel::kernels {
namespace {

constexpr GemmUkernel kGeneric = {
    &f32_gemm_4x8__generic, "f32_gemm_4x8__generic", cpu::Isa::kGeneric,
    /*mr=*/4, /*nr=*/8, /*k_block=*/256, kF32Gemm4x8GenericAStride, /*n_block=*/256};

#if defined(__x86_64__)
constexpr GemmUkernel kAvx2 = {
    &f32_gemm_6x16__avx2_fma, "f32_gemm_6x16__avx2_fma", cpu::Isa::kAvx2,
    /*mr=*/6, /*nr=*/16, /*k_block=*/256, kF32Gemm6x16Avx2AStride, /*n_block=*/512};

constexpr GemmUkernel kAvx512 = {
    &f32_gemm_14x32__avx512f, "f32_gemm_14x32__avx512f", cpu::Isa::kAvx512,
    /*mr=*/14, /*nr=*/32, /*k_block=*/256, kF32Gemm14x32Avx512AStride, /*n_block=*/512};
#endif

constexpr bool fits_driver(const GemmUkernel& uk) {
  return uk.mr * uk.a_stride <= kGemmMaxATileFloats && uk.k_block <= uk.a_stride &&
         uk.n_block % uk.nr == 0;
}
static_assert(fits_driver(kGeneric));
#if defined(__x86_64__)
static_assert(fits_driver(kAvx2) && fits_driver(kAvx512));
#endif

}  // namespace

const GemmUkernel& gemm_ukernel(cpu::Isa isa) {
  // Running a kernel the CPU lacks is SIGILL, so this is checked even in release builds by the
  // callers that take an Isa from outside (PackedGemmB::pack); here it is a programmer error.
  RATEL_ASSERT(isa <= cpu::best_isa(cpu::cpu_features()));
  switch (isa) {
#if defined(__x86_64__)
    case cpu::Isa::kAvx512: return kAvx512;
    case cpu::Isa::kAvx2: return kAvx2;
#endif
    default: return kGeneric;
  }
}

}  // namespace ratel::kernels
