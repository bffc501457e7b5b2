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

namespace ratel {
namespace {

// A one-layer BERT block over [1, S, H] with an additive padding mask derived from a [1, S]
// int mask input, as exporters write it: (1 - mask) * -10000.
std::shared_ptr<runtime::Model> bert_layer_model(int64_t s, int64_t nh, int64_t hd) {
  GraphBuilder g;
  const int64_t h = nh * hd;
  auto* ids = g.input("input_ids", DType::kI32, {1, s});
  auto* mask = g.input("input_mask", DType::kI32, {1, s});
  auto* x = g.op("Gather", {g.random({50, h}, 1.0f), ids}, GraphBuilder::attrs({{"axis", int64_t{0}}}));
  auto* m = g.op("Cast", {mask}, GraphBuilder::attrs({{"to", int64_t{1}}}));
  auto* m4 = g.op("Unsqueeze", {g.op("Unsqueeze", {m, g.ints({1})}), g.ints({2})});
  auto* add_mask = g.op("Mul", {g.op("Sub", {g.scalar(1.0f), m4}), g.scalar(-10000.0f)});
  auto split = [&](ir::Value* v, std::vector<int64_t> perm) {
    return g.op("Transpose", {g.op("Reshape", {v, g.ints({1, s, nh, hd})})}, GraphBuilder::attrs({{"perm", perm}}));
  };
  auto dense = [&](ir::Value* in, int64_t k, int64_t n) {
    return g.op("Add", {g.random({n}), g.op("MatMul", {in, g.random({k, n})})});
  };
  auto* q = split(dense(x, h, h), {0, 2, 1, 3});
  auto* k = split(dense(x, h, h), {0, 2, 3, 1});
  auto* v = split(dense(x, h, h), {0, 2, 1, 3});
  auto* p = g.op("Softmax", {g.op("Add", {g.op("Div", {g.op("MatMul", {q, k}), g.scalar(std::sqrt(static_cast<float>(hd)))}), add_mask})},
                 GraphBuilder::attrs({{"axis", int64_t{-1}}}));
  auto* ctx = g.op("Reshape", {g.op("Transpose", {g.op("MatMul", {p, v})}, GraphBuilder::attrs({{"perm", std::vector<int64_t>{0, 2, 1, 3}}})),
                               g.ints({1, s, h})});
  auto* y = g.op("Add", {x, dense(ctx, h, h)});
  auto* ff = dense(y, h, 2 * h);
  auto* gelu = g.op("Mul", {g.op("Mul", {ff, g.op("Add", {g.op("Erf", {g.op("Div", {ff, g.scalar(1.4142135f)})}), g.scalar(1.0f)})}), g.scalar(0.5f)});
  g.output(g.op("Add", {y, dense(gelu, 2 * h, h)}));
  auto model = runtime::Model::from_graph(g.build());
  EXPECT_TRUE(model.ok()) << model.status().message();
  return *model;
}

TEST(ExecutionPlanTest, TrimmedRunsGiveIdenticalRealRows) {
  const int64_t s = 37, h = 3 * 8;
  auto model = bert_layer_model(s, 3, 8);
  for (int64_t real : {1, 5, 20, 36, 37}) {
    std::vector<int32_t> ids(static_cast<size_t>(s)), mask(static_cast<size_t>(s));
    for (int64_t i = 0; i < s; ++i) {
      ids[static_cast<size_t>(i)] = static_cast<int32_t>((i * 7 + 3) % 50);
      mask[static_cast<size_t>(i)] = i < real ? 1 : 0;
    }
    std::vector<Tensor> outs[2];
    for (int trim = 0; trim < 2; ++trim) {
      for (int threads : {1, 2}) {
        runtime::SessionOptions o;
        o.threads = threads;
        auto session = runtime::Session::create(model, o);
        ASSERT_TRUE(session.ok());
        ASSERT_TRUE((*session)->set_input("input_ids", Tensor::from_vector<int32_t>(ids, {1, s})).ok());
        ASSERT_TRUE((*session)->set_input("input_mask", Tensor::from_vector<int32_t>(mask, {1, s})).ok());
        ASSERT_TRUE((*session)->set_active_rows(trim ? real : 0).ok());
        ASSERT_TRUE((*session)->run().ok());
        outs[trim].push_back(*(*session)->outputs()[0].clone());
      }
    }
    for (int t = 0; t < 2; ++t) {
      EXPECT_EQ(std::memcmp(outs[0][static_cast<size_t>(t)].raw(), outs[1][static_cast<size_t>(t)].raw(),
                            static_cast<size_t>(real * h) * sizeof(float)),
                0)
          << real << " real rows, " << (t + 1) << " threads: trimmed run differs on real rows";
    }
  }
}

TEST(ExecutionPlanTest, TrimmingRejectsBadRowCounts) {
  auto session = runtime::Session::create(bert_layer_model(9, 1, 4));
  ASSERT_TRUE(session.ok());
  EXPECT_FALSE((*session)->set_active_rows(10).ok());
  EXPECT_FALSE((*session)->set_active_rows(-1).ok());
  EXPECT_TRUE((*session)->set_active_rows(9).ok());
}

}  // namespace
}  // namespace ratel
