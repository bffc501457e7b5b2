// Layer norm (plain and with a skip input) on every ISA path against double precision: every
// element within the bound derived in layernorm.h (recomputed here per row from the exact mean
// and variance), over odd lengths, offset and scaled rows, BERT's epsilon, in guarded buffers
// and in place; constant rows give exactly beta; layernorm_rows is identical for 1, 2, 3 threads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "cpu/thread_pool.h"
#include "guarded_buffer.h"
#include "kernel_test_util.h"
#include "kernels/layernorm.h"

namespace ratel::testing {
namespace {

using cpu::Isa;

struct LnCase {
  size_t n;
  bool skip, beta;
  float offset, spread;  // x = offset + uniform(-spread, spread)
  float epsilon;
  int in_place;  // 0: separate y; 1: y == x; 2: y == skip
};

std::string describe(const LnCase& c) {
  return "n=" + std::to_string(c.n) + (c.skip ? " skip" : "") + (c.beta ? " beta" : "") +
         " offset=" + std::to_string(c.offset) + " spread=" + std::to_string(c.spread) +
         " eps=" + std::to_string(c.epsilon) + " in_place=" + std::to_string(c.in_place);
}

void check_layernorm(Isa isa, const LnCase& c, std::mt19937& rng) {
  SCOPED_TRACE(describe(c) + " isa=" + std::string(cpu::isa_name(isa)));
  const size_t n = c.n;
  GuardedBuffer x(n), skip(n), g(n), beta(n), y(n), y_ref(n);
  x.fill_random(rng, c.offset - c.spread, c.offset + c.spread);
  skip.fill_random(rng, -c.spread, c.spread);
  g.fill_random(rng, -2, 2);
  beta.fill_random(rng, -1, 1);
  const float* s = c.skip ? skip.data() : nullptr;
  const float* b = c.beta ? beta.data() : nullptr;
  kernels::f32_layernorm_reference(n, x.data(), s, g.data(), b, c.epsilon, y_ref.data());

  // The exact z, mean and variance for the bound (double sums of <= 2^11 floats are exact to
  // far below the float tolerances).
  std::vector<double> z(n);
  double mean = 0;
  for (size_t j = 0; j < n; ++j) {
    z[j] = c.skip ? static_cast<double>(x[j] + skip[j]) : double{x[j]};
    mean += z[j];
  }
  mean /= static_cast<double>(n);
  double var = 0, abs_dev0 = 0;
  for (size_t j = 0; j < n; ++j) {
    var += (z[j] - mean) * (z[j] - mean);
    abs_dev0 += std::fabs(z[j] - z[0]);
  }
  var /= static_cast<double>(n);
  const double u = kUnitRoundoff, dn = static_cast<double>(n);
  const double dm = gamma(dn + 2) * abs_dev0 / dn + u * std::fabs(mean);
  const double er = 0.5 * (dm * dm + gamma(dn + 4) * (var + dm * dm)) / (var + c.epsilon) + 2 * u;
  const double r = 1 / std::sqrt(var + c.epsilon);

  float* out = c.in_place == 1 ? x.data() : c.in_place == 2 ? skip.data() : y.data();
  kernels::layernorm_kernel(isa)(n, x.data(), s, g.data(), b, c.epsilon, out);
  for (GuardedBuffer* buf : {&x, &skip, &g, &beta, &y, &y_ref}) ASSERT_TRUE(buf->canary_intact());
  for (size_t j = 0; j < n; ++j) {
    const double dev = std::fabs(z[j] - mean);
    const double bound = std::fabs(g[j]) * r * ((1 + er) * dm + dev * (er + 3 * u)) +
                         u * (std::fabs(g[j]) * dev * r + (b ? std::fabs(b[j]) : 0.0)) +
                         u * std::fabs(y_ref[j]);
    const double err = std::fabs(double{out[j]} - y_ref[j]);
    ASSERT_LE(err, bound) << "j=" << j << " got " << out[j] << " want " << y_ref[j];
  }
}

class LayerNormTest : public ::testing::TestWithParam<Isa> {};

TEST_P(LayerNormTest, MatchesReferenceOverOddLengths) {
  RATEL_SKIP_IF_ISA_UNAVAILABLE(GetParam());
  std::mt19937 rng(11);
  std::vector<size_t> sizes;
  for (size_t n = 1; n <= 70; ++n) sizes.push_back(n);
  for (size_t n : {95, 127, 128, 129, 383, 384, 385, 768, 1024, 2047}) sizes.push_back(n);
  int variant = 0;
  for (size_t n : sizes) {
    for (bool skip : {false, true}) {
      for (bool beta : {false, true}) {
        ++variant;
        check_layernorm(GetParam(), {n, skip, beta, 0.0f, 1.0f, 1e-12f, variant % 3}, rng);
        check_layernorm(GetParam(), {n, skip, beta, 0.3f, 3.0f, 1e-5f, 0}, rng);
      }
    }
  }
}

// |mean| >> std (where E[x^2] - E[x]^2 would cancel), tiny and huge scales, BERT's epsilon.
TEST_P(LayerNormTest, OffsetAndScaledRows) {
  RATEL_SKIP_IF_ISA_UNAVAILABLE(GetParam());
  std::mt19937 rng(12);
  for (size_t n : {7, 33, 384, 1000}) {
    for (float offset : {100.0f, -1000.0f, 1e4f}) {
      check_layernorm(GetParam(), {n, false, true, offset, 1.0f, 1e-12f, 0}, rng);
      check_layernorm(GetParam(), {n, true, true, offset, 0.01f, 1e-12f, 1}, rng);
    }
    check_layernorm(GetParam(), {n, false, true, 0.0f, 1e-4f, 1e-12f, 0}, rng);
    check_layernorm(GetParam(), {n, true, false, 0.0f, 1e4f, 1e-12f, 2}, rng);
    // Variance far below epsilon: epsilon dominates.
    check_layernorm(GetParam(), {n, false, true, 1.0f, 1e-6f, 1e-5f, 0}, rng);
  }
}

// A constant row has mean = z exactly (z0 shift), so y = 0 * rstd * gamma + beta = beta, even
// for large values where a rounded mean would leave +-ulp deviations amplified by 1/sqrt(eps).
TEST_P(LayerNormTest, ConstantRowGivesBeta) {
  RATEL_SKIP_IF_ISA_UNAVAILABLE(GetParam());
  for (size_t n : {1, 5, 16, 17, 384}) {
    for (float value : {0.0f, 0.1f, 1000.0f, -3.3e7f}) {
      std::vector<float> x(n, value), gamma(n, 1.5f), beta(n), y(n);
      for (size_t j = 0; j < n; ++j) beta[j] = static_cast<float>(j) * 0.25f - 1;
      kernels::layernorm_kernel(GetParam())(n, x.data(), nullptr, gamma.data(), beta.data(), 1e-12f,
                                            y.data());
      for (size_t j = 0; j < n; ++j) ASSERT_EQ(y[j], beta[j]) << "n=" << n << " value=" << value;
    }
  }
}

TEST_P(LayerNormTest, RowsIdenticalForAnyThreadCount) {
  RATEL_SKIP_IF_ISA_UNAVAILABLE(GetParam());
  std::mt19937 rng(4);
  const size_t rows = 257, n = 384;
  GuardedBuffer x(rows * n), skip(rows * n), gamma(n), beta(n), y1(rows * n);
  x.fill_random(rng, -3, 3);
  skip.fill_random(rng, -3, 3);
  gamma.fill_random(rng, 0.5, 1.5);
  beta.fill_random(rng, -0.5, 0.5);
  kernels::layernorm_rows(rows, n, x.data(), skip.data(), gamma.data(), beta.data(), 1e-12f,
                          y1.data(), nullptr, GetParam());
  for (size_t r = 0; r < rows; r += 37) {
    std::vector<float> want(n);
    kernels::layernorm_kernel(GetParam())(n, x.data() + r * n, skip.data() + r * n, gamma.data(),
                                          beta.data(), 1e-12f, want.data());
    ASSERT_EQ(std::memcmp(want.data(), y1.data() + r * n, n * 4), 0) << "row " << r;
  }
  for (int threads : {2, 3}) {
    cpu::ThreadPool pool(threads);
    GuardedBuffer yn(rows * n);
    kernels::layernorm_rows(rows, n, x.data(), skip.data(), gamma.data(), beta.data(), 1e-12f,
                            yn.data(), &pool, GetParam());
    EXPECT_EQ(std::memcmp(y1.data(), yn.data(), rows * n * 4), 0) << threads << " threads";
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, LayerNormTest, ::testing::ValuesIn(kAllIsas), isa_param_name);

}  // namespace
}  // namespace ratel::testing
