// Weight-only quantization (passes/weight_quantization.cpp, LoadOptions::quantization_scheme):
// every fused dense layer becomes a ratel.QDense with fp16 / bf16 / int8 weights, the fast
// half-precision kernel agrees with QDense's reference, and the result stays within the error
// the weights' rounding allows. Bounds, for y = gelu(x·w + b) + r with gelu's slope <= 1.13:
//   float16         |Δw| <= 2^-11 |w|                         -> |Δy| <= 1.13 · 2^-11 · S
//   bfloat16        |Δx| <= 2^-9 |x|, |Δw| <= 2^-9 |w|         -> |Δy| <= 1.13 · (2^-8 + 2^-18) · S
//   float16_w_int8  |Δw| <= scale / 2 (per column or tensor)  -> |Δy| <= 1.13 · scale/2 · Σ|x|
// with S = Σ_k |x_k| |w_kj|, plus float summation error (K + 4) · 2^-24 · S on each side.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "runtime/model.h"
#include "support/dense_graphs.h"

namespace ratel {
namespace {


constexpr int64_t kRows = 9, kK = 37, kN = 23;

Tensor random_tensor(Shape shape, uint32_t seed, float lo, float hi) {
  return testing::random_uniform(std::move(shape), seed, lo, hi);
}

std::unique_ptr<ir::Graph> dense_graph(const Tensor& w) { return testing::dense_gelu_residual_graph(w, kRows); }

std::shared_ptr<runtime::Model> load(const Tensor& w, const std::string& scheme, bool per_channel) {
  runtime::LoadOptions o;
  o.quantization_scheme = scheme;
  o.channel_quantization = per_channel;
  o.release_packed_weights = false;
  auto m = runtime::Model::from_graph(dense_graph(w), o);
  EXPECT_TRUE(m.ok()) << scheme << ": " << m.status().message();
  return m.ok() ? *m : nullptr;
}

std::vector<float> run(const std::shared_ptr<runtime::Model>& m, const std::vector<Tensor>& in,
                       runtime::ExecutorKind kind, int threads = 1) {
  runtime::SessionOptions o;
  o.executor = kind;
  o.threads = threads;
  auto s = runtime::Session::create(m, o);
  EXPECT_TRUE(s.ok()) << s.status().message();
  if (!s.ok()) return {};
  for (size_t i = 0; i < in.size(); ++i) EXPECT_TRUE((*s)->set_input(i, in[i]).ok());
  EXPECT_TRUE((*s)->run().ok());
  return (*s)->outputs()[0].to_vector<float>();
}

struct Case {
  std::string scheme;
  bool per_channel;
  DType weight_type;
};

TEST(WeightQuantizationTest, DenseLayersRunQuantizedWithinTheRoundingBound) {
  const Tensor w = random_tensor({kK, kN}, 5, -0.5f, 0.5f);
  const Tensor x = random_tensor({1, kRows, kK}, 6, -1.5f, 1.5f);
  const Tensor r = random_tensor({1, kRows, kN}, 7, -1.0f, 1.0f);
  const std::vector<float> xs = x.to_vector<float>(), ws = w.to_vector<float>();
  const std::vector<float> exact = run(load(w, "float32", false), {x, r}, runtime::ExecutorKind::kReference);
  ASSERT_EQ(exact.size(), static_cast<size_t>(kRows * kN));

  for (const Case& c : {Case{"float16", false, DType::kF16}, Case{"bfloat16", false, DType::kBF16},
                        Case{"float16_w_int8", true, DType::kI8}, Case{"float16_w_int8", false, DType::kI8}}) {
    SCOPED_TRACE(c.scheme + (c.per_channel ? " per channel" : " per tensor"));
    auto m = load(w, c.scheme, c.per_channel);
    ASSERT_TRUE(m);
    // The graph: one QDense with weights of the scheme's type, nothing else.
    ASSERT_EQ(m->graph().nodes().size(), 1u);
    const ir::Node& q = *m->graph().nodes()[0];
    EXPECT_EQ(q.op_type, "QDense");
    EXPECT_EQ(q.inputs[1]->dtype, c.weight_type);

    const std::vector<float> ref = run(m, {x, r}, runtime::ExecutorKind::kReference);
    const std::vector<float> fast = run(m, {x, r}, runtime::ExecutorKind::kFast);
    const std::vector<float> fast3 = run(m, {x, r}, runtime::ExecutorKind::kFast, 3);
    ASSERT_EQ(fast.size(), exact.size());
    EXPECT_EQ(fast, fast3) << "thread count changed the bits";

    // The int8 scales, as the pass computes them: max |w| / 127 per column or over all.
    std::vector<float> scale(static_cast<size_t>(kN));
    for (int64_t j = 0; j < kN; ++j) {
      float mx = 0;
      for (int64_t k = 0; k < kK; ++k) {
        for (int64_t jj = c.per_channel ? j : 0; jj < (c.per_channel ? j + 1 : kN); ++jj) {
          mx = std::max(mx, std::fabs(ws[static_cast<size_t>(k * kN + jj)]));
        }
      }
      scale[static_cast<size_t>(j)] = mx / 127.0f;
    }
    for (int64_t i = 0; i < kRows; ++i) {
      for (int64_t j = 0; j < kN; ++j) {
        double s = 0, sx = 0;
        for (int64_t k = 0; k < kK; ++k) {
          s += std::fabs(xs[static_cast<size_t>(i * kK + k)]) * std::fabs(ws[static_cast<size_t>(k * kN + j)]);
          sx += std::fabs(xs[static_cast<size_t>(i * kK + k)]);
        }
        const double summation = 2 * (kK + 4) * 0x1p-24 * s + 1e-6;  // both sides' float sums, GELU's erf
        double rounding = 0;
        if (c.weight_type == DType::kF16) rounding = 1.13 * 0x1p-11 * s;
        if (c.weight_type == DType::kBF16) rounding = 1.13 * (0x1p-8 + 0x1p-18) * s;
        if (c.weight_type == DType::kI8) rounding = 1.13 * scale[static_cast<size_t>(j)] / 2 * sx;
        const size_t at = static_cast<size_t>(i * kN + j);
        EXPECT_LE(std::fabs(fast[at] - ref[at]), summation) << "fast vs reference at " << i << "," << j;
        EXPECT_LE(std::fabs(fast[at] - exact[at]), rounding + summation) << "vs float32 at " << i << "," << j;
      }
    }
  }
}

TEST(WeightQuantizationTest, UnknownSchemesUncalibratedIntegerSchemesAndUnfusedGraphsAreErrors) {
  const Tensor w = random_tensor({kK, kN}, 5, -0.5f, 0.5f);
  runtime::LoadOptions o;
  o.quantization_scheme = "int7_asym";
  auto m = runtime::Model::from_graph(dense_graph(w), o);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("unknown quantization scheme 'int7_asym' (float32, float16"), std::string::npos)
      << m.status().message();
  o.quantization_scheme = "int8_asym";
  m = runtime::Model::from_graph(dense_graph(w), o);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("'int8_asym' quantizes activations and needs calibration data"), std::string::npos)
      << m.status().message();
  o.quantization_scheme = "float16";
  o.fuse = false;
  m = runtime::Model::from_graph(dense_graph(w), o);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("needs the optimizer's fusions"), std::string::npos) << m.status().message();
}

}  // namespace
}  // namespace ratel
