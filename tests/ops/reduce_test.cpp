// Reductions and ArgMax/ArgMin: axes as attribute or input by opset, keepdims,
// noop_with_empty_axes, accuracy, integer semantics, NaN, empty groups and every error.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
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

// A reduction call with axes passed the way `opset` wants them: input 1 (a constant) from the
// op's switch-over opset, the `axes` attribute before.
OpCall reduce_call(const std::string& op, int opset, Tensor x, const std::vector<int64_t>* axes,
                   int keepdims = 1) {
  OpCall c{op, opset};
  c.inputs = {std::move(x)};
  const int since = op == "ReduceSum" ? 13 : 18;
  if (axes) {
    if (opset >= since) {
      c.inputs.push_back(Tensor::from_vector(*axes, {static_cast<int64_t>(axes->size())}));
      c.constant_inputs = {false, true};
    } else {
      c.attrs.set("axes", *axes);
    }
  }
  c.attrs.set("keepdims", int64_t{keepdims});
  return c;
}

// Naive reduction over `reduced` dims of a [3, 5, 7] tensor: gathers each group's values.
std::vector<std::vector<double>> groups_of(const std::vector<float>& x, const Shape& shape,
                                           const std::vector<bool>& reduced) {
  Shape kept = shape;
  for (size_t d = 0; d < shape.size(); ++d) if (reduced[d]) kept[d] = 1;
  std::vector<std::vector<double>> groups(static_cast<size_t>(numel(kept)));
  std::vector<int64_t> idx(shape.size(), 0);
  for (size_t i = 0; i < x.size(); ++i) {
    int64_t o = 0;
    for (size_t d = 0; d < shape.size(); ++d) o = o * kept[d] + (reduced[d] ? 0 : idx[d]);
    groups[static_cast<size_t>(o)].push_back(x[i]);
    for (size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return groups;
}

struct ReduceSpec {
  std::string op;
  std::function<double(const std::vector<double>&)> exact;
};

double sum_of(const std::vector<double>& g, double (*f)(double)) {
  long double s = 0;
  for (double v : g) s += f(v);
  return static_cast<double>(s);
}

const std::vector<ReduceSpec>& all_reductions() {
  static const std::vector<ReduceSpec> specs = {
      {"ReduceSum", [](const auto& g) { return sum_of(g, [](double v) { return v; }); }},
      {"ReduceMean", [](const auto& g) { return sum_of(g, [](double v) { return v; }) / static_cast<double>(g.size()); }},
      {"ReduceMax", [](const auto& g) { double m = -INFINITY; for (double v : g) m = std::max(m, v); return m; }},
      {"ReduceMin", [](const auto& g) { double m = INFINITY; for (double v : g) m = std::min(m, v); return m; }},
      {"ReduceProd", [](const auto& g) { long double p = 1; for (double v : g) p *= v; return static_cast<double>(p); }},
      {"ReduceSumSquare", [](const auto& g) { return sum_of(g, [](double v) { return v * v; }); }},
      {"ReduceL1", [](const auto& g) { return sum_of(g, [](double v) { return std::fabs(v); }); }},
      {"ReduceL2", [](const auto& g) { return std::sqrt(sum_of(g, [](double v) { return v * v; })); }},
      {"ReduceLogSum", [](const auto& g) { return std::log(sum_of(g, [](double v) { return v; })); }},
      {"ReduceLogSumExp", [](const auto& g) { return std::log(sum_of(g, [](double v) { return std::exp(v); })); }},
  };
  return specs;
}

// Every reduction, at the last opset with attribute axes and the first with input axes, over
// axes {0, 2} of an odd [3, 5, 7] tensor, keepdims on and off, against a long double oracle.
// The reference computes in double and rounds once to float: within one float ulp (2^-23
// relative) of the exact value for these well-conditioned inputs (positive data for LogSum).
TEST(ReduceTest, EveryReductionMatchesTheExactValueOnOddShapes) {
  const Shape shape{3, 5, 7};
  const auto x = random_floats(105, 42, 0.5f, 2.0f);
  const std::vector<int64_t> axes{0, -1};
  const auto groups = groups_of(x, shape, {true, false, true});
  for (const ReduceSpec& spec : all_reductions()) {
    const int since = spec.op == "ReduceSum" ? 13 : 18;
    for (int opset : {since - 1, since}) {
      for (int keepdims : {0, 1}) {
        auto r = run_op(reduce_call(spec.op, opset, Tensor::from_vector(x, shape), &axes, keepdims));
        ASSERT_TRUE(r.ok()) << spec.op << " opset " << opset << ": " << r.status().message();
        EXPECT_EQ((*r)[0].shape(), keepdims ? (Shape{1, 5, 1}) : (Shape{5})) << spec.op;
        const auto got = (*r)[0].to_vector<float>();
        for (size_t o = 0; o < groups.size(); ++o) {
          const double want = spec.exact(groups[o]);
          EXPECT_LE(std::fabs(got[o] - want), 0x1p-23 * std::fabs(want))
              << spec.op << " opset " << opset << " group " << o;
        }
      }
    }
  }
}

TEST(ReduceTest, NoAxesReducesEverythingUnlessNoop) {
  const auto x = random_floats(12, 3);
  auto all = run_op(reduce_call("ReduceSum", 13, Tensor::from_vector(x, {3, 4}), nullptr, 0));
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ((*all)[0].shape(), Shape{});
  double s = 0;
  for (float v : x) s += v;
  EXPECT_NEAR((*all)[0].to_vector<float>()[0], s, 0x1p-23 * 12);

  // noop_with_empty_axes with an empty axes input: ReduceSum returns its input, ReduceSumSquare
  // squares each element (reduction over no axes), as ONNX's reference implementation does.
  const std::vector<int64_t> none;
  OpCall noop = reduce_call("ReduceSum", 13, Tensor::from_vector(x, {3, 4}), &none);
  noop.attrs.set("noop_with_empty_axes", int64_t{1});
  auto same = run_op(noop);
  ASSERT_TRUE(same.ok()) << same.status().message();
  EXPECT_EQ((*same)[0].shape(), (Shape{3, 4}));
  EXPECT_EQ((*same)[0].to_vector<float>(), x);
  OpCall squares = reduce_call("ReduceSumSquare", 18, Tensor::from_vector(x, {3, 4}), nullptr);
  squares.attrs.set("noop_with_empty_axes", int64_t{1});
  auto sq = run_op(squares);
  ASSERT_TRUE(sq.ok()) << sq.status().message();
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ((*sq)[0].to_vector<float>()[i], x[i] * x[i]);
}

TEST(ReduceTest, MeanAccumulatesInDouble) {
  // In float, 1e8 + 1 + 1 + 1 - 1e8 loses the ones; the exact mean is 3/5.
  auto r = run_op(reduce_call("ReduceMean", 13, Tensor::from_vector<float>({1e8f, 1, 1, 1, -1e8f}, {5}),
                              nullptr, 0));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].to_vector<float>()[0], 0.6f);
}

