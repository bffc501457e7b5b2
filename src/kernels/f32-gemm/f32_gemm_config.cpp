// The GEMM dispatch table: one microkernel per Isa, with the blocking the driver uses with it.
//
// Blocking (floats): k_block = 256 keeps the MR x 256 A tile in a 32 KiB L1 (6 x 272 x 4 =
// 6.5 KiB for AVX-512 and AVX2) while each 256 x NR B panel streams from L2. n_block bounds
// the slice of B that all row tiles of a thread reuse: the defaults below (256 x 512 x 4 =
// 512 KiB, half of Zen 4's 1 MiB L2) are rescaled to the L2 the OS reports (n_block_for_l2).
// Tuned with bench/gemm_bench on Zen 4 (bench/README.md).
#include <algorithm>

#include "core/status.h"
#include "cpu/cpu_features.h"
#include "kernels/f32-gemm/f32_gemm_ukernel.h"
#include "kernels/gemm.h"
#if defined(RATEL_RVV_KERNELS)
#include "kernels/f32-gemm/f32_gemm_rvv.h"
#endif

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
    &f32_gemm_6x64__avx512f, "f32_gemm_6x64__avx512f", cpu::Isa::kAvx512,
    /*mr=*/6, /*nr=*/64, /*k_block=*/256, kF32Gemm6x64Avx512AStride, /*n_block=*/512};

constexpr GemmUkernel kAvx512Narrow = {
    &f32_gemm_12x32__avx512f, "f32_gemm_12x32__avx512f", cpu::Isa::kAvx512,
    /*mr=*/12, /*nr=*/32, /*k_block=*/256, kF32Gemm12x32Avx512AStride, /*n_block=*/512};
#endif

constexpr bool fits_driver(const GemmUkernel& uk) {
  return uk.mr * uk.a_stride <= kGemmMaxATileFloats && uk.k_block <= uk.a_stride &&
         uk.n_block % uk.nr == 0;
}
static_assert(fits_driver(kGeneric));
#if defined(__x86_64__)
static_assert(fits_driver(kAvx2) && fits_driver(kAvx512) && fits_driver(kAvx512Narrow));
#endif

// The B slice a thread streams its row tiles over (k_block x n_block floats) should fill about
// half of its L2, leaving room for the C tiles and A passing through: 512 columns on Zen 4
// (1 MiB L2, the measured optimum), 256 on Zen 3 (512 KiB), 128 on Skylake client (256 KiB).
// Unknown L2: the table's default.
size_t n_block_for_l2(const GemmUkernel& uk, size_t l2_bytes) {
  if (l2_bytes == 0) return uk.n_block;
  const size_t columns = l2_bytes / 2 / (uk.k_block * sizeof(float));
  const size_t rounded = columns / uk.nr * uk.nr;
  return std::clamp(rounded, 2 * uk.nr, std::max<size_t>(1024, 2 * uk.nr));
}

#if defined(RATEL_RVV_KERNELS)
// riscv64 RVV 1.0: NR = VLEN / 8 is known only at run time (vector-length agnostic kernel), so
// the entry is made here, and only on a CPU that passed the RVV 1.0 detection (asking the
// kernel for its NR executes a vector instruction).
GemmUkernel make_rvv_ukernel() {
  GemmUkernel uk = {&f32_gemm_7x4v__rvv, "f32_gemm_7x4v__rvv", cpu::Isa::kRvv,
                    /*mr=*/7, /*nr=*/0, /*k_block=*/256, kF32Gemm7x4vRvvAStride, /*n_block=*/0};
  uk.nr = f32_gemm_7x4v__rvv_nr();
  RATEL_ASSERT(uk.nr == cpu::cpu_features().rvv_vlen_bits / 8);
  uk.n_block = std::max<size_t>(256, 2 * uk.nr) / uk.nr * uk.nr;
  RATEL_ASSERT(fits_driver(uk));
  return uk;
}
#endif

struct Table {
  GemmUkernel generic, avx2, avx512, avx512_narrow, rvv;
};

Table make_table() {
  const size_t l2 = cpu::cpu_features().l2_cache_bytes;
  Table t;
  t.generic = kGeneric;
#if defined(__x86_64__)
  t.avx2 = kAvx2;
  t.avx512 = kAvx512;
  t.avx512_narrow = kAvx512Narrow;
#endif
#if defined(RATEL_RVV_KERNELS)
  if (cpu::cpu_features().rvv) t.rvv = make_rvv_ukernel();
#endif
  for (GemmUkernel* uk : {&t.generic, &t.avx2, &t.avx512, &t.avx512_narrow, &t.rvv}) {
    if (uk->fn != nullptr) uk->n_block = n_block_for_l2(*uk, l2);
  }
  return t;
}

const Table& the_table() {
  static const Table t = make_table();
  return t;
}

}  // namespace

const GemmUkernel& gemm_ukernel(cpu::Isa isa) {
  // Running a kernel the CPU lacks is SIGILL, so this is checked even in release builds by the
  // callers that take an Isa from outside (PackedGemmB::pack); here it is a programmer error.
  RATEL_ASSERT(isa <= cpu::best_isa(cpu::cpu_features()));
  const Table& table = the_table();
  switch (isa) {
#if defined(__x86_64__)
    case cpu::Isa::kAvx512: return table.avx512;
    case cpu::Isa::kAvx2: return table.avx2;
#endif
#if defined(RATEL_RVV_KERNELS)
    case cpu::Isa::kRvv: return table.rvv.fn != nullptr ? table.rvv : table.generic;
#endif
    default: return table.generic;
  }
}

const GemmUkernel& gemm_ukernel_for(cpu::Isa isa, [[maybe_unused]] size_t n) {
#if defined(__x86_64__)
  if (isa == cpu::Isa::kAvx512 && n <= kAvx512Narrow.nr) {
    RATEL_ASSERT(isa <= cpu::best_isa(cpu::cpu_features()));
    return the_table().avx512_narrow;
  }
#endif
  return gemm_ukernel(isa);
}

}  // namespace ratel::kernels
