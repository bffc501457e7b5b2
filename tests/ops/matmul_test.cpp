// MatMul and Gemm reference kernels: numpy semantics, accuracy of the double accumulation,
// integer wrapping, opset rules and every inference error.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "../support/op_harness.h"
#include "ops/op_util.h"

namespace ratel {
namespace {

using testing::OpCall;
using testing::run_op;

// Uniform in [lo, hi) from the raw mt19937 stream (whose output the standard fixes, unlike
// std::uniform_real_distribution's), so the data is the same with every standard library.
std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1, float hi = 1) {
  std::mt19937 rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = lo + (hi - lo) * static_cast<float>(rng() >> 8) * 0x1p-24f;
  return v;
}

// Row-major matrix product in long double, plus Σ|a·b| per element for the error bound.
struct Exact {
  std::vector<long double> value;
  std::vector<long double> abs_sum;
};
Exact exact_matmul(const std::vector<float>& a, const std::vector<float>& b, int64_t m, int64_t k,
                   int64_t n) {
  Exact e{std::vector<long double>(static_cast<size_t>(m * n)),
          std::vector<long double>(static_cast<size_t>(m * n))};
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      long double s = 0, abs_s = 0;
      for (int64_t p = 0; p < k; ++p) {
        const long double prod = static_cast<long double>(a[static_cast<size_t>(i * k + p)]) *
                                 b[static_cast<size_t>(p * n + j)];
        s += prod;
        abs_s += std::fabs(prod);
      }
      e.value[static_cast<size_t>(i * n + j)] = s;
      e.abs_sum[static_cast<size_t>(i * n + j)] = abs_s;
    }
  }
  return e;
}

// A float result rounded once from a double sum of K exact products is within half an ulp of
// the double sum (≤ 2^-24·|value|, plus the smallest subnormal step) and the double sum is
// within K·2^-53·Σ|a·b| of the truth; the long double oracle adds at most K·2^-64·Σ|a·b|.
void expect_accurate(const Tensor& got, const Exact& e, int64_t k) {
  ASSERT_EQ(got.dtype(), DType::kF32);
  ASSERT_EQ(static_cast<size_t>(got.numel()), e.value.size());
  const float* p = got.data<float>();
  for (size_t i = 0; i < e.value.size(); ++i) {
    const long double bound = 0x1p-24L * std::fabs(e.value[i]) + 0x1p-149L +
                              static_cast<long double>(k) * (0x1p-53L + 0x1p-64L) * e.abs_sum[i];
    EXPECT_LE(std::fabs(static_cast<long double>(p[i]) - e.value[i]), bound) << "element " << i;
  }
}

OpCall matmul_call(Tensor a, Tensor b, int opset = 13) {
  OpCall c{"MatMul", opset};
  c.inputs = {std::move(a), std::move(b)};
  return c;
}

TEST(MatMulTest, OddSizes2DMatchExactProductWithinDerivedBound) {
  const int64_t m = 7, k = 13, n = 5;
  const auto a = random_floats(static_cast<size_t>(m * k), 1);
  const auto b = random_floats(static_cast<size_t>(k * n), 2);
  auto r = run_op(matmul_call(Tensor::from_vector(a, {m, k}), Tensor::from_vector(b, {k, n})));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].shape(), (Shape{m, n}));
  expect_accurate((*r)[0], exact_matmul(a, b, m, k, n), k);
}

TEST(MatMulTest, AccumulatesInDoubleNotFloat) {
  // 1e8 + 1 rounds back to 1e8 in float: a float accumulator returns 0, double returns 1.
  OpCall c = matmul_call(Tensor::from_vector<float>({1e8f, 1, -1e8f}, {1, 3}),
                         Tensor::from_vector<float>({1, 1, 1}, {3, 1}));
  auto r = run_op(c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].to_vector<float>()[0], 1.0f);
}

