// Each GEMM microkernel against f32_gemm_ukernel_reference with the same signature and tile
// geometry: every row count 1..MR, full and partial column counts, K lengths up to the kernel's
// kc, first/middle/last K block, each epilogue. Exact on integer data; GELU within its bound.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "guarded_buffer.h"
#include "kernel_test_util.h"
#include "kernels/f32-gemm/f32_gemm_reference.h"
#include "kernels/f32-gemm/f32_gemm_ukernel.h"
#include "kernels/gemm.h"

namespace ratel::testing {
namespace {

using cpu::Isa;
using kernels::Activation;
using kernels::GemmUkernelParams;

class GemmUkernelTest : public ::testing::TestWithParam<Isa> {};

struct Call {
  size_t mr, nc, kc;
  bool accumulate, last;
  bool bias, residual;
  Activation act;
};

void check_call(const kernels::GemmUkernel& uk, const Call& call, std::mt19937& rng) {
  SCOPED_TRACE(std::string(uk.name) + " mr=" + std::to_string(call.mr) + " nc=" +
               std::to_string(call.nc) + " kc=" + std::to_string(call.kc) +
               " accumulate=" + std::to_string(call.accumulate) + " last=" + std::to_string(call.last) +
               " bias=" + std::to_string(call.bias) + " residual=" + std::to_string(call.residual) +
               " gelu=" + std::to_string(call.act == Activation::kGelu));
  const bool exact = call.act == Activation::kNone || !call.last;
  const size_t c_stride = call.nc + 3;
  GuardedBuffer a((call.mr - 1) * uk.a_stride + call.kc), b(call.kc * uk.nr);
  GuardedBuffer bias(call.nc), residual((call.mr - 1) * call.nc + call.nc);
  GuardedBuffer c((call.mr - 1) * c_stride + call.nc), c_ref((call.mr - 1) * c_stride + call.nc);
  const float lo = exact ? -4 : -1, hi = exact ? 4 : 1;
  a.fill_random(rng, lo, hi, exact);
  bias.fill_random(rng, lo, hi, exact);
  residual.fill_random(rng, lo, hi, exact);
  c.fill_random(rng, lo, hi, exact);
  std::vector<float> c_in(c.size());
  for (size_t i = 0; i < c.size(); ++i) c_ref[i] = c_in[i] = c[i];
  // Panel columns past nc: NaN. They are computed on but must never reach C.
  std::uniform_int_distribution<int> small(-4, 4);
  std::uniform_real_distribution<float> unit(-1, 1);
  for (size_t k = 0; k < call.kc; ++k) {
    for (size_t j = 0; j < uk.nr; ++j) {
      b[k * uk.nr + j] = j >= call.nc ? std::nanf("") : exact ? static_cast<float>(small(rng)) : unit(rng);
    }
  }
  GemmUkernelParams p;
  p.accumulate = call.accumulate;
  p.last_k_block = call.last;
  p.activation = call.act;
  p.bias = call.bias ? bias.data() : nullptr;
  p.residual = call.residual ? residual.data() : nullptr;
  p.residual_stride = call.nc;
  const float c_before_pad = c.size() > call.nc ? c[call.nc] : 0;

  uk.fn(call.mr, call.nc, call.kc, a.data(), b.data(), c.data(), c_stride, p);
  kernels::f32_gemm_ukernel_reference(uk.mr, uk.nr, uk.a_stride, call.mr, call.nc, call.kc,
                                      a.data(), b.data(), c_ref.data(), c_stride, p);

  for (GuardedBuffer* buf : {&a, &b, &bias, &residual, &c}) ASSERT_TRUE(buf->canary_intact());
  if (call.mr > 1) {
    ASSERT_EQ(c[call.nc], c_before_pad) << "wrote C's row padding";
  }
  for (size_t r = 0; r < call.mr; ++r) {
    for (size_t j = 0; j < call.nc; ++j) {
      const float got = c[r * c_stride + j], want = c_ref[r * c_stride + j];
      if (exact) {
        ASSERT_EQ(got, want) << "C[" << r << "][" << j << "]";
        continue;
      }
      // GELU: z = C_in + a.b + bias is within gamma_{kc+2} * sum|terms| of exact; then GELU's
      // slope and error, and the residual add's rounding.
      const double c0 = call.accumulate ? c_in[r * c_stride + j] : 0.0;
      const double b0 = call.bias ? bias[j] : 0.0;
      double z = c0 + b0, sum_abs = std::fabs(c0) + std::fabs(b0);
      for (size_t k = 0; k < call.kc; ++k) {
        const double term = double{a[r * uk.a_stride + k]} * b[k * uk.nr + j];
        z += term;
        sum_abs += std::fabs(term);
      }
      const double ez = gamma(static_cast<double>(call.kc) + 2) * sum_abs;
      const double y = kernels::gelu_reference(z);
      const double res = call.residual ? std::fabs(residual[r * call.nc + j]) : 0.0;
      const double bound = kGeluMaxSlope * ez + gelu_error_bound(std::fabs(z) + ez, y) +
                           kUnitRoundoff * (std::fabs(y) + res + std::fabs(want));
      ASSERT_LE(std::fabs(double{got} - want), bound) << "C[" << r << "][" << j << "]";
    }
  }
}

void check_every_call(const kernels::GemmUkernel& uk) {
  std::mt19937 rng(1234);
  const size_t ncs[] = {1, 2, uk.nr / 2 + 1, uk.nr - 1, uk.nr};
  const size_t kcs[] = {1, 3, 17, uk.k_block};
  for (size_t mr = 1; mr <= uk.mr; ++mr) {
    for (size_t nc : ncs) {
      for (size_t kc : kcs) {
        // K-block position: first (store), middle (accumulate, no epilogue), last (epilogue).
        check_call(uk, {mr, nc, kc, false, false, false, false, Activation::kNone}, rng);
        check_call(uk, {mr, nc, kc, true, false, true, true, Activation::kGelu}, rng);
        check_call(uk, {mr, nc, kc, true, true, true, true, Activation::kNone}, rng);
        check_call(uk, {mr, nc, kc, false, true, false, true, Activation::kNone}, rng);
        check_call(uk, {mr, nc, kc, true, true, true, false, Activation::kGelu}, rng);
        if (::testing::Test::HasFatalFailure()) return;
      }
    }
  }
}

TEST_P(GemmUkernelTest, MatchesReference) {
  RATEL_SKIP_IF_ISA_UNAVAILABLE(GetParam());
  check_every_call(kernels::gemm_ukernel(GetParam()));
}

// The kernel for narrow B matrices (attention's P x V at head size 32): its own tile where the
// ISA has one, else the ISA's kernel.
TEST_P(GemmUkernelTest, NarrowKernelMatchesReference) {
  RATEL_SKIP_IF_ISA_UNAVAILABLE(GetParam());
  const kernels::GemmUkernel& narrow = kernels::gemm_ukernel_for(GetParam(), 32);
  EXPECT_EQ(&kernels::gemm_ukernel_for(GetParam(), 33), &kernels::gemm_ukernel(GetParam()));
  EXPECT_EQ(narrow.isa, GetParam());
  if (&narrow == &kernels::gemm_ukernel(GetParam())) {
    std::printf("[   NOTE   ] %s has no narrow kernel of its own: %s\n", std::string(cpu::isa_name(GetParam())).c_str(), narrow.name);
    return;
  }
  EXPECT_LE(narrow.mr * narrow.a_stride, kernels::kGemmMaxATileFloats);
  check_every_call(narrow);
}

// The blocking the driver will use (n_block is scaled to this machine's L2) fits its rules.
TEST_P(GemmUkernelTest, BlockingIsConsistent) {
  RATEL_SKIP_IF_ISA_UNAVAILABLE(GetParam());
  const kernels::GemmUkernel& uk = kernels::gemm_ukernel(GetParam());
  EXPECT_EQ(uk.isa, GetParam());
  EXPECT_EQ(uk.n_block % uk.nr, 0u);
  EXPECT_GE(uk.n_block, 2 * uk.nr);
  EXPECT_LE(uk.n_block, 1024u);
  EXPECT_LE(uk.k_block, uk.a_stride);
  EXPECT_LE(uk.mr * uk.a_stride, kernels::kGemmMaxATileFloats);
  std::printf("%s: %zux%zu tile, k_block %zu, n_block %zu (L2 %zu KiB)\n", uk.name, uk.mr, uk.nr,
              uk.k_block, uk.n_block, cpu::cpu_features().l2_cache_bytes / 1024);
}

INSTANTIATE_TEST_SUITE_P(AllIsas, GemmUkernelTest, ::testing::ValuesIn(kAllIsas), isa_param_name);

// The typed wrapper really has a microkernel's signature (what the header promises).
TEST(GemmUkernelReference, HasTheMicrokernelSignature) {
  kernels::GemmUkernelFn fn = &kernels::f32_gemm_ukernel_reference_t<4, 8, 260>;
  float a[1] = {3}, b[8] = {2, 0, 0, 0, 0, 0, 0, 0}, c[1] = {0};
  GemmUkernelParams p;
  fn(1, 1, 1, a, b, c, 1, p);
  EXPECT_EQ(c[0], 6.0f);
}

}  // namespace
}  // namespace ratel::testing
