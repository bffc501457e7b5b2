// compare_activations (`ratel run --dump-quantization-loss`): identical models compare as exactly
// equal; a float16 model's numbers for its output equal the ones computed here from the two
// sessions' outputs; inputs, which quantization never touches, compare as exact.
#include <gtest/gtest.h>

#include <cmath>

#include "quant/quantization_loss.h"
#include "support/dense_graphs.h"

namespace ratel {
namespace {

constexpr int64_t kRows = 7, kK = 33, kN = 20;

std::unique_ptr<runtime::Session> session(const Tensor& w, const std::string& scheme, const std::vector<Tensor>& in) {
  runtime::LoadOptions o;
  o.quantization_scheme = scheme;
  auto m = runtime::Model::from_graph(testing::dense_gelu_residual_graph(w, kRows), o);
  EXPECT_TRUE(m.ok()) << m.status().message();
  if (!m.ok()) return nullptr;
  auto s = runtime::Session::create(*m, {});
  EXPECT_TRUE(s.ok()) << s.status().message();
  if (!s.ok()) return nullptr;
  for (size_t i = 0; i < in.size(); ++i) EXPECT_TRUE((*s)->set_input(i, in[i]).ok());
  return std::move(s).value();
}

const quant::ValueLoss* find(const std::vector<quant::ValueLoss>& losses, const std::string& reader_prefix) {
  for (const auto& l : losses) {
    if (l.reader.rfind(reader_prefix, 0) == 0) return &l;
  }
  return nullptr;
}

class QuantizationLoss : public ::testing::Test {
 protected:
  Tensor w_ = testing::random_uniform({kK, kN}, 3, -0.4f, 0.4f);
  std::vector<Tensor> in_{testing::random_uniform({1, kRows, kK}, 4, -2.0f, 2.0f),
                          testing::random_uniform({1, kRows, kN}, 5, -1.0f, 1.0f)};
};

TEST_F(QuantizationLoss, IdenticalModelsCompareExactlyEqual) {
  auto a = session(w_, "float32", in_), b = session(w_, "float32", in_);
  ASSERT_TRUE(a && b);
  auto losses = quant::compare_activations(*a, *b);
  ASSERT_TRUE(losses.ok()) << losses.status().message();
  ASSERT_NE(find(*losses, "output"), nullptr);
  ASSERT_NE(find(*losses, "ratel.Dense"), nullptr) << "the dense layer's input is compared";
  for (const auto& l : *losses) {
    EXPECT_EQ(l.cosine, 1.0) << l.value;
    EXPECT_EQ(l.mse, 0.0) << l.value;
    EXPECT_EQ(l.max_abs, 0.0) << l.value;
    EXPECT_GT(l.count, 0) << l.value;
  }
}

TEST_F(QuantizationLoss, Float16WeightsNumbersMatchTheOutputsDifference) {
  auto f32 = session(w_, "float32", in_), f16 = session(w_, "float16", in_);
  ASSERT_TRUE(f32 && f16);
  auto losses = quant::compare_activations(*f32, *f16);
  ASSERT_TRUE(losses.ok()) << losses.status().message();
  // The dense layer reads the model input x: quantizing weights leaves it exact.
  const quant::ValueLoss* x = find(*losses, "ratel.QDense");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->value, "x");
  EXPECT_EQ(x->max_abs, 0.0);
  // The output's numbers, recomputed from the sessions' own outputs (run by compare_activations).
  const quant::ValueLoss* y = find(*losses, "output");
  ASSERT_NE(y, nullptr);
  const std::vector<float> q = f16->outputs()[0].to_vector<float>(), f = f32->outputs()[0].to_vector<float>();
  ASSERT_EQ(q.size(), f.size());
  ASSERT_EQ(y->count, static_cast<int64_t>(q.size()));
  double max_abs = 0, dot = 0, qq = 0, ff = 0, sq = 0;
  for (size_t i = 0; i < q.size(); ++i) {
    max_abs = std::max(max_abs, std::fabs(double{q[i]} - f[i]));
    dot += double{q[i]} * f[i];
    qq += double{q[i]} * q[i];
    ff += double{f[i]} * f[i];
    sq += (double{q[i]} - f[i]) * (double{q[i]} - f[i]);
  }
  EXPECT_EQ(y->max_abs, max_abs);
  EXPECT_GT(y->max_abs, 0.0) << "float16 weights must change the output";
  EXPECT_DOUBLE_EQ(y->mse, sq / static_cast<double>(q.size()));
  EXPECT_DOUBLE_EQ(y->cosine, dot / std::sqrt(qq * ff));
  // fp16 rounding of the weights: relative error ~2^-11 per product, so cosine stays near 1.
  EXPECT_GT(y->cosine, 0.9999);
  EXPECT_LT(y->cosine, 1.0);
  const std::string csv = quant::quantization_loss_csv(*losses);
  EXPECT_EQ(csv.rfind("value,reader,order,count,cosine,mse,max_abs,ref_max_abs\n", 0), 0u);
  EXPECT_NE(quant::format_quantization_loss(*losses).find("quantization loss of the outputs:"), std::string::npos);
}

}  // namespace
}  // namespace ratel
