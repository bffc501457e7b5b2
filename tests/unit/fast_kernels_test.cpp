// The fast kernels for ratel.Attention, LayerNormalization / ratel.SkipLayerNorm, Softmax and
// ratel.Gelu as the execution plan runs them, against the reference executor on small graphs:
// the adapters' strides, broadcasts, attributes, in-place aliasing and fallbacks. (The kernels'
// error bounds are derived and checked element by element in tests/kernels/; here the tolerance
// is a few float roundings of values of order 1: 2e-5 relative to max(1, |reference|).)
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "runtime/model.h"
#include "support/graph_builder.h"

namespace ratel {
namespace {

using testing::GraphBuilder;

Tensor random_tensor(Shape shape, uint32_t seed, float lo = -1.5f, float hi = 1.5f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(static_cast<size_t>(numel(shape)));
  for (float& x : v) x = d(rng);
  return Tensor::from_vector<float>(v, std::move(shape));
}

// BERT's additive mask: 0 for the first `valid[b]` keys of each sequence, -10000 after.
Tensor padding_mask(Shape shape, const std::vector<int64_t>& valid) {
  const int64_t s = shape.back();
  std::vector<float> v(static_cast<size_t>(numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) {
    const int64_t b = static_cast<int64_t>(i) / (static_cast<int64_t>(v.size()) / static_cast<int64_t>(valid.size()));
    v[i] = static_cast<int64_t>(i) % s < valid[static_cast<size_t>(b)] ? 0.0f : -10000.0f;
  }
  return Tensor::from_vector<float>(v, std::move(shape));
}

struct Run {
  std::vector<Tensor> outputs;
  runtime::PlanStats stats;
};

Run run_with(const std::shared_ptr<runtime::Model>& m, const std::vector<Tensor>& in,
             runtime::ExecutorKind kind, int threads) {
  runtime::SessionOptions o;
  o.executor = kind;
  o.threads = threads;
  auto s = runtime::Session::create(m, o);
  EXPECT_TRUE(s.ok()) << s.status().message();
  if (!s.ok()) return {};
  for (size_t i = 0; i < in.size(); ++i) EXPECT_TRUE((*s)->set_input(i, in[i]).ok());
  const Status st = (*s)->run();
  EXPECT_TRUE(st.ok()) << st.message();
  Run r;
  for (const Tensor& t : (*s)->outputs()) r.outputs.push_back(*t.clone());  // arena views
  r.stats = (*s)->stats();
  return r;
}

std::shared_ptr<runtime::Model> make_model(GraphBuilder& g) {
  auto m = runtime::Model::from_graph(g.build());
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? *m : nullptr;
}

// Fast (1, 2, 3 threads: identical bits) against the reference; returns the fast run's stats.
runtime::PlanStats check_fast_matches_reference(const std::shared_ptr<runtime::Model>& m,
                                                const std::vector<Tensor>& in,
                                                double rel_tol = 2e-5) {
  const Run ref = run_with(m, in, runtime::ExecutorKind::kReference, 1);
  const Run fast = run_with(m, in, runtime::ExecutorKind::kFast, 1);
  EXPECT_EQ(ref.outputs.size(), fast.outputs.size());
  for (size_t i = 0; i < ref.outputs.size() && i < fast.outputs.size(); ++i) {
    EXPECT_EQ(ref.outputs[i].shape(), fast.outputs[i].shape());
    int reported = 0;
    for (int64_t j = 0; j < ref.outputs[i].numel(); ++j) {
      const double want = ref.outputs[i].get_as_double(j), got = fast.outputs[i].get_as_double(j);
      const double tol = rel_tol * std::max(1.0, std::fabs(want));
      if (!(std::fabs(got - want) <= tol) && reported++ < 5) {
        ADD_FAILURE() << "output " << i << " element " << j << ": fast " << got << ", reference " << want;
      }
    }
  }
  for (int threads : {2, 3}) {
    const Run n = run_with(m, in, runtime::ExecutorKind::kFast, threads);
    for (size_t i = 0; i < fast.outputs.size() && i < n.outputs.size(); ++i) {
      EXPECT_EQ(std::memcmp(fast.outputs[i].raw(), n.outputs[i].raw(), fast.outputs[i].nbytes()), 0)
          << "output " << i << " differs with " << threads << " threads";
    }
  }
  return fast.stats;
}

ir::Attributes attention_attrs(int64_t heads, bool packed, float scale) {
  return GraphBuilder::attrs({{"num_heads", heads}, {"packed", int64_t{packed}}, {"scale", scale}});
}

TEST(FastKernelsTest, AttentionPackedQkvBertMask) {
  // B = 2, S = 19, 3 heads of 8; the second sequence padded after 11 tokens (skipped keys).
  GraphBuilder g;
  auto* qkv = g.input("qkv", DType::kF32, {2, 19, 72});
  auto* mask = g.input("mask", DType::kF32, {2, 1, 1, 19});
  g.output(g.op("Attention", {qkv, nullptr, nullptr, mask}, attention_attrs(3, true, 0.35f), "ratel"));
  const auto st = check_fast_matches_reference(make_model(g), {random_tensor({2, 19, 72}, 1),
                                                               padding_mask({2, 1, 1, 19}, {19, 11})});
  EXPECT_EQ(st.reference_steps, 0);
  EXPECT_EQ(st.fast_steps, 1);
}

TEST(FastKernelsTest, AttentionSeparateQkvFullAndKeyBroadcastMasks) {
  for (const Shape& mask_shape : {Shape{2, 4, 13, 13}, Shape{13, 1}, Shape{13}}) {
    SCOPED_TRACE(shape_str(mask_shape));
    GraphBuilder g;
    auto* q = g.input("q", DType::kF32, {2, 13, 20});
    auto* k = g.input("k", DType::kF32, {2, 13, 20});
    auto* v = g.input("v", DType::kF32, {2, 13, 20});
    auto* mask = g.input("mask", DType::kF32, mask_shape);
    // Default scale (1 / sqrt(5)) from the attribute's absence.
    g.output(g.op("Attention", {q, k, v, mask}, GraphBuilder::attrs({{"num_heads", int64_t{4}}}), "ratel"));
    const auto st = check_fast_matches_reference(
        make_model(g), {random_tensor({2, 13, 20}, 2), random_tensor({2, 13, 20}, 3),
                        random_tensor({2, 13, 20}, 4), random_tensor(mask_shape, 5, -3.0f, 0.0f)});
    EXPECT_EQ(st.reference_steps, 0);
  }
}

TEST(FastKernelsTest, AttentionWithoutMask) {
  GraphBuilder g;
  auto* qkv = g.input("qkv", DType::kF32, {1, 40, 96});
  g.output(g.op("Attention", {qkv, nullptr, nullptr, nullptr}, attention_attrs(2, true, 0.2f), "ratel"));
  const auto st = check_fast_matches_reference(make_model(g), {random_tensor({1, 40, 96}, 6)});
  EXPECT_EQ(st.reference_steps, 0);
}

TEST(FastKernelsTest, LayerNormalizationLastAxisAndTrailingAxes) {
  struct Case {
    Shape x;
    int64_t axis;
    Shape scale;
    bool bias;
  };
  for (const Case& c : {Case{{2, 7, 33}, -1, {33}, true}, Case{{3, 5, 8}, 1, {5, 8}, true},
                        Case{{4, 17}, 1, {17}, false}, Case{{2, 3, 6}, -1, {1, 1, 6}, true}}) {
    SCOPED_TRACE(shape_str(c.x) + " axis " + std::to_string(c.axis));
    GraphBuilder g(17);
    auto* x = g.input("x", DType::kF32, c.x);
    // The input is dead after the layer norm: it may run in place.
    auto* h = g.op("Add", {x, g.random(c.x)});
    std::vector<ir::Value*> ins{h, g.random(c.scale, 1.5f)};
    if (c.bias) ins.push_back(g.random(c.scale));
    auto* y = g.op("LayerNormalization", ins,
                   GraphBuilder::attrs({{"axis", c.axis}, {"epsilon", 1e-12f}}));
    g.output(g.op("Mul", {y, g.scalar(2.0f)}));
    const auto st = check_fast_matches_reference(make_model(g), {random_tensor(c.x, 7, -3.0f, 5.0f)});
    EXPECT_EQ(st.fast_steps, 2);  // the Add and the layer norm (Mul is a reference op)
    EXPECT_GT(st.aliased_values, 0);
  }
}

TEST(FastKernelsTest, LayerNormalizationWithStatisticsOutputFallsBack) {
  GraphBuilder g(17);
  auto* x = g.input("x", DType::kF32, {3, 10});
  ir::Value* y = g.op("LayerNormalization", {x, g.random({10}), g.random({10})});
  g.output(y);
  auto graph = g.build();
  // Ask for Mean as well: the fast kernel does not produce it, the reference runs the node.
  ir::Value* mean = graph->add_value("mean");
  y->producer->outputs.push_back(mean);
  mean->producer = y->producer;
  graph->outputs().push_back(mean);
  auto m = runtime::Model::from_graph(std::move(graph));
  ASSERT_TRUE(m.ok()) << m.status().message();
  const auto st = check_fast_matches_reference(*m, {random_tensor({3, 10}, 8)});
  EXPECT_EQ(st.fast_steps, 0);
  EXPECT_EQ(st.reference_steps, 1);
}

TEST(FastKernelsTest, SkipLayerNorm) {
  GraphBuilder g;
  auto* x = g.input("x", DType::kF32, {2, 9, 48});
  auto* skip = g.input("skip", DType::kF32, {2, 9, 48});
  auto* h = g.op("Mul", {x, g.scalar(1.5f)});  // dead after the layer norm: in place
  g.output(g.op("SkipLayerNorm", {h, skip, g.random({48}, 1.5f), g.random({48})},
                GraphBuilder::attrs({{"epsilon", 1e-12f}}), "ratel"));
  const auto st = check_fast_matches_reference(make_model(g), {random_tensor({2, 9, 48}, 10, -2.0f, 4.0f),
                                                               random_tensor({2, 9, 48}, 11)});
  EXPECT_EQ(st.fast_steps, 1);
}

TEST(FastKernelsTest, SoftmaxRowsAndFallback) {
  struct Case {
    int opset;
    Shape x;
    int64_t axis;
    bool fast;
  };
  for (const Case& c : {Case{13, {2, 3, 37}, -1, true}, Case{13, {4, 16}, 1, true},
                        Case{11, {2, 3, 5}, 1, true},   // coerced to [2, 15]
                        Case{13, {2, 3, 5}, 1, false},  // not the innermost axis: reference
                        Case{13, {2, 7, 1}, 1, true}}) {  // trailing 1s: still rows
    SCOPED_TRACE("opset " + std::to_string(c.opset) + " " + shape_str(c.x) + " axis " + std::to_string(c.axis));
    GraphBuilder g(c.opset);
    auto* x = g.input("x", DType::kF32, c.x);
    auto* h = g.op("Mul", {x, g.scalar(3.0f)});
    g.output(g.op("Softmax", {h}, GraphBuilder::attrs({{"axis", c.axis}})));
    const auto st = check_fast_matches_reference(make_model(g), {random_tensor(c.x, 12, -4.0f, 4.0f)});
    EXPECT_EQ(st.fast_steps, c.fast ? 1 : 0);
  }
}

TEST(FastKernelsTest, GeluErfFormInPlaceAndTanhFallback) {
  for (const char* approximate : {"none", "tanh"}) {
    SCOPED_TRACE(approximate);
    GraphBuilder g;
    auto* x = g.input("x", DType::kF32, {3, 11, 700});  // > one parallel chunk
    auto* h = g.op("Add", {x, g.scalar(0.25f)});
    auto* y = g.op("Gelu", {h}, GraphBuilder::attrs({{"approximate", std::string(approximate)}}), "ratel");
    g.output(g.op("Mul", {y, g.scalar(0.5f)}));  // y is not a graph output: it may share h's buffer
    const auto st = check_fast_matches_reference(make_model(g), {random_tensor({3, 11, 700}, 13, -6.0f, 6.0f)});
    const bool erf = std::string(approximate) == "none";
    EXPECT_EQ(st.fast_steps, erf ? 2 : 1);  // the Add, and the erf GELU
    if (erf) {
      EXPECT_GT(st.aliased_values, 0);
    }
  }
}

// f32 Add where each input is the output's shape or a suffix of it (embedding sums, biases):
// the reference's bits (one rounding each), in place over input 0 where it has the output's
// shape; other broadcasts and other types stay reference steps.
TEST(FastKernelsTest, AddSameShapeAndSuffixBroadcasts) {
  struct Case {
    Shape a, b;
    bool fast;
  };
  for (const Case& c : {Case{{1, 37, 700}, {1, 37, 700}, true},  // > one parallel chunk
                        Case{{3, 5, 7}, {7}, true}, Case{{7}, {3, 5, 7}, true},
                        Case{{3, 5, 7}, {1, 1, 7}, true}, Case{{3, 5, 7}, {1}, true},
                        Case{{3, 5, 7}, {5, 7}, true},
                        Case{{3, 5, 7}, {3, 1, 7}, false},  // a middle broadcast: reference
                        Case{{3, 5, 1}, {3, 5, 7}, false}}) {
    SCOPED_TRACE(shape_str(c.a) + " + " + shape_str(c.b));
    GraphBuilder g;
    auto* a = g.input("a", DType::kF32, c.a);
    auto* b = g.input("b", DType::kF32, c.b);
    auto* ma = g.op("Mul", {a, g.scalar(1.5f)});  // not a graph input, so the Add may overwrite it
    auto* sum = g.op("Add", {ma, b});
    g.output(g.op("Mul", {sum, g.scalar(0.5f)}));
    const auto st = check_fast_matches_reference(make_model(g), {random_tensor(c.a, 31), random_tensor(c.b, 32)},
                                                 /*rel_tol=*/0.0);
    EXPECT_EQ(st.fast_steps, c.fast ? 1 : 0);
    if (c.fast && c.a.size() == 3) {  // a has the output's shape
      EXPECT_GT(st.aliased_values, 0) << "the sum should reuse the buffer of its first input";
    }
  }
  GraphBuilder g;  // integers: the reference
  auto* a = g.input("a", DType::kI32, {4, 5});
  g.output(g.op("Add", {a, a}));
  auto m = make_model(g);
  const auto r = run_with(m, {Tensor::from_vector<int32_t>(std::vector<int32_t>(20, 3), {4, 5})},
                         runtime::ExecutorKind::kFast, 1);
  EXPECT_EQ(r.stats.fast_steps, 0);
}

TEST(FastKernelsTest, DenseEpiloguesIncludingTanhGelu) {
  // tanh GELU (TensorFlow BERT) runs after the packed GEMM with the vectorized exp; erf GELU and
  // the residual in the GEMM epilogue. Odd sizes, a residual, and 1/2/3 threads.
  for (const char* activation : {"none", "gelu", "gelu_tanh"}) {
    for (bool residual : {false, true}) {
      SCOPED_TRACE(std::string(activation) + (residual ? " + residual" : ""));
      GraphBuilder g;
      auto* x = g.input("x", DType::kF32, {1, 19, 37});
      auto* r = residual ? g.input("r", DType::kF32, {1, 19, 53}) : nullptr;
      g.output(g.op("Dense", {x, g.random({37, 53}), g.random({53}), r},
                    GraphBuilder::attrs({{"activation", std::string(activation)}}), "ratel"));
      std::vector<Tensor> in;
      in.reserve(2);  // (building it from an initializer list trips a GCC 12 -Warray-bounds false positive)
      in.push_back(random_tensor({1, 19, 37}, 21));
      if (residual) in.push_back(random_tensor({1, 19, 53}, 22));
      const auto st = check_fast_matches_reference(make_model(g), in);
      EXPECT_EQ(st.fast_steps, 1);
      EXPECT_EQ(st.reference_steps, 0);
    }
  }
}

}  // namespace
}  // namespace ratel
