// Weight quantization: every ratel.Dense with constant f32 weights becomes a ratel.QDense whose
// weights are stored in the scheme's format (ops/quantized.cpp defines what QDense computes).
// These are HHB's weight-only schemes on x86, which need no calibration data:
//
//   float16         W rounded to fp16 (nearest even); X stays f32          -> QDense(x_type f32, W f16)
//   bfloat16        W rounded to bf16; X rounded to bf16 at each layer     -> QDense(x_type bf16, W bf16)
//   float16_w_int8  W to int8, symmetric: scale = max|W| / 127 per output column
//                   (per tensor without channel quantization), q = round_half_even(W / scale)
//                                                                           -> QDense(x_type f32, W i8, W_scale)
//
// Everything else (layer norm, softmax, GELU, attention) stays f32: these schemes change only
// the weights' storage, so their cost is the weights' rounding error alone.
#include <algorithm>
#include <cmath>

#include "core/dtype.h"
#include "passes/passes.h"
#include "passes/pattern.h"
#include "passes/quantize_weights.h"

namespace ratel::passes {

namespace {

Tensor round_weights(const Tensor& w, DType to) {
  auto t = Tensor::allocate(to, w.shape());
  RATEL_ASSERT(t.ok());
  const float* src = w.data<float>();
  auto* dst = static_cast<uint16_t*>(t->mutable_raw());
  for (int64_t i = 0; i < w.numel(); ++i) dst[i] = to == DType::kF16 ? float_to_half(src[i]) : float_to_bf16(src[i]);
  return std::move(t).value();
}

class WeightQuantization : public Pass {
 public:
  WeightQuantization(WeightScheme scheme, bool per_channel) : scheme_(scheme), per_channel_(per_channel) {}
  const char* name() const override { return "weight-quantization"; }
  const char* summary() const override {
    return "ratel.Dense with f32 weights -> ratel.QDense with fp16 / bf16 / int8 weights (weight-only schemes)";
  }

  Result<int> run(ir::Graph& graph) override {
    int rewritten = 0;
    for (const auto& node : graph.nodes()) {
      ir::Node* d = node.get();
      if (d->domain != "ratel" || d->op_type != "Dense") continue;
      ir::Value* w = d->inputs[1];
      if (!w->is_constant() || w->dtype != DType::kF32 || w->shape.size() != 2) continue;
      ir::Value* bias = d->has_input(2) ? d->inputs[2] : nullptr;
      ir::Value* residual = d->has_input(3) ? d->inputs[3] : nullptr;
      ir::Value* qw = nullptr;
      ir::Value* scale = nullptr;
      std::string x_type = "f32";
      switch (scheme_) {
        case WeightScheme::kFloat16:
          qw = add_constant(graph, w->name + "_f16", round_weights(w->constant, DType::kF16));
          break;
        case WeightScheme::kBFloat16:
          qw = add_constant(graph, w->name + "_bf16", round_weights(w->constant, DType::kBF16));
          x_type = "bf16";
          break;
        case WeightScheme::kFloat16WInt8: {
          // Symmetric int8, max |w| -> 127 per column (or tensor): the integer schemes' weights too.
          QuantizedWeights q = quantize_weights(w->constant, DType::kI8, /*symmetric=*/true, per_channel_, -127, 127);
          qw = add_constant(graph, w->name + "_i8", std::move(q.data));
          scale = add_constant(graph, w->name + "_scale", std::move(q.scale));
          break;
        }
      }
      d->op_type = "QDense";
      d->inputs = {d->inputs[0], qw, scale, nullptr, bias, residual};
      d->attrs.set("x_type", x_type);
      ++rewritten;
    }
    return rewritten;
  }

 private:
  WeightScheme scheme_;
  bool per_channel_;
};

}  // namespace

Result<WeightScheme> parse_weight_scheme(const std::string& name) {
  if (name == "float16") return WeightScheme::kFloat16;
  if (name == "bfloat16") return WeightScheme::kBFloat16;
  if (name == "float16_w_int8") return WeightScheme::kFloat16WInt8;
  return invalid_argument("unknown quantization scheme '{}' (float32, float16, bfloat16, float16_w_int8, "
                          "int8_asym, int8_asym_w_sym, int8_sym, uint8_asym, int16_sym)", name);
}

std::unique_ptr<Pass> make_weight_quantization(WeightScheme scheme, bool per_channel) {
  return std::make_unique<WeightQuantization>(scheme, per_channel);
}

}  // namespace ratel::passes