TEST(MatMulTest, OneDimensionalOperandsArePromotedAndDropped) {
  const auto a = random_floats(3, 3);
  const auto b = random_floats(12, 4);
  {  // [3] x [3, 4] -> [4]
    auto r = run_op(matmul_call(Tensor::from_vector(a, {3}), Tensor::from_vector(b, {3, 4})));
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ((*r)[0].shape(), (Shape{4}));
    expect_accurate((*r)[0], exact_matmul(a, b, 1, 3, 4), 3);
  }
  {  // [4, 3] x [3] -> [4]
    auto r = run_op(matmul_call(Tensor::from_vector(b, {4, 3}), Tensor::from_vector(a, {3})));
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ((*r)[0].shape(), (Shape{4}));
    expect_accurate((*r)[0], exact_matmul(b, a, 4, 3, 1), 3);
  }
  {  // [3] x [3] -> scalar
    auto r = run_op(matmul_call(Tensor::from_vector(a, {3}), Tensor::from_vector(a, {3})));
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ((*r)[0].shape(), Shape{});
    expect_accurate((*r)[0], exact_matmul(a, a, 1, 3, 1), 3);
  }
  {  // [2, 3, 4] x [4] -> [2, 3]
    auto r = run_op(matmul_call(Tensor::from_vector(random_floats(24, 5), {2, 3, 4}),
                                Tensor::from_vector(random_floats(4, 6), {4})));
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ((*r)[0].shape(), (Shape{2, 3}));
  }
}

TEST(MatMulTest, BatchDimensionsBroadcast) {
  // A [2, 1, 3, 4] and B [5, 4, 2] -> [2, 5, 3, 2]; batch (i, j) uses A[i, 0] and B[j].
  const int64_t m = 3, k = 4, n = 2;
  const auto a = random_floats(2 * m * k, 7);
  const auto b = random_floats(5 * k * n, 8);
  auto r = run_op(matmul_call(Tensor::from_vector(a, {2, 1, m, k}), Tensor::from_vector(b, {5, k, n})));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ((*r)[0].shape(), (Shape{2, 5, m, n}));
  const float* got = (*r)[0].data<float>();
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t j = 0; j < 5; ++j) {
      const std::vector<float> ai(a.begin() + i * m * k, a.begin() + (i + 1) * m * k);
      const std::vector<float> bj(b.begin() + j * k * n, b.begin() + (j + 1) * k * n);
      const Exact e = exact_matmul(ai, bj, m, k, n);
      const float* slice = got + (i * 5 + j) * m * n;
      const Tensor t = Tensor::from_vector(std::vector<float>(slice, slice + m * n), {m, n});
      expect_accurate(t, e, k);
    }
  }
}

TEST(MatMulTest, HalfResultsAreTheCorrectlyRoundedExactSum) {
  // Sums of a few products of halves are exact in double, so the only rounding is the final
  // one: the result must be the half nearest to the exact value, bit for bit.
  const int64_t m = 3, k = 5, n = 4;
  const auto fa = random_floats(static_cast<size_t>(m * k), 9, -4, 4);
  const auto fb = random_floats(static_cast<size_t>(k * n), 10, -4, 4);
  std::vector<Half> ha, hb;
  std::vector<float> qa, qb;  // the values the halves actually hold
  for (float x : fa) ha.push_back(Half{float_to_half(x)}), qa.push_back(half_to_float(ha.back().bits));
  for (float x : fb) hb.push_back(Half{float_to_half(x)}), qb.push_back(half_to_float(hb.back().bits));
  auto r = run_op(matmul_call(Tensor::from_vector(ha, {m, k}), Tensor::from_vector(hb, {k, n})));
  ASSERT_TRUE(r.ok()) << r.status().message();
  const Exact e = exact_matmul(qa, qb, m, k, n);
  const auto got = (*r)[0].to_vector<Half>();
  for (size_t i = 0; i < got.size(); ++i) {
    const double exact = static_cast<double>(e.value[i]);
    EXPECT_EQ(got[i].bits, ops::float_from_double<Half>(exact).bits) << "element " << i;
  }
}

