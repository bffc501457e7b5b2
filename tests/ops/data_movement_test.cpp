// Data movement ops: Transpose, Concat, Split, Slice, Gather, GatherElements, Expand, Tile.
//
// Each op is checked against an oracle written the obvious way: for every output element,
// compute its multi-index, work out which input element it comes from, copy those bytes. The
// ops themselves walk strided offsets incrementally, so the two share no code. Inputs are
// random bytes of every element width (bools are 0/1), so results must match bit for bit.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
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

// One dtype of each element width, plus bool and the 16-bit floats.
const DType kDtypes[] = {DType::kF32, DType::kF16, DType::kBF16, DType::kF64, DType::kI8,
                         DType::kU16, DType::kI64, DType::kU64,  DType::kBool};

Tensor random_tensor(DType dtype, const Shape& shape, std::mt19937& rng) {
  Tensor t = Tensor::allocate(dtype, shape).value();
  auto* p = static_cast<uint8_t*>(t.mutable_raw());
  for (size_t i = 0; i < t.nbytes(); ++i) {
    p[i] = dtype == DType::kBool ? static_cast<uint8_t>(rng() & 1) : static_cast<uint8_t>(rng());
  }
  return t;
}

std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return idx;
}

int64_t ravel(const std::vector<int64_t>& idx, const Shape& shape) {
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + idx[d];
  return flat;
}

// The oracle: expected[i] = source(i)'s bytes, source() mapping an output multi-index to a
// tensor and a flat element index in it.
struct Source {
  const Tensor* tensor;
  int64_t flat;
};
Tensor oracle(DType dtype, const Shape& out_shape,
              const std::function<Source(const std::vector<int64_t>&)>& source) {
  Tensor out = Tensor::allocate(dtype, out_shape).value();
  const size_t w = dtype_size(dtype);
  for (int64_t i = 0; i < out.numel(); ++i) {
    const Source s = source(unravel(i, out_shape));
    std::memcpy(static_cast<uint8_t*>(out.mutable_raw()) + static_cast<size_t>(i) * w,
                static_cast<const uint8_t*>(s.tensor->raw()) + static_cast<size_t>(s.flat) * w, w);
  }
  return out;
}

::testing::AssertionResult same_bytes(const Tensor& actual, const Tensor& expected) {
  if (actual.dtype() != expected.dtype() || actual.shape() != expected.shape()) {
    return ::testing::AssertionFailure() << "got " << dtype_name(actual.dtype()) << " "
                                         << shape_str(actual.shape()) << ", expected "
                                         << dtype_name(expected.dtype()) << " "
                                         << shape_str(expected.shape());
  }
  const size_t w = dtype_size(actual.dtype());
  for (int64_t i = 0; i < actual.numel(); ++i) {
    if (std::memcmp(static_cast<const uint8_t*>(actual.raw()) + static_cast<size_t>(i) * w,
                    static_cast<const uint8_t*>(expected.raw()) + static_cast<size_t>(i) * w, w) != 0) {
      return ::testing::AssertionFailure() << "element " << i << " of " << shape_str(actual.shape())
                                           << " differs";
    }
  }
  return ::testing::AssertionSuccess();
}

std::vector<Tensor> run_ok(const OpCall& c) {
  auto r = run_op(c);
  EXPECT_TRUE(r.ok()) << c.op_type << ": " << r.status().message();
  return r.ok() ? *r : std::vector<Tensor>(static_cast<size_t>(c.num_outputs));
}

std::string error_of(const OpCall& c) {
  auto r = run_op(c);
  EXPECT_FALSE(r.ok()) << "expected an error from " << c.op_type;
  return r.ok() ? std::string() : r.status().message();
}

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

Shape random_shape(std::mt19937& rng, int rank, int64_t max_dim) {
  Shape s(static_cast<size_t>(rank));
  for (auto& d : s) d = std::uniform_int_distribution<int64_t>(1, max_dim)(rng);
  return s;
}

// ---- Transpose -------------------------------------------------------------------------------

Tensor transpose_oracle(const Tensor& in, const std::vector<int64_t>& perm) {
  Shape out_shape;
  for (int64_t p : perm) out_shape.push_back(in.dim(static_cast<int>(p)));
  return oracle(in.dtype(), out_shape, [&](const std::vector<int64_t>& o) {
    std::vector<int64_t> idx(o.size());
    for (size_t d = 0; d < o.size(); ++d) idx[static_cast<size_t>(perm[d])] = o[d];
    return Source{&in, ravel(idx, in.shape())};
  });
}

