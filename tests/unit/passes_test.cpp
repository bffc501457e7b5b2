// Graph optimizer: every pass on small graphs in the exact forms exporters emit. Each test builds
// the same graph twice, loads it with and without optimization, checks the expected fused ops
// appear (and the decomposed ones are gone), and compares both graphs' outputs on random inputs
// with the reference executor.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <random>

#include "runtime/model.h"
#include "support/graph_builder.h"

namespace ratel {
namespace {

using testing::GraphBuilder;
using Build = std::function<void(GraphBuilder&)>;
using Attrs = ir::Attributes;

std::map<std::string, int> histogram(const ir::Graph& g) {
  std::map<std::string, int> h;
  for (const auto& n : g.nodes()) ++h[n->domain.empty() ? n->op_type : n->domain + "." + n->op_type];
  return h;
}

std::vector<Tensor> random_inputs(const runtime::Model& m) {
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<Tensor> inputs;
  for (const ir::Value* v : m.inputs()) {
    std::vector<float> data(static_cast<size_t>(numel(v->shape)));
    for (float& x : data) x = normal(rng);
    inputs.push_back(Tensor::from_vector<float>(data, v->shape));
  }
  return inputs;
}

std::vector<Tensor> run(const std::shared_ptr<runtime::Model>& m, const std::vector<Tensor>& inputs) {
  auto s = runtime::Session::create(m);
  EXPECT_TRUE(s.ok()) << s.status().message();
  for (size_t i = 0; i < inputs.size(); ++i) EXPECT_TRUE((*s)->set_input(i, inputs[i]).ok());
  const Status st = (*s)->run();
  EXPECT_TRUE(st.ok()) << st.message();
  return (*s)->outputs();
}

// Loads `build` plain and optimized; returns the optimized op histogram and checks outputs agree
// within `tol` (the fused reference kernels compute in double, the unfused ones round to float
// after every op: the difference is a few float ulps of the values involved).
std::map<std::string, int> optimize_and_compare(const Build& build, double tol = 1e-5) {
  GraphBuilder a, b;
  build(a);
  build(b);
  runtime::LoadOptions plain;
  plain.optimize = false;
  auto m0 = runtime::Model::from_graph(a.build(), plain);
  auto m1 = runtime::Model::from_graph(b.build());
  EXPECT_TRUE(m0.ok()) << m0.status().message();
  EXPECT_TRUE(m1.ok()) << m1.status().message();
  if (!m0.ok() || !m1.ok()) return {};
  const auto inputs = random_inputs(**m0);
  const auto out0 = run(*m0, inputs);
  const auto out1 = run(*m1, inputs);
  EXPECT_EQ(out0.size(), out1.size());
  for (size_t i = 0; i < out0.size() && i < out1.size(); ++i) {
    EXPECT_EQ(out0[i].shape(), out1[i].shape());
    double max_diff = 0;
    for (int64_t j = 0; j < out0[i].numel(); ++j) {
      max_diff = std::max(max_diff, std::fabs(out0[i].get_as_double(j) - out1[i].get_as_double(j)));
    }
    EXPECT_LE(max_diff, tol) << "output " << i;
  }
  return histogram((*m1)->graph());
}

// ---- layer norm --------------------------------------------------------------------------

void pytorch_layer_norm(GraphBuilder& g, ir::Value* x, int64_t h, bool affine = true) {
  auto* mean = g.op("ReduceMean", {x}, GraphBuilder::attrs({{"axes", std::vector<int64_t>{-1}}}));
  auto* d = g.op("Sub", {x, mean});
  auto* p = g.op("Pow", {d, g.scalar(2.0f)});
  auto* var = g.op("ReduceMean", {p}, GraphBuilder::attrs({{"axes", std::vector<int64_t>{-1}}}));
  auto* s = g.op("Sqrt", {g.op("Add", {var, g.scalar(1e-12f)})});
  ir::Value* y = g.op("Div", {d, s});
  if (affine) y = g.op("Add", {g.op("Mul", {y, g.random({h}, 1.0f)}), g.random({h})});
  g.output(y);
}

TEST(LayerNormFusionTest, PyTorchForm) {
  auto h = optimize_and_compare([](GraphBuilder& g) {
    pytorch_layer_norm(g, g.input("x", DType::kF32, {2, 5, 24}), 24);
  });
  EXPECT_EQ(h["LayerNormalization"], 1);
  EXPECT_EQ(h.size(), 1u) << "decomposed ops left behind";
}

TEST(LayerNormFusionTest, PyTorchFormWithoutAffine) {
  auto h = optimize_and_compare([](GraphBuilder& g) {
    pytorch_layer_norm(g, g.input("x", DType::kF32, {3, 17}), 17, false);
  });
  EXPECT_EQ(h["LayerNormalization"], 1);
}

TEST(LayerNormFusionTest, TensorFlowMomentsForm) {
  auto h = optimize_and_compare([](GraphBuilder& g) {
    auto* x = g.input("x", DType::kF32, {7, 32});
    auto axes = GraphBuilder::attrs({{"axes", std::vector<int64_t>{1}}});
    auto* mean = g.op("ReduceMean", {x}, axes);
    auto* d = g.op("Sub", {x, mean});
    auto* var = g.op("ReduceMean", {g.op("Mul", {d, d})}, axes);
    auto* rstd = g.op("Reciprocal", {g.op("Sqrt", {g.op("Add", {var, g.scalar(1e-12f)})})});
    auto* scale = g.op("Mul", {rstd, g.random({32}, 1.0f)});
    auto* shift = g.op("Sub", {g.random({32}), g.op("Mul", {mean, scale})});
    g.output(g.op("Add", {g.op("Mul", {x, scale}), shift}));
  });
  EXPECT_EQ(h["LayerNormalization"], 1);
  EXPECT_EQ(h.size(), 1u);
}

TEST(LayerNormFusionTest, NotFusedWhenAnIntermediateIsUsedElsewhere) {
  auto h = optimize_and_compare([](GraphBuilder& g) {
    auto* x = g.input("x", DType::kF32, {4, 8});
    auto* mean = g.op("ReduceMean", {x}, GraphBuilder::attrs({{"axes", std::vector<int64_t>{-1}}}));
    auto* d = g.op("Sub", {x, mean});
    auto* var = g.op("ReduceMean", {g.op("Pow", {d, g.scalar(2.0f)})},
                     GraphBuilder::attrs({{"axes", std::vector<int64_t>{-1}}}));
    auto* y = g.op("Div", {d, g.op("Sqrt", {g.op("Add", {var, g.scalar(1e-5f)})})});
    g.output(y);
    g.output(var);  // the variance is also a model output: fusing would lose it
  });
  EXPECT_EQ(h["LayerNormalization"], 0);
}

TEST(LayerNormFusionTest, NotFusedOverANonLastAxis) {
  auto h = optimize_and_compare([](GraphBuilder& g) {
    auto* x = g.input("x", DType::kF32, {4, 8});
    auto axes = GraphBuilder::attrs({{"axes", std::vector<int64_t>{0}}});
    auto* mean = g.op("ReduceMean", {x}, axes);
    auto* d = g.op("Sub", {x, mean});
    auto* var = g.op("ReduceMean", {g.op("Pow", {d, g.scalar(2.0f)})}, axes);
    g.output(g.op("Div", {d, g.op("Sqrt", {g.op("Add", {var, g.scalar(1e-5f)})})}));
  });
  EXPECT_EQ(h["LayerNormalization"], 0);
}

// ---- GELU ----------------------------------------------------------------------------------

TEST(GeluFusionTest, ErfFormAllMultiplicationOrders) {
  for (int order = 0; order < 3; ++order) {
    auto h = optimize_and_compare([order](GraphBuilder& g) {
      auto* x = g.input("x", DType::kF32, {3, 11});
      auto* a = g.op("Add", {g.op("Erf", {g.op("Div", {x, g.scalar(1.4142135f)})}), g.scalar(1.0f)});
      ir::Value* y = nullptr;
      if (order == 0) y = g.op("Mul", {g.op("Mul", {x, a}), g.scalar(0.5f)});
      if (order == 1) y = g.op("Mul", {g.op("Mul", {x, g.scalar(0.5f)}), a});
      if (order == 2) y = g.op("Mul", {x, g.op("Mul", {a, g.scalar(0.5f)})});
      g.output(y);
    });
    EXPECT_EQ(h["ratel.Gelu"], 1) << "order " << order;
    EXPECT_EQ(h.size(), 1u) << "order " << order;
  }
}

TEST(GeluFusionTest, TanhFormAsGoogleBert) {
  auto h = optimize_and_compare([](GraphBuilder& g) {
    auto* x = g.input("x", DType::kF32, {5, 13});
    auto* cube = g.op("Pow", {x, g.scalar(3.0f)});
    auto* inner = g.op("Add", {x, g.op("Mul", {g.scalar(0.044715f), cube})});
    auto* t = g.op("Tanh", {g.op("Mul", {g.scalar(0.7978846f), inner})});
    auto* cdf = g.op("Mul", {g.scalar(0.5f), g.op("Add", {g.scalar(1.0f), t})});
    g.output(g.op("Mul", {x, cdf}));
  });
  EXPECT_EQ(h["ratel.Gelu"], 1);
  EXPECT_EQ(h.size(), 1u);
}

TEST(GeluFusionTest, WrongConstantIsNotFused) {
  auto h = optimize_and_compare([](GraphBuilder& g) {
    auto* x = g.input("x", DType::kF32, {4});
    auto* a = g.op("Add", {g.op("Erf", {g.op("Div", {x, g.scalar(1.5f)})}), g.scalar(1.0f)});
    g.output(g.op("Mul", {g.op("Mul", {x, a}), g.scalar(0.5f)}));
  });
  EXPECT_EQ(h["ratel.Gelu"], 0);
}

// ---- Dense ---------------------------------------------------------------------------------

TEST(DenseFusionTest, MatMulBiasGeluResidual) {
  auto h = optimize_and_compare([](GraphBuilder& g) {
    auto* x = g.input("x", DType::kF32, {1, 9, 16});
    auto* r = g.input("r", DType::kF32, {1, 9, 24});
    auto* y = g.op("Add", {g.random({24}), g.op("MatMul", {x, g.random({16, 24})})});
    auto* a = g.op("Add", {g.op("Erf", {g.op("Div", {y, g.scalar(1.4142135f)})}), g.scalar(1.0f)});
    auto* gelu = g.op("Mul", {g.op("Mul", {y, a}), g.scalar(0.5f)});
    g.output(g.op("Add", {r, gelu}));
  });
  EXPECT_EQ(h["ratel.Dense"], 1);
  EXPECT_EQ(h.size(), 1u);
}

TEST(DenseFusionTest, RunTimeWeightIsNotFused) {
  auto h = optimize_and_compare([](GraphBuilder& g) {
    auto* x = g.input("x", DType::kF32, {3, 4});
    auto* w = g.input("w", DType::kF32, {4, 5});
    g.output(g.op("Add", {g.op("MatMul", {x, w}), g.random({5})}));
  });
  EXPECT_EQ(h["ratel.Dense"], 0);
  EXPECT_EQ(h["MatMul"], 1);
}

// ---- Attention -----------------------------------------------------------------------------

// HF BERT self-attention as exported by PyTorch: [B, S, H] with nh heads.
void pytorch_attention(GraphBuilder& g, int64_t b, int64_t s, int64_t nh, int64_t hd) {
  const int64_t h = nh * hd;
  auto* x = g.input("x", DType::kF32, {b, s, h});
  auto* mask = g.input("mask", DType::kF32, {b, 1, 1, s});
  auto split = [&](ir::Value* v, std::vector<int64_t> perm) {
    auto* r = g.op("Reshape", {v, g.ints({b, s, nh, hd})});
    return g.op("Transpose", {r}, GraphBuilder::attrs({{"perm", perm}}));
  };
  auto dense = [&](ir::Value* in) { return g.op("Add", {g.random({h}), g.op("MatMul", {in, g.random({h, h})})}); };
  auto* q = split(dense(x), {0, 2, 1, 3});
  auto* k = split(dense(x), {0, 2, 3, 1});
  auto* v = split(dense(x), {0, 2, 1, 3});
  auto* scores = g.op("Div", {g.op("MatMul", {q, k}), g.scalar(std::sqrt(static_cast<float>(hd)))});
  auto* p = g.op("Softmax", {g.op("Add", {scores, mask})}, GraphBuilder::attrs({{"axis", int64_t{-1}}}));
  auto* ctx = g.op("Transpose", {g.op("MatMul", {p, v})}, GraphBuilder::attrs({{"perm", std::vector<int64_t>{0, 2, 1, 3}}}));
  g.output(g.op("Reshape", {ctx, g.ints({b, s, h})}));
}

TEST(AttentionFusionTest, PyTorchForm) {
  auto h = optimize_and_compare([](GraphBuilder& g) { pytorch_attention(g, 2, 7, 3, 4); });
  EXPECT_EQ(h["ratel.Attention"], 1);
  EXPECT_EQ(h["ratel.Dense"], 1) << "Q, K and V projections merged into one packed GEMM";
  EXPECT_EQ(h["Softmax"], 0);
  EXPECT_EQ(h["Transpose"], 0);
}

TEST(AttentionFusionTest, TensorFlowFormOn2DMatrices) {
  auto h = optimize_and_compare([](GraphBuilder& g) {
    const int64_t b = 1, s = 6, nh = 2, hd = 5, h = nh * hd;
    auto* x = g.input("x", DType::kF32, {b * s, h});
    auto* mask = g.input("mask", DType::kF32, {b, 1, s, s});
    auto split = [&](ir::Value* v) {
      auto* r = g.op("Reshape", {v, g.ints({b, s, nh, hd})});
      return g.op("Transpose", {r}, GraphBuilder::attrs({{"perm", std::vector<int64_t>{0, 2, 1, 3}}}));
    };
    auto dense = [&](ir::Value* in) { return g.op("Add", {g.op("MatMul", {in, g.random({h, h})}), g.random({h})}); };
    auto* q = split(dense(x));
    auto* kt = g.op("Transpose", {split(dense(x))}, GraphBuilder::attrs({{"perm", std::vector<int64_t>{0, 1, 3, 2}}}));
    auto* v = split(dense(x));
    auto* scores = g.op("Mul", {g.op("MatMul", {q, kt}), g.scalar(1.0f / std::sqrt(static_cast<float>(hd)))});
    auto* p = g.op("Softmax", {g.op("Add", {scores, mask})}, GraphBuilder::attrs({{"axis", int64_t{-1}}}));
    auto* ctx = g.op("Transpose", {g.op("MatMul", {p, v})}, GraphBuilder::attrs({{"perm", std::vector<int64_t>{0, 2, 1, 3}}}));
    g.output(g.op("Reshape", {ctx, g.ints({b * s, h})}));
  });
  EXPECT_EQ(h["ratel.Attention"], 1);
  EXPECT_EQ(h["Softmax"], 0);
}

// ---- cleanups ------------------------------------------------------------------------------

TEST(CleanupTest, ShapeSubgraphFoldsAndIdentitiesVanish) {
  auto h = optimize_and_compare([](GraphBuilder& g) {
    auto* x = g.input("x", DType::kF32, {2, 3, 4});
    // Reshape(x, Concat(Gather(Shape(x), 0), [-1])) — the dynamic-shape idiom exporters emit
    auto* dim0 = g.op("Gather", {g.op("Shape", {x}), g.ints({0})}, GraphBuilder::attrs({{"axis", int64_t{0}}}));
    auto* shape = g.op("Concat", {dim0, g.ints({-1})}, GraphBuilder::attrs({{"axis", int64_t{0}}}));
    auto* y = g.op("Identity", {g.op("Reshape", {x, shape})});
    g.output(g.op("Relu", {g.op("Cast", {y}, GraphBuilder::attrs({{"to", int64_t{1}}}))}));
  });
  EXPECT_EQ(h["Shape"], 0);
  EXPECT_EQ(h["Concat"], 0);
  EXPECT_EQ(h["Identity"], 0);
  EXPECT_EQ(h["Cast"], 0);
  EXPECT_EQ(h["Reshape"], 1);
  EXPECT_EQ(h["Relu"], 1);
}

TEST(CleanupTest, DeadNodesAreRemoved) {
  auto h = optimize_and_compare([](GraphBuilder& g) {
    auto* x = g.input("x", DType::kF32, {5});
    g.op("Exp", {x});  // unused
    g.output(g.op("Neg", {x}));
  });
  EXPECT_EQ(h["Exp"], 0);
  EXPECT_EQ(h["Neg"], 1);
}

}  // namespace
}  // namespace ratel
