// Embedding quantization: the large lookup tables (BERT's word embedding: 30522 x 384 floats,
// half of MiniLM's weights) stored in fewer bits, so a quantized model is small on disk and in
// memory. A Gather of rows from a constant f32 table T[V, D] with V >= kMinRows on axis 0
// becomes a ratel.QGather (ops/embedding.cpp) that converts only the rows it looks up:
//
//   int8 (int8 and float16_w_int8 schemes): symmetric, one scale per block of kBlock elements of
//       a row, scale = max |block| / 127: 1.125 bytes per element, error <= scale / 2
//   fp16 (float16, int16_sym) or bf16 (bfloat16): rounded to nearest even
//
#include <algorithm>
#include <cmath>

#include "core/dtype.h"
#include "passes/passes.h"
#include "passes/pattern.h"

namespace ratel::passes {

namespace {

constexpr int64_t kMinRows = 1024;  // position (512) and token-type (2) tables stay f32: they are small

constexpr int64_t kBlock = 32;      // elements per int8 scale

class EmbeddingQuantization : public Pass {
 public:
  explicit EmbeddingQuantization(EmbeddingStorage storage) : storage_(storage) {}
  const char* name() const override { return "embedding-quantization"; }
  const char* summary() const override {
    return "Gather from a large constant f32 table -> ratel.QGather from the table in int8 (blocks of 32) or fp16/bf16";
  }

  Result<int> run(ir::Graph& graph) override {
    int rewritten = 0;
    std::vector<ir::Node*> gathers;
    for (const auto& node : graph.nodes()) {
      ir::Node* g = node.get();
      if (!g->domain.empty() || g->op_type != "Gather" || *g->attrs.get_int("axis", 0) != 0) continue;
      const ir::Value* t = g->inputs[0];
      if (!t->is_constant() || t->data_released || t->dtype != DType::kF32 || t->shape.size() != 2 ||
          t->shape[0] < kMinRows || g->inputs[1]->is_constant()) {
        continue;
      }
      gathers.push_back(g);
    }
    for (ir::Node* g : gathers) {
      rewrite(graph, g);
      ++rewritten;
    }
    return rewritten;
  }

 private:
  void rewrite(ir::Graph& graph, ir::Node* g) const {
    const Tensor& table = g->inputs[0]->constant;
    const std::string base = g->inputs[0]->name;
    g->domain = "ratel";
    g->op_type = "QGather";
    g->attrs = {};
    if (storage_ == EmbeddingStorage::kInt8 && table.dim(1) % kBlock == 0) {
      auto [q, scale] = int8_blocks(table);
      g->inputs = {add_constant(graph, base + "_i8", std::move(q)), g->inputs[1],
                   add_constant(graph, base + "_block_scale", std::move(scale))};
      g->attrs.set("block", kBlock);
    } else {  // fp16 also when D is not a multiple of the block
      const DType half = storage_ == EmbeddingStorage::kBFloat16 ? DType::kBF16 : DType::kF16;
      g->inputs = {add_constant(graph, base + (half == DType::kF16 ? "_f16" : "_bf16"), half_table(table, half)),
                   g->inputs[1]};
    }
  }

  static std::pair<Tensor, Tensor> int8_blocks(const Tensor& t) {
    const int64_t v = t.dim(0), d = t.dim(1), blocks = d / kBlock;
    const float* src = t.data<float>();
    std::vector<int8_t> q(static_cast<size_t>(v * d));
    std::vector<float> scale(static_cast<size_t>(v * blocks));
    for (int64_t b = 0; b < v * blocks; ++b) {  // block b covers elements [b * kBlock, (b + 1) * kBlock)
      float m = 0;
      for (int64_t c = 0; c < kBlock; ++c) m = std::max(m, std::fabs(src[b * kBlock + c]));
      const float s = m > 0 ? m / 127.0f : 1.0f;
      scale[static_cast<size_t>(b)] = s;
      for (int64_t c = 0; c < kBlock; ++c) {
        const float x = std::clamp(std::nearbyint(src[b * kBlock + c] / s), -127.0f, 127.0f);
        q[static_cast<size_t>(b * kBlock + c)] = static_cast<int8_t>(x);
      }
    }
    return {Tensor::from_vector<int8_t>(q, {v, d}), Tensor::from_vector<float>(scale, {v, blocks})};
  }

  static Tensor half_table(const Tensor& t, DType half) {
    auto out = Tensor::allocate(half, t.shape());
    RATEL_ASSERT(out.ok());
    const float* src = t.data<float>();
    auto* dst = static_cast<uint16_t*>(out->mutable_raw());
    for (int64_t i = 0; i < t.numel(); ++i) dst[i] = half == DType::kF16 ? float_to_half(src[i]) : float_to_bf16(src[i]);
    return std::move(out).value();
  }

  EmbeddingStorage storage_;
};

}  // namespace

std::unique_ptr<Pass> make_embedding_quantization(EmbeddingStorage storage) {
  return std::make_unique<EmbeddingQuantization>(storage);
}

}  // namespace ratel::passes