TEST(TransposeTest, RandomPermutationsOfOddShapesEveryDtype) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 40; ++trial) {
    const int rank = 1 + trial % 5;
    const Shape shape = random_shape(rng, rank, 5);
    std::vector<int64_t> perm(static_cast<size_t>(rank));
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    const DType dtype = kDtypes[trial % std::size(kDtypes)];
    OpCall c{"Transpose", 13};
    c.inputs = {random_tensor(dtype, shape, rng)};
    c.attrs.set("perm", perm);
    EXPECT_TRUE(same_bytes(run_ok(c)[0], transpose_oracle(c.inputs[0], perm)))
        << shape_str(shape) << " perm " << shape_str(perm) << " " << dtype_name(dtype);
  }
}

TEST(TransposeTest, DefaultReversesDimensions) {
  std::mt19937 rng(8);
  OpCall c{"Transpose", 7};
  c.inputs = {random_tensor(DType::kF32, {2, 3, 5}, rng)};
  EXPECT_TRUE(same_bytes(run_ok(c)[0], transpose_oracle(c.inputs[0], {2, 1, 0})));
}

TEST(TransposeTest, ZeroSizeAndScalar) {
  std::mt19937 rng(9);
  OpCall c{"Transpose", 13};
  c.inputs = {random_tensor(DType::kI32, {3, 0, 2}, rng)};
  EXPECT_EQ(run_ok(c)[0].shape(), (Shape{2, 0, 3}));
  c.inputs = {Tensor::scalar<float>(4.5f)};
  EXPECT_EQ(run_ok(c)[0].to_vector<float>(), std::vector<float>{4.5f});
}

TEST(TransposeTest, InvalidPermutations) {
  OpCall c{"Transpose", 13};
  c.inputs = {Tensor::allocate(DType::kF32, {2, 3, 4}).value()};
  c.attrs.set("perm", std::vector<int64_t>{0, 1});
  EXPECT_CONTAINS(error_of(c), "perm [0, 1] has 2 entries but the input has rank 3");
  c.attrs.set("perm", std::vector<int64_t>{0, 1, 1});
  EXPECT_CONTAINS(error_of(c), "is not a permutation of 0..2");
  c.attrs.set("perm", std::vector<int64_t>{0, 3, 1});
  EXPECT_CONTAINS(error_of(c), "is not a permutation");
  c.attrs.set("perm", std::vector<int64_t>{-1, 0, 1});
  EXPECT_CONTAINS(error_of(c), "is not a permutation");
}

// ---- Concat, Split ---------------------------------------------------------------------------

// Concatenation oracle: walk the axis index through the inputs in order.
Tensor concat_oracle(const std::vector<Tensor>& ins, int axis) {
  Shape out_shape = ins[0].shape();
  out_shape[static_cast<size_t>(axis)] = 0;
  for (const Tensor& t : ins) out_shape[static_cast<size_t>(axis)] += t.dim(axis);
  return oracle(ins[0].dtype(), out_shape, [&](std::vector<int64_t> o) {
    size_t k = 0;
    while (o[static_cast<size_t>(axis)] >= ins[k].dim(axis)) o[static_cast<size_t>(axis)] -= ins[k++].dim(axis);
    return Source{&ins[k], ravel(o, ins[k].shape())};
  });
}

TEST(ConcatTest, RandomShapesEveryAxisIncludingEmptyInputs) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 30; ++trial) {
    const int rank = 1 + trial % 4;
    const Shape base = random_shape(rng, rank, 4);
    const int axis = static_cast<int>(rng() % static_cast<unsigned>(rank));
    const DType dtype = kDtypes[trial % std::size(kDtypes)];
    OpCall c{"Concat", 13};
    for (int k = 0; k < 1 + trial % 3; ++k) {
      Shape s = base;
      s[static_cast<size_t>(axis)] = std::uniform_int_distribution<int64_t>(0, 3)(rng);  // 0: empty input
      c.inputs.push_back(random_tensor(dtype, s, rng));
    }
    // Negative and positive spellings of the axis must agree.
    c.attrs.set("axis", int64_t{trial % 2 ? axis - rank : axis});
    EXPECT_TRUE(same_bytes(run_ok(c)[0], concat_oracle(c.inputs, axis)))
        << "trial " << trial << " axis " << axis;
  }
}

