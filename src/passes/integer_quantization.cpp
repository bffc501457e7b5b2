// Integer quantization (HHB's integer schemes): every ratel.Dense whose input has a calibrated
// range (quant/calibration.h) becomes a ratel.QDense that quantizes its input to 8 or 16 bits,
// multiplies by integer weights with an int32 accumulator and scales back to f32 in the
// epilogue (bias, GELU and residual stay f32; ops/quantized.cpp defines the arithmetic).
//
//   scheme           activations                     weights (per column with channel quantization)
//   int8_asym        u8, zero point (see below)      s8 with zero points: [min, max] -> [-128, 127]
//   int8_asym_w_sym  u8, zero point                  s8 symmetric: max|w| -> 127
//   int8_sym         s8 symmetric in [-127, 127]     s8 symmetric
//   uint8_asym       u8, zero point                  u8 with zero points: [min, max] -> [0, 255]
//   int16_sym        s16 symmetric in [-qx, qx]      s16 symmetric in [-qw, qw]
//
// Asymmetric activations use the 256 levels of u8 with a zero point: HHB's int8 with zero
// point z is the same set of values as u8 with zero point z + 128, and u8 x s8 is what x86's
// VNNI multiplies natively. Every range is widened to contain 0, so zero (padding, ReLU
// outputs) is exact. int16: the kernel sums s16 products in int32 (as the hardware does), so qw
// and qx are chosen per layer so that the sum can never wrap (split_int16).
//
// Layer norm, softmax, GELU, attention and every op that is not a dense layer stay f32; a dense
// layer without a calibrated range (never reached by the samples) stays f32 too.
#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "ops/quant_math.h"
#include "passes/passes.h"
#include "passes/pattern.h"
#include "passes/quantize_weights.h"

