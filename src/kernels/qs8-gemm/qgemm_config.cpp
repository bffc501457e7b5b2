// The integer GEMM dispatch table: every kernel of qgemm_ukernel.h with its blocking, and the
// default per family and ISA (measured with bench/qgemm_bench.cpp; see qgemm_bench's header).
//
// Blocking: the A tile is MR x k_block (15 KiB; L1), a B panel's K block streams from L2, and
// l2_bytes bounds the K x n_block slice of B that every row tile of a thread passes over
// (the driver derives n_block from it and K: whole panels, at least one).
#include "core/status.h"
#include "kernels/qs8-gemm/qgemm_ukernel.h"

namespace ratel::kernels {
namespace {

using cpu::Isa;

constexpr QGemmUkernel kGenericInt8 = {
    &qs8_gemm_4x8c4__generic, "qs8_gemm_4x8c4__generic", QFamily::kInt8, Isa::kGeneric,
    false, false, /*mr=*/4, /*nr=*/8, /*kr=*/4, kQs8KBlock, kQs8AStride, /*a_elem=*/1,
    /*b_elem=*/1, /*a_s16=*/false, /*l2=*/128 << 10, &qgemm_pack_a__generic,
    &qgemm_output__generic};
constexpr QGemmUkernel kGenericInt16 = {
    &qs16_gemm_4x8c2__generic, "qs16_gemm_4x8c2__generic", QFamily::kInt16, Isa::kGeneric,
    false, false, 4, 8, 2, kQs16KBlock, kQs16AStride, 2, 2, true, 128 << 10,
    &qgemm_pack_a__generic, &qgemm_output__generic};

#if defined(__x86_64__)
// AVX2 int8: A widened to s16 per call; B s8 (sign-extended in the kernel) or s16. Zen 4 (AVX2
// path), 1 thread, BERT shapes: s8 B 158-164 GOP/s, s16 B 161-170 (1-4% faster, twice the
// weight bytes), the inexact vpmaddubsw kernel 200-207, f32 99-108. The default keeps one byte
// per weight (s8 B).
constexpr QGemmUkernel kAvx2Int8 = {
    &qs8_gemm_6x16c2__avx2, "qs8_gemm_6x16c2__avx2", QFamily::kInt8, Isa::kAvx2, false, false,
    6, 16, 2, kQs16KBlock, kQs16AStride, 2, 1, true, 256 << 10, &qgemm_pack_a__avx2,
    &qgemm_output__avx2};
// 7-bit activations (a <= 127): vpmaddubsw is exact there. The c4 layout and u8 A tile of the
// VNNI kernels.
constexpr QGemmUkernel kAvx2Int8U7 = {
    &qs8_gemm_6x16c4__avx2, "qs8_gemm_6x16c4__avx2(a<=127)", QFamily::kInt8, Isa::kAvx2, false,
    false, 6, 16, 4, kQs8KBlock, kQs8AStride, 1, 1, false, 256 << 10, &qgemm_pack_a__avx2,
    &qgemm_output__avx2, /*a_max_127=*/true};
constexpr QGemmUkernel kAvx2Int8S16B = {
    &qs16_gemm_6x16c2__avx2, "qs16_gemm_6x16c2__avx2(int8)", QFamily::kInt8, Isa::kAvx2, false,
    false, 6, 16, 2, kQs16KBlock, kQs16AStride, 2, 2, true, 256 << 10, &qgemm_pack_a__avx2,
    &qgemm_output__avx2};
constexpr QGemmUkernel kAvx2Int16 = {
    &qs16_gemm_6x16c2__avx2, "qs16_gemm_6x16c2__avx2", QFamily::kInt16, Isa::kAvx2, false,
    false, 6, 16, 2, kQs16KBlock, kQs16AStride, 2, 2, true, 256 << 10, &qgemm_pack_a__avx2,
    &qgemm_output__avx2};
constexpr QGemmUkernel kAvxVnniInt8 = {
    &qs8_gemm_6x16c4__avxvnni, "qs8_gemm_6x16c4__avxvnni", QFamily::kInt8, Isa::kAvx2, false,
    true, 6, 16, 4, kQs8KBlock, kQs8AStride, 1, 1, false, 256 << 10, &qgemm_pack_a__avx2,
    &qgemm_output__avx2};
constexpr QGemmUkernel kAvx512VnniYmmInt8 = {
    &qs8_gemm_6x16c4__avx512vnni_ymm, "qs8_gemm_6x16c4__avx512vnni_ymm", QFamily::kInt8,
    Isa::kAvx512, true, false, 6, 16, 4, kQs8KBlock, kQs8AStride, 1, 1, false, 256 << 10,
    &qgemm_pack_a__avx2, &qgemm_output__avx2};
constexpr QGemmUkernel kAvx512BwInt8 = {
    &qs16_gemm_14x32c2__avx512bw, "qs16_gemm_14x32c2__avx512bw(int8)", QFamily::kInt8,
    Isa::kAvx512, false, false, 14, 32, 2, kQs16KBlock, kQs16AStride, 2, 2, true, 512 << 10,
    &qgemm_pack_a__avx512bw, &qgemm_output__avx512f};
constexpr QGemmUkernel kAvx512BwInt16 = {
    &qs16_gemm_14x32c2__avx512bw, "qs16_gemm_14x32c2__avx512bw", QFamily::kInt16, Isa::kAvx512,
    false, false, 14, 32, 2, kQs16KBlock, kQs16AStride, 2, 2, true, 512 << 10,
    &qgemm_pack_a__avx512bw, &qgemm_output__avx512f};
constexpr QGemmUkernel kAvx512VnniInt8 = {
    &qs8_gemm_14x32c4__avx512vnni, "qs8_gemm_14x32c4__avx512vnni", QFamily::kInt8, Isa::kAvx512,
    true, false, 14, 32, 4, kQs8KBlock, kQs8AStride, 1, 1, false, 512 << 10,
    &qgemm_pack_a__avx512bw, &qgemm_output__avx512f};
constexpr QGemmUkernel kAvx512VnniInt8x64 = {
    &qs8_gemm_6x64c4__avx512vnni, "qs8_gemm_6x64c4__avx512vnni", QFamily::kInt8, Isa::kAvx512,
    true, false, 6, 64, 4, kQs8KBlock, kQs8AStride, 1, 1, false, 512 << 10,
    &qgemm_pack_a__avx512bw, &qgemm_output__avx512f};
constexpr QGemmUkernel kAvx512VnniInt16 = {
    &qs16_gemm_14x32c2__avx512vnni, "qs16_gemm_14x32c2__avx512vnni", QFamily::kInt16,
    Isa::kAvx512, true, false, 14, 32, 2, kQs16KBlock, kQs16AStride, 2, 2, true, 512 << 10,
    &qgemm_pack_a__avx512bw, &qgemm_output__avx512f};
#endif

constexpr bool fits_driver(const QGemmUkernel& uk) {
  return uk.mr <= 16 && uk.mr * uk.a_stride * uk.a_elem <= kQGemmMaxATileBytes &&
         uk.k_block <= uk.a_stride && uk.k_block % uk.kr == 0 && uk.a_stride % uk.kr == 0 &&
         uk.nr % 8 == 0 && (uk.a_elem == 2) == uk.a_s16_domain;
}
static_assert(fits_driver(kGenericInt8) && fits_driver(kGenericInt16));
#if defined(__x86_64__)
static_assert(fits_driver(kAvx2Int8) && fits_driver(kAvx2Int8U7) && fits_driver(kAvx2Int8S16B) &&
              fits_driver(kAvx2Int16) && fits_driver(kAvxVnniInt8) && fits_driver(kAvx512VnniYmmInt8) &&
              fits_driver(kAvx512BwInt8) && fits_driver(kAvx512BwInt16) &&
              fits_driver(kAvx512VnniInt8) && fits_driver(kAvx512VnniInt8x64) &&
              fits_driver(kAvx512VnniInt16));
#endif

constexpr const QGemmUkernel* kAll[] = {
    &kGenericInt8, &kGenericInt16,
#if defined(__x86_64__)
    &kAvx2Int8, &kAvx2Int8U7, &kAvx2Int8S16B, &kAvx2Int16, &kAvxVnniInt8, &kAvx512VnniYmmInt8,
    &kAvx512BwInt8, &kAvx512BwInt16, &kAvx512VnniInt8, &kAvx512VnniInt8x64, &kAvx512VnniInt16,
#endif
    nullptr};

}  // namespace

bool qgemm_ukernel_supported(const QGemmUkernel& uk) {
  const cpu::CpuFeatures& f = cpu::cpu_features();
  if (uk.isa > cpu::best_isa(f)) return false;
  if (uk.needs_avx512_vnni && !(f.avx512_vnni && f.avx512vl)) return false;
  if (uk.needs_avx_vnni && !f.avx_vnni) return false;
  return true;
}

const QGemmUkernel& qgemm_ukernel(QFamily family, [[maybe_unused]] cpu::Isa isa) {
  RATEL_ASSERT(isa <= cpu::best_isa(cpu::cpu_features()));
  const bool int8 = family == QFamily::kInt8;
#if defined(__x86_64__)
  const cpu::CpuFeatures& f = cpu::cpu_features();
  if (isa == Isa::kAvx512) {
    // int8: 6 x 64 measured equal to 14 x 32 on small BERT shapes, 2-3% ahead on N = 3072 /
    // K = 3072 (Zen 4, bench/qgemm_bench.cpp).
    if (f.avx512_vnni) return int8 ? kAvx512VnniInt8x64 : kAvx512VnniInt16;
    return int8 ? kAvx512BwInt8 : kAvx512BwInt16;
  }
  if (isa == Isa::kAvx2) {
    if (int8 && f.avx_vnni) return kAvxVnniInt8;
    return int8 ? kAvx2Int8 : kAvx2Int16;
  }
#endif
  return int8 ? kGenericInt8 : kGenericInt16;
}

const QGemmUkernel& qgemm_ukernel_for(QFamily family, cpu::Isa isa, [[maybe_unused]] int a_u8_max) {
  const QGemmUkernel& uk = qgemm_ukernel(family, isa);
#if defined(__x86_64__)
  if (&uk == &kAvx2Int8 && a_u8_max >= 0 && a_u8_max <= 127) return kAvx2Int8U7;
#endif
  return uk;
}

const QGemmUkernel* const* qgemm_all_ukernels() { return kAll; }

}  // namespace ratel::kernels