TEST(ConcatTest, Errors) {
  OpCall c{"Concat", 13};
  c.inputs = {Tensor::allocate(DType::kF32, {2, 3}).value(), Tensor::allocate(DType::kF32, {2, 4}).value()};
  EXPECT_CONTAINS(error_of(c), "the axis attribute is required");
  c.attrs.set("axis", int64_t{0});
  EXPECT_CONTAINS(error_of(c), "input 1 has shape [2, 4], which does not match input 0's [2, 3] outside axis 0");
  c.attrs.set("axis", int64_t{2});
  EXPECT_CONTAINS(error_of(c), "axis 2 is out of range for rank 2");
  c.attrs.set("axis", int64_t{1});
  c.inputs[1] = Tensor::allocate(DType::kI32, {2, 4}).value();
  EXPECT_CONTAINS(error_of(c), "input 1 has type i32, input 0 has f32");
  c.inputs = {Tensor::scalar<float>(1), Tensor::scalar<float>(2)};
  c.attrs.set("axis", int64_t{0});
  EXPECT_CONTAINS(error_of(c), "cannot concatenate scalars");
}

// Split is checked by its defining property: the pieces have the requested sizes and
// concatenate back to the input.
void expect_split(const OpCall& c, int axis, const std::vector<int64_t>& sizes) {
  const std::vector<Tensor> pieces = run_ok(c);
  ASSERT_EQ(pieces.size(), sizes.size());
  for (size_t k = 0; k < sizes.size(); ++k) {
    EXPECT_EQ(pieces[k].dim(axis), sizes[k]) << "piece " << k;
  }
  EXPECT_TRUE(same_bytes(concat_oracle(pieces, axis), c.inputs[0]));
}

TEST(SplitTest, ExplicitSizesAsAttributeThenInput) {
  std::mt19937 rng(12);
  const Tensor x = random_tensor(DType::kU16, {3, 10, 2}, rng);
  OpCall old{"Split", 11};
  old.inputs = {x};
  old.attrs.set("axis", int64_t{-2});
  old.attrs.set("split", std::vector<int64_t>{2, 0, 7, 1});
  old.num_outputs = 4;
  expect_split(old, 1, {2, 0, 7, 1});

  OpCall now{"Split", 13};
  now.inputs = {x, i64({2, 0, 7, 1})};
  now.constant_inputs = {false, true};
  now.attrs.set("axis", int64_t{1});
  now.num_outputs = 4;
  expect_split(now, 1, {2, 0, 7, 1});
}

TEST(SplitTest, EqualPartsWhenSizesAreAbsent) {
  std::mt19937 rng(13);
  for (int opset : {7, 13, 18}) {
    OpCall c{"Split", opset};
    c.inputs = {random_tensor(DType::kBool, {9, 3}, rng)};
    c.num_outputs = 3;
    expect_split(c, 0, {3, 3, 3});
  }
  OpCall uneven{"Split", 13};
  uneven.inputs = {random_tensor(DType::kF32, {7}, rng)};
  uneven.num_outputs = 3;
  EXPECT_CONTAINS(error_of(uneven), "cannot split an axis of size 7 into 3 equal parts");
}

TEST(SplitTest, NumOutputsInOpset18AllowsASmallerLastPart) {
  std::mt19937 rng(14);
  OpCall c{"Split", 18};
  c.inputs = {random_tensor(DType::kI8, {2, 7}, rng)};
  c.attrs.set("axis", int64_t{1});
  c.attrs.set("num_outputs", int64_t{3});
  c.num_outputs = 3;
  expect_split(c, 1, {3, 3, 1});
}

TEST(SplitTest, OmittedOutputsAreSkipped) {
  // An unnamed (omitted) first output: the second piece must still start after the first.
  std::mt19937 rng(15);
  const Tensor x = random_tensor(DType::kF64, {5, 4}, rng);
  ir::Graph g;
  g.opsets[""] = 13;
  ir::Value* in = g.add_value("x");
  in->dtype = x.dtype();
  in->shape = x.shape();
  in->has_shape = true;
  g.inputs().push_back(in);
  ir::Value* sizes = g.add_value("sizes");
  sizes->constant = i64({1, 3});
  sizes->dtype = DType::kI64;
  sizes->shape = {2};
  sizes->has_shape = true;
  ir::Value* second = g.add_value("second");
  g.add_node("Split", "split", {in, sizes}, {nullptr, second})->attrs.set("axis", int64_t{1});
  g.outputs().push_back(second);
  ASSERT_TRUE(ops::infer_shapes(g).ok());
  auto ex = runtime::ReferenceExecutor::create(g);
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  std::vector<Tensor> outs;
  const std::vector<Tensor> feeds = {x};
  ASSERT_TRUE(ex->run(feeds, &outs).ok());
  Tensor want = oracle(x.dtype(), {5, 3}, [&](const std::vector<int64_t>& o) {
    return Source{&x, o[0] * 4 + o[1] + 1};
  });
  EXPECT_TRUE(same_bytes(outs[0], want));
}