TEST(ReduceTest, MaxAndMinPropagateNaN) {
  for (const char* op : {"ReduceMax", "ReduceMin"}) {
    const std::vector<int64_t> axes{1};
    auto r = run_op(reduce_call(op, 13, Tensor::from_vector<float>({1, NAN, 2, 3, 4, 5}, {2, 3}), &axes, 0));
    ASSERT_TRUE(r.ok()) << r.status().message();
    const auto v = (*r)[0].to_vector<float>();
    EXPECT_TRUE(std::isnan(v[0])) << op;
    EXPECT_EQ(v[1], std::string(op) == "ReduceMax" ? 5.0f : 3.0f) << op;
  }
}

TEST(ReduceTest, LogSumExpDoesNotOverflowAndHandlesInfinities) {
  const std::vector<int64_t> axes{1};
  auto r = run_op(reduce_call("ReduceLogSumExp", 13,
                              Tensor::from_vector<float>({1000, 1000, -INFINITY, -INFINITY, 5, INFINITY}, {3, 2}),
                              &axes, 0));
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto v = (*r)[0].to_vector<float>();
  EXPECT_FLOAT_EQ(v[0], 1000 + std::log(2.0f));
  EXPECT_EQ(v[1], -INFINITY);
  EXPECT_EQ(v[2], INFINITY);
}

TEST(ReduceTest, EmptyGroupsGiveTheIdentity) {
  const Tensor empty = Tensor::from_vector<float>({}, {2, 0});
  const std::vector<int64_t> axes{1};
  auto value = [&](const std::string& op) {
    auto r = run_op(reduce_call(op, 13, empty, &axes, 0));
    EXPECT_TRUE(r.ok()) << op << ": " << r.status().message();
    EXPECT_EQ((*r)[0].shape(), (Shape{2}));
    return (*r)[0].to_vector<float>()[1];
  };
  EXPECT_EQ(value("ReduceSum"), 0.0f);
  EXPECT_EQ(value("ReduceProd"), 1.0f);
  EXPECT_EQ(value("ReduceMax"), -INFINITY);
  EXPECT_EQ(value("ReduceMin"), INFINITY);
  EXPECT_EQ(value("ReduceLogSumExp"), -INFINITY);
  EXPECT_EQ(value("ReduceLogSum"), -INFINITY);
  EXPECT_TRUE(std::isnan(value("ReduceMean")));
}

