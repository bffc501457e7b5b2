// Embedding quantization (passes/embedding_quantization.cpp, ratel.QGather in ops/embedding.cpp):
// with a quantization scheme, a lookup into a large constant table reads a table stored in fp16
// (default), bf16 or int8 blocks, and every looked-up element is within its rounding of the f32
// one: |Δ| <= 2^-11 |y| + 2^-25 (fp16, whose subnormals step by 2^-24), 2^-8 |y| (bf16), scale / 2 with scale = max |block of 32| / 127
// (int8). Small tables and constant lookups stay as they were.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "runtime/model.h"
#include "support/graph_builder.h"

namespace ratel {
namespace {

using testing::GraphBuilder;

constexpr int64_t kVocab = 1100, kDim = 96, kSeq = 9;

Tensor table() {
  std::mt19937 rng(11);
  std::normal_distribution<float> d(0.0f, 0.05f);
  std::vector<float> v(static_cast<size_t>(kVocab * kDim));
  for (float& x : v) x = d(rng);
  for (int64_t r = 0; r < kVocab; ++r) v[static_cast<size_t>(r * kDim + 7)] *= 20;  // an outlier dimension, as BERT has
  return Tensor::from_vector<float>(v, {kVocab, kDim});
}

// y = Gather(T, ids) + 0: the lookup BERT's embeddings start with.
std::unique_ptr<ir::Graph> lookup_graph(const Tensor& t) {
  GraphBuilder g;
  auto* ids = g.input("ids", DType::kI64, {1, kSeq});
  g.output(g.op("Add", {g.op("Gather", {g.constant(t), ids}), g.scalar(0.0f)}));
  return g.build();
}

Result<std::vector<float>> lookup(const Tensor& t, const std::string& embedding, const std::vector<int64_t>& ids,
                                  DType* table_type = nullptr) {
  runtime::LoadOptions o;
  o.quantization_scheme = "float16";
  o.embedding_quantization = embedding;
  RATEL_ASSIGN_OR_RETURN(auto m, runtime::Model::from_graph(lookup_graph(t), o));
  for (const auto& n : m->graph().nodes()) {
    if (table_type && (n->op_type == "QGather" || n->op_type == "Gather")) *table_type = n->inputs[0]->dtype;
  }
  RATEL_ASSIGN_OR_RETURN(auto s, runtime::Session::create(m));
  RATEL_RETURN_IF_ERROR(s->set_input(0, Tensor::from_vector<int64_t>(ids, {1, kSeq})));
  RATEL_RETURN_IF_ERROR(s->run());
  return s->outputs()[0].to_vector<float>();
}

TEST(EmbeddingQuantizationTest, LookedUpRowsAreWithinTheirRounding) {
  const Tensor t = table();
  const std::vector<int64_t> ids = {0, 5, 1099, 17, -1, 300, 5, 1024, 64};
  auto exact = lookup(t, "float32", ids);
  ASSERT_TRUE(exact.ok()) << exact.status().message();
  const float* tv = t.data<float>();
  for (const auto& [mode, type] : std::vector<std::pair<std::string, DType>>{
           {"auto", DType::kF16}, {"float16", DType::kF16}, {"bfloat16", DType::kBF16}, {"int8", DType::kI8}}) {
    SCOPED_TRACE(mode);
    DType got = DType::kUndefined;
    auto y = lookup(t, mode, ids, &got);
    ASSERT_TRUE(y.ok()) << y.status().message();
    EXPECT_EQ(got, type);
    for (int64_t p = 0; p < kSeq; ++p) {
      const int64_t row = ids[static_cast<size_t>(p)] < 0 ? ids[static_cast<size_t>(p)] + kVocab : ids[static_cast<size_t>(p)];
      for (int64_t c = 0; c < kDim; ++c) {
        const float e = (*exact)[static_cast<size_t>(p * kDim + c)], q = (*y)[static_cast<size_t>(p * kDim + c)];
        ASSERT_EQ(e, tv[row * kDim + c]);
        // fp16 below 2^-14 is subnormal: absolute steps of 2^-24, so half of one is added.
        double bound = type == DType::kF16 ? std::fabs(e) * 0x1p-11 + 0x1p-25 : std::fabs(e) * 0x1p-8;
        if (type == DType::kI8) {
          float m = 0;
          for (int64_t k = c / 32 * 32; k < c / 32 * 32 + 32; ++k) m = std::max(m, std::fabs(tv[row * kDim + k]));
          bound = m / 127.0 / 2 * (1 + 1e-6);
        }
        EXPECT_LE(std::fabs(q - e), bound) << "position " << p << ", element " << c;
      }
    }
  }
}

TEST(EmbeddingQuantizationTest, Int8BlocksKeepSmallElementsBesideAnOutlierDimension) {
  // With one scale per row, elements ~0.05 beside the ~1.0 outlier would get steps of 1/127;
  // blocks of 32 keep the outlier's step to its own block.
  const Tensor t = table();
  const std::vector<int64_t> ids = {3, 4, 5, 6, 7, 8, 9, 10, 11};
  auto exact = lookup(t, "float32", ids);
  auto y = lookup(t, "int8", ids);
  ASSERT_TRUE(exact.ok() && y.ok());
  double err_outlier_block = 0, err_other_blocks = 0;
  for (size_t i = 0; i < exact->size(); ++i) {
    const double e = std::fabs((*y)[i] - (*exact)[i]);
    (i % kDim < 32 ? err_outlier_block : err_other_blocks) = std::max(i % kDim < 32 ? err_outlier_block : err_other_blocks, e);
  }
  EXPECT_LT(err_other_blocks, err_outlier_block / 5);
}

TEST(EmbeddingQuantizationTest, BadIdsAndUnknownModesAreErrors) {
  const Tensor t = table();
  for (const char* mode : {"float16", "int8"}) {
    auto y = lookup(t, mode, {0, 1, 2, 3, 1100, 5, 6, 7, 8});
    ASSERT_FALSE(y.ok()) << mode;
    EXPECT_NE(y.status().message().find("1100"), std::string::npos) << y.status().message();
  }
  auto y = lookup(t, "int4", {0, 1, 2, 3, 4, 5, 6, 7, 8});
  ASSERT_FALSE(y.ok());
  EXPECT_NE(y.status().message().find("unknown embedding quantization 'int4'"), std::string::npos) << y.status().message();
}

}  // namespace
}  // namespace ratel
