// Generator ops: Constant, ConstantOfShape, Range, OneHot, EyeLike, Trilu.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../support/op_harness.h"

namespace ratel {
namespace {

using testing::OpCall;
using testing::run_op;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

Tensor i64(std::vector<int64_t> v) {
  const auto n = static_cast<int64_t>(v.size());
  return Tensor::from_vector<int64_t>(v, {n});
}

Tensor run1(const OpCall& c) {
  auto r = run_op(c);
  EXPECT_TRUE(r.ok()) << c.op_type << ": " << r.status().message();
  return r.ok() ? (*r)[0] : Tensor();
}

std::string error_of(const OpCall& c) {
  auto r = run_op(c);
  EXPECT_FALSE(r.ok()) << "expected an error from " << c.op_type;
  return r.ok() ? std::string() : r.status().message();
}

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

// ---- Constant --------------------------------------------------------------------------------

TEST(ConstantTest, EveryValueAttribute) {
  OpCall tensor{"Constant", 13};
  tensor.attrs.set("value", Tensor::from_vector<int8_t>({-3, 0, 5, 127, -128, 1}, {2, 3}));
  Tensor t = run1(tensor);
  EXPECT_EQ(t.dtype(), DType::kI8);
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.to_vector<int8_t>(), (std::vector<int8_t>{-3, 0, 5, 127, -128, 1}));

  OpCall f{"Constant", 13};
  f.attrs.set("value_float", 2.5f);
  Tensor tf = run1(f);
  EXPECT_EQ(tf.dtype(), DType::kF32);
  EXPECT_EQ(tf.shape(), Shape{});
  EXPECT_EQ(tf.to_vector<float>(), std::vector<float>{2.5f});

  OpCall fs{"Constant", 13};
  fs.attrs.set("value_floats", std::vector<float>{1, -0.5f, 3});
  Tensor tfs = run1(fs);
  EXPECT_EQ(tfs.shape(), Shape{3});
  EXPECT_EQ(tfs.to_vector<float>(), (std::vector<float>{1, -0.5f, 3}));

  OpCall i{"Constant", 13};
  i.attrs.set("value_int", kMin);
  Tensor ti = run1(i);
  EXPECT_EQ(ti.dtype(), DType::kI64);
  EXPECT_EQ(ti.shape(), Shape{});
  EXPECT_EQ(ti.to_vector<int64_t>(), std::vector<int64_t>{kMin});