TEST(ReduceTest, IntegerSemantics) {
  const std::vector<int64_t> axes{1};
  const Tensor x = Tensor::from_vector<int32_t>({2147483647, 1, -7, 0, 3, -2}, {3, 2});
  auto sum = run_op(reduce_call("ReduceSum", 13, x, &axes, 0));
  ASSERT_TRUE(sum.ok()) << sum.status().message();
  EXPECT_EQ((*sum)[0].to_vector<int32_t>(), (std::vector<int32_t>{-2147483647 - 1, -7, 1}));  // wraps
  auto mean = run_op(reduce_call("ReduceMean", 13, x, &axes, 0));
  ASSERT_TRUE(mean.ok());
  // The true mean of the first pair is exact (1073741824); -7/2 truncates toward zero.
  EXPECT_EQ((*mean)[0].to_vector<int32_t>(), (std::vector<int32_t>{1073741824, -3, 0}));
  auto max = run_op(reduce_call("ReduceMax", 13, x, &axes, 0));
  ASSERT_TRUE(max.ok());
  EXPECT_EQ((*max)[0].to_vector<int32_t>(), (std::vector<int32_t>{2147483647, 0, 3}));
  auto l1 = run_op(reduce_call("ReduceL1", 13, x, &axes, 0));
  ASSERT_TRUE(l1.ok());
  EXPECT_EQ((*l1)[0].to_vector<int32_t>(), (std::vector<int32_t>{-2147483647 - 1, 7, 5}));
  auto l2 = run_op(reduce_call("ReduceL2", 13, Tensor::from_vector<int64_t>({3, 4, 1, 1}, {2, 2}), &axes, 0));
  ASSERT_TRUE(l2.ok());
  EXPECT_EQ((*l2)[0].to_vector<int64_t>(), (std::vector<int64_t>{5, 1}));  // sqrt(2) truncates
  auto prod = run_op(reduce_call("ReduceProd", 13, Tensor::from_vector<uint8_t>({16, 17, 3, 5}, {2, 2}), &axes, 0));
  ASSERT_TRUE(prod.ok());
  EXPECT_EQ((*prod)[0].to_vector<uint8_t>(), (std::vector<uint8_t>{16, 15}));  // 272 mod 256
}

TEST(ReduceTest, HalfInputsRoundOnce) {
  // 2048 + 1 is not a half (spacing 2 there); the sum of [2048, 1, 1] is 2050, exactly
  // representable, which sequential half accumulation would miss (2048 + 1 -> 2048).
  std::vector<Half> v;
  for (float f : {2048.0f, 1.0f, 1.0f}) v.push_back(Half{float_to_half(f)});
  auto r = run_op(reduce_call("ReduceSum", 13, Tensor::from_vector(v, {3}), nullptr, 0));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(half_to_float((*r)[0].to_vector<Half>()[0].bits), 2050.0f);
}

TEST(ReduceTest, AxesAndAttributeErrors) {
  const Tensor x = Tensor::from_vector(random_floats(6, 1), {2, 3});
  const std::vector<int64_t> bad{2};
  expect_error(reduce_call("ReduceMean", 13, x, &bad), "axis 2 is out of range for rank 2");
  const std::vector<int64_t> dup{1, -1};
  expect_error(reduce_call("ReduceMean", 18, x, &dup), "appears more than once");
  OpCall keep = reduce_call("ReduceMax", 13, x, nullptr, 2);
  expect_error(keep, "attribute 'keepdims' must be 0 or 1, got 2");

  // Axes moved from attribute to input: the wrong form is an error either way.
  OpCall attr_too_new = reduce_call("ReduceSum", 13, x, nullptr);
  attr_too_new.attrs.set("axes", std::vector<int64_t>{0});
  expect_error(attr_too_new, "'axes' is input 1 from opset 13, not an attribute");
  OpCall input_too_old = reduce_call("ReduceMean", 17, x, nullptr);
  input_too_old.inputs.push_back(Tensor::from_vector<int64_t>({0}, {1}));
  input_too_old.constant_inputs = {false, true};
  expect_error(input_too_old, "'axes' is an attribute before opset 18, not an input");
  OpCall noop_too_old = reduce_call("ReduceMean", 17, x, nullptr);
  noop_too_old.attrs.set("noop_with_empty_axes", int64_t{1});
  expect_error(noop_too_old, "attribute 'noop_with_empty_axes' requires opset 18");

  // Axes computed at run time would make the output shape unknown.
  OpCall dynamic = reduce_call("ReduceSum", 13, x, nullptr);
  dynamic.inputs.push_back(Tensor::from_vector<int64_t>({0}, {1}));
  expect_error(dynamic, "must be known at compile time");

  OpCall wrong_type{"ReduceSum", 13};
  wrong_type.inputs = {Tensor::from_vector<bool>({true}, {1})};
  expect_error(wrong_type, "input type bool is not accepted");
}

