// exp approximation and row softmax on every ISA path against double precision.
//
//  - exp: the relative error stated in math/exp_approx.h, measured over a dense grid of its
//    domain, plus the documented behaviour outside it (0 below, +inf above, NaN kept);
//  - softmax: every element within the bound derived below, over odd lengths in guarded buffers,
//    with and without scale and bias, in place, with -inf / NaN / +inf in the row; softmax_rows
//    gives identical bits for 1, 2 and 3 threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "cpu/thread_pool.h"
#include "guarded_buffer.h"
#include "kernel_test_util.h"
#include "kernels/math/exp_approx.h"
#include "kernels/softmax.h"

namespace ratel::testing {
namespace {

using cpu::Isa;

constexpr float kInf = std::numeric_limits<float>::infinity();

// Every 127th float in [kExpMin, kExpMax] with |x| >= 1e-3 (~2.2M points), and every 2^17th
// float closer to 0 (~15K points), stepping through the bit patterns of each sign.
std::vector<float> exp_grid() {
  std::vector<float> xs;
  for (const float end : {kernels::math::kExpMax, kernels::math::kExpMin}) {
    uint32_t bits = end > 0 ? 0u : 0x80000000u;  // +0, -0: magnitudes grow with the bits
    uint32_t end_bits;
    std::memcpy(&end_bits, &end, 4);
    while (bits <= end_bits) {
      float x;
      std::memcpy(&x, &bits, 4);
      xs.push_back(x);
      bits += std::fabs(x) >= 1e-3f ? 127u : (1u << 17);
    }
  }
  return xs;
}

class SoftmaxTest : public ::testing::TestWithParam<Isa> {};

TEST_P(SoftmaxTest, ExpWithinStatedRelativeError) {
  RATEL_SKIP_IF_ISA_UNAVAILABLE(GetParam());
  const std::vector<float> xs = exp_grid();
  std::vector<float> y(xs.size());
  kernels::vexp_kernel(GetParam())(xs.size(), xs.data(), y.data());
  double worst = 0;
  float worst_x = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double want = std::exp(double{xs[i]});
    // Results below FLT_MIN (x within a few ulp of kExpMin) are subnormal: absolute error only.
    const double err = want < std::numeric_limits<float>::min()
                           ? std::fabs(y[i] - want) / std::numeric_limits<float>::min()
                           : std::fabs(y[i] / want - 1);
    if (!(err <= worst)) worst = err, worst_x = xs[i];
  }
  char measured[32];
  std::snprintf(measured, sizeof measured, "%.3g", worst);
  RecordProperty("max_rel_error", measured);
  EXPECT_LE(worst, kernels::math::kExpMaxRelError) << "at x = " << worst_x;
  // A bound far from tight would hide a regression; the float evaluation reaches ~1.6e-7.
  EXPECT_GE(worst, 5e-8) << "suspiciously exact: is this the approximation?";
}

TEST_P(SoftmaxTest, ExpOutsideDomainAndSpecialValues) {
  RATEL_SKIP_IF_ISA_UNAVAILABLE(GetParam());
  const std::vector<float> xs = {0.0f, -0.0f, 1.0f, -kInf, kInf, std::nanf(""), -1e30f, 1e30f, 100.0f,
                                 -87.5f, -95.0f, -103.0f, -150.0f, 88.5f, 88.7f};
  std::vector<float> y(xs.size());
  kernels::vexp_kernel(GetParam())(xs.size(), xs.data(), y.data());
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], 1.0f);
  EXPECT_LE(std::fabs(y[2] / std::exp(1.0) - 1), kernels::math::kExpMaxRelError);
  EXPECT_EQ(y[3], 0.0f);
  EXPECT_EQ(y[4], kInf);
  EXPECT_TRUE(std::isnan(y[5]));
  EXPECT_EQ(y[6], 0.0f);
  EXPECT_EQ(y[7], kInf);
  EXPECT_EQ(y[8], kInf);
  // Below kExpMin: 0 or the subnormal result (math/exp_approx.h), absolute error < FLT_MIN.
  for (size_t i = 9; i <= 12; ++i) {
    EXPECT_GE(y[i], 0.0f);
    EXPECT_LT(std::fabs(y[i] - std::exp(double{xs[i]})), std::numeric_limits<float>::min()) << "x = " << xs[i];
  }
  // Above kExpMax: +inf, or (AVX-512) the finite result while it exists.
  for (size_t i = 13; i <= 14; ++i) {
    EXPECT_TRUE(y[i] == kInf || std::fabs(y[i] / std::exp(double{xs[i]}) - 1) <= kernels::math::kExpMaxRelError)
        << "x = " << xs[i] << " -> " << y[i];
  }
}