TEST(SplitTest, Errors) {
  const Tensor x = Tensor::allocate(DType::kF32, {6}).value();
  OpCall c{"Split", 13};
  c.inputs = {x, i64({2, 3})};
  c.constant_inputs = {false, true};
  c.num_outputs = 2;
  EXPECT_CONTAINS(error_of(c), "split [2, 3] adds up to 5, but the axis has size 6");
  c.inputs[1] = i64({2, 2, 2});
  EXPECT_CONTAINS(error_of(c), "split [2, 2, 2] has 3 entries for 2 outputs");
  c.inputs[1] = i64({7, -1});
  EXPECT_CONTAINS(error_of(c), "has a negative size");
  c.inputs[1] = i64({3, 3});
  c.constant_inputs = {false, false};
  EXPECT_CONTAINS(error_of(c), "must be known at compile time");

  OpCall attr_at_13{"Split", 13};
  attr_at_13.inputs = {x};
  attr_at_13.attrs.set("split", std::vector<int64_t>{3, 3});
  attr_at_13.num_outputs = 2;
  EXPECT_CONTAINS(error_of(attr_at_13), "split is an input from opset 13");

  OpCall num_outputs_early{"Split", 17};
  num_outputs_early.inputs = {x};
  num_outputs_early.attrs.set("num_outputs", int64_t{2});
  num_outputs_early.num_outputs = 2;
  EXPECT_CONTAINS(error_of(num_outputs_early), "attribute 'num_outputs' requires opset 18");

  OpCall both{"Split", 18};
  both.inputs = {x, i64({3, 3})};
  both.constant_inputs = {false, true};
  both.attrs.set("num_outputs", int64_t{2});
  both.num_outputs = 2;
  EXPECT_CONTAINS(error_of(both), "either split or num_outputs, not both");

  OpCall mismatch{"Split", 18};
  mismatch.inputs = {x};
  mismatch.attrs.set("num_outputs", int64_t{3});
  mismatch.num_outputs = 2;
  EXPECT_CONTAINS(error_of(mismatch), "num_outputs is 3 but the node has 2 outputs");
}

// ---- Slice -----------------------------------------------------------------------------------

// The input indices one axis visits, following the ONNX Slice specification's text literally:
// negative bounds get the dimension added, then starts clamp to [0, dim] (positive step) or
// [0, dim-1] (negative step), ends to [0, dim] or [-1, dim-1]; then enumerate. This differs
// from numpy in one corner: a backward slice starting before the first element visits element
// 0 (ONNX Runtime 1.32 does the same; ONNX's numpy-based reference evaluator returns nothing).
std::vector<int64_t> spec_slice(int64_t start, int64_t end, int64_t step, int64_t dim) {
  auto add_dim = [&](int64_t v) { return v < 0 ? (v < -dim ? -dim - 1 : v) + dim : v; };
  start = add_dim(start);
  end = add_dim(end);
  std::vector<int64_t> out;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    for (int64_t i = start; i < end; i += step) {
      out.push_back(i);
      if (end - i <= step) break;  // the next i would pass the end (and could overflow)
    }
  } else if (dim > 0) {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
    for (int64_t i = start; i > end; i += step) {
      out.push_back(i);
      if (i - end - 1 <= -(step + 1)) break;  // i + step <= end, without overflow
    }
  }
  return out;
}

Tensor slice_oracle(const Tensor& in, const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
                    const std::vector<int64_t>& axes, const std::vector<int64_t>& steps) {
  std::vector<std::vector<int64_t>> visit(static_cast<size_t>(in.rank()));
  for (int d = 0; d < in.rank(); ++d) {
    visit[static_cast<size_t>(d)].resize(static_cast<size_t>(in.dim(d)));
    std::iota(visit[static_cast<size_t>(d)].begin(), visit[static_cast<size_t>(d)].end(), 0);
  }
  for (size_t i = 0; i < starts.size(); ++i) {
    const int64_t axis = axes[i] < 0 ? axes[i] + in.rank() : axes[i];
    visit[static_cast<size_t>(axis)] = spec_slice(starts[i], ends[i], steps[i], in.dim(static_cast<int>(axis)));
  }
  Shape out_shape;
  for (const auto& v : visit) out_shape.push_back(static_cast<int64_t>(v.size()));
  return oracle(in.dtype(), out_shape, [&](const std::vector<int64_t>& o) {
    std::vector<int64_t> idx(o.size());
    for (size_t d = 0; d < o.size(); ++d) idx[d] = visit[d][static_cast<size_t>(o[d])];
    return Source{&in, ravel(idx, in.shape())};
  });
}

