// Integer quantization (passes/integer_quantization.cpp) with calibration (quant/calibration.h):
// every fused dense layer with a calibrated input becomes a ratel.QDense with integer activations
// and weights; the fast kernel equals QDense's reference; the result stays within what the
// rounding of x and w allows. For y = gelu(x·w + b) + r (gelu's slope <= 1.13), with x clipped
// to nothing (the ranges come from these very inputs), |Δx| <= x_scale / 2, |Δw| <= w_scale / 2:
//   |Δy| <= 1.13 · Σ_k (|Δx| |w_kj| + |x_k| |Δw_j| + |Δx| |Δw_j|)  + float rounding.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "quant/calibration.h"
#include "runtime/model.h"
#include "support/dense_graphs.h"

namespace ratel {
namespace {


constexpr int64_t kRows = 11, kK = 41, kN = 19;

Tensor random_tensor(Shape shape, uint32_t seed, float lo, float hi) {
  return testing::random_uniform(std::move(shape), seed, lo, hi);
}

std::unique_ptr<ir::Graph> dense_graph(const Tensor& w) { return testing::dense_gelu_residual_graph(w, kRows); }

std::shared_ptr<runtime::Model> load(const Tensor& w, const std::string& scheme, bool per_channel,
                                     const passes::ActivationRanges& ranges = {}, float smooth_alpha = 0.0f,
                                     int activation_bits = 8) {
  runtime::LoadOptions o;
  o.smooth_quant_alpha = smooth_alpha;
  o.activation_bits = activation_bits;
  o.quantization_scheme = scheme;
  o.channel_quantization = per_channel;
  o.activation_ranges = ranges;
  o.release_packed_weights = false;
  auto m = runtime::Model::from_graph(dense_graph(w), o);
  EXPECT_TRUE(m.ok()) << scheme << ": " << m.status().message();
  return m.ok() ? *m : nullptr;
}

std::unique_ptr<runtime::Session> session(const std::shared_ptr<runtime::Model>& m, runtime::ExecutorKind kind,
                                          int threads = 1) {
  runtime::SessionOptions o;
  o.executor = kind;
  o.threads = threads;
  auto s = runtime::Session::create(m, o);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? std::move(s).value() : nullptr;
}

std::vector<float> run(const std::shared_ptr<runtime::Model>& m, const std::vector<Tensor>& in,
                       runtime::ExecutorKind kind, int threads = 1) {
  auto s = session(m, kind, threads);
  if (!s) return {};
  for (size_t i = 0; i < in.size(); ++i) EXPECT_TRUE(s->set_input(i, in[i]).ok());
  EXPECT_TRUE(s->run().ok());
  return s->outputs()[0].to_vector<float>();
}

// Calibrates the float32 model on the given samples of (x, r).
Result<passes::ActivationRanges> calibrate(const Tensor& w, const std::vector<std::vector<Tensor>>& samples,
                                           quant::CalibrateMode mode = quant::CalibrateMode::kMaxMin) {
  auto m = load(w, "float32", false);
  auto s = session(m, runtime::ExecutorKind::kFast);
  quant::CalibrateOptions c;
  c.mode = mode;
  return quant::calibrate(*s, samples.size(), [&](size_t i) -> Status {
    for (size_t j = 0; j < samples[i].size(); ++j) RATEL_RETURN_IF_ERROR(s->set_input(j, samples[i][j]));
    return s->run();
  }, c);
}

// Runs the quantized dense layer `m` on (x, r) with both executors and checks: the fast kernel is
// used, gives the same bits on 1 and 3 threads, stays within 1e-5 of the reference kernel (GELU's
// approximation) and within the rounding bound of `exact` (float32), computed in the smoothed
// quantities x' = x f, w' = w / f (f = 1 without smoothing). Returns the summed |fast - exact|.
double check_quantized_dense(const std::shared_ptr<runtime::Model>& m, const Tensor& x, const Tensor& r,
                             const std::vector<float>& exact, const std::vector<float>& ws,
                             const std::vector<double>& f, float x_scale, const std::vector<float>& w_scale) {
  const std::vector<float> xs = x.to_vector<float>();
  const std::vector<float> ref = run(m, {x, r}, runtime::ExecutorKind::kReference);
  auto fast_session = session(m, runtime::ExecutorKind::kFast);
  EXPECT_TRUE(fast_session->set_input(0, x).ok() && fast_session->set_input(1, r).ok() && fast_session->run().ok());
  EXPECT_EQ(fast_session->stats().reference_steps, 0) << "the integer QDense fell back to the reference kernel";
  const std::vector<float> fast = fast_session->outputs()[0].to_vector<float>();
  EXPECT_EQ(fast, run(m, {x, r}, runtime::ExecutorKind::kFast, 3)) << "thread count changed the bits";
  EXPECT_EQ(fast.size(), exact.size());
  if (fast.size() != exact.size() || ref.size() != exact.size()) return 0;
  const double dx = x_scale / 2;
  double error = 0;
  for (int64_t i = 0; i < kRows; ++i) {
    for (int64_t j = 0; j < kN; ++j) {
      const double dw = w_scale[w_scale.size() == 1 ? 0 : static_cast<size_t>(j)] / 2;
      double s = 0, bound = 0;
      for (int64_t k = 0; k < kK; ++k) {
        const double xa = std::fabs(xs[static_cast<size_t>(i * kK + k)]) * f[static_cast<size_t>(k)];
        const double wa = std::fabs(ws[static_cast<size_t>(k * kN + j)]) / f[static_cast<size_t>(k)];
        s += xa * wa;
        bound += dx * wa + xa * dw + dx * dw;
      }
      const double floats = (kK + 8) * 0x1p-24 * (s + bound) + 1e-6;  // fp32 sums, the epilogue, erf
      const size_t at = static_cast<size_t>(i * kN + j);
      EXPECT_LE(std::fabs(fast[at] - ref[at]), 1e-5 * (1 + std::fabs(ref[at]))) << "fast vs reference at " << i << "," << j;
      EXPECT_LE(std::fabs(fast[at] - exact[at]), 1.13 * bound + floats) << "vs float32 at " << i << "," << j;
      error += std::fabs(fast[at] - exact[at]);
    }
  }
  return error;
}

TEST(CalibrationTest, MaxMinRangeIsTheExtremesOfEverySampleAndRepeatable) {
  const Tensor w = random_tensor({kK, kN}, 1, -0.5f, 0.5f);
  std::vector<std::vector<Tensor>> samples;
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (uint32_t i = 0; i < 3; ++i) {
    Tensor x = random_tensor({1, kRows, kK}, 10 + i, -1.0f - static_cast<float>(i), 2.0f + static_cast<float>(i));
    for (float v : x.to_vector<float>()) lo = std::min(lo, v), hi = std::max(hi, v);
    samples.push_back({x, random_tensor({1, kRows, kN}, 20 + i, -1, 1)});
  }
  auto ranges = calibrate(w, samples);
  ASSERT_TRUE(ranges.ok()) << ranges.status().message();
  ASSERT_EQ(ranges->size(), 1u);
  const passes::ValueRange r = ranges->begin()->second;
  EXPECT_EQ(ranges->begin()->first, "x");
  EXPECT_EQ(r.min, lo);
  EXPECT_EQ(r.max, hi);
  auto again = calibrate(w, samples);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->begin()->second.min, r.min);
  EXPECT_EQ(again->begin()->second.max, r.max);
}

TEST(CalibrationTest, HistogramModesClipARareOutlierAndMaxMinDoesNot) {
  // 400,000 values uniform in [-1, 1] and one at 8: clipping at ~2 costs the outlier (8 - 2)^2 but
  // saves 400,000 · (step^2 / 12) with a 4x smaller step, so mse clips too; KL's 128-level search
  // starts at 8 · 128 / 2048 = 0.5.
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<float> v(400000);
  for (float& x : v) x = d(rng);
  v[777] = 8.0f;
  quant::Histogram h;
  h.lo = -8.0f;  // symmetric about 0, as calibrate() builds it for kl_divergence
  h.hi = 8.0f;
  h.counts.assign(4096, 0);
  h.add(v.data(), v.size());
  uint64_t total = 0;
  for (uint64_t c : h.counts) total += c;
  EXPECT_EQ(total, v.size());
  quant::CalibrateOptions o;
  o.mode = quant::CalibrateMode::kMaxMin;
  EXPECT_EQ(quant::choose_range(h, o).max, 8.0f);
  for (auto mode : {quant::CalibrateMode::kPercentile, quant::CalibrateMode::kKlDivergence, quant::CalibrateMode::kMse}) {
    SCOPED_TRACE(quant::calibrate_mode_name(mode));
    o.mode = mode;
    const passes::ValueRange r = quant::choose_range(h, o);
    EXPECT_LT(r.max, 5.0f) << "the outlier should be clipped";
    EXPECT_GT(r.max, 0.5f) << "the bulk of the data should be kept";
    EXPECT_LT(r.min, -0.5f);
    EXPECT_GT(r.min, -5.0f);
  }
}

TEST(CalibrationTest, NonFiniteActivationsAndBadOptionsAreErrors) {
  const Tensor w = random_tensor({kK, kN}, 1, -0.5f, 0.5f);
  std::vector<float> xs = random_tensor({1, kRows, kK}, 4, -1, 1).to_vector<float>();
  xs[5] = std::numeric_limits<float>::quiet_NaN();
  const Tensor r = random_tensor({1, kRows, kN}, 5, -1, 1);
  auto ranges = calibrate(w, {{random_tensor({1, kRows, kK}, 6, -1, 1), r},
                              {Tensor::from_vector<float>(xs, {1, kRows, kK}), r}});
  ASSERT_FALSE(ranges.ok());
  EXPECT_NE(ranges.status().message().find("calibration sample 1: activation 'x' holds nan"), std::string::npos)
      << ranges.status().message();
  EXPECT_FALSE(calibrate(w, {}).ok());
  auto mode = quant::parse_calibrate_mode("entropy");
  ASSERT_FALSE(mode.ok());
  EXPECT_NE(mode.status().message().find("maxmin, percentile, kl_divergence or mse"), std::string::npos);
}

struct Scheme {
  std::string name;
  std::string x_type;
  DType w_type;
  bool w_zero_point;
};

TEST(IntegerQuantizationTest, DenseLayersRunOnIntegersWithinTheRoundingBound) {
  const Tensor w = random_tensor({kK, kN}, 5, -0.5f, 0.7f);
  const Tensor x = random_tensor({1, kRows, kK}, 6, -1.5f, 2.5f);
  const Tensor r = random_tensor({1, kRows, kN}, 7, -1.0f, 1.0f);
  const std::vector<float> ws = w.to_vector<float>();
  auto ranges = calibrate(w, {{x, r}});
  ASSERT_TRUE(ranges.ok()) << ranges.status().message();
  const std::vector<float> exact = run(load(w, "float32", false), {x, r}, runtime::ExecutorKind::kReference);
  ASSERT_EQ(exact.size(), static_cast<size_t>(kRows * kN));

  for (const Scheme& sc : {Scheme{"int8_asym", "u8", DType::kI8, true}, Scheme{"int8_asym_w_sym", "u8", DType::kI8, false},
                           Scheme{"int8_sym", "s8", DType::kI8, false}, Scheme{"uint8_asym", "u8", DType::kU8, true},
                           Scheme{"int16_sym", "s16", DType::kI16, false}}) {
    for (bool per_channel : {false, true}) {
      SCOPED_TRACE(sc.name + (per_channel ? " per channel" : " per tensor"));
      auto m = load(w, sc.name, per_channel, *ranges);
      ASSERT_TRUE(m);
      ASSERT_EQ(m->graph().nodes().size(), 1u);
      const ir::Node& q = *m->graph().nodes()[0];
      ASSERT_EQ(q.op_type, "QDense");
      EXPECT_EQ(*q.attrs.get_string("x_type", ""), sc.x_type);
      EXPECT_EQ(q.inputs[1]->dtype, sc.w_type);
      EXPECT_EQ(q.has_input(3), sc.w_zero_point);
      const float x_scale = *q.attrs.get_float("x_scale", 0);
      const std::vector<float> w_scale = q.inputs[2]->constant.to_vector<float>();
      ASSERT_EQ(w_scale.size(), per_channel ? static_cast<size_t>(kN) : 1u);

      check_quantized_dense(m, x, r, exact, ws, std::vector<double>(static_cast<size_t>(kK), 1.0), x_scale, w_scale);
    }
  }
}

// --activation-bits 7: u8 activations use [0, 127] (about twice the 8-bit step, so the rounding
// bound doubles and still holds); s8 and s16 activations are left as they are.
TEST(IntegerQuantizationTest, SevenBitActivationsHalveTheLevelsOfU8ActivationsOnly) {
  const Tensor w = random_tensor({kK, kN}, 5, -0.5f, 0.7f);
  const Tensor x = random_tensor({1, kRows, kK}, 6, -1.5f, 2.5f);
  const Tensor r = random_tensor({1, kRows, kN}, 7, -1.0f, 1.0f);
  auto ranges = calibrate(w, {{x, r}});
  ASSERT_TRUE(ranges.ok()) << ranges.status().message();
  const std::vector<float> exact = run(load(w, "float32", false), {x, r}, runtime::ExecutorKind::kReference);
  for (const Scheme& sc : {Scheme{"int8_asym", "u8", DType::kI8, true}, Scheme{"uint8_asym", "u8", DType::kU8, true},
                           Scheme{"int8_sym", "s8", DType::kI8, false}, Scheme{"int16_sym", "s16", DType::kI16, false}}) {
    SCOPED_TRACE(sc.name);
    auto m8 = load(w, sc.name, true, *ranges);
    auto m7 = load(w, sc.name, true, *ranges, 0.0f, 7);
    ASSERT_TRUE(m8 && m7);
    const ir::Node& q8 = *m8->graph().nodes()[0];
    const ir::Node& q7 = *m7->graph().nodes()[0];
    ASSERT_EQ(q7.op_type, "QDense");
    const float s8 = *q8.attrs.get_float("x_scale", 0), s7 = *q7.attrs.get_float("x_scale", 0);
    if (sc.x_type == "u8") {
      EXPECT_EQ(*q7.attrs.get_int("x_qmin", -1), 0);
      EXPECT_EQ(*q7.attrs.get_int("x_qmax", -1), 127);
      EXPECT_NEAR(s7 / s8, 255.0 / 127.0, 0.02);  // the same range over 127 steps (zero point rounding aside)
    } else {
      EXPECT_EQ(s7, s8);
      EXPECT_EQ(*q7.attrs.get_int("x_qmax", -1), *q8.attrs.get_int("x_qmax", -1));
    }
    check_quantized_dense(m7, x, r, exact, w.to_vector<float>(), std::vector<double>(static_cast<size_t>(kK), 1.0), s7,
                          q7.inputs[2]->constant.to_vector<float>());
  }
}

// SmoothQuant: one input channel 40x the others sets a per-tensor step that leaves the others a
// few levels; dividing channel k by s_k (and multiplying weight row k by it) must keep the result,
// for every alpha (0.25 to 1), within the rounding bound of the smoothed x' = x / s and w' = s · w, and with
// alpha 0.5 make it markedly closer to float32 than the unsmoothed layer.
TEST(IntegerQuantizationTest, SmoothingMovesAnOutlierChannelIntoTheWeights) {
  constexpr int64_t kOutlier = 3;
  const Tensor w = random_tensor({kK, kN}, 15, -0.5f, 0.5f);
  std::vector<float> xs = random_tensor({1, kRows, kK}, 16, -1.0f, 1.0f).to_vector<float>();
  for (int64_t i = 0; i < kRows; ++i) xs[static_cast<size_t>(i * kK + kOutlier)] *= 40.0f;
  const Tensor x = Tensor::from_vector<float>(xs, {1, kRows, kK});
  const Tensor r = random_tensor({1, kRows, kN}, 17, -1.0f, 1.0f);
  const std::vector<float> ws = w.to_vector<float>();
  auto ranges = calibrate(w, {{x, r}});
  ASSERT_TRUE(ranges.ok()) << ranges.status().message();
  const passes::ValueRange& range = ranges->at("x");
  ASSERT_EQ(range.channel_min.size(), static_cast<size_t>(kK));
  ASSERT_EQ(range.channel_max.size(), static_cast<size_t>(kK));
  for (int64_t k = 0; k < kK; ++k) {  // the per-channel extremes are the data's
    float lo = xs[static_cast<size_t>(k)], hi = lo;
    for (int64_t i = 0; i < kRows; ++i) lo = std::min(lo, xs[static_cast<size_t>(i * kK + k)]), hi = std::max(hi, xs[static_cast<size_t>(i * kK + k)]);
    EXPECT_EQ(range.channel_min[static_cast<size_t>(k)], lo);
    EXPECT_EQ(range.channel_max[static_cast<size_t>(k)], hi);
  }
  const std::vector<float> exact = run(load(w, "float32", false), {x, r}, runtime::ExecutorKind::kReference);

  double error[5] = {0, 0, 0, 0, 0};
  const float alphas[5] = {0.0f, 0.5f, 0.25f, 0.75f, 1.0f};
  for (int smoothed = 0; smoothed < 5; ++smoothed) {
    const float alpha = alphas[smoothed];
    SCOPED_TRACE("alpha " + std::to_string(alpha));
    auto m = load(w, "int8_asym", true, *ranges, alpha);
    ASSERT_TRUE(m);
    const ir::Node& q = *m->graph().nodes()[0];
    ASSERT_EQ(q.op_type, "QDense");
    ASSERT_EQ(q.has_input(6), alpha > 0);
    std::vector<double> f(static_cast<size_t>(kK), 1.0);
    if (smoothed) {
      const std::vector<float> fs = q.inputs[6]->constant.to_vector<float>();
      ASSERT_EQ(fs.size(), static_cast<size_t>(kK));
      for (int64_t k = 0; k < kK; ++k) {
        double wmax = 0, xmax = std::max(std::fabs(range.channel_min[static_cast<size_t>(k)]),
                                         std::fabs(range.channel_max[static_cast<size_t>(k)]));
        for (int64_t j = 0; j < kN; ++j) wmax = std::max(wmax, std::fabs(static_cast<double>(ws[static_cast<size_t>(k * kN + j)])));
        const double want = std::pow(wmax, 1.0 - alpha) / std::pow(xmax, alpha);
        EXPECT_NEAR(fs[static_cast<size_t>(k)], want, 1e-6 * want) << "channel " << k;
        f[static_cast<size_t>(k)] = fs[static_cast<size_t>(k)];
      }
    }
    const float x_scale = *q.attrs.get_float("x_scale", 0);
    const std::vector<float> w_scale = q.inputs[2]->constant.to_vector<float>();
    error[smoothed] = check_quantized_dense(m, x, r, exact, ws, f, x_scale, w_scale);
  }
  // Measured when written: the summed error is 13.5 unsmoothed, 2.1 / 4.2 / 1.8 with alpha 0.5 /
  // 0.25 / 0.75; half is a loose floor for 0.5.
  EXPECT_LT(error[1], 0.5 * error[0]) << "smoothing did not reduce the error: " << error[1] << " vs " << error[0];
}

TEST(IntegerQuantizationTest, LayersWithoutACalibratedRangeStayFloat) {
  const Tensor w = random_tensor({kK, kN}, 5, -0.5f, 0.5f);
  passes::ActivationRanges ranges{{"not_in_this_graph", {-1.0f, 1.0f}}};
  auto m = load(w, "int8_asym", true, ranges);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->graph().nodes().size(), 1u);
  EXPECT_EQ(m->graph().nodes()[0]->op_type, "Dense");
}

TEST(IntegerQuantizationTest, HybridLayerNamesKeepLayersFloatAndMustMatchOne) {
  const Tensor w = random_tensor({kK, kN}, 5, -0.5f, 0.5f);
  const Tensor x = random_tensor({1, kRows, kK}, 6, -1.5f, 2.5f);
  auto ranges = calibrate(w, {{x, random_tensor({1, kRows, kN}, 7, -1, 1)}});
  ASSERT_TRUE(ranges.ok());
  const std::string layer = load(w, "float32", false)->graph().nodes()[0]->outputs[0]->name;
  runtime::LoadOptions o;
  o.quantization_scheme = "int8_asym";
  o.activation_ranges = *ranges;
  o.float_layers = {layer.substr(1)};  // any part of the name selects the layer
  auto m = runtime::Model::from_graph(dense_graph(w), o);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ((*m)->graph().nodes()[0]->op_type, "Dense");
  o.float_layers = {"no_such_layer"};
  m = runtime::Model::from_graph(dense_graph(w), o);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("--hybrid-layer-name 'no_such_layer' matches no dense layer"), std::string::npos)
      << m.status().message();
}

}  // namespace
}  // namespace ratel
