// Softmax, LogSoftmax and LayerNormalization: axes by opset, accuracy against long double,
// numerical robustness, optional inputs/outputs and every error.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "../support/op_harness.h"

namespace ratel {
namespace {

using testing::OpCall;
using testing::run_op;

std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1, float hi = 1) {
  std::mt19937 rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = lo + (hi - lo) * static_cast<float>(rng() >> 8) * 0x1p-24f;
  return v;
}

void expect_error(const OpCall& c, const std::string& fragment) {
  auto r = run_op(c);
  ASSERT_FALSE(r.ok()) << "expected an error containing '" << fragment << "'";
  EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << "not one line";
}

// Exact softmax / log-softmax of x viewed as [outer, n, inner], normalized over n.
std::vector<long double> exact_softmax(const std::vector<float>& x, int64_t outer, int64_t n,
                                       int64_t inner, bool log) {
  std::vector<long double> out(x.size());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t j) { return static_cast<size_t>((o * n + j) * inner + i); };
      long double max = -INFINITY;
      for (int64_t j = 0; j < n; ++j) max = std::max(max, static_cast<long double>(x[at(j)]));
      long double sum = 0;
      for (int64_t j = 0; j < n; ++j) sum += std::exp(x[at(j)] - max);
      for (int64_t j = 0; j < n; ++j) {
        out[at(j)] = log ? (x[at(j)] - max) - std::log(sum) : std::exp(x[at(j)] - max) / sum;
      }
    }
  }
  return out;
}

// The reference computes in double and rounds once: within 2^-24 relative (half a float ulp)
// plus a few double ulps, which 2^-23 relative covers with room to spare. LogSoftmax values near
// zero have cancellation in x - max - log(sum); an absolute 2^-50·|x| term covers that.
void expect_close(const Tensor& got, const std::vector<long double>& want, const char* what) {
  const auto g = got.to_vector<float>();
  ASSERT_EQ(g.size(), want.size());
  for (size_t i = 0; i < g.size(); ++i) {
    EXPECT_LE(std::fabs(g[i] - want[i]), 0x1p-23L * std::fabs(want[i]) + 0x1p-50L) << what << " " << i;
  }
}

OpCall softmax_call(const std::string& op, int opset, Tensor x, std::optional<int64_t> axis) {
  OpCall c{op, opset};
  c.inputs = {std::move(x)};
  if (axis) c.attrs.set("axis", *axis);
  return c;
}

TEST(SoftmaxTest, SingleAxisFromOpset13) {
  const Shape shape{3, 4, 5};
  const auto x = random_floats(60, 11, -5, 5);
  for (const char* op : {"Softmax", "LogSoftmax"}) {
    const bool log = std::string(op) == "LogSoftmax";
    auto last = run_op(softmax_call(op, 13, Tensor::from_vector(x, shape), std::nullopt));  // -1
    ASSERT_TRUE(last.ok()) << last.status().message();
    expect_close((*last)[0], exact_softmax(x, 12, 5, 1, log), op);
    auto middle = run_op(softmax_call(op, 13, Tensor::from_vector(x, shape), -2));
    ASSERT_TRUE(middle.ok()) << middle.status().message();
    expect_close((*middle)[0], exact_softmax(x, 3, 4, 5, log), op);
    auto first = run_op(softmax_call(op, 13, Tensor::from_vector(x, shape), 0));
    ASSERT_TRUE(first.ok()) << first.status().message();
    expect_close((*first)[0], exact_softmax(x, 1, 3, 20, log), op);
  }
}

TEST(SoftmaxTest, BeforeOpset13TheInputIsCoercedTo2D) {
  // axis 1 (the default) of [3, 4, 5] normalizes over the 20 trailing elements together.
  const Shape shape{3, 4, 5};
  const auto x = random_floats(60, 12, -5, 5);
  for (const char* op : {"Softmax", "LogSoftmax"}) {
    const bool log = std::string(op) == "LogSoftmax";
    auto dflt = run_op(softmax_call(op, 11, Tensor::from_vector(x, shape), std::nullopt));
    ASSERT_TRUE(dflt.ok()) << dflt.status().message();
    expect_close((*dflt)[0], exact_softmax(x, 3, 20, 1, log), op);
    auto neg = run_op(softmax_call(op, 1, Tensor::from_vector(x, shape), -1));
    ASSERT_TRUE(neg.ok()) << neg.status().message();
    expect_close((*neg)[0], exact_softmax(x, 12, 5, 1, log), op);
    auto zero = run_op(softmax_call(op, 12, Tensor::from_vector(x, shape), 0));
    ASSERT_TRUE(zero.ok()) << zero.status().message();
    expect_close((*zero)[0], exact_softmax(x, 1, 60, 1, log), op);
  }
}