TEST(SliceTest, RandomBoundsAndStepsMatchTheSpecification) {
  std::mt19937 rng(21);
  const int64_t bounds[] = {kMin, -9, -7, -6, -5, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 9, kMax};
  const int64_t steps[] = {-kMax, -4, -3, -2, -1, 1, 2, 3, 5, kMax};
  for (int trial = 0; trial < 300; ++trial) {
    const int rank = 1 + trial % 3;
    const Shape shape = random_shape(rng, rank, 7);
    std::vector<int64_t> axes(static_cast<size_t>(rank));
    std::iota(axes.begin(), axes.end(), 0);
    std::shuffle(axes.begin(), axes.end(), rng);
    axes.resize(1 + rng() % static_cast<unsigned>(rank));
    std::vector<int64_t> st, en, sp;
    for (int64_t& a : axes) {
      st.push_back(bounds[rng() % std::size(bounds)]);
      en.push_back(bounds[rng() % std::size(bounds)]);
      sp.push_back(steps[rng() % std::size(steps)]);
      if (rng() % 2) a -= rank;  // negative axes
    }
    OpCall c{"Slice", 13};
    c.inputs = {random_tensor(kDtypes[trial % std::size(kDtypes)], shape, rng), i64(st), i64(en), i64(axes),
                i64(sp)};
    c.constant_inputs = {false, true, true, true, true};
    EXPECT_TRUE(same_bytes(run_ok(c)[0], slice_oracle(c.inputs[0], st, en, axes, sp)))
        << shape_str(shape) << " starts " << shape_str(st) << " ends " << shape_str(en) << " axes "
        << shape_str(axes) << " steps " << shape_str(sp);
  }
}

TEST(SliceTest, DefaultAxesAndStepsAndInt32Inputs) {
  std::mt19937 rng(22);
  OpCall c{"Slice", 10};
  c.inputs = {random_tensor(DType::kF32, {5, 6}, rng), Tensor::from_vector<int32_t>({1, -4}, {2}),
              Tensor::from_vector<int32_t>({4, 1000}, {2})};
  c.constant_inputs = {false, true, true};
  Tensor out = run_ok(c)[0];
  EXPECT_EQ(out.shape(), (Shape{3, 4}));
  EXPECT_TRUE(same_bytes(out, slice_oracle(c.inputs[0], {1, -4}, {4, 1000}, {0, 1}, {1, 1})));
}

TEST(SliceTest, AttributesBeforeOpset10) {
  std::mt19937 rng(23);
  OpCall c{"Slice", 9};
  c.inputs = {random_tensor(DType::kI64, {4, 3, 5}, rng)};
  c.attrs.set("starts", std::vector<int64_t>{-3, 1});
  c.attrs.set("ends", std::vector<int64_t>{kMax, -1});
  c.attrs.set("axes", std::vector<int64_t>{2, 0});
  Tensor out = run_ok(c)[0];
  EXPECT_EQ(out.shape(), (Shape{2, 3, 3}));
  EXPECT_TRUE(same_bytes(out, slice_oracle(c.inputs[0], {-3, 1}, {kMax, -1}, {2, 0}, {1, 1})));
}

TEST(SliceTest, ReverseWholeAxisWithExtremeBounds) {
  OpCall c{"Slice", 13};
  c.inputs = {Tensor::from_vector<int32_t>({0, 1, 2, 3, 4}, {5}), i64({kMax}), i64({kMin}), i64({0}), i64({-1})};
  c.constant_inputs = {false, true, true, true, true};
  EXPECT_EQ(run_ok(c)[0].to_vector<int32_t>(), (std::vector<int32_t>{4, 3, 2, 1, 0}));
  c.inputs[4] = i64({-2});
  EXPECT_EQ(run_ok(c)[0].to_vector<int32_t>(), (std::vector<int32_t>{4, 2, 0}));
}

TEST(SliceTest, BackwardFromBeforeTheStartVisitsElementZero) {
  // The specification's clamping (and ONNX Runtime), not numpy's: start -9 on an axis of 5
  // becomes -4, clamps to 0, and the slice [0, -1) by -1 holds element 0.
  OpCall c{"Slice", 13};
  c.inputs = {Tensor::from_vector<int32_t>({0, 1, 2, 3, 4}, {5}), i64({-9}), i64({-9}), i64({0}), i64({-1})};
  c.constant_inputs = {false, true, true, true, true};
  EXPECT_EQ(run_ok(c)[0].to_vector<int32_t>(), std::vector<int32_t>{0});
}

TEST(SliceTest, EmptyAxisWithNegativeStep) {
  OpCall c{"Slice", 13};
  c.inputs = {Tensor::allocate(DType::kF32, {0, 3}).value(), i64({-1}), i64({kMin}), i64({0}), i64({-1})};
  c.constant_inputs = {false, true, true, true, true};
  EXPECT_EQ(run_ok(c)[0].shape(), (Shape{0, 3}));
}

