// ratel.QDense reference kernel (ops/quantized.cpp): the integer form checked exactly against
// the formula written out here independently (quantize with round-half-even and clamp, integer
// dot product, one float multiply per scale, bias), the float-activation int8-weight form within
// the bound of its double sum, and the errors for bad quantization parameters.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "../support/op_harness.h"

namespace ratel {
namespace {

using testing::OpCall;
using testing::run_op;

std::vector<float> random_floats(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = lo + (hi - lo) * static_cast<float>(rng() >> 8) * 0x1p-24f;
  return v;
}

std::vector<int8_t> random_i8(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int8_t> v(n);
  for (int8_t& x : v) x = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
  return v;
}

ir::Attributes qattrs(const std::string& x_type, float x_scale, int64_t x_zero_point) {
  ir::Attributes a;
  a.set("x_type", x_type);
  a.set("x_scale", x_scale);
  a.set("x_zero_point", x_zero_point);
  return a;
}

OpCall qdense(std::vector<Tensor> inputs, ir::Attributes attrs) {
  OpCall c("QDense", 1);
  c.domain = "ratel";
  c.inputs = std::move(inputs);
  // X is a run-time input; weights, scales, zero points and bias are initializers, as in a model.
  c.constant_inputs = {false, true, true, true, true, true};
  c.attrs = std::move(attrs);
  return c;
}

// u8 activations (asymmetric), per-channel i8 weights with zero points, bias: the int8_asym
// scheme. Odd sizes; inputs reach past the clamp range on both sides, and one is NaN.
TEST(QDenseTest, IntegerFormIsExact) {
  const int64_t m = 5, k = 37, n = 11;
  std::vector<float> x = random_floats(static_cast<size_t>(m * k), 7, -3.0f, 5.0f);
  x[3] = std::nanf("");
  const float xs = 0.02f;
  const int32_t xz = 93;  // 0.02 * (255 - 93) = 3.24 < 5: the top saturates
  const std::vector<int8_t> w = random_i8(static_cast<size_t>(k * n), 11);
  const std::vector<float> ws = random_floats(static_cast<size_t>(n), 13, 0.001f, 0.01f);
  std::vector<int32_t> wz(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) wz[static_cast<size_t>(j)] = static_cast<int32_t>(j % 7) - 3;
  const std::vector<float> b = random_floats(static_cast<size_t>(n), 17, -1.0f, 1.0f);

  auto r = run_op(qdense({Tensor::from_vector<float>(x, {m, k}), Tensor::from_vector<int8_t>(w, {k, n}),
                          Tensor::from_vector<float>(ws, {n}), Tensor::from_vector<int32_t>(wz, {n}),
                          Tensor::from_vector<float>(b, {n})},
                         qattrs("u8", xs, xz)));
  ASSERT_TRUE(r.ok()) << r.status().message();
  const std::vector<float> y = (*r)[0].to_vector<float>();
  ASSERT_EQ(y.size(), static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      int64_t acc = 0;
      for (int64_t p = 0; p < k; ++p) {
        const float v = x[static_cast<size_t>(i * k + p)];
        // q = clamp(round_half_even(v / s) + zp, 0, 255); NaN quantizes to the low end.
        int64_t q = std::isnan(v) ? 0 : static_cast<int64_t>(std::nearbyint(v / xs)) + xz;
        q = q < 0 ? 0 : (q > 255 ? 255 : q);
        acc += (q - xz) * (w[static_cast<size_t>(p * n + j)] - wz[static_cast<size_t>(j)]);
      }
      const float want = static_cast<float>(acc) * (xs * ws[static_cast<size_t>(j)]) + b[static_cast<size_t>(j)];
      EXPECT_EQ(y[static_cast<size_t>(i * n + j)], want) << "row " << i << " column " << j;
    }
  }
}

// float activations, int8 weights with per-channel scales (float16_w_int8 on x86): the float
// sum against a long double one, within k ulps of Σ|x·w| (the sum is in double, then rounded once;
// the scale and bias add two roundings).
TEST(QDenseTest, FloatActivationsWithInt8WeightsMatchTheDequantizedProduct) {
  const int64_t m = 3, k = 29, n = 5;
  const std::vector<float> x = random_floats(static_cast<size_t>(m * k), 21, -2.0f, 2.0f);
  const std::vector<int8_t> w = random_i8(static_cast<size_t>(k * n), 23);
  const std::vector<float> ws = random_floats(static_cast<size_t>(n), 29, 0.001f, 0.01f);
  ir::Attributes a;
  a.set("x_type", std::string("f32"));
  auto r = run_op(qdense({Tensor::from_vector<float>(x, {m, k}), Tensor::from_vector<int8_t>(w, {k, n}),
                          Tensor::from_vector<float>(ws, {n})},
                         a));
  ASSERT_TRUE(r.ok()) << r.status().message();
  const std::vector<float> y = (*r)[0].to_vector<float>();
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      long double s = 0, abs_s = 0;
      for (int64_t p = 0; p < k; ++p) {
        const long double prod = static_cast<long double>(x[static_cast<size_t>(i * k + p)]) *
                                 w[static_cast<size_t>(p * n + j)];
        s += prod;
        abs_s += std::fabs(prod);
      }
      const long double want = s * ws[static_cast<size_t>(j)];
      const long double bound = 4 * 0x1p-24L * abs_s * ws[static_cast<size_t>(j)];
      EXPECT_LE(std::fabs(y[static_cast<size_t>(i * n + j)] - want), bound) << i << "," << j;
    }
  }
}

std::string error_of(const OpCall& c) {
  auto r = run_op(c);
  EXPECT_FALSE(r.ok()) << "expected an error";
  return r.ok() ? std::string() : r.status().message();
}

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

TEST(QDenseTest, BadQuantizationParametersAreErrors) {
  const Tensor x = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  const Tensor w = Tensor::from_vector<int8_t>({1, 2, 3, 4}, {2, 2});
  const Tensor ws = Tensor::from_vector<float>({0.1f, 0.2f}, {2});
  EXPECT_CONTAINS(error_of(qdense({x, w, ws}, qattrs("u8", 0.0f, 0))), "x_scale must be a positive finite number");
  EXPECT_CONTAINS(error_of(qdense({x, w, ws}, qattrs("u8", 0.1f, 300))), "x_zero_point 300 is outside");
  EXPECT_CONTAINS(error_of(qdense({x, w, ws}, qattrs("q4", 0.1f, 0))), "unknown x_type 'q4'");
  EXPECT_CONTAINS(error_of(qdense({x, w, Tensor::from_vector<float>({0.1f, -1.0f}, {2})}, qattrs("u8", 0.1f, 0))),
                  "W_scale[1] = -1 is not a positive finite number");
  EXPECT_CONTAINS(error_of(qdense({x, w}, qattrs("u8", 0.1f, 0))), "weights need W_scale");
  EXPECT_CONTAINS(error_of(qdense({x, Tensor::from_vector<int8_t>({1, 2, 3}, {3, 1}), ws}, qattrs("u8", 0.1f, 0))),
                  "do not multiply");
  EXPECT_CONTAINS(error_of(qdense({x, w, ws, Tensor::from_vector<int32_t>({0, 200}, {2})}, qattrs("u8", 0.1f, 0))),
                  "W_zero_point[1] = 200 is invalid");
}

}  // namespace
}  // namespace ratel
