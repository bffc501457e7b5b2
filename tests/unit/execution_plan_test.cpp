// The fast executor (execution plan: fast kernels + planned arena + views) against the reference
// executor on graphs that exercise aliasing, copies, constants and thread counts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "runtime/model.h"
#include "support/graph_builder.h"

namespace ratel {
namespace {

using testing::GraphBuilder;

std::vector<Tensor> run_with(const std::shared_ptr<runtime::Model>& m, const std::vector<Tensor>& in,
                             runtime::ExecutorKind kind, int threads) {
  runtime::SessionOptions o;
  o.executor = kind;
  o.threads = threads;
  auto s = runtime::Session::create(m, o);
  EXPECT_TRUE(s.ok()) << s.status().message();
  for (size_t i = 0; i < in.size(); ++i) EXPECT_TRUE((*s)->set_input(i, in[i]).ok());
  const Status st = (*s)->run();
  EXPECT_TRUE(st.ok()) << st.message();
  std::vector<Tensor> out;
  for (const Tensor& t : (*s)->outputs()) out.push_back(*t.clone());  // outputs are arena views
  return out;
}

Tensor random_tensor(Shape shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d;
  std::vector<float> v(static_cast<size_t>(numel(shape)));
  for (float& x : v) x = d(rng);
  return Tensor::from_vector<float>(v, std::move(shape));
}

// A small transformer-ish block: dense(+gelu) chains, reshapes (views), a residual, and an output
// that is a reshape of an intermediate (must not alias a buffer that is overwritten later).
std::shared_ptr<runtime::Model> block_model() {
  GraphBuilder g;
  auto* x = g.input("x", DType::kF32, {1, 13, 24});
  auto* h1 = g.op("Add", {g.op("MatMul", {x, g.random({24, 40})}), g.random({40})});
  auto* a = g.op("Add", {g.op("Erf", {g.op("Div", {h1, g.scalar(1.4142135f)})}), g.scalar(1.0f)});
  auto* gelu = g.op("Mul", {g.op("Mul", {h1, a}), g.scalar(0.5f)});
  auto* h2 = g.op("Add", {x, g.op("Add", {g.op("MatMul", {gelu, g.random({40, 24})}), g.random({24})})});
  auto* flat = g.op("Reshape", {h2, g.ints({13, 24})});
  auto* early = g.op("Reshape", {h1, g.ints({13, 40})});  // output viewing an early buffer
  g.output(g.op("Relu", {flat}));
  g.output(early);
  auto m = runtime::Model::from_graph(g.build());
  EXPECT_TRUE(m.ok()) << m.status().message();
  return *m;
}

TEST(ExecutionPlanTest, MatchesReferenceAndIsDeterministicAcrossThreadCounts) {
  auto m = block_model();
  const std::vector<Tensor> in{random_tensor({1, 13, 24}, 3)};
  const auto ref = run_with(m, in, runtime::ExecutorKind::kReference, 1);
  const auto fast1 = run_with(m, in, runtime::ExecutorKind::kFast, 1);
  for (int threads : {2, 3}) {
    const auto fastn = run_with(m, in, runtime::ExecutorKind::kFast, threads);
    for (size_t i = 0; i < fast1.size(); ++i) {
      EXPECT_EQ(std::memcmp(fast1[i].raw(), fastn[i].raw(), fast1[i].nbytes()), 0)
          << "output " << i << " differs with " << threads << " threads";
    }
  }
  ASSERT_EQ(ref.size(), fast1.size());
  for (size_t i = 0; i < ref.size(); ++i) {
    ASSERT_EQ(ref[i].shape(), fast1[i].shape());
    // Reference GEMMs accumulate in double, the fast ones in float: K <= 40 terms of |x|,|w| <= ~3,
    // so |error| <= 40 * 2^-24 * sum|x||w| — well under 1e-4 here.
    for (int64_t j = 0; j < ref[i].numel(); ++j) {
      ASSERT_NEAR(ref[i].get_as_double(j), fast1[i].get_as_double(j), 1e-4) << "output " << i << " element " << j;
    }
  }
}

TEST(ExecutionPlanTest, PlansLessMemoryThanOneBufferPerValue) {
  auto m = block_model();
  auto s = runtime::Session::create(m);
  ASSERT_TRUE(s.ok());
  const runtime::PlanStats st = (*s)->stats();
  EXPECT_GT(st.fast_steps, 0);
  EXPECT_GT(st.aliased_values, 0);
  EXPECT_LT(st.arena_bytes, st.unplanned_bytes);
}

TEST(ExecutionPlanTest, SessionsShareAModelAndRunRepeatedly) {
  auto m = block_model();
  const std::vector<Tensor> a{random_tensor({1, 13, 24}, 1)}, b{random_tensor({1, 13, 24}, 2)};
  const auto ra = run_with(m, a, runtime::ExecutorKind::kFast, 1);
  const auto rb = run_with(m, b, runtime::ExecutorKind::kFast, 1);
  auto s = runtime::Session::create(m);
  ASSERT_TRUE(s.ok());
  for (int rep = 0; rep < 3; ++rep) {
    for (const auto* in : {&a, &b}) {
      ASSERT_TRUE((*s)->set_input(0, (*in)[0]).ok());
      ASSERT_TRUE((*s)->run().ok());
      const auto& want = in == &a ? ra : rb;
      EXPECT_EQ(std::memcmp((*s)->outputs()[0].raw(), want[0].raw(), want[0].nbytes()), 0);
    }
  }
}

TEST(ExecutionPlanTest, BadThreadCountIsAnError) {
  runtime::SessionOptions o;
  o.threads = 0;
  auto s = runtime::Session::create(block_model(), o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("thread count 0"), std::string::npos);
}

}  // namespace
}  // namespace ratel

namespace ratel {
namespace {

TEST(ExecutionPlanTest, PackedWeightsAreReleasedUnlessKept) {
  for (bool release : {true, false}) {
    GraphBuilder g;
    auto* x = g.input("x", DType::kF32, {3, 8});
    ir::Value* w = g.random({8, 5});
    const std::string w_name = w->name;
    g.output(g.op("MatMul", {x, w}));
    runtime::LoadOptions o;
    o.release_packed_weights = release;
    auto m = runtime::Model::from_graph(g.build(), o);
    ASSERT_TRUE(m.ok());
    auto fast = runtime::Session::create(*m);
    ASSERT_TRUE(fast.ok());
    ASSERT_TRUE((*fast)->set_input(0, random_tensor({3, 8}, 5)).ok());
    ASSERT_TRUE((*fast)->run().ok());
    const ir::Value* weight = (*m)->graph().find_value(w_name);
    EXPECT_EQ(weight->data_released, release);
    EXPECT_EQ(weight->constant.defined(), !release);
    runtime::SessionOptions ref;
    ref.executor = runtime::ExecutorKind::kReference;
    auto r = runtime::Session::create(*m, ref);
    EXPECT_EQ(r.ok(), !release);
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("release_packed_weights"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace ratel