TEST(SliceTest, Errors) {
  const Tensor x = Tensor::allocate(DType::kF32, {4, 4}).value();
  OpCall c{"Slice", 13};
  c.inputs = {x, i64({0}), i64({2}), i64({0}), i64({0})};
  c.constant_inputs = {false, true, true, true, true};
  EXPECT_CONTAINS(error_of(c), "step of axis 0 is 0");
  c.inputs = {x, i64({0, 0}), i64({2}), Tensor(), Tensor()};
  EXPECT_CONTAINS(error_of(c), "must have the same length, got 2, 1");
  c.inputs = {x, i64({0, 0}), i64({2, 2}), i64({1, -1}), Tensor()};
  EXPECT_CONTAINS(error_of(c), "appears more than once");
  c.inputs = {x, i64({0}), i64({2}), i64({2}), Tensor()};
  EXPECT_CONTAINS(error_of(c), "axis 2 is out of range for rank 2");
  c.inputs = {x, i64({0, 0, 0}), i64({1, 1, 1})};
  EXPECT_CONTAINS(error_of(c), "3 starts given for an input of rank 2");
  c.inputs = {x, i64({0}), i64({2})};
  c.constant_inputs = {false, false, true};
  EXPECT_CONTAINS(error_of(c), "must be known at compile time");

  OpCall old{"Slice", 9};
  old.inputs = {x};
  old.attrs.set("starts", std::vector<int64_t>{0});
  EXPECT_CONTAINS(error_of(old), "the starts and ends attributes are required");

  OpCall attr_at_10{"Slice", 10};
  attr_at_10.inputs = {x, i64({0}), i64({1})};
  attr_at_10.constant_inputs = {false, true, true};
  attr_at_10.attrs.set("axes", std::vector<int64_t>{0});
  EXPECT_CONTAINS(error_of(attr_at_10), "axes is an input from opset 10");
}

// ---- Gather, GatherElements ------------------------------------------------------------------

Tensor gather_oracle(const Tensor& data, const std::vector<int64_t>& indices, const Shape& indices_shape,
                     int axis) {
  Shape out_shape(data.shape().begin(), data.shape().begin() + axis);
  out_shape.insert(out_shape.end(), indices_shape.begin(), indices_shape.end());
  out_shape.insert(out_shape.end(), data.shape().begin() + axis + 1, data.shape().end());
  const size_t q = indices_shape.size();
  return oracle(data.dtype(), out_shape, [&](const std::vector<int64_t>& o) {
    std::vector<int64_t> idx(o.begin(), o.begin() + axis);
    const std::vector<int64_t> ii(o.begin() + axis, o.begin() + axis + static_cast<int64_t>(q));
    int64_t v = indices[static_cast<size_t>(ravel(ii, indices_shape))];
    idx.push_back(v < 0 ? v + data.dim(axis) : v);
    idx.insert(idx.end(), o.begin() + axis + static_cast<int64_t>(q), o.end());
    return Source{&data, ravel(idx, data.shape())};
  });
}

TEST(GatherTest, RandomAxesAndIndexShapesWithNegativeIndices) {
  std::mt19937 rng(31);
  for (int trial = 0; trial < 40; ++trial) {
    const int rank = 1 + trial % 3;
    const Shape shape = random_shape(rng, rank, 5);
    const int axis = static_cast<int>(rng() % static_cast<unsigned>(rank));
    const Shape indices_shape = random_shape(rng, trial % 3, 3);  // rank 0 (scalar) to 2
    const int64_t dim = shape[static_cast<size_t>(axis)];
    std::vector<int64_t> indices(static_cast<size_t>(numel(indices_shape)));
    for (auto& v : indices) v = std::uniform_int_distribution<int64_t>(-dim, dim - 1)(rng);
    OpCall c{"Gather", 13};
    c.inputs = {random_tensor(kDtypes[trial % std::size(kDtypes)], shape, rng),
                Tensor::from_vector<int64_t>(indices, indices_shape)};
    if (trial % 2) {
      std::vector<int32_t> narrow(indices.begin(), indices.end());
      c.inputs[1] = Tensor::from_vector<int32_t>(narrow, indices_shape);
    }
    c.attrs.set("axis", int64_t{trial % 4 == 0 ? axis - rank : axis});
    EXPECT_TRUE(same_bytes(run_ok(c)[0], gather_oracle(c.inputs[0], indices, indices_shape, axis)))
        << shape_str(shape) << " axis " << axis << " indices " << shape_str(indices);
  }
}