TEST(SoftmaxTest, LargeInputsDoNotOverflow) {
  const std::vector<float> x{1000, 1001, 1002, -1000};
  auto s = run_op(softmax_call("Softmax", 13, Tensor::from_vector(x, {4}), std::nullopt));
  auto l = run_op(softmax_call("LogSoftmax", 13, Tensor::from_vector(x, {4}), std::nullopt));
  ASSERT_TRUE(s.ok() && l.ok());
  expect_close((*s)[0], exact_softmax(x, 1, 4, 1, false), "Softmax");
  expect_close((*l)[0], exact_softmax(x, 1, 4, 1, true), "LogSoftmax");
  EXPECT_EQ((*s)[0].to_vector<float>()[3], 0.0f);
  EXPECT_NEAR((*l)[0].to_vector<float>()[3], -2002.4076f, 1e-3);
}

TEST(SoftmaxTest, HalfComputesInDoubleAndRoundsOnce) {
  std::vector<Half> x;
  for (float v : random_floats(7, 13, -3, 3)) x.push_back(Half{float_to_half(v)});
  auto r = run_op(softmax_call("Softmax", 13, Tensor::from_vector(x, {7}), std::nullopt));
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::vector<float> xf;
  for (Half h : x) xf.push_back(half_to_float(h.bits));
  const auto want = exact_softmax(xf, 1, 7, 1, false);
  const auto got = (*r)[0].to_vector<Half>();
  for (size_t i = 0; i < got.size(); ++i) {
    // Half a half-ulp (2^-11 relative) plus subnormal spacing.
    EXPECT_LE(std::fabs(half_to_float(got[i].bits) - want[i]), 0x1p-11L * std::fabs(want[i]) + 0x1p-25L);
  }
}

TEST(SoftmaxTest, Errors) {
  const Tensor x = Tensor::from_vector(random_floats(6, 1), {2, 3});
  expect_error(softmax_call("Softmax", 13, x, 2), "axis 2 is out of range for rank 2");
  expect_error(softmax_call("LogSoftmax", 11, x, -3), "axis -3 is out of range for rank 2");
  expect_error(softmax_call("Softmax", 13, Tensor::from_vector<int32_t>({1, 2}, {2}), std::nullopt),
               "input 0 has type i32; only float types are accepted");
  expect_error(softmax_call("Softmax", 12, Tensor::from_vector<BFloat16>({BFloat16{0}}, {1}), 0),
               "bf16 inputs need opset 13");
  expect_error(softmax_call("Softmax", 13, Tensor::scalar<float>(1), std::nullopt), "out of range for rank 0");
}

// ---- LayerNormalization ---------------------------------------------------------------------

struct ExactLayerNorm {
  std::vector<long double> y, mean, inv_std;
};

// X as [rows, row_size]; scale and bias have the row's shape.
ExactLayerNorm exact_layer_norm(const std::vector<float>& x, int64_t rows, int64_t row_size,
                                const std::vector<float>& scale, const std::vector<float>* bias,
                                float epsilon) {
  ExactLayerNorm e;
  for (int64_t r = 0; r < rows; ++r) {
    long double sum = 0;
    for (int64_t j = 0; j < row_size; ++j) sum += x[static_cast<size_t>(r * row_size + j)];
    const long double mean = sum / row_size;
    long double sq = 0;
    for (int64_t j = 0; j < row_size; ++j) {
      const long double d = x[static_cast<size_t>(r * row_size + j)] - mean;
      sq += d * d;
    }
    const long double inv = 1.0L / std::sqrt(sq / row_size + static_cast<long double>(epsilon));
    e.mean.push_back(mean);
    e.inv_std.push_back(inv);
    for (int64_t j = 0; j < row_size; ++j) {
      long double y = (x[static_cast<size_t>(r * row_size + j)] - mean) * inv * scale[static_cast<size_t>(j)];
      if (bias) y += (*bias)[static_cast<size_t>(j)];
      e.y.push_back(y);
    }
  }
  return e;
}

OpCall layer_norm_call(Tensor x, Tensor scale, Tensor bias, std::optional<int64_t> axis,
                       int num_outputs = 1, int opset = 17) {
  OpCall c{"LayerNormalization", opset};
  c.inputs = {std::move(x), std::move(scale)};
  if (bias.defined()) c.inputs.push_back(std::move(bias));
  if (axis) c.attrs.set("axis", *axis);
  c.num_outputs = num_outputs;
  return c;
}