TEST(MatMulTest, Int32WrapsModulo2To32) {
  // 2^30 * 4 + 1 * 1 overflows int32: the wrapped result is 1.
  auto r = run_op(matmul_call(Tensor::from_vector<int32_t>({1 << 30, 1}, {1, 2}),
                              Tensor::from_vector<int32_t>({4, 1}, {2, 1})));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].to_vector<int32_t>()[0], 1);
}

TEST(MatMulTest, IntegerTypesMatchExactProducts) {
  auto r64 = run_op(matmul_call(Tensor::from_vector<int64_t>({-3, 5, 7, -2, 0, 9}, {2, 3}),
                                Tensor::from_vector<int64_t>({1, -1, 2, 4, -3, 6}, {3, 2})));
  ASSERT_TRUE(r64.ok()) << r64.status().message();
  EXPECT_EQ((*r64)[0].to_vector<int64_t>(), (std::vector<int64_t>{-3 + 10 - 21, 3 + 20 + 42,
                                                                  -2 + 0 - 27, 2 + 0 + 54}));
  auto ru = run_op(matmul_call(Tensor::from_vector<uint32_t>({4000000000u, 1}, {1, 2}),
                               Tensor::from_vector<uint32_t>({1, 300000000u}, {2, 1})));
  ASSERT_TRUE(ru.ok()) << ru.status().message();
  EXPECT_EQ((*ru)[0].to_vector<uint32_t>()[0], static_cast<uint32_t>(4300000000ull));
}

TEST(MatMulTest, ZeroTimesInfinityIsNaN) {
  auto r = run_op(matmul_call(Tensor::from_vector<float>({0, 1}, {1, 2}),
                              Tensor::from_vector<float>({INFINITY, 1}, {2, 1})));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(std::isnan((*r)[0].to_vector<float>()[0]));
}

TEST(MatMulTest, EmptyInnerDimensionGivesZeros) {
  auto r = run_op(matmul_call(Tensor::from_vector<float>({}, {2, 0}), Tensor::from_vector<float>({}, {0, 3})));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].to_vector<float>(), std::vector<float>(6, 0.0f));
}

void expect_error(const OpCall& c, const std::string& fragment) {
  auto r = run_op(c);
  ASSERT_FALSE(r.ok()) << "expected an error containing '" << fragment << "'";
  EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << "not one line";
}

TEST(MatMulTest, ErrorsAreClear) {
  const Tensor a23 = Tensor::from_vector(random_floats(6, 1), {2, 3});
  const Tensor a24 = Tensor::from_vector(random_floats(8, 1), {2, 4});
  expect_error(matmul_call(a23, a24), "inner dimensions differ: A [2, 3] has K=3, B [2, 4] has K=2");
  expect_error(matmul_call(Tensor::scalar<float>(1), a23), "rank >= 1");
  expect_error(matmul_call(Tensor::from_vector(random_floats(12, 1), {2, 2, 3}),
                           Tensor::from_vector(random_floats(18, 1), {3, 3, 2})),
               "batch dimensions of [2, 2, 3] and [3, 3, 2] cannot be broadcast");
  expect_error(matmul_call(a23, Tensor::from_vector<double>({1, 2, 3}, {3})), "different types");
  expect_error(matmul_call(Tensor::from_vector<int8_t>({1}, {1, 1}), Tensor::from_vector<int8_t>({1}, {1, 1})),
               "input type i8 is not accepted");
  const Tensor bf = Tensor::from_vector<BFloat16>({BFloat16{0x3f80}}, {1, 1});
  expect_error(matmul_call(bf, bf, 12), "bf16 inputs need opset 13");
  EXPECT_TRUE(run_op(matmul_call(bf, bf, 13)).ok());
}

// ---- Gemm -----------------------------------------------------------------------------------

struct GemmCase {
  bool trans_a, trans_b;
  float alpha, beta;
  Shape c_shape;  // empty vector with has_c=false: no C
  bool has_c;
};

