#include <gtest/gtest.h>

#include <cmath>

#include "../support/op_harness.h"

namespace ratel {
namespace {

using testing::OpCall;
using testing::run_op;

TEST(ElementwiseTest, AddBroadcastsLikeNumpy) {
  OpCall c{"Add"};
  c.inputs = {Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3}),
              Tensor::from_vector<float>({10, 20, 30}, {3})};
  auto r = run_op(c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 3}));
  EXPECT_EQ((*r)[0].to_vector<float>(), (std::vector<float>{11, 22, 33, 14, 25, 36}));
}

TEST(ElementwiseTest, IncompatibleShapesNameTheNode) {
  OpCall c{"Mul"};
  c.inputs = {Tensor::from_vector<float>({1, 2, 3}, {3}), Tensor::from_vector<float>({1, 2}, {2})};
  auto r = run_op(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("node 'node' (Mul)"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("cannot be broadcast"), std::string::npos);
}

TEST(ElementwiseTest, IntegerDivisionByZeroIsAnError) {
  OpCall c{"Div"};
  c.inputs = {Tensor::from_vector<int32_t>({4, 5}, {2}), Tensor::from_vector<int32_t>({2, 0}, {2})};
  auto r = run_op(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("division by zero"), std::string::npos);
}

TEST(ElementwiseTest, IntegerArithmeticWraps) {
  OpCall c{"Add"};
  c.inputs = {Tensor::from_vector<int32_t>({2147483647}, {1}), Tensor::from_vector<int32_t>({1}, {1})};
  auto r = run_op(c);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].to_vector<int32_t>()[0], -2147483647 - 1);
}

TEST(ElementwiseTest, WhereSelectsWithThreeWayBroadcast) {
  OpCall c{"Where"};
  c.inputs = {Tensor::from_vector<bool>({true, false}, {2, 1}), Tensor::from_vector<float>({1, 2, 3}, {3}),
              Tensor::scalar<float>(-1)};
  auto r = run_op(c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].to_vector<float>(), (std::vector<float>{1, 2, 3, -1, -1, -1}));
}

// Found by fuzz_onnx_import (fuzz/regressions/onnx_import/crash-0532...): a Clip whose first
// input had an empty name read a null value in its inference.
TEST(ElementwiseTest, ClipWithoutItsInputIsAnError) {
  OpCall c{"Clip", 13};
  c.inputs = {Tensor(), Tensor::scalar<float>(0), Tensor::scalar<float>(1)};
  auto r = run_op(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("first input is missing"), std::string::npos) << r.status().message();
}

// Found by fuzz_onnx_import (fuzz/regressions/onnx_import/crash-5006...): a comparison node with
// no outputs; its inference wrote past the end of the node's output list.
TEST(ElementwiseTest, NodeWithoutOutputsIsAnError) {
  OpCall c{"Equal", 13};
  c.inputs = {Tensor::scalar<float>(0), Tensor::scalar<float>(1)};
  c.num_outputs = 0;
  auto r = run_op(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("has no outputs"), std::string::npos) << r.status().message();
}

// Clip before opset 12 is defined for float types only (its min/max attributes are floats; a
// -3.4e38 attribute converted to int8 was undefined behaviour).
TEST(ElementwiseTest, ClipBeforeOpset12RefusesIntegers) {
  OpCall c{"Clip", 6};
  c.inputs = {Tensor::from_vector<int8_t>({-5, 5}, {2})};
  auto r = run_op(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("float types only"), std::string::npos) << r.status().message();
  OpCall f{"Clip", 6};
  f.inputs = {Tensor::from_vector<float>({-5, 0.5f, 5}, {3})};
  f.attrs.set("min", 0.0f);
  f.attrs.set("max", 1.0f);
  auto ok = run_op(f);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ((*ok)[0].to_vector<float>(), (std::vector<float>{0, 0.5f, 1}));
  OpCall i{"Clip", 13};
  i.inputs = {Tensor::from_vector<int8_t>({-5, 5}, {2}), Tensor::scalar<int8_t>(-1), Tensor::scalar<int8_t>(2)};
  auto ints = run_op(i);
  ASSERT_TRUE(ints.ok()) << ints.status().message();
  EXPECT_EQ((*ints)[0].to_vector<int8_t>(), (std::vector<int8_t>{-1, 2}));
}

TEST(ElementwiseTest, MaxPropagatesNaN) {
  OpCall c{"Max"};
  c.inputs = {Tensor::from_vector<float>({1, NAN}, {2}), Tensor::from_vector<float>({NAN, 0}, {2})};
  auto r = run_op(c);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(std::isnan((*r)[0].to_vector<float>()[0]));
  EXPECT_TRUE(std::isnan((*r)[0].to_vector<float>()[1]));
}

TEST(ElementwiseTest, ComparisonsGiveBool) {
  OpCall c{"Less"};
  c.inputs = {Tensor::from_vector<int64_t>({1, 5, 3}, {3}), Tensor::scalar<int64_t>(3)};
  auto r = run_op(c);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].dtype(), DType::kBool);
  EXPECT_EQ((*r)[0].to_vector<bool>(), (std::vector<bool>{true, false, false}));
}

TEST(ElementwiseTest, HalfComputesInFloatAndRounds) {
  OpCall c{"Add"};
  c.inputs = {Tensor::from_vector<Half>({Half{float_to_half(1.0f)}}, {1}),
              Tensor::from_vector<Half>({Half{float_to_half(0.0004f)}}, {1})};
  auto r = run_op(c);
  ASSERT_TRUE(r.ok());
  // 1 + 0.0004 is below half of the half ulp at 1 (2^-11 = 0.000488): rounds back to 1.
  EXPECT_EQ(half_to_float((*r)[0].to_vector<Half>()[0].bits), 1.0f);
}

}  // namespace
}  // namespace ratel