  OpCall is{"Constant", 13};
  is.attrs.set("value_ints", std::vector<int64_t>{});
  EXPECT_EQ(run1(is).shape(), Shape{0});
}

TEST(ConstantTest, Errors) {
  OpCall none{"Constant", 13};
  EXPECT_CONTAINS(error_of(none), "exactly one value attribute, got 0");
  OpCall two{"Constant", 13};
  two.attrs.set("value_int", int64_t{1});
  two.attrs.set("value_float", 1.0f);
  EXPECT_CONTAINS(error_of(two), "exactly one value attribute, got 2");
  OpCall early{"Constant", 11};
  early.attrs.set("value_ints", std::vector<int64_t>{1});
  EXPECT_CONTAINS(error_of(early), "Constant attribute 'value_ints' requires opset 12");
  for (const char* name : {"value_string", "sparse_value"}) {
    OpCall c{"Constant", 13};
    c.attrs.set(name, std::string("x"));
    const std::string m = error_of(c);
    EXPECT_CONTAINS(m, name);
    EXPECT_CONTAINS(m, "is not supported");
  }
}

// ---- ConstantOfShape -------------------------------------------------------------------------

TEST(ConstantOfShapeTest, DefaultIsFloatZero) {
  OpCall c{"ConstantOfShape", 9};
  c.inputs = {i64({2, 3})};
  c.constant_inputs = {true};
  Tensor t = run1(c);
  EXPECT_EQ(t.dtype(), DType::kF32);
  EXPECT_EQ(t.to_vector<float>(), std::vector<float>(6, 0.0f));
}

TEST(ConstantOfShapeTest, ValueSetsTypeAndFill) {
  OpCall c{"ConstantOfShape", 9};
  c.inputs = {i64({3, 1, 5})};
  c.constant_inputs = {true};
  c.attrs.set("value", Tensor::from_vector<int32_t>({-7}, {1}));
  Tensor t = run1(c);
  EXPECT_EQ(t.dtype(), DType::kI32);
  EXPECT_EQ(t.shape(), (Shape{3, 1, 5}));
  EXPECT_EQ(t.to_vector<int32_t>(), std::vector<int32_t>(15, -7));

  c.attrs.set("value", Tensor::from_vector<Half>({Half{float_to_half(-1.5f)}}, {1}));
  Tensor h = run1(c);
  EXPECT_EQ(h.dtype(), DType::kF16);
  for (Half v : h.to_vector<Half>()) EXPECT_EQ(half_to_float(v.bits), -1.5f);
}

TEST(ConstantOfShapeTest, EmptyShapeIsScalarAndZeroDimIsEmpty) {
  OpCall c{"ConstantOfShape", 9};
  c.inputs = {Tensor::allocate(DType::kI64, {0}).value()};
  c.constant_inputs = {true};
  c.attrs.set("value", Tensor::from_vector<bool>({true}, {1}));
  Tensor scalar = run1(c);
  EXPECT_EQ(scalar.shape(), Shape{});
  EXPECT_EQ(scalar.to_vector<bool>(), std::vector<bool>{true});
  c.inputs = {i64({4, 0})};
  EXPECT_EQ(run1(c).shape(), (Shape{4, 0}));
}

TEST(ConstantOfShapeTest, Errors) {
  OpCall c{"ConstantOfShape", 9};
  c.inputs = {i64({2, -1})};
  c.constant_inputs = {true};
  EXPECT_CONTAINS(error_of(c), "shape [2, -1] has a negative dimension");
  c.inputs = {i64({2})};
  c.attrs.set("value", Tensor::from_vector<float>({1, 2}, {2}));
  EXPECT_CONTAINS(error_of(c), "must hold one element");
  c.attrs = {};
  c.constant_inputs = {false};
  EXPECT_CONTAINS(error_of(c), "must be known at compile time");
  OpCall early{"ConstantOfShape", 8};
  early.inputs = {i64({2})};
  early.constant_inputs = {true};
  EXPECT_CONTAINS(error_of(early), "ConstantOfShape requires opset 9");
}

// ---- Range -----------------------------------------------------------------------------------

template <typename T>
Tensor range(T start, T limit, T delta) {
  OpCall c{"Range", 11};
  c.inputs = {Tensor::scalar<T>(start), Tensor::scalar<T>(limit), Tensor::scalar<T>(delta)};
  c.constant_inputs = {true, true, true};
  return run1(c);
}

TEST(RangeTest, IntegerCountsRoundUp) {
  EXPECT_EQ(range<int32_t>(10, 4, -3).to_vector<int32_t>(), (std::vector<int32_t>{10, 7}));
  EXPECT_EQ(range<int32_t>(10, 3, -3).to_vector<int32_t>(), (std::vector<int32_t>{10, 7, 4}));
  EXPECT_EQ(range<int64_t>(-2, 5, 7).to_vector<int64_t>(), (std::vector<int64_t>{-2}));
  EXPECT_EQ(range<int16_t>(3, 3, 1).shape(), Shape{0});
  EXPECT_EQ(range<int64_t>(0, 5, -1).shape(), Shape{0}) << "wrong direction is empty, not negative";
}

TEST(RangeTest, Int64ExtremesAreExact) {
  // (INT64_MAX - INT64_MIN) / INT64_MAX = (2^64 - 1) / (2^63 - 1), just over 2: 3 elements.
  EXPECT_EQ(range<int64_t>(kMin, kMax, kMax).to_vector<int64_t>(),
            (std::vector<int64_t>{kMin, -1, kMax - 1}));
  EXPECT_EQ(range<int64_t>(kMax, kMin, kMin).to_vector<int64_t>(), (std::vector<int64_t>{kMax, -1}));
}

TEST(RangeTest, FloatCountUsesTheInputType) {
  Tensor f = range<float>(1, 5, 2);
  EXPECT_EQ(f.dtype(), DType::kF32);
  EXPECT_EQ(f.to_vector<float>(), (std::vector<float>{1, 3}));
  // (0.3f - 0) / 0.1f is 3.0000000745 in double but rounds to exactly 3 in float: ONNX Runtime
  // (difference in float, division in double) and ONNX's reference evaluator give 4 elements.
  ASSERT_EQ(static_cast<float>(0.3f / 0.1f), 3.0f);
  EXPECT_EQ(range<float>(0.0f, 0.3f, 0.1f).numel(), 4);
  Tensor d = range<double>(1.0, -0.5, -0.5);
  EXPECT_EQ(d.to_vector<double>(), (std::vector<double>{1.0, 0.5, 0.0}));
  // Values are start + i*delta rounded once, not an accumulated float sum (which would be off
  // by many ulps after 1000 steps).
  Tensor many = range<float>(-3.0f, 97.0f, 0.1f);
  const auto v = many.to_vector<float>();
  ASSERT_EQ(v.size(), 1000u);
  for (size_t i = 0; i < v.size(); ++i) {
    ASSERT_EQ(v[i], static_cast<float>(-3.0 + static_cast<double>(i) * static_cast<double>(0.1f))) << i;
  }
}

TEST(RangeTest, Errors) {
  OpCall c{"Range", 11};
  c.inputs = {Tensor::scalar<int32_t>(0), Tensor::scalar<int32_t>(5), Tensor::scalar<int32_t>(0)};
  c.constant_inputs = {true, true, true};
  EXPECT_CONTAINS(error_of(c), "Range delta is 0");
  c.inputs[2] = Tensor::scalar<float>(1);
  EXPECT_CONTAINS(error_of(c), "must have one type, got i32, i32, f32");
  c.inputs = {Tensor::scalar<float>(0), Tensor::scalar<float>(INFINITY), Tensor::scalar<float>(1)};
  EXPECT_CONTAINS(error_of(c), "too many elements");
  c.inputs = {Tensor::scalar<float>(0), Tensor::scalar<float>(NAN), Tensor::scalar<float>(1)};
  EXPECT_CONTAINS(error_of(c), "too many elements");
  c.inputs = {Tensor::scalar<int64_t>(kMin), Tensor::scalar<int64_t>(kMax), Tensor::scalar<int64_t>(1)};
  EXPECT_CONTAINS(error_of(c), "too many elements");
  c.inputs = {Tensor::scalar<uint8_t>(0), Tensor::scalar<uint8_t>(5), Tensor::scalar<uint8_t>(1)};
  EXPECT_CONTAINS(error_of(c), "Range takes float, double, int16, int32 or int64, got u8");
  c.inputs = {i64({0, 1}), Tensor::scalar<int64_t>(5), Tensor::scalar<int64_t>(1)};
  EXPECT_CONTAINS(error_of(c), "start must be a scalar");
  c.inputs = {Tensor::scalar<int64_t>(0), Tensor::scalar<int64_t>(5), Tensor::scalar<int64_t>(1)};
  c.constant_inputs = {true, false, true};
  EXPECT_CONTAINS(error_of(c), "limit must be known at compile time");
  c.opset = 10;
  c.constant_inputs = {true, true, true};
  EXPECT_CONTAINS(error_of(c), "Range requires opset 11");
}

// ---- OneHot ----------------------------------------------------------------------------------

// Expected one-hot tensor for indices of shape [n] (already resolved to a class or -1 for
// "no class"), classes on `axis` 0 or 1 of the [n, depth] / [depth, n] output.
std::vector<float> one_hot(const std::vector<int64_t>& classes, int64_t depth, bool classes_first,
                           float off, float on) {
  const auto n = static_cast<int64_t>(classes.size());
  std::vector<float> out(static_cast<size_t>(n * depth), off);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = classes[static_cast<size_t>(i)];
    if (c < 0) continue;
    out[static_cast<size_t>(classes_first ? c * n + i : i * depth + c)] = on;
  }
  return out;
}