// Bound on |y_j - y_ref_j| (softmax.h): with t_j = scale x_j + b_j and a_j = t_j - max t, the
// computed argument is off by da_j <= 2u (|scale x_j| + |b_j|) (t: FMA, or multiply then add)
// + the same for the max element + u |a_j| (the subtraction); exp turns an argument error into
// the same relative error, plus its own e_exp. The sum of the e_k is off by at most
// max_k rel(e_k) + gamma(n) relatively, 1/sum and the final multiply add 2u, the reference's
// own rounding u. Below exp's domain (a < kExpMin) the kernel's e is 0: absolute 1.2e-38 / sum.
std::vector<double> softmax_bounds(size_t n, const float* x, float scale, const float* bias,
                                   const float* y_ref) {
  const double u = kUnitRoundoff;
  std::vector<double> t(n), terr(n);
  size_t arg_max = 0;
  for (size_t j = 0; j < n; ++j) {
    t[j] = double{scale} * x[j] + (bias ? bias[j] : 0.0);
    terr[j] = 2 * u * (std::fabs(double{scale} * x[j]) + (bias ? std::fabs(bias[j]) : 0.0));
    if (t[j] > t[arg_max]) arg_max = j;
  }
  std::vector<double> rel(n);
  double worst_rel = 0;
  for (size_t j = 0; j < n; ++j) {
    const double da = terr[j] + terr[arg_max] + u * std::fabs(t[j] - t[arg_max]);
    rel[j] = da + kernels::math::kExpMaxRelError;
    worst_rel = std::max(worst_rel, rel[j]);
  }
  std::vector<double> bound(n);
  for (size_t j = 0; j < n; ++j) {
    const double r = rel[j] + worst_rel + gamma(static_cast<double>(n)) + 3 * u;
    bound[j] = 1.01 * r * std::fabs(y_ref[j]) + 2e-38;
  }
  return bound;
}

void check_softmax(Isa isa, size_t n, float scale, bool with_bias, bool in_place, std::mt19937& rng,
                   float lo, float hi) {
  SCOPED_TRACE("n=" + std::to_string(n) + " scale=" + std::to_string(scale) +
               (with_bias ? " bias" : "") + (in_place ? " in place" : ""));
  GuardedBuffer x(n), bias(n), y(n), y_ref(n);
  x.fill_random(rng, lo, hi);
  bias.fill_random(rng, -3, 0);
  if (with_bias) {
    for (size_t j = 0; j < n; j += 5) bias[j] = -10000.0f;  // BERT's masked keys
  }
  const float* b = with_bias ? bias.data() : nullptr;
  kernels::f32_softmax_reference(n, x.data(), scale, b, y_ref.data());
  const std::vector<float> x_before(x.data(), x.data() + n);
  float* out = in_place ? x.data() : y.data();
  kernels::softmax_kernel(isa)(n, x.data(), scale, b, out);
  ASSERT_TRUE(x.canary_intact() && y.canary_intact() && bias.canary_intact());
  const std::vector<double> bound = softmax_bounds(n, x_before.data(), scale, b, y_ref.data());
  double total = 0;
  for (size_t j = 0; j < n; ++j) {
    const double err = std::fabs(double{out[j]} - y_ref[j]);
    ASSERT_LE(err, bound[j]) << "j=" << j << " got " << out[j] << " want " << y_ref[j];
    total += out[j];
  }
  EXPECT_NEAR(total, 1.0, 1e-5);
}

TEST_P(SoftmaxTest, MatchesReferenceOverOddLengths) {
  RATEL_SKIP_IF_ISA_UNAVAILABLE(GetParam());
  std::mt19937 rng(17);
  std::vector<size_t> sizes;
  for (size_t n = 1; n <= 70; ++n) sizes.push_back(n);
  for (size_t n : {95, 127, 128, 129, 383, 384, 385, 1000}) sizes.push_back(n);
  for (size_t n : sizes) {
    check_softmax(GetParam(), n, 1.0f, false, false, rng, -8, 8);
    check_softmax(GetParam(), n, 0.17677669f, true, false, rng, -40, 40);
    check_softmax(GetParam(), n, -0.5f, false, true, rng, -20, 20);
    check_softmax(GetParam(), n, 1.0f, true, true, rng, -1, 1);
  }
}

// Large spreads: most exps underflow, the max dominates; tiny spreads: all nearly equal.
TEST_P(SoftmaxTest, ExtremeSpreads) {
  RATEL_SKIP_IF_ISA_UNAVAILABLE(GetParam());
  std::mt19937 rng(5);
  for (size_t n : {3, 17, 100, 384}) {
    check_softmax(GetParam(), n, 1.0f, false, false, rng, -300, 300);
    check_softmax(GetParam(), n, 1.0f, false, false, rng, 1000.0f, 1000.001f);
    check_softmax(GetParam(), n, 1e-3f, false, false, rng, -1, 1);
  }
}