// ---- ArgMax / ArgMin ------------------------------------------------------------------------

OpCall arg_call(const std::string& op, Tensor x, int64_t axis, int64_t keepdims, int64_t last,
                int opset = 13) {
  OpCall c{op, opset};
  c.inputs = {std::move(x)};
  c.attrs.set("axis", axis);
  c.attrs.set("keepdims", keepdims);
  c.attrs.set("select_last_index", last);
  return c;
}

TEST(ArgTest, IndexOfExtremumAlongAnyAxis) {
  // [2, 3, 2]: check against a brute-force scan for every axis, both ops, keepdims on and off.
  const Shape shape{2, 3, 2};
  const auto x = random_floats(12, 9);
  for (const char* op : {"ArgMax", "ArgMin"}) {
    const bool is_max = std::string(op) == "ArgMax";
    for (int64_t axis = -3; axis < 3; ++axis) {
      const int64_t a = axis < 0 ? axis + 3 : axis;
      for (int64_t keep : {0, 1}) {
        auto r = run_op(arg_call(op, Tensor::from_vector(x, shape), axis, keep, 0));
        ASSERT_TRUE(r.ok()) << r.status().message();
        Shape want_shape = shape;
        if (keep) want_shape[static_cast<size_t>(a)] = 1; else want_shape.erase(want_shape.begin() + a);
        EXPECT_EQ((*r)[0].shape(), want_shape);
        EXPECT_EQ((*r)[0].dtype(), DType::kI64);
        const auto got = (*r)[0].to_vector<int64_t>();
        const int64_t inner = a == 2 ? 1 : (a == 1 ? 2 : 6);
        const int64_t n = shape[static_cast<size_t>(a)];
        for (int64_t o = 0; o < 12 / n; ++o) {
          const int64_t base = (o / inner) * n * inner + o % inner;
          int64_t best = 0;
          for (int64_t j = 1; j < n; ++j) {
            const float v = x[static_cast<size_t>(base + j * inner)];
            const float b = x[static_cast<size_t>(base + best * inner)];
            if (is_max ? v > b : v < b) best = j;
          }
          EXPECT_EQ(got[static_cast<size_t>(o)], best) << op << " axis " << axis;
        }
      }
    }
  }
}

TEST(ArgTest, TiesAndNaN) {
  const Tensor ties = Tensor::from_vector<int32_t>({5, 1, 5, 1}, {4});
  auto first = run_op(arg_call("ArgMax", ties, 0, 0, 0));
  auto last = run_op(arg_call("ArgMax", ties, 0, 0, 1));
  auto last_min = run_op(arg_call("ArgMin", ties, 0, 0, 1));
  ASSERT_TRUE(first.ok() && last.ok() && last_min.ok());
  EXPECT_EQ((*first)[0].to_vector<int64_t>()[0], 0);
  EXPECT_EQ((*last)[0].to_vector<int64_t>()[0], 2);
  EXPECT_EQ((*last_min)[0].to_vector<int64_t>()[0], 3);
  // NaN is the extremum for both ops (numpy's rule): the first NaN, or the last one.
  const Tensor nans = Tensor::from_vector<float>({1, NAN, 7, NAN, -3}, {5});
  for (const char* op : {"ArgMax", "ArgMin"}) {
    auto f = run_op(arg_call(op, nans, 0, 0, 0));
    auto l = run_op(arg_call(op, nans, 0, 0, 1));
    ASSERT_TRUE(f.ok() && l.ok());
    EXPECT_EQ((*f)[0].to_vector<int64_t>()[0], 1) << op;
    EXPECT_EQ((*l)[0].to_vector<int64_t>()[0], 3) << op;
  }
}

TEST(ArgTest, Errors) {
  const Tensor x = Tensor::from_vector(random_floats(6, 1), {2, 3});
  expect_error(arg_call("ArgMax", x, 2, 1, 0), "axis 2 is out of range for rank 2");
  expect_error(arg_call("ArgMin", x, 0, 1, 1, 11), "attribute 'select_last_index' requires opset 12");
  expect_error(arg_call("ArgMax", Tensor::from_vector<float>({}, {2, 0}), 1, 1, 0),
               "axis 1 of shape [2, 0] is empty");
  expect_error(arg_call("ArgMax", x, 0, 3, 0), "attribute 'keepdims' must be 0 or 1");
}

}  // namespace
}  // namespace ratel
