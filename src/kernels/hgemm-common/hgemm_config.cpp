// The half-precision-weight GEMM dispatch table (blocking as the f32 GEMM's: k_block x NR
// panels stream from L2, k_block x n_block slices stay there; the bf16 pair tile holds 512 k
// in the same 15 KiB as 256 fp32). Defaults per ISA measured with bench/qgemm_bench.cpp on
// Zen 4: the 14 x 32 tiles stay in the table as the measured alternatives (and are tested).
#include "core/status.h"
#include "kernels/hgemm-common/hgemm_ukernel.h"

namespace ratel::kernels {
namespace {

using cpu::Isa;

constexpr HGemmUkernel kGenericF16 = {
    &f32_f16w_gemm_4x8__generic, "f32_f16w_gemm_4x8__generic", HFormat::kF16, Isa::kGeneric,
    false, false, 4, 8, 1, 256, kHGemmAStrideF32, 4, 256, &hgemm_pack_a_f32__generic};
constexpr HGemmUkernel kGenericBf16 = {
    &bf16_gemm_4x8c2__generic, "bf16_gemm_4x8c2__generic", HFormat::kBF16, Isa::kGeneric,
    false, false, 4, 8, 2, 256, kHGemmAStrideF32, 4, 256, &bf16_pack_a_f32__generic};
#if defined(__x86_64__)
constexpr HGemmUkernel kAvx2F16 = {
    &f32_f16w_gemm_6x16__avx2_fma, "f32_f16w_gemm_6x16__avx2_fma", HFormat::kF16, Isa::kAvx2,
    false, true, 6, 16, 1, 256, kHGemmAStrideF32, 4, 512, &hgemm_pack_a_f32__generic};
constexpr HGemmUkernel kAvx2Bf16 = {
    &bf16_gemm_6x16c2__avx2_fma, "bf16_gemm_6x16c2__avx2_fma", HFormat::kBF16, Isa::kAvx2,
    false, false, 6, 16, 2, 256, kHGemmAStrideF32, 4, 512, &bf16_pack_a_f32__avx2};
constexpr HGemmUkernel kAvx512F16 = {
    &f32_f16w_gemm_14x32__avx512f, "f32_f16w_gemm_14x32__avx512f", HFormat::kF16, Isa::kAvx512,
    false, false, 14, 32, 1, 256, kHGemmAStrideF32, 4, 512, &hgemm_pack_a_f32__generic};
constexpr HGemmUkernel kAvx512F16x64 = {
    &f32_f16w_gemm_6x64__avx512f, "f32_f16w_gemm_6x64__avx512f", HFormat::kF16, Isa::kAvx512,
    false, false, 6, 64, 1, 256, kHGemmAStrideF32, 4, 512, &hgemm_pack_a_f32__generic};
constexpr HGemmUkernel kAvx512Bf16x64 = {
    &bf16_gemm_6x64c2__avx512bf16, "bf16_gemm_6x64c2__avx512bf16", HFormat::kBF16,
    Isa::kAvx512, true, false, 6, 64, 2, 512, kHGemmAStrideBf16, 2, 512,
    &bf16_pack_a__avx512bf16};
constexpr HGemmUkernel kAvx512Bf16Emu = {
    &bf16_gemm_12x32c2__avx512f, "bf16_gemm_12x32c2__avx512f", HFormat::kBF16, Isa::kAvx512,
    false, false, 12, 32, 2, 256, kHGemmAStrideF32, 4, 512, &bf16_pack_a_f32__avx512f};
constexpr HGemmUkernel kAvx512Bf16 = {
    &bf16_gemm_14x32c2__avx512bf16, "bf16_gemm_14x32c2__avx512bf16", HFormat::kBF16,
    Isa::kAvx512, true, false, 14, 32, 2, 512, kHGemmAStrideBf16, 2, 512,
    &bf16_pack_a__avx512bf16};
#endif

constexpr bool fits_driver(const HGemmUkernel& uk) {
  return uk.mr <= 16 && uk.mr * uk.a_stride * uk.a_elem <= kHGemmMaxATileBytes &&
         uk.k_block <= uk.a_stride && uk.k_block % uk.kr == 0 && uk.n_block % uk.nr == 0;
}
static_assert(fits_driver(kGenericF16) && fits_driver(kGenericBf16));
#if defined(__x86_64__)
static_assert(fits_driver(kAvx2F16) && fits_driver(kAvx2Bf16) && fits_driver(kAvx512F16) &&
              fits_driver(kAvx512Bf16Emu) && fits_driver(kAvx512Bf16) &&
              fits_driver(kAvx512F16x64) && fits_driver(kAvx512Bf16x64));
#endif

constexpr const HGemmUkernel* kAll[] = {
    &kGenericF16, &kGenericBf16,
#if defined(__x86_64__)
    &kAvx2F16, &kAvx2Bf16, &kAvx512F16, &kAvx512F16x64, &kAvx512Bf16Emu, &kAvx512Bf16,
    &kAvx512Bf16x64,
#endif
    nullptr};

}  // namespace

bool hgemm_ukernel_supported(const HGemmUkernel& uk) {
  const cpu::CpuFeatures& f = cpu::cpu_features();
  if (uk.isa > cpu::best_isa(f)) return false;
  if (uk.needs_avx512_bf16 && !f.avx512_bf16) return false;
  if (uk.needs_f16c && !f.f16c) return false;
  return true;
}

const HGemmUkernel& hgemm_ukernel(HFormat format, [[maybe_unused]] cpu::Isa isa) {
  RATEL_ASSERT(isa <= cpu::best_isa(cpu::cpu_features()));
  const bool f16 = format == HFormat::kF16;
#if defined(__x86_64__)
  const cpu::CpuFeatures& f = cpu::cpu_features();
  if (isa == Isa::kAvx512) {
    // 6 x 64 measured at or above 14 x 32 on every BERT shape (Zen 4; bench/qgemm_bench.cpp).
    if (f16) return kAvx512F16x64;
    return f.avx512_bf16 ? kAvx512Bf16x64 : kAvx512Bf16Emu;
  }
  if (isa == Isa::kAvx2) {
    if (!f16) return kAvx2Bf16;
    if (f.f16c) return kAvx2F16;
  }
#endif
  return f16 ? kGenericF16 : kGenericBf16;
}

const HGemmUkernel* const* hgemm_all_ukernels() { return kAll; }

}  // namespace ratel::kernels
