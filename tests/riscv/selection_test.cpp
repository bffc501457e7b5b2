// What this run's CPU must select: scripts/riscv-test.sh sets RATEL_EXPECT_ISA (rvv | generic)
// and RATEL_EXPECT_VLEN for each qemu CPU it runs, so that "the RVV kernels ran" and "the C920
// ran none" are assertions, not impressions. Without the variables the tests skip.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cpu/cpu_features.h"
#include "cpu/riscv_vector.h"
#include "kernels/gemm.h"
#include "kernels/layernorm.h"
#include "kernels/softmax.h"
#include "kernels/vunary.h"
#if defined(RATEL_RVV_KERNELS)
#include "kernels/rvv_kernels.h"
#endif

namespace ratel::cpu {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// The log line scripts/riscv-test.sh shows for each CPU.
void print_selection() {
  const CpuFeatures& f = cpu_features();
  const kernels::GemmUkernel& uk = kernels::gemm_ukernel(active_isa());
  std::printf("[ratel-riscv] board=%s rvv-kernels-built=%d active-isa=%s vlen=%u gemm=%s (%zux%zu)\n"
              "[ratel-riscv] reason: %s\n",
              std::string(riscv_board_name(build_riscv_board())).c_str(), rvv_kernels_built(),
              std::string(isa_name(active_isa())).c_str(), f.rvv_vlen_bits, uk.name, uk.mr,
              uk.nr, f.rvv_reason.c_str());
}

TEST(Selection, MatchesTheExpectedIsa) {
  print_selection();
  const std::string expected = env("RATEL_EXPECT_ISA");
  if (expected.empty()) GTEST_SKIP() << "RATEL_EXPECT_ISA not set";
  const std::optional<Isa> want = parse_isa(expected);
  ASSERT_TRUE(want.has_value()) << expected;
  EXPECT_EQ(active_isa(), *want) << cpu_features().rvv_reason;
}

TEST(Selection, RvvKernelsAreTheOnesPicked) {
  if (env("RATEL_EXPECT_ISA") != "rvv") GTEST_SKIP() << "this run expects no RVV";
#if defined(RATEL_RVV_KERNELS)
  const CpuFeatures& f = cpu_features();
  ASSERT_TRUE(f.rvv) << f.rvv_reason;
  if (!env("RATEL_EXPECT_VLEN").empty()) {
    EXPECT_EQ(f.rvv_vlen_bits, std::stoul(env("RATEL_EXPECT_VLEN")));
  }
  const kernels::GemmUkernel& uk = kernels::gemm_ukernel(active_isa());
  EXPECT_STREQ(uk.name, "f32_gemm_7x4v__rvv");
  EXPECT_EQ(uk.mr, 7u);
  EXPECT_EQ(uk.nr, f.rvv_vlen_bits / 8) << "one LMUL=4 group of fp32";
  const std::vector<float> b(64 * 40, 0.5f);
  auto packed = kernels::PackedGemmB::pack(b.data(), 64, 40, 40);  // the runtime's default call
  ASSERT_TRUE(packed.ok());
  EXPECT_EQ(packed->view().ukernel->isa, Isa::kRvv);
  EXPECT_EQ(kernels::vgelu_kernel(active_isa()), &kernels::f32_vgelu__rvv);
  EXPECT_EQ(kernels::verf_kernel(active_isa()), &kernels::f32_verf__rvv);
  EXPECT_EQ(kernels::vexp_kernel(active_isa()), &kernels::f32_vexp__rvv);
  EXPECT_EQ(kernels::softmax_kernel(active_isa()), &kernels::f32_softmax__rvv);
  EXPECT_EQ(kernels::layernorm_kernel(active_isa()), &kernels::f32_layernorm__rvv);
#else
  FAIL() << "RVV expected, but this build has no RVV kernels";
#endif
}

TEST(Selection, NoRvvKernelIsHandedOutWhereDetectionSaysNo) {
  if (env("RATEL_EXPECT_ISA") != "generic") GTEST_SKIP() << "this run expects RVV";
  const CpuFeatures& f = cpu_features();
  EXPECT_FALSE(f.rvv) << f.rvv_reason;
  EXPECT_EQ(active_isa(), Isa::kGeneric);
  EXPECT_STREQ(kernels::gemm_ukernel(active_isa()).name, "f32_gemm_4x8__generic");
  EXPECT_EQ(kernels::vgelu_kernel(active_isa()), &kernels::f32_vgelu__generic);
  EXPECT_EQ(kernels::softmax_kernel(active_isa()), &kernels::f32_softmax__generic);
  EXPECT_EQ(kernels::layernorm_kernel(active_isa()), &kernels::f32_layernorm__generic);
  // Even asked for by name, RVV is refused or mapped to the portable kernels.
  const std::vector<float> b(8 * 8, 1.0f);
  EXPECT_FALSE(kernels::PackedGemmB::pack(b.data(), 8, 8, 8, Isa::kRvv).ok());
  EXPECT_EQ(kernels::vgelu_kernel(Isa::kRvv), &kernels::f32_vgelu__generic);
  EXPECT_EQ(kernels::softmax_kernel(Isa::kRvv), &kernels::f32_softmax__generic);
  EXPECT_EQ(kernels::layernorm_kernel(Isa::kRvv), &kernels::f32_layernorm__generic);
  EXPECT_EQ(kernels::vexp_kernel(Isa::kRvv), &kernels::f32_vexp__generic);
  EXPECT_EQ(kernels::verf_kernel(Isa::kRvv), &kernels::f32_verf__generic);
}

TEST(Selection, ForcedGenericOverridesRvv) {
  // RATEL_ISA=generic is how a board is forced onto the scalar path; the script runs the kernel
  // tests under it on the RVV CPUs too.
  if (env("RATEL_ISA") != "generic") GTEST_SKIP() << "RATEL_ISA=generic not set";
  EXPECT_EQ(active_isa(), Isa::kGeneric);
}

}  // namespace
}  // namespace ratel::cpu