TEST(OneHotTest, LastAndFirstAxisWithNegativeIndices) {
  OpCall c{"OneHot", 11};
  c.inputs = {i64({0, 4, -1, -5, 5, -6}), Tensor::scalar<float>(5.0f), Tensor::from_vector<float>({-1, 2}, {2})};
  c.constant_inputs = {false, true, false};
  // -1 and -5 wrap to 4 and 0; 5 and -6 are outside [-5, 4]: all off.
  const std::vector<int64_t> classes = {0, 4, 4, 0, -1, -1};
  Tensor last = run1(c);
  EXPECT_EQ(last.shape(), (Shape{6, 5}));
  EXPECT_EQ(last.to_vector<float>(), one_hot(classes, 5, false, -1, 2));
  c.attrs.set("axis", int64_t{-2});
  Tensor first = run1(c);
  EXPECT_EQ(first.shape(), (Shape{5, 6}));
  EXPECT_EQ(first.to_vector<float>(), one_hot(classes, 5, true, -1, 2));
}

TEST(OneHotTest, Opset9DoesNotWrapNegativeIndices) {
  OpCall c{"OneHot", 9};
  c.inputs = {i64({-1, 2}), Tensor::scalar<int64_t>(3), Tensor::from_vector<float>({0, 1}, {2})};
  c.constant_inputs = {false, true, false};
  EXPECT_EQ(run1(c).to_vector<float>(), one_hot({-1, 2}, 3, false, 0, 1));
}

