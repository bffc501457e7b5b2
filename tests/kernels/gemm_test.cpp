// gemm_packed / gemm_strided on every ISA path against gemm_reference (double accumulation).
//
// Two kinds of checks:
//  - exact: small integers as data, so every product and partial sum is exactly representable
//    and any fast path must reproduce the reference bit for bit (a dropped, doubled or
//    misplaced term cannot hide inside a tolerance);
//  - bounded: uniform reals with every epilogue, each element within the bound derived in
//    kernel_test_util.h: gamma_{K+2} * (sum_k |a||b| + |bias|), through GELU's slope and error,
//    plus the rounding of the residual add and of the reference itself.
// All operands live in guarded buffers; the padding columns of C (ldc > N) must stay untouched.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "cpu/thread_pool.h"
#include "guarded_buffer.h"
#include "kernel_test_util.h"
#include "kernels/f32-gemm/f32_gemm_reference.h"
#include "kernels/gemm.h"

namespace ratel::testing {
namespace {

using cpu::Isa;
using kernels::Activation;

constexpr float kUntouched = -12345.0f;  // C's padding must keep this

struct GemmCase {
  size_t m, n, k;
  size_t lda_pad = 0, ldc_pad = 0;
  bool bias = false;
  Activation activation = Activation::kNone;
  bool residual = false;
};

std::string describe(const GemmCase& g) {
  return "M=" + std::to_string(g.m) + " N=" + std::to_string(g.n) + " K=" + std::to_string(g.k) +
         " lda+" + std::to_string(g.lda_pad) + " ldc+" + std::to_string(g.ldc_pad) +
         (g.bias ? " bias" : "") + (g.activation == Activation::kGelu ? " gelu" : "") +
         (g.residual ? " residual" : "");
}

// Runs one case on `isa` and compares with the reference. `integers`: exact comparison.
void check_gemm(Isa isa, const GemmCase& g, std::mt19937& rng, bool integers,
                cpu::ThreadPool* pool = nullptr) {
  SCOPED_TRACE(describe(g) + " isa=" + std::string(cpu::isa_name(isa)));
  const size_t lda = g.k + g.lda_pad, ldc = g.n + g.ldc_pad;
  GuardedBuffer a(g.m * lda), b(g.k * g.n), bias(g.n), residual(g.m * g.n);
  GuardedBuffer c((g.m - 1) * ldc + g.n), c_ref(g.m * g.n);
  const float lo = integers ? -4 : -1, hi = integers ? 4 : 1;
  a.fill_random(rng, lo, hi, integers);
  b.fill_random(rng, lo, hi, integers);
  bias.fill_random(rng, lo, hi, integers);
  residual.fill_random(rng, lo, hi, integers);
  c.fill(kUntouched);

  GuardedBuffer packed(kernels::packed_gemm_b_size(g.k, g.n, isa));
  const kernels::PackedBView view = kernels::pack_gemm_b(g.k, g.n, b.data(), g.n, 1, isa, packed.data());
  kernels::GemmEpilogue epi;
  epi.bias = g.bias ? bias.data() : nullptr;
  epi.activation = g.activation;
  epi.residual = g.residual ? residual.data() : nullptr;
  epi.residual_stride = g.n;
  kernels::gemm_packed(g.m, a.data(), lda, view, c.data(), ldc, epi, pool);
  kernels::gemm_reference(g.m, g.n, g.k, a.data(), lda, b.data(), g.n, 1, c_ref.data(), g.n, epi);

  for (GuardedBuffer* buf : {&a, &b, &bias, &residual, &c, &c_ref, &packed}) {
    ASSERT_TRUE(buf->canary_intact());
  }
  int reported = 0;
  for (size_t i = 0; i < g.m; ++i) {
    for (size_t j = 0; j < ldc && i * ldc + j < c.size(); ++j) {
      const float got = c[i * ldc + j];
      if (j >= g.n) {
        ASSERT_EQ(got, kUntouched) << "wrote C padding at row " << i << " col " << j;
        continue;
      }
      const float want = c_ref[i * g.n + j];
      double bound = 0;
      if (!integers) {
        double sum_abs = 0, z = g.bias ? bias[j] : 0.0;
        for (size_t kk = 0; kk < g.k; ++kk) {
          sum_abs += std::fabs(double{a[i * lda + kk]} * b[kk * g.n + j]);
          z += double{a[i * lda + kk]} * b[kk * g.n + j];
        }
        const double ez = gamma(static_cast<double>(g.k) + 2) * (sum_abs + (g.bias ? std::fabs(bias[j]) : 0));
        double y = z;
        bound = ez;
        if (g.activation == Activation::kGelu) {
          y = kernels::gelu_reference(z);
          bound = kGeluMaxSlope * ez + gelu_error_bound(std::fabs(z) + ez, y);
        }
        if (g.residual) bound += kUnitRoundoff * (std::fabs(y) + std::fabs(residual[i * g.n + j]));
        bound += kUnitRoundoff * std::fabs(want);
      }
      const double err = std::fabs(double{got} - double{want});
      if (!(err <= bound) && reported++ < 5) {  // !(<=) also catches NaN
        ADD_FAILURE() << "C[" << i << "][" << j << "] = " << got << ", reference " << want
                      << ", |error| " << err << " > bound " << bound;
      }
    }
  }
  ASSERT_EQ(reported, 0) << reported << " elements out of bounds";
}

const std::vector<size_t> kSweepSizes = {1,  2,  3,  4,  5,  6,  7,  8,  11, 12, 13, 16, 17,
                                         23, 29, 31, 32, 33, 37, 47, 48, 61, 63, 64, 65, 97,
                                         113, 127, 128, 130};

class GemmTest : public ::testing::TestWithParam<Isa> {};

// Every (M, N) pair of the sweep with a K drawn from it: all edge combinations of a 6 x 64,
// 6 x 16 or 4 x 8 tile, exact on integers. Random row padding on A and C.
TEST_P(GemmTest, SweepMatchesReferenceExactly) {
  RATEL_SKIP_IF_ISA_UNAVAILABLE(GetParam());
  std::mt19937 rng(42);
  std::uniform_int_distribution<size_t> pick(0, kSweepSizes.size() - 1), pad(0, 3);
  for (size_t m : kSweepSizes) {
    for (size_t n : kSweepSizes) {
      GemmCase g{m, n, kSweepSizes[pick(rng)], pad(rng), pad(rng)};
      g.bias = (m + n) % 3 == 0;
      g.residual = (m + n) % 5 == 0;
      check_gemm(GetParam(), g, rng, /*integers=*/true);
      if (HasFatalFailure()) return;
    }
  }
}

// K across the K block (kc = 256) and N across the N block (nc = 256 or 512): partial results
// carried through C between K blocks, and several N blocks per thread.
TEST_P(GemmTest, BlockBoundariesMatchExactly) {
  RATEL_SKIP_IF_ISA_UNAVAILABLE(GetParam());
  std::mt19937 rng(7);
  for (size_t k : {255, 256, 257, 300, 513}) {
    for (size_t n : {31, 255, 257, 513, 600}) {
      check_gemm(GetParam(), {29, n, k, 1, 2, true}, rng, true);
      if (HasFatalFailure()) return;
    }
  }
}

TEST_P(GemmTest, EpiloguesWithinErrorBound) {
  RATEL_SKIP_IF_ISA_UNAVAILABLE(GetParam());
  std::mt19937 rng(3);
  struct Epi {
    bool bias;
    Activation act;
    bool residual;
  };
  const Epi epilogues[] = {{false, Activation::kNone, false}, {true, Activation::kNone, false},
                           {true, Activation::kGelu, false},  {false, Activation::kGelu, false},
                           {true, Activation::kNone, true},   {true, Activation::kGelu, true}};
  const size_t shapes[][3] = {{1, 1, 1}, {7, 33, 19}, {14, 32, 256}, {15, 65, 257},
                              {61, 47, 130}, {130, 97, 61}, {33, 130, 600}};
  for (const Epi& e : epilogues) {
    for (const auto& s : shapes) {
      GemmCase g{s[0], s[1], s[2], 2, 1, e.bias, e.act, e.residual};
      check_gemm(GetParam(), g, rng, /*integers=*/false);
      if (HasFatalFailure()) return;
    }
  }
}

// BERT-base and MiniLM layer shapes (K and N as in the model, with their epilogues; M = 31
// instead of 384 keeps the double-precision reference fast: M only sets how many row tiles run,
// and 31 has full and partial tiles for every kernel). ThreadCountsGiveIdenticalBits runs
// M = 384.
TEST_P(GemmTest, BertShapesWithinErrorBound) {
  RATEL_SKIP_IF_ISA_UNAVAILABLE(GetParam());
  std::mt19937 rng(11);
  check_gemm(GetParam(), {31, 768, 768, 0, 0, true}, rng, false);                      // Q/K/V, out
  check_gemm(GetParam(), {31, 3072, 768, 0, 0, true, Activation::kGelu}, rng, false);  // FFN1
  check_gemm(GetParam(), {31, 768, 3072, 0, 0, true, Activation::kNone, true}, rng, false);
  check_gemm(GetParam(), {31, 1536, 384, 0, 0, true, Activation::kGelu}, rng, false);  // MiniLM
  check_gemm(GetParam(), {31, 384, 1536, 0, 0, true, Activation::kNone, true}, rng, false);
  check_gemm(GetParam(), {31, 2, 768, 0, 0, true}, rng, false);  // QA head: N = 2
}

// The split over threads never splits K, so any thread count gives the same bits; the runtime
// promises at least "same bits for a given count", this checks the stronger property.
TEST_P(GemmTest, ThreadCountsGiveIdenticalBits) {
  RATEL_SKIP_IF_ISA_UNAVAILABLE(GetParam());
  const Isa isa = GetParam();
  cpu::ThreadPool pool2(2), pool3(3);
  std::mt19937 rng(5);
  for (const auto& s : {std::array<size_t, 3>{384, 768, 768}, {130, 600, 300}, {97, 61, 513},
                        {5, 1000, 64}}) {
    const size_t m = s[0], n = s[1], k = s[2];
    GuardedBuffer a(m * k), b(k * n), bias(n), packed(kernels::packed_gemm_b_size(k, n, isa));
    a.fill_random(rng, -1, 1);
    b.fill_random(rng, -1, 1);
    bias.fill_random(rng, -1, 1);
    const auto view = kernels::pack_gemm_b(k, n, b.data(), n, 1, isa, packed.data());
    kernels::GemmEpilogue epi;
    epi.bias = bias.data();
    epi.activation = Activation::kGelu;
    std::vector<float> c1(m * n), c2(m * n), c3(m * n);
    kernels::gemm_packed(m, a.data(), k, view, c1.data(), n, epi, nullptr);
    kernels::gemm_packed(m, a.data(), k, view, c2.data(), n, epi, &pool2);
    kernels::gemm_packed(m, a.data(), k, view, c3.data(), n, epi, &pool3);
    EXPECT_EQ(std::memcmp(c1.data(), c2.data(), m * n * 4), 0) << "1 vs 2 threads, M=" << m;
    EXPECT_EQ(std::memcmp(c1.data(), c3.data(), m * n * 4), 0) << "1 vs 3 threads, M=" << m;
  }
}

// gemm_strided as attention calls it: scores = Q K^T (B read transposed) and context = P V
// (B row-major with a row stride wider than N), checked exactly on integers.
TEST_P(GemmTest, StridedAttentionShapesMatchExactly) {
  RATEL_SKIP_IF_ISA_UNAVAILABLE(GetParam());
  const Isa isa = GetParam();
  std::mt19937 rng(9);
  for (size_t s : {1, 7, 64, 130}) {
    for (size_t d : {1, 16, 64}) {
      SCOPED_TRACE("S=" + std::to_string(s) + " D=" + std::to_string(d));
      const size_t ld = 3 * d + 5;  // Q, K, V side by side plus padding
      GuardedBuffer qkv(s * ld), probs(s * s);
      qkv.fill_random(rng, -4, 4, true);
      probs.fill_random(rng, -4, 4, true);
      const size_t ws_size =
          std::max(kernels::gemm_workspace_size(d, s, isa), kernels::gemm_workspace_size(s, d, isa));
      GuardedBuffer ws(ws_size), got(s * std::max(s, d)), want(s * std::max(s, d));
      kernels::gemm_strided(s, s, d, qkv.data(), ld, qkv.data() + d, 1, ld, got.data(), s, {},
                            ws.data(), nullptr, isa);
      kernels::gemm_reference(s, s, d, qkv.data(), ld, qkv.data() + d, 1, ld, want.data(), s, {});
      ASSERT_EQ(std::memcmp(got.data(), want.data(), s * s * 4), 0) << "Q K^T";
      kernels::gemm_strided(s, d, s, probs.data(), s, qkv.data() + 2 * d, ld, 1, got.data(), d, {},
                            ws.data(), nullptr, isa);
      kernels::gemm_reference(s, d, s, probs.data(), s, qkv.data() + 2 * d, ld, 1, want.data(), d, {});
      ASSERT_EQ(std::memcmp(got.data(), want.data(), s * d * 4), 0) << "P V";
      ASSERT_TRUE(ws.canary_intact() && got.canary_intact());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, GemmTest, ::testing::ValuesIn(kAllIsas), isa_param_name);

TEST(PackedGemmB, PacksForTheActiveIsaAndComputes) {
  std::vector<float> b = {1, 2, 3, 4, 5, 6};  // 2 x 3
  auto packed = kernels::PackedGemmB::pack(b.data(), 2, 3, 3);
  ASSERT_TRUE(packed.ok()) << packed.status().message();
  EXPECT_EQ(packed->view().ukernel->isa, cpu::active_isa());
  std::vector<float> a = {1, 10, 100, 1000};  // 2 x 2
  std::vector<float> c(6);
  kernels::gemm_packed(2, a.data(), 2, packed->view(), c.data(), 3);
  EXPECT_EQ(c, (std::vector<float>{41, 52, 63, 4100, 5200, 6300}));
}

TEST(GemmPacked, ZeroRowsIsANoOp) {
  std::vector<float> b = {1, 2, 3, 4};
  auto packed = kernels::PackedGemmB::pack(b.data(), 2, 2, 2);
  ASSERT_TRUE(packed.ok());
  GuardedBuffer c(0);
  kernels::gemm_packed(0, b.data(), 2, packed->view(), c.data(), 2);
  EXPECT_TRUE(c.canary_intact());
}

TEST(PackedGemmB, RejectsBadArguments) {
  std::vector<float> b(6, 1.0f);
  EXPECT_FALSE(kernels::PackedGemmB::pack(b.data(), 0, 3, 3).ok());
  EXPECT_FALSE(kernels::PackedGemmB::pack(b.data(), 2, 3, 2).ok());
  if (cpu::best_isa(cpu::cpu_features()) < Isa::kAvx512) {
    auto r = kernels::PackedGemmB::pack(b.data(), 2, 3, 3, Isa::kAvx512);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  }
}

}  // namespace
}  // namespace ratel::testing