TEST(LayerNormTest, MatchesExactValuesForEveryAxisWithStatistics) {
  const Shape shape{2, 3, 5};
  const auto x = random_floats(30, 21, -3, 3);
  for (int64_t axis : {-1, 1, 0, -3}) {
    const int64_t a = axis < 0 ? axis + 3 : axis;
    const Shape norm_shape(shape.begin() + a, shape.end());
    const int64_t row_size = numel(norm_shape);
    const auto scale = random_floats(static_cast<size_t>(row_size), 22, 0.5f, 2.0f);
    const auto bias = random_floats(static_cast<size_t>(row_size), 23);
    auto r = run_op(layer_norm_call(Tensor::from_vector(x, shape), Tensor::from_vector(scale, norm_shape),
                                    Tensor::from_vector(bias, norm_shape), axis, 3));
    ASSERT_TRUE(r.ok()) << r.status().message();
    const auto e = exact_layer_norm(x, 30 / row_size, row_size, scale, &bias, 1e-5f);
    // y = n·s + b with |n| of order a few: its float rounding plus a double-rounding slack.
    const auto y = (*r)[0].to_vector<float>();
    for (size_t i = 0; i < y.size(); ++i) {
      EXPECT_LE(std::fabs(y[i] - e.y[i]), 0x1p-23L * std::fabs(e.y[i]) + 0x1p-40L) << "axis " << axis;
    }
    Shape stats_shape = shape;
    for (size_t d = static_cast<size_t>(a); d < 3; ++d) stats_shape[d] = 1;
    EXPECT_EQ((*r)[1].shape(), stats_shape);
    EXPECT_EQ((*r)[2].shape(), stats_shape);
    EXPECT_EQ((*r)[1].dtype(), DType::kF32);
    const auto mean = (*r)[1].to_vector<float>();
    const auto inv = (*r)[2].to_vector<float>();
    for (size_t i = 0; i < mean.size(); ++i) {
      EXPECT_LE(std::fabs(mean[i] - e.mean[i]), 0x1p-23L * std::fabs(e.mean[i]) + 0x1p-40L);
      EXPECT_LE(std::fabs(inv[i] - e.inv_std[i]), 0x1p-23L * e.inv_std[i]);
    }
  }
}

TEST(LayerNormTest, LargeMeanDoesNotCancel) {
  // Rows like 10000 + small noise: E[x²] - E[x]² in float would lose every digit of the
  // variance; the two-pass double computation keeps it.
  auto x = random_floats(9, 31, -0.01f, 0.01f);
  for (float& v : x) v += 10000.0f;
  const std::vector<float> scale(9, 1.0f);
  auto r = run_op(layer_norm_call(Tensor::from_vector(x, {9}), Tensor::from_vector(scale, {9}), Tensor(),
                                  std::nullopt));
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto e = exact_layer_norm(x, 1, 9, scale, nullptr, 1e-5f);
  const auto y = (*r)[0].to_vector<float>();
  for (size_t i = 0; i < y.size(); ++i) EXPECT_LE(std::fabs(y[i] - e.y[i]), 0x1p-23L * std::fabs(e.y[i]) + 0x1p-40L);
}

TEST(LayerNormTest, ConstantRowGivesBiasAndEpsilonSetsInvStd) {
  OpCall c = layer_norm_call(Tensor::from_vector<float>({2, 2, 2, 2}, {4}), Tensor::from_vector<float>({3}, {1}),
                             Tensor::from_vector<float>({0.5f, -1, 0, 1}, {4}), std::nullopt, 3);
  c.attrs.set("epsilon", 0.25f);
  auto r = run_op(c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].to_vector<float>(), (std::vector<float>{0.5f, -1, 0, 1}));
  EXPECT_EQ((*r)[1].to_vector<float>()[0], 2.0f);
  EXPECT_EQ((*r)[2].to_vector<float>()[0], 2.0f);  // 1 / sqrt(0 + 0.25)
}

TEST(LayerNormTest, StashTypeBfloat16TypesTheStatistics) {
  OpCall c = layer_norm_call(Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2}), Tensor::from_vector<float>({1, 1}, {2}),
                             Tensor(), std::nullopt, 3);
  c.attrs.set("stash_type", int64_t{16});
  auto r = run_op(c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[1].dtype(), DType::kBF16);
  EXPECT_EQ(bf16_to_float((*r)[1].to_vector<BFloat16>()[1].bits), 3.5f);
}

TEST(LayerNormTest, Errors) {
  const Tensor x = Tensor::from_vector(random_floats(6, 1), {2, 3});
  const Tensor s3 = Tensor::from_vector<float>({1, 1, 1}, {3});
  expect_error(layer_norm_call(x, s3, Tensor(), std::nullopt, 1, 16), "LayerNormalization requires opset 17");
  expect_error(layer_norm_call(x, s3, Tensor(), 2), "axis 2 is out of range for rank 2");
  expect_error(layer_norm_call(x, Tensor::from_vector<float>({1, 1}, {2}), Tensor(), std::nullopt),
               "Scale of shape [2] cannot be broadcast to X's shape [2, 3]");
  expect_error(layer_norm_call(x, s3, Tensor::from_vector<float>({1, 1, 1, 1}, {4}), std::nullopt),
               "B of shape [4] cannot be broadcast");
  expect_error(layer_norm_call(x, Tensor::from_vector<double>({1, 1, 1}, {3}), Tensor(), std::nullopt),
               "Scale has type f64, X has f32");
  OpCall stash = layer_norm_call(x, s3, Tensor(), std::nullopt);
  stash.attrs.set("stash_type", int64_t{7});
  expect_error(stash, "'stash_type' must be 1 (FLOAT) or 16 (BFLOAT16), got INT64");
  OpCall eps = layer_norm_call(x, s3, Tensor(), std::nullopt);
  eps.attrs.set("epsilon", -1.0f);
  expect_error(eps, "'epsilon' must be >= 0");
  expect_error(layer_norm_call(Tensor::from_vector<int32_t>({1}, {1}), Tensor::from_vector<int32_t>({1}, {1}),
                               Tensor(), std::nullopt),
               "only float types are accepted");
}

}  // namespace
}  // namespace ratel