TEST(OneHotTest, FloatIndicesAndDepthTruncate) {
  OpCall c{"OneHot", 11};
  c.inputs = {Tensor::from_vector<float>({1.9f, -0.5f, NAN, 2.0f}, {4}), Tensor::scalar<double>(3.7),
              Tensor::from_vector<int32_t>({5, 9}, {2})};
  c.constant_inputs = {false, true, false};
  Tensor t = run1(c);
  EXPECT_EQ(t.dtype(), DType::kI32);
  EXPECT_EQ(t.shape(), (Shape{4, 3}));
  // 1.9 -> 1, -0.5 -> 0 (truncation toward zero), NaN -> no class, 2 -> 2.
  EXPECT_EQ(t.to_vector<int32_t>(), (std::vector<int32_t>{5, 9, 5, 9, 5, 5, 5, 5, 5, 5, 5, 9}));
}

TEST(OneHotTest, MiddleAxisOfMatrixIndices) {
  OpCall c{"OneHot", 11};
  // indices [2, 3], depth 4, axis 1 -> output [2, 4, 3]: out[i][c][j] = on iff idx[i][j] == c
  const std::vector<int64_t> idx = {3, 0, 1, 2, 2, -4};
  c.inputs = {Tensor::from_vector<int64_t>(idx, {2, 3}), Tensor::scalar<int64_t>(4),
              Tensor::from_vector<uint8_t>({0, 1}, {2})};
  c.constant_inputs = {false, true, false};
  c.attrs.set("axis", int64_t{1});
  Tensor t = run1(c);
  ASSERT_EQ(t.shape(), (Shape{2, 4, 3}));
  const auto v = t.to_vector<uint8_t>();
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t k = 0; k < 4; ++k) {
      for (int64_t j = 0; j < 3; ++j) {
        const int64_t cls = (idx[static_cast<size_t>(i * 3 + j)] + 4) % 4;
        EXPECT_EQ(v[static_cast<size_t>((i * 4 + k) * 3 + j)], cls == k ? 1 : 0) << i << k << j;
      }
    }
  }
}

TEST(OneHotTest, Errors) {
  OpCall c{"OneHot", 11};
  c.inputs = {i64({0}), Tensor::scalar<int64_t>(0), Tensor::from_vector<float>({0, 1}, {2})};
  c.constant_inputs = {false, true, false};
  EXPECT_CONTAINS(error_of(c), "depth 0 is not a positive number of classes");
  c.inputs[1] = Tensor::scalar<float>(NAN);
  EXPECT_CONTAINS(error_of(c), "is not a positive number of classes");
  c.inputs[1] = Tensor::scalar<int64_t>(3);
  c.inputs[2] = Tensor::from_vector<float>({0, 1, 2}, {3});
  EXPECT_CONTAINS(error_of(c), "values must be [off_value, on_value] of shape [2]");
  c.inputs[2] = Tensor::from_vector<float>({0, 1}, {2});
  c.attrs.set("axis", int64_t{2});
  EXPECT_CONTAINS(error_of(c), "axis 2 is out of range for rank 2");
  c.attrs = {};
  c.constant_inputs = {false, false, false};
  EXPECT_CONTAINS(error_of(c), "depth must be known at compile time");
  c.inputs[0] = Tensor::from_vector<bool>({true}, {1});
  c.constant_inputs = {false, true, false};
  EXPECT_CONTAINS(error_of(c), "indices must be numeric, got bool");
}

// ---- EyeLike ---------------------------------------------------------------------------------

TEST(EyeLikeTest, DiagonalsOfRectangularMatrices) {
  for (int64_t k : std::vector<int64_t>{-4, -3, -1, 0, 1, 4, 5, kMax, kMin}) {
    OpCall c{"EyeLike", 9};
    c.inputs = {Tensor::allocate(DType::kI32, {3, 5}).value()};
    c.attrs.set("k", k);
    Tensor t = run1(c);
    EXPECT_EQ(t.dtype(), DType::kI32);
    const auto v = t.to_vector<int32_t>();
    for (int64_t i = 0; i < 3; ++i) {
      for (int64_t j = 0; j < 5; ++j) {
        // j - i == k, written so that extreme k cannot overflow
        const bool on_diagonal = k > -3 && k < 5 && j - i == k;
        EXPECT_EQ(v[static_cast<size_t>(i * 5 + j)], on_diagonal ? 1 : 0) << "k " << k;
      }
    }
  }
}