// Y = alpha·op(A)·op(B) + beta·C, checked against long double with the MatMul bound scaled by
// |alpha| plus the half-ulp of the final rounding (computed on the exact value).
void check_gemm(const GemmCase& gc, uint32_t seed) {
  const int64_t m = 5, k = 7, n = 3;
  const auto a = random_floats(static_cast<size_t>(m * k), seed);
  const auto b = random_floats(static_cast<size_t>(k * n), seed + 1);
  // Stored layouts: transposed operands are stored transposed.
  std::vector<float> a_st(a.size()), b_st(b.size());
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < k; ++p)
      a_st[static_cast<size_t>(gc.trans_a ? p * m + i : i * k + p)] = a[static_cast<size_t>(i * k + p)];
  for (int64_t p = 0; p < k; ++p)
    for (int64_t j = 0; j < n; ++j)
      b_st[static_cast<size_t>(gc.trans_b ? j * k + p : p * n + j)] = b[static_cast<size_t>(p * n + j)];
  OpCall c{"Gemm", 13};
  c.inputs = {Tensor::from_vector(a_st, gc.trans_a ? Shape{k, m} : Shape{m, k}),
              Tensor::from_vector(b_st, gc.trans_b ? Shape{n, k} : Shape{k, n})};
  std::vector<float> cv;
  if (gc.has_c) {
    cv = random_floats(static_cast<size_t>(numel(gc.c_shape)), seed + 2);
    c.inputs.push_back(Tensor::from_vector(cv, gc.c_shape));
  }
  c.attrs.set("transA", int64_t{gc.trans_a});
  c.attrs.set("transB", int64_t{gc.trans_b});
  c.attrs.set("alpha", gc.alpha);
  c.attrs.set("beta", gc.beta);
  auto r = run_op(c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ((*r)[0].shape(), (Shape{m, n}));
  const Exact e = exact_matmul(a, b, m, k, n);
  const std::vector<int64_t> c_strides =
      gc.has_c ? ops::broadcast_strides(gc.c_shape, {m, n}) : std::vector<int64_t>{0, 0};
  const float* got = (*r)[0].data<float>();
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      const size_t o = static_cast<size_t>(i * n + j);
      const long double ab = static_cast<long double>(gc.alpha) * e.value[o];
      const long double bc =
          gc.has_c ? static_cast<long double>(gc.beta) *
                         cv[static_cast<size_t>(i * c_strides[0] + j * c_strides[1])]
                   : 0.0L;
      const long double want = ab + bc;
      // Final float rounding; the double sum's error scaled by alpha; and the three double
      // roundings of alpha·acc, beta·c and their sum (2^-53 each, taken on the magnitudes).
      const long double bound = 0x1p-24L * std::fabs(want) + 0x1p-149L +
                                std::fabs(gc.alpha) * k * 0x1p-52L * e.abs_sum[o] +
                                0x1p-51L * (std::fabs(ab) + std::fabs(bc));
      EXPECT_LE(std::fabs(got[o] - want), bound) << "element " << o << " transA=" << gc.trans_a
                                                 << " transB=" << gc.trans_b;
    }
  }
}

TEST(GemmTest, TransposesAlphaBetaAndBroadcastBias) {
  uint32_t seed = 100;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      check_gemm({ta, tb, 1.0f, 1.0f, {5, 3}, true}, seed += 3);
      check_gemm({ta, tb, 0.25f, -2.0f, {3}, true}, seed += 3);
    }
  }
  check_gemm({false, false, 1.5f, 0.5f, {}, true}, seed += 3);     // scalar C
  check_gemm({false, false, 1.0f, 1.0f, {1}, true}, seed += 3);    // one-element C
  check_gemm({false, false, 1.0f, 3.0f, {5, 1}, true}, seed += 3); // column C
  check_gemm({true, false, -1.0f, 1.0f, {1, 3}, true}, seed += 3); // row C
  check_gemm({false, true, 2.0f, 1.0f, {}, false}, seed += 3);     // no C (opset 11+)
}