namespace ratel::passes {

namespace {

struct SchemeTraits {
  const char* x_type;  // QDense x_type
  bool x_symmetric;
  DType w_type;
  bool w_symmetric;
};

SchemeTraits traits(IntegerScheme s) {
  switch (s) {
    case IntegerScheme::kInt8Asym: return {"u8", false, DType::kI8, false};
    case IntegerScheme::kInt8AsymWSym: return {"u8", false, DType::kI8, true};
    case IntegerScheme::kInt8Sym: return {"s8", true, DType::kI8, true};
    case IntegerScheme::kUInt8Asym: return {"u8", false, DType::kU8, false};
    case IntegerScheme::kInt16Sym: return {"s16", true, DType::kI16, true};
  }
  return {"u8", false, DType::kI8, false};
}

// Largest q with K * q^2 < 2^31, at most 32767: int16 sums of K products never wrap.
int32_t int16_limit(int64_t k) {
  const double q = std::floor(std::sqrt(2147483647.0 / static_cast<double>(std::max<int64_t>(k, 1))));
  return static_cast<int32_t>(std::min(q, 32767.0));
}

// int16_sym: the weights' and activations' integer ranges [-qw, qw] and [-qx, qx]. The int32
// accumulator cannot wrap when qx · max_n Σ_k |wq[k][n]| < 2^31, so for each candidate qw (2^b - 1,
// b = 10..15) this takes the largest qx that guarantees it (at most 32767) and keeps the pair
// with the smallest relative rounding error 1/qw + 1/qx. Real weights sum to far less than
// K · qw, which leaves 12-14 bits on each side instead of the √(2^31 / K) a blind bound allows.
struct Int16Split {
  QuantizedWeights weights;
  int32_t qx = 0;
};

Int16Split split_int16(const Tensor& w, bool per_channel) {
  Int16Split best;
  double best_cost = 1e30;
  const int64_t k = w.dim(0), n = w.dim(1);
  for (int bits = 10; bits <= 15; ++bits) {
    const int32_t qw = (1 << bits) - 1;
    QuantizedWeights q = quantize_weights(w, DType::kI16, /*symmetric=*/true, per_channel, -qw, qw);
    const int16_t* d = q.data.data<int16_t>();
    int64_t worst = 1;
    for (int64_t c = 0; c < n; ++c) {
      int64_t sum = 0;
      for (int64_t r = 0; r < k; ++r) sum += std::abs(static_cast<int64_t>(d[r * n + c]));
      worst = std::max(worst, sum);
    }
    const int32_t qx = static_cast<int32_t>(std::min<int64_t>(32767, 2147483647 / worst));
    if (qx < 1) continue;
    const double cost = 1.0 / qw + 1.0 / qx;
    if (cost < best_cost) {
      best_cost = cost;
      best.weights = std::move(q);
      best.qx = qx;
    }
  }
  if (best.qx == 0) best = {quantize_weights(w, DType::kI16, true, per_channel, -1, 1), 1};  // unreachable: qw 1023, K < 2^21
  return best;
}

// SmoothQuant (Xiao et al. 2023): a per-tensor activation scale is set by the few outlier channels
// (MiniLM's post-layer-norm and post-GELU inputs have one channel ~15x the median), which leaves
// the other channels a handful of levels. Dividing input channel k by
// s_k = max|x_k|^alpha / max_n |w[k][n]|^(1 - alpha) and multiplying weight row k by it keeps
// x · W exact in real arithmetic while moving the outliers' range into weights quantized per
// output column. The kernel multiplies x by f_k = 1/s_k before quantizing (QDense's X_smooth).
struct Smoothing {
  Tensor weights;                    // w[k][n] / f_k
  std::vector<float> factors;        // f_k
  ValueRange range;                  // of x[., k] * f_k, from the per-channel extremes
};

std::optional<Smoothing> smooth(const Tensor& w, const ValueRange& r, float alpha) {
  const int64_t k = w.dim(0), n = w.dim(1);
  if (!(alpha > 0) || r.channel_min.size() != static_cast<size_t>(k) || r.channel_max.size() != r.channel_min.size()) {
    return std::nullopt;
  }
  Result<Tensor> scaled = Tensor::allocate(DType::kF32, w.shape());  // every element is written below
  if (!scaled.ok()) return std::nullopt;
  Smoothing out{std::move(scaled).value(), std::vector<float>(static_cast<size_t>(k), 1.0f), {0, 0}};
  const float* src = w.data<float>();
  float* dst = out.weights.mutable_data<float>();
  for (int64_t i = 0; i < k; ++i) {
    const size_t c = static_cast<size_t>(i);
    const double x_max = std::max(std::fabs(r.channel_min[c]), std::fabs(r.channel_max[c]));
    double w_max = 0;
    for (int64_t j = 0; j < n; ++j) w_max = std::max(w_max, static_cast<double>(std::fabs(src[i * n + j])));
    float f = 1.0f;
    // A channel that is always zero, or meets only zero weights, has nothing to balance.
    if (x_max > 0 && w_max > 0) f = static_cast<float>(std::pow(w_max, 1.0 - alpha) / std::pow(x_max, alpha));
    if (!(f > 0) || !std::isfinite(f)) f = 1.0f;
    out.factors[c] = f;
    for (int64_t j = 0; j < n; ++j) dst[i * n + j] = static_cast<float>(static_cast<double>(src[i * n + j]) / f);
    // x * f is monotonic in x (f > 0), so the channel's extremes give the extremes of its products.
    if (r.channel_min[c] <= r.channel_max[c]) {
      out.range.min = std::min(out.range.min, r.channel_min[c] * f);
      out.range.max = std::max(out.range.max, r.channel_max[c] * f);
    }
  }
  return out;
}

class IntegerQuantization : public Pass {
 public:
  IntegerQuantization(IntegerScheme scheme, bool per_channel, ActivationRanges ranges, std::vector<std::string> keep,
                      float smooth_alpha, int activation_bits)
      : scheme_(scheme), per_channel_(per_channel), ranges_(std::move(ranges)), keep_(std::move(keep)),
        smooth_alpha_(smooth_alpha), activation_bits_(activation_bits) {}
  const char* name() const override { return "integer-quantization"; }
  const char* summary() const override {
    return "ratel.Dense with a calibrated input range -> ratel.QDense with integer activations and weights";
  }