TEST(EyeLikeTest, DtypeAttributeAndBool) {
  OpCall c{"EyeLike", 9};
  c.inputs = {Tensor::allocate(DType::kI32, {2, 2}).value()};
  c.attrs.set("dtype", int64_t{11});  // DOUBLE
  Tensor d = run1(c);
  EXPECT_EQ(d.dtype(), DType::kF64);
  EXPECT_EQ(d.to_vector<double>(), (std::vector<double>{1, 0, 0, 1}));
  c.attrs.set("dtype", int64_t{9});  // BOOL
  EXPECT_EQ(run1(c).to_vector<bool>(), (std::vector<bool>{true, false, false, true}));
  c.attrs.set("dtype", int64_t{10});  // FLOAT16
  Tensor h = run1(c);
  EXPECT_EQ(half_to_float(h.to_vector<Half>()[3].bits), 1.0f);
}

TEST(EyeLikeTest, Errors) {
  OpCall c{"EyeLike", 9};
  c.inputs = {Tensor::allocate(DType::kF32, {2, 2, 2}).value()};
  EXPECT_CONTAINS(error_of(c), "the input must be 2-D, got shape [2, 2, 2]");
  c.inputs = {Tensor::allocate(DType::kF32, {2, 2}).value()};
  c.attrs.set("dtype", int64_t{8});  // STRING
  EXPECT_CONTAINS(error_of(c), "dtype STRING is not supported");
  c.attrs.set("dtype", int64_t{99});
  EXPECT_CONTAINS(error_of(c), "dtype 99 (not an ONNX type) is not supported");
}

// ---- Trilu -----------------------------------------------------------------------------------

TEST(TriluTest, BatchedOddShapesBothTrianglesEveryK) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(-1, 1);
  const Shape shape{2, 3, 4, 7};
  std::vector<float> x(static_cast<size_t>(numel(shape)));
  for (float& v : x) v = dist(rng);
  for (int64_t upper : {0, 1}) {
    for (int64_t k : std::vector<int64_t>{kMin, -4, -2, 0, 1, 3, 7, kMax}) {
      OpCall c{"Trilu", 14};
      c.inputs = {Tensor::from_vector<float>(x, shape), Tensor::scalar<int64_t>(k)};
      c.attrs.set("upper", upper);
      const auto got = run1(c).to_vector<float>();
      ASSERT_EQ(got.size(), x.size());
      for (size_t e = 0; e < x.size(); ++e) {
        const int64_t i = static_cast<int64_t>(e / 7) % 4, j = static_cast<int64_t>(e % 7);
        // Written as a comparison of j - i (small) with k (any int64).
        const bool keep = upper ? j - i >= k : j - i <= k;
        EXPECT_EQ(got[e], keep ? x[e] : 0.0f) << "upper " << upper << " k " << k << " element " << e;
      }
    }
  }
}

TEST(TriluTest, DefaultsAreUpperWithKZero) {
  OpCall c{"Trilu", 14};
  c.inputs = {Tensor::from_vector<int64_t>({1, 2, 3, 4, 5, 6}, {3, 2})};
  EXPECT_EQ(run1(c).to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 0, 4, 0, 0}));
  c.inputs = {Tensor::from_vector<bool>({true, true, true, true}, {2, 2})};
  c.attrs.set("upper", int64_t{0});
  EXPECT_EQ(run1(c).to_vector<bool>(), (std::vector<bool>{true, false, true, true}));
}

TEST(TriluTest, Errors) {
  OpCall c{"Trilu", 14};
  c.inputs = {Tensor::from_vector<float>({1, 2}, {2})};
  EXPECT_CONTAINS(error_of(c), "rank 2 or more");
  c.inputs = {Tensor::allocate(DType::kF32, {2, 2}).value(), Tensor::scalar<int32_t>(1)};
  EXPECT_CONTAINS(error_of(c), "k must be an int64 scalar, got i32");
  c.opset = 13;
  c.inputs = {Tensor::allocate(DType::kF32, {2, 2}).value()};
  EXPECT_CONTAINS(error_of(c), "Trilu requires opset 14");
}

}  // namespace
}  // namespace ratel