TEST_P(SoftmaxTest, NonFiniteInputs) {
  RATEL_SKIP_IF_ISA_UNAVAILABLE(GetParam());
  const auto fn = kernels::softmax_kernel(GetParam());
  for (size_t n : {1, 7, 16, 19, 40}) {
    SCOPED_TRACE("n=" + std::to_string(n));
    std::vector<float> x(n), y(n);
    for (size_t j = 0; j < n; ++j) x[j] = static_cast<float>(j % 5);
    // -inf (a hard mask) gives exactly 0 and leaves the rest a distribution (a row of only
    // -inf is NaN: -inf - -inf).
    x[n / 2] = -kInf;
    fn(n, x.data(), 1.0f, nullptr, y.data());
    if (n > 1) {
      EXPECT_EQ(y[n / 2], 0.0f);
      double total = 0;
      for (float v : y) total += v;
      EXPECT_NEAR(total, 1.0, 1e-6);
    } else {
      EXPECT_TRUE(std::isnan(y[0]));
    }
    // NaN or +inf anywhere: the whole row is NaN, like the reference.
    for (float bad : {std::nanf(""), kInf}) {
      for (size_t pos : {size_t{0}, n - 1, n / 3}) {
        std::vector<float> xb(x);
        xb[n / 2] = 0.5f;
        xb[pos] = bad;
        fn(n, xb.data(), 1.0f, nullptr, y.data());
        for (size_t j = 0; j < n; ++j) ASSERT_TRUE(std::isnan(y[j])) << "pos=" << pos << " j=" << j;
        kernels::f32_softmax_reference(n, xb.data(), 1.0f, nullptr, y.data());
        for (size_t j = 0; j < n; ++j) ASSERT_TRUE(std::isnan(y[j])) << "reference, j=" << j;
      }
    }
  }
}

// Elements whose exp underflows to 0 (here -inf) appended to a row leave the other outputs' bits
// unchanged: the attention kernel relies on it to drop padded keys without changing results.
TEST_P(SoftmaxTest, AppendedZeroWeightElementsKeepBits) {
  RATEL_SKIP_IF_ISA_UNAVAILABLE(GetParam());
  const auto fn = kernels::softmax_kernel(GetParam());
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> d(-6, 6);
  for (size_t n = 1; n <= 70; ++n) {
    for (size_t extra : {1, 3, 8, 15, 16, 17, 40, 300}) {
      std::vector<float> x(n + extra, -kInf), y_short(n), y_long(n + extra);
      for (size_t j = 0; j < n; ++j) x[j] = d(rng);
      fn(n, x.data(), 1.0f, nullptr, y_short.data());
      fn(n + extra, x.data(), 1.0f, nullptr, y_long.data());
      ASSERT_EQ(std::memcmp(y_short.data(), y_long.data(), n * 4), 0) << "n=" << n << " extra=" << extra;
      for (size_t j = n; j < n + extra; ++j) ASSERT_EQ(y_long[j], 0.0f);
    }
  }
}

TEST_P(SoftmaxTest, RowsIdenticalForAnyThreadCount) {
  RATEL_SKIP_IF_ISA_UNAVAILABLE(GetParam());
  std::mt19937 rng(3);
  const size_t rows = 300, n = 131, ld = 140;
  GuardedBuffer x(rows * ld), y1(rows * ld);
  x.fill_random(rng, -10, 10);
  y1.fill(-7.0f);
  kernels::softmax_rows(rows, n, x.data(), ld, y1.data(), ld, nullptr, GetParam());
  for (size_t r = 0; r < rows; ++r) {
    std::vector<float> want(n);
    kernels::softmax_kernel(GetParam())(n, x.data() + r * ld, 1.0f, nullptr, want.data());
    ASSERT_EQ(std::memcmp(want.data(), y1.data() + r * ld, n * 4), 0) << "row " << r;
    for (size_t j = n; j < ld; ++j) ASSERT_EQ(y1[r * ld + j], -7.0f) << "wrote row padding";
  }
  for (int threads : {2, 3}) {
    cpu::ThreadPool pool(threads);
    GuardedBuffer yn(rows * ld);
    yn.fill(-7.0f);
    kernels::softmax_rows(rows, n, x.data(), ld, yn.data(), ld, &pool, GetParam());
    EXPECT_EQ(std::memcmp(y1.data(), yn.data(), rows * ld * 4), 0) << threads << " threads";
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, SoftmaxTest, ::testing::ValuesIn(kAllIsas), isa_param_name);

}  // namespace
}  // namespace ratel::testing