TEST(GatherTest, OutOfRangeIndexNamesValueAndAxisSize) {
  OpCall c{"Gather", 13};
  c.inputs = {Tensor::allocate(DType::kF32, {3, 4}).value(), Tensor::from_vector<int64_t>({0, 4}, {2})};
  c.attrs.set("axis", int64_t{1});
  EXPECT_CONTAINS(error_of(c), "index 4 is out of range for axis 1 of size 4");
  c.inputs[1] = Tensor::from_vector<int64_t>({-5}, {1});
  EXPECT_CONTAINS(error_of(c), "index -5 is out of range for axis 1 of size 4");
  // Also when the node is folded during inference (all inputs constant), and when only the
  // indices are constant (checked by inference, before any run).
  c.constant_inputs = {true, true};
  EXPECT_CONTAINS(error_of(c), "index -5 is out of range");
  ir::Graph g;
  g.opsets[""] = 13;
  ir::Value* data = g.add_value("data");
  data->dtype = DType::kF32;
  data->shape = {3, 4};
  data->has_shape = true;
  g.inputs().push_back(data);
  ir::Value* indices = g.add_value("indices");
  indices->constant = Tensor::from_vector<int32_t>({2, 7}, {2});
  indices->dtype = DType::kI32;
  indices->shape = {2};
  indices->has_shape = true;
  ir::Value* out = g.add_value("out");
  g.add_node("Gather", "gather", {data, indices}, {out});
  g.outputs().push_back(out);
  Status s = ops::infer_shapes(g);
  EXPECT_CONTAINS(s.message(), "index 7 is out of range for axis 0 of size 3");
}

TEST(GatherTest, Errors) {
  OpCall c{"Gather", 13};
  c.inputs = {Tensor::allocate(DType::kF32, {3}).value(), Tensor::from_vector<float>({0}, {1})};
  EXPECT_CONTAINS(error_of(c), "indices must be int32 or int64, got f32");
  c.inputs = {Tensor::scalar<float>(1), Tensor::scalar<int64_t>(0)};
  EXPECT_CONTAINS(error_of(c), "cannot gather from a scalar");
  c.inputs = {Tensor::allocate(DType::kF32, {3}).value(), Tensor::scalar<int64_t>(0)};
  c.attrs.set("axis", int64_t{1});
  EXPECT_CONTAINS(error_of(c), "axis 1 is out of range for rank 1");
}

TEST(GatherElementsTest, RandomShapesAgainstDefinition) {
  std::mt19937 rng(41);
  for (int trial = 0; trial < 30; ++trial) {
    const int rank = 1 + trial % 3;
    const Shape shape = random_shape(rng, rank, 5);
    const int axis = static_cast<int>(rng() % static_cast<unsigned>(rank));
    Shape indices_shape = shape;
    for (size_t d = 0; d < indices_shape.size(); ++d) {
      // Outside the axis indices may be smaller than data; along it, any size.
      indices_shape[d] = static_cast<int>(d) == axis ? 1 + static_cast<int64_t>(rng() % 6)
                                                     : 1 + static_cast<int64_t>(rng() % static_cast<unsigned>(shape[d]));
    }
    const int64_t dim = shape[static_cast<size_t>(axis)];
    std::vector<int64_t> indices(static_cast<size_t>(numel(indices_shape)));
    for (auto& v : indices) v = std::uniform_int_distribution<int64_t>(-dim, dim - 1)(rng);
    OpCall c{"GatherElements", 13};
    c.inputs = {random_tensor(kDtypes[trial % std::size(kDtypes)], shape, rng),
                Tensor::from_vector<int64_t>(indices, indices_shape)};
    c.attrs.set("axis", int64_t{axis});
    const Tensor& data = c.inputs[0];
    Tensor want = oracle(data.dtype(), indices_shape, [&](std::vector<int64_t> o) {
      const int64_t v = indices[static_cast<size_t>(ravel(o, indices_shape))];
      o[static_cast<size_t>(axis)] = v < 0 ? v + dim : v;
      return Source{&data, ravel(o, shape)};
    });
    EXPECT_TRUE(same_bytes(run_ok(c)[0], want)) << shape_str(shape) << " axis " << axis;
  }
}

TEST(GatherElementsTest, Errors) {
  OpCall c{"GatherElements", 13};
  c.inputs = {Tensor::allocate(DType::kF32, {2, 3}).value(), Tensor::from_vector<int64_t>({0, 3}, {1, 2})};
  c.attrs.set("axis", int64_t{1});
  EXPECT_CONTAINS(error_of(c), "index 3 is out of range for axis 1 of size 3");
  c.inputs[1] = Tensor::from_vector<int64_t>({0, 0, 0}, {3, 1});
  EXPECT_CONTAINS(error_of(c), "do not fit data of shape [2, 3]");
  c.inputs[1] = Tensor::from_vector<int64_t>({0}, {1});
  EXPECT_CONTAINS(error_of(c), "same rank needed");
  OpCall old{"GatherElements", 10};
  old.inputs = {Tensor::allocate(DType::kF32, {2}).value(), Tensor::from_vector<int64_t>({0}, {1})};
  EXPECT_CONTAINS(error_of(old), "GatherElements requires opset 11");
}

