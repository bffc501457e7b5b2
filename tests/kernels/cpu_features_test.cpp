// CPU feature decoding (synthetic cpuid words), the RATEL_ISA override, and the detected CPU.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "cpu/cpu_features.h"

namespace ratel::cpu {
namespace {

// cpuid/xgetbv words of a CPU with everything (bit positions: Intel SDM vol. 2, CPUID).
CpuidWords everything() {
  CpuidWords w;
  w.max_leaf = 7;
  w.leaf1_ecx = (1u << 12) | (1u << 27) | (1u << 28) | (1u << 29);  // FMA OSXSAVE AVX F16C
  w.leaf7_ebx = (1u << 5) | (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31);
  w.leaf7_ecx = 1u << 11;                   // AVX512_VNNI
  w.leaf7_1_eax = (1u << 4) | (1u << 5);    // AVX-VNNI, AVX512_BF16
  w.xcr0 = 0xE7;                            // x87 SSE AVX opmask ZMM_Hi256 Hi16_ZMM
  return w;
}

TEST(DecodeCpuFeatures, EverythingEnabled) {
  const CpuFeatures f = decode_cpu_features(everything());
  EXPECT_TRUE(f.os_saves_ymm && f.os_saves_zmm);
  EXPECT_TRUE(f.avx2 && f.fma && f.f16c && f.avx_vnni);
  EXPECT_TRUE(f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl);
  EXPECT_TRUE(f.avx512_vnni && f.avx512_bf16);
  EXPECT_EQ(best_isa(f), Isa::kAvx512);
}

TEST(DecodeCpuFeatures, OsWithoutZmmStateDisablesAvx512Only) {
  CpuidWords w = everything();
  w.xcr0 = 0x07;  // the OS saves YMM but not ZMM/opmask
  const CpuFeatures f = decode_cpu_features(w);
  EXPECT_FALSE(f.avx512f || f.avx512bw || f.avx512_vnni || f.avx512_bf16);
  EXPECT_TRUE(f.avx2 && f.fma && f.avx_vnni);
  EXPECT_EQ(best_isa(f), Isa::kAvx2);
}

TEST(DecodeCpuFeatures, OsWithoutYmmStateDisablesEverything) {
  CpuidWords w = everything();
  w.xcr0 = 0x03;
  EXPECT_EQ(best_isa(decode_cpu_features(w)), Isa::kGeneric);
  w = everything();
  w.leaf1_ecx &= ~(1u << 27);  // no OSXSAVE: xgetbv not allowed, nothing above SSE
  const CpuFeatures f = decode_cpu_features(w);
  EXPECT_FALSE(f.avx2 || f.fma || f.avx512f);
}

TEST(DecodeCpuFeatures, Avx2WithoutFmaIsGeneric) {
  CpuidWords w = everything();
  w.leaf1_ecx &= ~(1u << 12);
  w.leaf7_ebx &= ~(1u << 16);
  EXPECT_EQ(best_isa(decode_cpu_features(w)), Isa::kGeneric);
}

TEST(DecodeCpuFeatures, Avx512WithoutBwIsAvx2) {
  CpuidWords w = everything();
  w.leaf7_ebx &= ~(1u << 30);
  EXPECT_EQ(best_isa(decode_cpu_features(w)), Isa::kAvx2);
}

TEST(DecodeCpuFeatures, OldCpuWithoutLeaf7) {
  CpuidWords w = everything();
  w.max_leaf = 6;
  const CpuFeatures f = decode_cpu_features(w);
  EXPECT_TRUE(f.fma);
  EXPECT_FALSE(f.avx2 || f.avx512f);
}

TEST(IsaNames, ParseRoundTrips) {
  for (Isa isa : {Isa::kGeneric, Isa::kAvx2, Isa::kAvx512}) EXPECT_EQ(parse_isa(isa_name(isa)), isa);
  EXPECT_FALSE(parse_isa("avx").has_value());
  EXPECT_FALSE(parse_isa("").has_value());
}

TEST(IsaNames, ClampOnlyLowers) {
  EXPECT_EQ(clamp_isa(Isa::kAvx512, Isa::kAvx2), Isa::kAvx2);
  EXPECT_EQ(clamp_isa(Isa::kAvx2, Isa::kAvx512), Isa::kAvx2);
  EXPECT_EQ(clamp_isa(Isa::kAvx2, std::nullopt), Isa::kAvx2);
  EXPECT_EQ(clamp_isa(Isa::kAvx512, Isa::kGeneric), Isa::kGeneric);
}

// Runs in every ctest pass; the kernel tests are also registered under RATEL_ISA=avx2 and
// RATEL_ISA=generic (tests/kernels/CMakeLists.txt), where this checks the override took effect.
TEST(ActiveIsa, FollowsCpuAndEnvironment) {
  const Isa best = best_isa(cpu_features());
  const char* env = std::getenv("RATEL_ISA");
  std::optional<Isa> requested = env != nullptr ? parse_isa(env) : std::nullopt;
  EXPECT_EQ(active_isa(), clamp_isa(best, requested));
  EXPECT_EQ(isa_override_error().empty(), env == nullptr || *env == '\0' || requested.has_value());
}

TEST(DetectedCpu, IsConsistent) {
  const CpuFeatures& f = cpu_features();
  EXPECT_EQ(&f, &cpu_features()) << "detected once";
  EXPECT_TRUE(!f.avx512f || f.os_saves_zmm);
  EXPECT_TRUE(!f.os_saves_zmm || f.os_saves_ymm);
  EXPECT_TRUE(!f.avx2 || f.os_saves_ymm);
#if defined(__x86_64__)
  EXPECT_FALSE(f.model_name.empty());
#elif defined(__riscv)
  EXPECT_EQ(best_isa(f), f.rvv ? Isa::kRvv : Isa::kGeneric);  // tests/riscv checks which
  std::printf("rvv %d, VLEN %u: %s\n", f.rvv, f.rvv_vlen_bits, f.rvv_reason.c_str());
#else
  EXPECT_EQ(best_isa(f), Isa::kGeneric);
#endif
  std::printf("L1d %zu KiB, L2 %zu KiB\n", f.l1d_cache_bytes / 1024, f.l2_cache_bytes / 1024);
  std::printf("CPU: %s | avx2 %d fma %d f16c %d avx512f %d bw %d dq %d vl %d vnni %d bf16 %d "
              "avx-vnni %d | best %s, active %s\n",
              f.model_name.c_str(), f.avx2, f.fma, f.f16c, f.avx512f, f.avx512bw, f.avx512dq,
              f.avx512vl, f.avx512_vnni, f.avx512_bf16, f.avx_vnni,
              std::string(isa_name(best_isa(f))).c_str(), std::string(isa_name(active_isa())).c_str());
}

}  // namespace
}  // namespace ratel::cpu
