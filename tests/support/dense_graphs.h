// Small graphs and data shared by the quantization tests.
#pragma once

#include <random>
#include <vector>

#include "support/graph_builder.h"

namespace ratel::testing {

// Uniform values in [lo, hi] from a fixed seed.
inline Tensor random_uniform(Shape shape, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(static_cast<size_t>(numel(shape)));
  for (float& x : v) x = d(rng);
  return Tensor::from_vector<float>(v, std::move(shape));
}

// y = r + gelu(x·w + b) with x [1, rows, K], r [1, rows, N] for w [K, N]: dense fusion turns it
// into one ratel.Dense with every epilogue (bias, erf GELU, residual).
inline std::unique_ptr<ir::Graph> dense_gelu_residual_graph(const Tensor& w, int64_t rows) {
  const int64_t k = w.dim(0), n = w.dim(1);
  GraphBuilder g;
  auto* x = g.input("x", DType::kF32, {1, rows, k});
  auto* r = g.input("r", DType::kF32, {1, rows, n});
  auto* y = g.op("Add", {g.random({n}), g.op("MatMul", {x, g.constant(w)})});
  auto* a = g.op("Add", {g.op("Erf", {g.op("Div", {y, g.scalar(1.4142135f)})}), g.scalar(1.0f)});
  auto* gelu = g.op("Mul", {g.op("Mul", {y, a}), g.scalar(0.5f)});
  g.output(g.op("Add", {r, gelu}));
  return g.build();
}

}  // namespace ratel::testing