// ---- Expand, Tile ----------------------------------------------------------------------------

TEST(ExpandTest, BidirectionalBroadcast) {
  std::mt19937 rng(51);
  struct Case {
    Shape in;
    std::vector<int64_t> shape;
    Shape want;
  };
  const Case cases[] = {
      {{3, 1}, {2, 1, 4}, {2, 3, 4}},  // input dims of 1 stretch, new leading dims appear
      {{3, 5}, {1, 1}, {3, 5}},        // a 1 in shape keeps the input's dimension
      {{1}, {0, 2}, {0, 2}},           // stretching to zero
      {{}, {3}, {3}},                  // scalar
      {{2, 1, 3}, {1}, {2, 1, 3}},
  };
  for (const Case& k : cases) {
    OpCall c{"Expand", 13};
    c.inputs = {random_tensor(DType::kBF16, k.in, rng), i64(k.shape)};
    c.constant_inputs = {false, true};
    const Tensor& x = c.inputs[0];
    Tensor want = oracle(x.dtype(), k.want, [&](const std::vector<int64_t>& o) {
      std::vector<int64_t> idx(x.shape().size());
      const size_t lead = o.size() - idx.size();
      for (size_t d = 0; d < idx.size(); ++d) idx[d] = x.shape()[d] == 1 ? 0 : o[lead + d];
      return Source{&x, ravel(idx, x.shape())};
    });
    EXPECT_TRUE(same_bytes(run_ok(c)[0], want)) << shape_str(k.in) << " to " << shape_str(k.shape);
  }
}

TEST(ExpandTest, Errors) {
  OpCall c{"Expand", 13};
  c.inputs = {Tensor::allocate(DType::kF32, {3}).value(), i64({4})};
  c.constant_inputs = {false, true};
  EXPECT_CONTAINS(error_of(c), "cannot be broadcast");
  c.inputs[1] = i64({-1, 3});
  EXPECT_CONTAINS(error_of(c), "negative dimension");
  c.constant_inputs = {false, false};
  EXPECT_CONTAINS(error_of(c), "must be known at compile time");
  OpCall old{"Expand", 7};
  old.inputs = {Tensor::allocate(DType::kF32, {3}).value(), i64({3})};
  old.constant_inputs = {false, true};
  EXPECT_CONTAINS(error_of(old), "Expand requires opset 8");
}

TEST(TileTest, RepeatsOddShapesIncludingZero) {
  std::mt19937 rng(61);
  for (int trial = 0; trial < 20; ++trial) {
    const int rank = 1 + trial % 4;
    const Shape shape = random_shape(rng, rank, 4);
    std::vector<int64_t> repeats(static_cast<size_t>(rank));
    for (auto& r : repeats) r = static_cast<int64_t>(rng() % 4);  // includes 0
    Shape out_shape(shape.size());
    for (size_t d = 0; d < shape.size(); ++d) out_shape[d] = shape[d] * repeats[d];
    OpCall c{"Tile", 13};
    c.inputs = {random_tensor(kDtypes[trial % std::size(kDtypes)], shape, rng), i64(repeats)};
    c.constant_inputs = {false, true};
    const Tensor& x = c.inputs[0];
    Tensor want = oracle(x.dtype(), out_shape, [&](std::vector<int64_t> o) {
      for (size_t d = 0; d < o.size(); ++d) o[d] %= shape[d];
      return Source{&x, ravel(o, shape)};
    });
    EXPECT_TRUE(same_bytes(run_ok(c)[0], want)) << shape_str(shape) << " x " << shape_str(repeats);
  }
}

TEST(TileTest, Errors) {
  OpCall c{"Tile", 13};
  c.inputs = {Tensor::allocate(DType::kF32, {2, 3}).value(), i64({2})};
  c.constant_inputs = {false, true};
  EXPECT_CONTAINS(error_of(c), "one entry per input dimension (2)");
  c.inputs[1] = i64({1, -1});
  EXPECT_CONTAINS(error_of(c), "negative entry");
  c.inputs[1] = i64({kMax, 1});
  EXPECT_CONTAINS(error_of(c), "too large");
}

}  // namespace
}  // namespace ratel