  Result<int> run(ir::Graph& graph) override {
    const SchemeTraits t = traits(scheme_);
    int rewritten = 0;
    for (const auto& node : graph.nodes()) {
      ir::Node* d = node.get();
      if (d->domain != "ratel" || d->op_type != "Dense") continue;
      ir::Value* w = d->inputs[1];
      if (!w->is_constant() || w->dtype != DType::kF32 || w->shape.size() != 2) continue;
      auto range = ranges_.find(d->inputs[0]->name);
      if (range == ranges_.end()) continue;
      if (std::any_of(keep_.begin(), keep_.end(), [&](const std::string& p) { return dense_layer_matches(*d, p); })) {
        continue;
      }
      ops::quant::QRange xr = ops::quant::storage_range(scheme_ == IntegerScheme::kInt16Sym ? DType::kI16
                                                        : t.x_symmetric                      ? DType::kI8
                                                                                             : DType::kU8);
      ops::quant::QRange wr = ops::quant::storage_range(t.w_type);
      if (t.x_symmetric) xr.min = -xr.max;  // [-127, 127]: the same step on both sides of 0
      if (t.w_symmetric) wr.min = -wr.max;
      // 7-bit u8 activations: [0, 127] (measured on 1000 MiniLM-SQuAD tune questions, int8_asym per
      // channel: F1 87.99 vs 88.05 with [0, 255]; float32 88.46).
      if (activation_bits_ == 7 && integer_scheme_has_u8_activations(scheme_)) xr.max = xr.min + 127;
      std::optional<Smoothing> smoothing = smooth(w->constant, range->second, smooth_alpha_);
      const Tensor& weights = smoothing ? smoothing->weights : w->constant;
      const ValueRange& x_range = smoothing ? smoothing->range : range->second;
      QuantizedWeights qw;
      if (scheme_ == IntegerScheme::kInt16Sym) {
        const Int16Split split = split_int16(weights, per_channel_);
        xr = {-split.qx, split.qx};
        qw = std::move(split.weights);
      } else {
        qw = quantize_weights(weights, t.w_type, t.w_symmetric, per_channel_, wr.min, wr.max);
      }
      const Affine xa = affine_for(x_range.min, x_range.max, xr.min, xr.max, t.x_symmetric);
      ir::Value* bias = d->has_input(2) ? d->inputs[2] : nullptr;
      ir::Value* residual = d->has_input(3) ? d->inputs[3] : nullptr;
      ir::Value* wq = add_constant(graph, w->name + "_q", std::move(qw.data));
      ir::Value* scale = add_constant(graph, w->name + "_scale", std::move(qw.scale));
      ir::Value* zero = qw.zero_point.defined() ? add_constant(graph, w->name + "_zero_point", std::move(qw.zero_point))
                                                : nullptr;
      ir::Value* factors = nullptr;
      if (smoothing) {
        factors = add_constant(graph, w->name + "_smooth",
                               Tensor::from_vector(smoothing->factors, Shape{w->shape[0]}));
      }
      d->op_type = "QDense";
      d->inputs = {d->inputs[0], wq, scale, zero, bias, residual, factors};
      if (!factors) d->inputs.pop_back();
      d->attrs.set("x_type", std::string(t.x_type));
      d->attrs.set("x_scale", xa.scale);
      d->attrs.set("x_zero_point", static_cast<int64_t>(xa.zero_point));
      d->attrs.set("x_qmin", static_cast<int64_t>(xr.min));
      d->attrs.set("x_qmax", static_cast<int64_t>(xr.max));
      ++rewritten;
    }
    return rewritten;
  }

 private:
  IntegerScheme scheme_;
  bool per_channel_;
  ActivationRanges ranges_;
  std::vector<std::string> keep_;
  float smooth_alpha_;
  int activation_bits_;
};

}  // namespace

Result<IntegerScheme> parse_integer_scheme(const std::string& name) {
  if (name == "int8_asym") return IntegerScheme::kInt8Asym;
  if (name == "int8_asym_w_sym") return IntegerScheme::kInt8AsymWSym;
  if (name == "int8_sym") return IntegerScheme::kInt8Sym;
  if (name == "uint8_asym") return IntegerScheme::kUInt8Asym;
  if (name == "int16_sym") return IntegerScheme::kInt16Sym;
  return invalid_argument("'{}' is not an integer quantization scheme", name);
}

int integer_scheme_levels(IntegerScheme scheme, int64_t k) {
  switch (scheme) {
    case IntegerScheme::kInt8Sym: return 254;
    case IntegerScheme::kInt16Sym: return 2 * int16_limit(k);
    default: return 255;
  }
}

bool dense_layer_matches(const ir::Node& node, const std::string& pattern) {
  if (pattern.empty()) return false;
  auto has = [&](const ir::Value* v) { return v && v->name.find(pattern) != std::string::npos; };
  return (!node.outputs.empty() && has(node.outputs[0])) || (node.has_input(1) && has(node.inputs[1])) ||
         (node.has_input(2) && has(node.inputs[2]));
}

std::unique_ptr<Pass> make_integer_quantization(IntegerScheme scheme, bool per_channel, ActivationRanges ranges,
                                                std::vector<std::string> float_layers, float smooth_alpha,
                                                int activation_bits) {
  return std::make_unique<IntegerQuantization>(scheme, per_channel, std::move(ranges), std::move(float_layers),
                                               smooth_alpha, activation_bits);
}

bool integer_scheme_has_u8_activations(IntegerScheme scheme) {
  return scheme != IntegerScheme::kInt16Sym && !traits(scheme).x_symmetric;
}

}  // namespace ratel::passes