TEST(GemmTest, BetaZeroIgnoresC) {
  OpCall c{"Gemm", 13};
  c.inputs = {Tensor::from_vector<float>({2}, {1, 1}), Tensor::from_vector<float>({3}, {1, 1}),
              Tensor::from_vector<float>({NAN}, {1, 1})};
  c.attrs.set("beta", 0.0f);
  auto r = run_op(c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].to_vector<float>()[0], 6.0f);
}

TEST(GemmTest, IntegerGemmWrapsWithWholeAlphaAndTruncatesOtherwise) {
  OpCall c{"Gemm", 13};
  c.inputs = {Tensor::from_vector<int32_t>({3, -4}, {1, 2}), Tensor::from_vector<int32_t>({5, 2}, {2, 1}),
              Tensor::from_vector<int32_t>({10}, {1})};
  c.attrs.set("alpha", 2.0f);
  c.attrs.set("beta", -1.0f);
  auto r = run_op(c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].to_vector<int32_t>()[0], 2 * (15 - 8) - 10);
  c.attrs.set("alpha", 0.5f);
  c.attrs.set("beta", 0.25f);  // 0.5·7 + 0.25·10 = 6.0; with C = 11: 6.25 -> 6
  c.inputs[2] = Tensor::from_vector<int32_t>({11}, {1});
  r = run_op(c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].to_vector<int32_t>()[0], 6);
}

TEST(GemmTest, OpsetRulesAndErrors) {
  const Tensor a = Tensor::from_vector(random_floats(6, 1), {2, 3});
  const Tensor b = Tensor::from_vector(random_floats(12, 2), {3, 4});
  auto call = [&](int opset, std::vector<Tensor> ins) {
    OpCall c{"Gemm", opset};
    c.inputs = std::move(ins);
    return c;
  };
  expect_error(call(10, {a, b}), "input C is optional only from opset 11");
  EXPECT_TRUE(run_op(call(11, {a, b})).ok());
  expect_error(call(13, {a, a}), "inner dimensions differ: A [2, 3] has K=3, B [2, 3] has K=2");
  OpCall trans = call(13, {a, a});
  trans.attrs.set("transB", int64_t{1});  // [2,3] x [2,3]^T works
  EXPECT_TRUE(run_op(trans).ok());
  trans.attrs.set("transA", int64_t{2});
  expect_error(trans, "attribute 'transA' must be 0 or 1, got 2");
  expect_error(call(13, {a, b, Tensor::from_vector(random_floats(3, 3), {3})}),
               "C of shape [3] cannot be broadcast to the output shape [2, 4]");
  expect_error(call(13, {Tensor::from_vector(random_floats(3, 1), {3}), b}), "A and B must be 2-D");
  const Tensor i32 = Tensor::from_vector<int32_t>({1}, {1, 1});
  expect_error(call(8, {i32, i32, i32}), "integer inputs (i32) need opset 9");
  // Before opset 7, C broadcasts only with broadcast=1.
  const Tensor c_row = Tensor::from_vector(random_floats(4, 3), {4});
  expect_error(call(6, {a, b, c_row}), "attribute 'broadcast' is 0");
  OpCall legacy = call(6, {a, b, c_row});
  legacy.attrs.set("broadcast", int64_t{1});
  EXPECT_TRUE(run_op(legacy).ok());
}

// The size of a BERT-base FFN MatMul. Run with --gtest_also_run_disabled_tests to time it.
TEST(MatMulTest, DISABLED_TimeBertFfnShape) {
  const int64_t m = 384, k = 768, n = 3072;
  OpCall c = matmul_call(Tensor::from_vector(random_floats(static_cast<size_t>(m * k), 1), {m, k}),
                         Tensor::from_vector(random_floats(static_cast<size_t>(k * n), 2), {k, n}));
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run_op(c);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::printf("MatMul %lldx%lldx%lld f32 reference: %.2f s\n", static_cast<long long>(m),
              static_cast<long long>(k), static_cast<long long>(n), s);
}

}  // namespace
}  // namespace ratel
