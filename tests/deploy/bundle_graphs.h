// Small graphs for the bundle tests, and a helper that re-signs a tampered bundle so that the
// decoder's own checks (not the checksums) are what rejects it.
#pragma once

#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "bundle/bundle.h"
#include "bundle/checksum.h"
#include "runtime/model.h"
#include "support/graph_builder.h"

namespace ratel::deploy_testing {

using ratel::testing::GraphBuilder;

// A one-layer transformer block written with Ratel's fused ops (Dense with bias / residual /
// GELU epilogues, packed attention with a mask, layer norm) plus ONNX ops that take every kind
// of attribute the reference kernels use (ints, int, float, tensor) and a shape subgraph.
inline std::unique_ptr<ir::Graph> block_graph() {
  GraphBuilder g(/*opset=*/17);  // LayerNormalization
  constexpr int64_t kS = 8, kH = 16, kF = 32;
  ir::Value* x = g.input("x", DType::kF32, {1, kS, kH});
  ir::Value* mask = g.input("mask", DType::kF32, {1, 1, 1, kS});
  auto ln = [&](ir::Value* in) {
    return g.op("LayerNormalization", {in, g.random({kH}, 1.0f), g.random({kH}, 0.1f)},
                GraphBuilder::attrs({{"epsilon", 1e-12f}, {"axis", int64_t{-1}}}));
  };
  ir::Value* l1 = ln(x);
  ir::Value* qkv = g.op("Dense", {l1, g.random({kH, 3 * kH}), g.random({3 * kH})}, {}, "ratel");
  ir::Value* att = g.op("Attention", {qkv, nullptr, nullptr, mask},
                        GraphBuilder::attrs({{"num_heads", int64_t{2}}, {"packed", int64_t{1}}}), "ratel");
  ir::Value* h = g.op("Dense", {att, g.random({kH, kH}), g.random({kH}), x}, {}, "ratel");
  ir::Value* l2 = ln(h);
  ir::Value* f = g.op("Dense", {l2, g.random({kH, kF}), g.random({kF})},
                      GraphBuilder::attrs({{"activation", std::string("gelu")}}), "ratel");
  ir::Value* gl = g.op("Gelu", {f}, {}, "ratel");
  ir::Value* t = g.op("Transpose", {gl}, GraphBuilder::attrs({{"perm", std::vector<int64_t>{0, 2, 1}}}));
  ir::Value* flat = g.op("Reshape", {t, g.ints({1, -1})});
  ir::Value* sm = g.op("Softmax", {flat}, GraphBuilder::attrs({{"axis", int64_t{-1}}}));
  // ConstantOfShape(Shape(x)): folded by inference on every load (the node stays in the graph).
  ir::Value* half = g.op("ConstantOfShape", {g.op("Shape", {x})},
                         GraphBuilder::attrs({{"value", Tensor::from_vector<float>({0.5f}, {1})}}));
  ir::Value* scaled = g.op("Mul", {l2, half});
  g.output(sm);
  g.output(scaled);
  return g.build();
}

// block_graph() optimized and quantized with `scheme` as `ratel run --quantization-scheme` loads
// a model (integer schemes: every dense layer's input range is [-4, 4], wide enough for
// block_inputs), its weights kept so that it can be written as a bundle.
inline Result<std::shared_ptr<runtime::Model>> quantized_block_model(const std::string& scheme, bool per_channel) {
  runtime::LoadOptions o;
  o.release_packed_weights = false;
  o.quantization_scheme = scheme;
  o.channel_quantization = per_channel;
  if (passes::parse_integer_scheme(scheme).ok()) {
    // The dense layers' input names are those of the optimized graph: load it once to read them.
    RATEL_ASSIGN_OR_RETURN(auto fp32, runtime::Model::from_graph(block_graph(), runtime::LoadOptions{}));
    for (const auto& n : fp32->graph().nodes()) {
      if (n->domain == "ratel" && n->op_type == "Dense") o.activation_ranges[n->inputs[0]->name] = {-4.0f, 4.0f};
    }
  }
  return runtime::Model::from_graph(block_graph(), o);
}

inline std::vector<Tensor> block_inputs(uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d;
  std::vector<float> x(8 * 16);
  for (float& v : x) v = d(rng);
  std::vector<float> mask(8, 0.0f);
  mask[6] = mask[7] = -10000.0f;
  return {Tensor::from_vector<float>(x, {1, 8, 16}), Tensor::from_vector<float>(mask, {1, 1, 1, 8})};
}

inline std::vector<Tensor> run_model(const std::shared_ptr<runtime::Model>& m, const std::vector<Tensor>& in,
                                     int threads = 1) {
  runtime::SessionOptions o;
  o.threads = threads;
  auto s = runtime::Session::create(m, o);
  if (!s.ok()) return {};
  for (size_t i = 0; i < in.size(); ++i) {
    if (!(*s)->set_input(i, in[i]).ok()) return {};
  }
  if (!(*s)->run().ok()) return {};
  std::vector<Tensor> out;
  for (const Tensor& t : (*s)->outputs()) out.push_back(*t.clone());
  return out;
}

inline bool bit_identical(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

// Recomputes every section checksum and the header checksum of a bundle in memory.
inline void resign(std::vector<std::byte>& b) {
  using namespace bundle;
  if (b.size() < kHeaderSize) return;
  uint32_t count;
  std::memcpy(&count, b.data() + header::kSectionCount, 4);
  if (count > (b.size() - kHeaderSize) / kSectionEntrySize) return;  // the table itself is out of bounds
  for (uint32_t i = 0; i < count && kHeaderSize + (i + 1) * kSectionEntrySize <= b.size(); ++i) {
    std::byte* e = b.data() + kHeaderSize + i * kSectionEntrySize;
    uint64_t offset, size;
    std::memcpy(&offset, e + entry::kOffset, 8);
    std::memcpy(&size, e + entry::kSize, 8);
    if (offset > b.size() || size > b.size() - offset) continue;
    const uint64_t sum = xxh64(std::span<const std::byte>(b.data() + offset, size));
    std::memcpy(e + entry::kChecksum, &sum, 8);
  }
  Xxh64 h;
  h.update(std::span<const std::byte>(b.data(), header::kChecksum));
  h.update(std::span<const std::byte>(b.data() + kHeaderSize, count * kSectionEntrySize));
  const uint64_t sum = h.digest();
  std::memcpy(b.data() + header::kChecksum, &sum, 8);
}

}  // namespace ratel::deploy_testing
