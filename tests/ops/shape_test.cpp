// Shape-only ops: Shape, Size, Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout, and the
// folding of PyTorch-style shape subgraphs into static shapes.
#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "../support/op_harness.h"

namespace ratel {
namespace {

using testing::OpCall;
using testing::run_op;

Tensor i64(std::vector<int64_t> v) {
  const auto n = static_cast<int64_t>(v.size());
  return Tensor::from_vector<int64_t>(v, {n});
}

// Floats 0, 1, 2, ...: after a shape-only op the values must come out in the same order.
Tensor iota_f32(Shape shape) {
  std::vector<float> v(static_cast<size_t>(numel(shape)));
  std::iota(v.begin(), v.end(), 0.0f);
  return Tensor::from_vector<float>(v, std::move(shape));
}

std::vector<float> iota_values(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0.0f);
  return v;
}

// Runs the call, expects failure, returns the message.
std::string error_of(const OpCall& c) {
  auto r = run_op(c);
  EXPECT_FALSE(r.ok()) << "expected an error from " << c.op_type;
  return r.ok() ? std::string() : r.status().message();
}

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

// Runs a call that must succeed and returns its only output.
Tensor run1(const OpCall& c) {
  auto r = run_op(c);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? (*r)[0] : Tensor();
}

// ---- Shape, Size -----------------------------------------------------------------------------

TEST(ShapeOpTest, ReportsEveryDimension) {
  OpCall c{"Shape", 13};
  c.inputs = {iota_f32({3, 1, 5})};
  Tensor out = run1(c);
  EXPECT_EQ(out.dtype(), DType::kI64);
  EXPECT_EQ(out.to_vector<int64_t>(), (std::vector<int64_t>{3, 1, 5}));
}

TEST(ShapeOpTest, StartAndEndFromOpset15) {
  struct Case {
    int64_t start, end;
    std::vector<int64_t> want;
  };
  // input [2, 3, 5, 7]
  const Case cases[] = {{1, 3, {3, 5}},      {-1, 4, {7}},        {-10, 2, {2, 3}},
                        {0, 10, {2, 3, 5, 7}}, {3, 1, {}},        {-3, -1, {3, 5}}};
  for (const Case& k : cases) {
    OpCall c{"Shape", 15};
    c.inputs = {Tensor::allocate(DType::kU8, {2, 3, 5, 7}).value()};
    c.attrs.set("start", k.start);
    c.attrs.set("end", k.end);
    Tensor out = run1(c);
    EXPECT_EQ(out.shape(), (Shape{static_cast<int64_t>(k.want.size())}));
    EXPECT_EQ(out.to_vector<int64_t>(), k.want) << "start " << k.start << " end " << k.end;
  }
}

TEST(ShapeOpTest, StartBeforeOpset15IsAnError) {
  OpCall c{"Shape", 14};
  c.inputs = {iota_f32({2})};
  c.attrs.set("start", int64_t{1});
  EXPECT_CONTAINS(error_of(c), "requires opset 15");
}

TEST(ShapeOpTest, ShapeOfScalarIsEmpty) {
  OpCall c{"Shape", 13};
  c.inputs = {Tensor::scalar<int32_t>(4)};
  Tensor out = run1(c);
  EXPECT_EQ(out.shape(), (Shape{0}));
}

TEST(ShapeOpTest, SizeCountsElements) {
  OpCall c{"Size", 13};
  c.inputs = {Tensor::allocate(DType::kBool, {3, 7, 1}).value()};
  Tensor out = run1(c);
  EXPECT_EQ(out.dtype(), DType::kI64);
  EXPECT_EQ(out.shape(), Shape{});
  EXPECT_EQ(out.to_vector<int64_t>(), (std::vector<int64_t>{21}));

  c.inputs = {Tensor::allocate(DType::kF32, {3, 0}).value()};
  EXPECT_EQ(run1(c).to_vector<int64_t>(), (std::vector<int64_t>{0}));
}

// ---- Reshape ---------------------------------------------------------------------------------

Tensor reshape(const Tensor& data, std::vector<int64_t> shape, int opset = 14, int64_t allowzero = -1) {
  OpCall c{"Reshape", opset};
  c.inputs = {data, i64(std::move(shape))};
  c.constant_inputs = {false, true};
  if (allowzero >= 0) c.attrs.set("allowzero", allowzero);
  return run1(c);
}

TEST(ReshapeTest, ZeroCopiesAndMinusOneInfers) {
  Tensor out = reshape(iota_f32({2, 3, 5}), {0, -1});
  EXPECT_EQ(out.shape(), (Shape{2, 15}));
  EXPECT_EQ(out.to_vector<float>(), iota_values(30));

  EXPECT_EQ(reshape(iota_f32({2, 3, 5}), {-1, 0, 1}).shape(), (Shape{10, 3, 1}));
  EXPECT_EQ(reshape(iota_f32({2, 3, 5}), {5, 0, 2}).shape(), (Shape{5, 3, 2}));
}

TEST(ReshapeTest, ToScalarAndBack) {
  EXPECT_EQ(reshape(iota_f32({1, 1}), {}).shape(), Shape{});
  EXPECT_EQ(reshape(iota_f32({}), {1, -1, 1}).shape(), (Shape{1, 1, 1}));
}

TEST(ReshapeTest, AllowzeroKeepsLiteralZero) {
  Tensor empty = Tensor::allocate(DType::kF32, {0, 3}).value();
  EXPECT_EQ(reshape(empty, {3, 0}, 14, 1).shape(), (Shape{3, 0}));
  // Without allowzero the 0 copies input dim 1 (3): [3, 3] has 9 elements, not 0.
  OpCall c{"Reshape", 14};
  c.inputs = {empty, i64({3, 0})};
  c.constant_inputs = {false, true};
  EXPECT_CONTAINS(error_of(c), "cannot reshape [0, 3] (0 elements) into [3, 3] (9 elements)");
}

TEST(ReshapeTest, ErrorsNameTheProblem) {
  struct Case {
    std::vector<int64_t> shape;
    int64_t allowzero;
    int opset;
    const char* message;
  };
  const Case cases[] = {
      {{-1, -1}, 0, 14, "more than one -1"},
      {{-2, 15}, 0, 14, "invalid dimension -2"},
      {{4, 8}, 0, 14, "(30 elements) into [4, 8] (32 elements)"},
      {{}, 0, 14, "(30 elements) into [] (1 elements)"},
      {{4, -1}, 0, 14, "the -1 has no integer solution"},
      {{0, 0, 0, 0}, 0, 14, "dimension 3 is 0"},
      {{0, -1}, 1, 14, "both 0 and -1"},
      {{30}, 1, 13, "attribute 'allowzero' requires opset 14"},
  };
  for (const Case& k : cases) {
    OpCall c{"Reshape", k.opset};
    c.inputs = {iota_f32({2, 3, 5}), i64(k.shape)};
    c.constant_inputs = {false, true};
    c.attrs.set("allowzero", k.allowzero);
    EXPECT_CONTAINS(error_of(c), k.message);
  }
}

TEST(ReshapeTest, RunTimeShapeIsRefused) {
  OpCall c{"Reshape", 13};
  c.inputs = {iota_f32({6}), i64({2, 3})};  // the shape is a graph input: unknown at compile time
  EXPECT_CONTAINS(error_of(c), "must be known at compile time");
}

TEST(ReshapeTest, FloatShapeIsRefused) {
  OpCall c{"Reshape", 13};
  c.inputs = {iota_f32({6}), Tensor::from_vector<float>({2, 3}, {2})};
  c.constant_inputs = {false, true};
  EXPECT_CONTAINS(error_of(c), "expected an integer tensor");
}

// ---- Flatten ---------------------------------------------------------------------------------

TEST(FlattenTest, EveryAxisIncludingNegative) {
  const Shape in{2, 3, 5, 7};
  const int64_t total = 210;
  for (int64_t axis = -4; axis <= 4; ++axis) {
    OpCall c{"Flatten", 13};
    c.inputs = {iota_f32(in)};
    c.attrs.set("axis", axis);
    Tensor out = run1(c);
    const int a = static_cast<int>(axis < 0 ? axis + 4 : axis);
    int64_t outer = 1;
    for (int d = 0; d < a; ++d) outer *= in[static_cast<size_t>(d)];
    EXPECT_EQ(out.shape(), (Shape{outer, total / outer})) << "axis " << axis;
    EXPECT_EQ(out.to_vector<float>(), iota_values(total));
  }
}

TEST(FlattenTest, DefaultAxisIsOneAndRangeIsChecked) {
  OpCall c{"Flatten", 11};
  c.inputs = {iota_f32({3, 2, 2})};
  EXPECT_EQ(run1(c).shape(), (Shape{3, 4}));
  c.attrs.set("axis", int64_t{4});
  EXPECT_CONTAINS(error_of(c), "axis 4 is out of range [-3, 3]");
  c.attrs.set("axis", int64_t{-4});
  EXPECT_CONTAINS(error_of(c), "axis -4 is out of range");
}

// ---- Squeeze, Unsqueeze ----------------------------------------------------------------------

TEST(SqueezeTest, AxesAttributeBeforeOpset13) {
  OpCall c{"Squeeze", 11};
  c.inputs = {iota_f32({1, 3, 1, 5})};
  c.attrs.set("axes", std::vector<int64_t>{-2});
  Tensor out = run1(c);
  EXPECT_EQ(out.shape(), (Shape{1, 3, 5}));
  EXPECT_EQ(out.to_vector<float>(), iota_values(15));
}

TEST(SqueezeTest, AxesInputFromOpset13) {
  OpCall c{"Squeeze", 13};
  c.inputs = {iota_f32({1, 3, 1, 5}), i64({0, 2})};
  c.constant_inputs = {false, true};
  EXPECT_EQ(run1(c).shape(), (Shape{3, 5}));
}

TEST(SqueezeTest, NoAxesRemovesAllOnes) {
  for (int opset : {11, 13}) {
    OpCall c{"Squeeze", opset};
    c.inputs = {iota_f32({1, 3, 1, 1, 5, 1})};
    EXPECT_EQ(run1(c).shape(), (Shape{3, 5})) << "opset " << opset;
  }
  OpCall all_ones{"Squeeze", 13};
  all_ones.inputs = {iota_f32({1, 1})};
  EXPECT_EQ(run1(all_ones).shape(), Shape{});
}

TEST(SqueezeTest, Errors) {
  OpCall c{"Squeeze", 13};
  c.inputs = {iota_f32({1, 3}), i64({1})};
  c.constant_inputs = {false, true};
  EXPECT_CONTAINS(error_of(c), "cannot squeeze axis 1 of shape [1, 3]: its size is 3");
  c.inputs[1] = i64({0, -2});
  EXPECT_CONTAINS(error_of(c), "appears more than once");
  c.inputs[1] = i64({2});
  EXPECT_CONTAINS(error_of(c), "axis 2 is out of range for rank 2");

  OpCall attr_at_13{"Squeeze", 13};
  attr_at_13.inputs = {iota_f32({1, 3})};
  attr_at_13.attrs.set("axes", std::vector<int64_t>{0});
  EXPECT_CONTAINS(error_of(attr_at_13), "axes is an input from opset 13");

  OpCall input_at_11{"Squeeze", 11};
  input_at_11.inputs = {iota_f32({1, 3}), i64({0})};
  input_at_11.constant_inputs = {false, true};
  EXPECT_CONTAINS(error_of(input_at_11), "axes is an attribute before opset 13");

  OpCall dynamic{"Squeeze", 13};
  dynamic.inputs = {iota_f32({1, 3}), i64({0})};
  EXPECT_CONTAINS(error_of(dynamic), "must be known at compile time");
}

TEST(UnsqueezeTest, AxesIndexTheOutputInAnyOrder) {
  struct Case {
    std::vector<int64_t> axes;
    Shape want;
  };
  // input [3, 5]
  const Case cases[] = {{{0}, {1, 3, 5}},         {{2}, {3, 5, 1}},       {{-1}, {3, 5, 1}},
                        {{3, 0}, {1, 3, 5, 1}},   {{1, 3, 2}, {3, 1, 1, 1, 5}},
                        {{-4, 1}, {1, 1, 3, 5}}};
  for (const Case& k : cases) {
    OpCall c{"Unsqueeze", 13};
    c.inputs = {iota_f32({3, 5}), i64(k.axes)};
    c.constant_inputs = {false, true};
    Tensor out = run1(c);
    EXPECT_EQ(out.shape(), k.want) << shape_str(k.axes);
    EXPECT_EQ(out.to_vector<float>(), iota_values(15));

    OpCall old{"Unsqueeze", 11};
    old.inputs = {iota_f32({3, 5})};
    old.attrs.set("axes", k.axes);
    EXPECT_EQ(run1(old).shape(), k.want) << "opset 11 " << shape_str(k.axes);
  }
}

TEST(UnsqueezeTest, ScalarBecomesVector) {
  OpCall c{"Unsqueeze", 13};
  c.inputs = {Tensor::scalar<int64_t>(9), i64({0})};
  c.constant_inputs = {false, true};
  Tensor out = run1(c);
  EXPECT_EQ(out.shape(), Shape{1});
  EXPECT_EQ(out.to_vector<int64_t>(), std::vector<int64_t>{9});
}

TEST(UnsqueezeTest, Errors) {
  OpCall c{"Unsqueeze", 13};
  c.inputs = {iota_f32({3})};
  EXPECT_CONTAINS(error_of(c), "Unsqueeze needs axes");
  c.inputs = {iota_f32({3}), i64({2})};
  c.constant_inputs = {false, true};
  EXPECT_CONTAINS(error_of(c), "axis 2 is out of range for rank 2");
  c.inputs[1] = i64({0, 0});
  EXPECT_CONTAINS(error_of(c), "appears more than once");
  OpCall old{"Unsqueeze", 12};
  old.inputs = {iota_f32({3})};
  old.attrs.set("axes", std::vector<int64_t>{-3});
  EXPECT_CONTAINS(error_of(old), "axis -3 is out of range for rank 2");
}

// ---- Identity, Dropout -----------------------------------------------------------------------

TEST(IdentityTest, CopiesEveryDtype) {
  OpCall c{"Identity", 16};
  c.inputs = {Tensor::from_vector<bool>({true, false, true}, {3})};
  EXPECT_EQ(run1(c).to_vector<bool>(), (std::vector<bool>{true, false, true}));
  c.inputs = {Tensor::from_vector<int8_t>({-128, 7}, {2, 1})};
  Tensor out = run1(c);
  EXPECT_EQ(out.shape(), (Shape{2, 1}));
  EXPECT_EQ(out.to_vector<int8_t>(), (std::vector<int8_t>{-128, 7}));
}

TEST(DropoutTest, IsIdentityWithAllTrueMask) {
  for (int opset : {10, 12, 13}) {
    OpCall c{"Dropout", opset};
    c.inputs = {iota_f32({3, 5})};
    c.num_outputs = 2;
    auto r = run_op(c);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ((*r)[0].to_vector<float>(), iota_values(15));
    EXPECT_EQ((*r)[1].dtype(), DType::kBool);
    EXPECT_EQ((*r)[1].to_vector<bool>(), std::vector<bool>(15, true)) << "opset " << opset;
  }
}

TEST(DropoutTest, MaskHasTheDataTypeBeforeOpset10) {
  OpCall c{"Dropout", 7};
  c.inputs = {Tensor::from_vector<double>({1.5, -2}, {2})};
  c.attrs.set("ratio", 0.25f);
  c.num_outputs = 2;
  auto r = run_op(c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[1].dtype(), DType::kF64);
  EXPECT_EQ((*r)[1].to_vector<double>(), (std::vector<double>{1, 1}));
}

TEST(DropoutTest, RatioAndTrainingModeInputs) {
  OpCall c{"Dropout", 13};
  c.inputs = {iota_f32({4}), Tensor::scalar<float>(0.3f), Tensor::scalar<bool>(false)};
  c.constant_inputs = {false, true, true};
  EXPECT_EQ(run1(c).to_vector<float>(), iota_values(4));

  c.inputs[2] = Tensor::scalar<bool>(true);
  EXPECT_CONTAINS(error_of(c), "training_mode=true is not supported");

  c.constant_inputs = {false, true, false};  // training_mode decided at run time
  EXPECT_CONTAINS(error_of(c), "training_mode must be known at compile time");

  c.inputs[2] = Tensor::scalar<bool>(false);
  c.inputs[1] = Tensor::scalar<float>(1.0f);
  c.constant_inputs = {false, true, true};
  EXPECT_CONTAINS(error_of(c), "ratio 1 is outside [0, 1)");
}

TEST(DropoutTest, AttributeErrors) {
  OpCall c{"Dropout", 11};
  c.inputs = {iota_f32({4})};
  c.attrs.set("ratio", -0.5f);
  EXPECT_CONTAINS(error_of(c), "ratio -0.5 is outside [0, 1)");

  OpCall attr_at_13{"Dropout", 13};
  attr_at_13.inputs = {iota_f32({4})};
  attr_at_13.attrs.set("ratio", 0.5f);
  EXPECT_CONTAINS(error_of(attr_at_13), "ratio is an input from opset 12");

  OpCall ints{"Dropout", 13};
  ints.inputs = {Tensor::from_vector<int32_t>({1}, {1})};
  EXPECT_CONTAINS(error_of(ints), "Dropout takes float data");
}

// ---- shape subgraph folding ------------------------------------------------------------------

ir::Value* add_constant(ir::Graph& g, const std::string& name, Tensor t) {
  ir::Value* v = g.add_value(name);
  v->dtype = t.dtype();
  v->shape = t.shape();
  v->has_shape = true;
  v->constant = std::move(t);
  v->is_initializer = true;
  return v;
}

// PyTorch's x.view(x.size(0), -1) exports as Shape -> Gather -> Unsqueeze -> Concat -> Reshape.
// With x a run-time input of fixed shape, inference must fold the whole shape computation so
// that Reshape sees a constant shape, and the executor runs Reshape alone.
TEST(ShapeFoldingTest, PyTorchViewChainFoldsToStaticShape) {
  ir::Graph g;
  g.opsets[""] = 13;
  ir::Value* x = g.add_value("x");
  x->dtype = DType::kF32;
  x->shape = {3, 5, 7};
  x->has_shape = true;
  g.inputs().push_back(x);
  ir::Value* shape = g.add_value("shape");
  ir::Value* dim0 = g.add_value("dim0");
  ir::Value* dim0_1d = g.add_value("dim0_1d");
  ir::Value* target = g.add_value("target");
  ir::Value* y = g.add_value("y");
  g.add_node("Shape", "shape_of_x", {x}, {shape});
  g.add_node("Gather", "gather", {shape, add_constant(g, "zero", Tensor::scalar<int64_t>(0))}, {dim0})
      ->attrs.set("axis", int64_t{0});
  g.add_node("Unsqueeze", "unsqueeze", {dim0, add_constant(g, "axes", i64({0}))}, {dim0_1d});
  g.add_node("Concat", "concat", {dim0_1d, add_constant(g, "minus_one", i64({-1}))}, {target})
      ->attrs.set("axis", int64_t{0});
  g.add_node("Reshape", "reshape", {x, target}, {y});
  g.outputs().push_back(y);

  ASSERT_TRUE(ops::infer_shapes(g).ok());
  ASSERT_TRUE(target->is_constant());
  EXPECT_EQ(target->constant.to_vector<int64_t>(), (std::vector<int64_t>{3, -1}));
  EXPECT_FALSE(y->is_constant());
  EXPECT_EQ(y->shape, (Shape{3, 35}));

  auto ex = runtime::ReferenceExecutor::create(g);
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  std::vector<Tensor> outs;
  const std::vector<Tensor> feeds = {iota_f32({3, 5, 7})};
  auto s = ex->run(feeds, &outs);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(outs[0].shape(), (Shape{3, 35}));
  EXPECT_EQ(outs[0].to_vector<float>(), iota_values(105));
}

TEST(ShapeFoldingTest, SizeOfRunTimeInputIsKnown) {
  ir::Graph g;
  g.opsets[""] = 13;
  ir::Value* x = g.add_value("x");
  x->dtype = DType::kI32;
  x->shape = {4, 9};
  x->has_shape = true;
  g.inputs().push_back(x);
  ir::Value* n = g.add_value("n");
  g.add_node("Size", "size", {x}, {n});
  g.outputs().push_back(n);
  ASSERT_TRUE(ops::infer_shapes(g).ok());
  ASSERT_TRUE(n->is_constant());
  EXPECT_EQ(n->constant.to_vector<int64_t>(), std::vector<int64_t>{36});
}

}  // namespace
}  // namespace ratel
