// Constructors of every pass (one pass per file in src/passes/).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "passes/pass.h"

namespace ratel::passes {

// Cleanups
std::unique_ptr<Pass> make_constant_folding();
std::unique_ptr<Pass> make_dead_code_elimination();
std::unique_ptr<Pass> make_identity_elimination();

// Fusions (run in this order: each later one matches the ops earlier ones produce)
std::unique_ptr<Pass> make_layer_norm_fusion();
std::unique_ptr<Pass> make_gelu_fusion();
std::unique_ptr<Pass> make_dense_fusion();
std::unique_ptr<Pass> make_attention_fusion();
std::unique_ptr<Pass> make_qkv_merge();

// Quantization (after the fusions: it rewrites the ratel.Dense nodes they produce)
enum class WeightScheme { kFloat16, kBFloat16, kFloat16WInt8 };
// HHB's scheme name -> WeightScheme; an error naming the scheme for the others.
Result<WeightScheme> parse_weight_scheme(const std::string& name);
// per_channel: one int8 scale per output column (HHB's --channel-quantization), else per tensor.
std::unique_ptr<Pass> make_weight_quantization(WeightScheme scheme, bool per_channel);

// Large embedding tables (Gather from a constant [V >= 1024, D] f32 table) in fewer bits
// (embedding_quantization.cpp); every quantization scheme applies one of these.
enum class EmbeddingStorage { kInt8, kFloat16, kBFloat16 };
std::unique_ptr<Pass> make_embedding_quantization(EmbeddingStorage storage);

// The integer schemes quantize activations too, with ranges measured by calibration
// (quant/calibration.h): the [min, max] of each dense layer's input, by value name.
struct ValueRange {
  ValueRange() = default;
  ValueRange(float lo, float hi) : min(lo), max(hi) {}
  float min = 0;
  float max = 0;
  // Per input channel (the last dimension), the smallest and largest value seen; empty when not
  // measured. Smoothing (make_integer_quantization's smooth_alpha) needs them.
  std::vector<float> channel_min, channel_max;
};
using ActivationRanges = std::map<std::string, ValueRange>;

enum class IntegerScheme { kInt8Asym, kInt8AsymWSym, kInt8Sym, kUInt8Asym, kInt16Sym };
// HHB's scheme name -> IntegerScheme; an error for the others.
Result<IntegerScheme> parse_integer_scheme(const std::string& name);
// Integer levels the scheme gives an activation of a layer with K inputs (calibration's mse).
int integer_scheme_levels(IntegerScheme scheme, int64_t k);
// Rewrites each dense layer whose input has a range in `ranges` (integer_quantization.cpp).
// Layers matching one of `float_layers` stay float32 (mixed precision, HHB's --hybrid-layer-name):
// a pattern matches a dense layer when it is a substring of its output's, weight's or bias's name
// (e.g. "encoder.layer.5." or "qa_outputs").
// smooth_alpha in (0, 1] smooths activation outliers into the weights (SmoothQuant, Xiao et al.
// 2023): input channel k is divided by s_k = max|x_k|^alpha / max|w_k|^(1 - alpha) before it is
// quantized and weight row k multiplied by s_k, for every layer whose range has per-channel
// extremes; 0 leaves activations as they are.
// activation_bits 7 (schemes with u8 activations only) quantizes activations to [0, 127]
// instead of [0, 255]: AVX2 CPUs without VNNI then multiply with vpmaddubsw, exact only there.
std::unique_ptr<Pass> make_integer_quantization(IntegerScheme scheme, bool per_channel, ActivationRanges ranges,
                                                std::vector<std::string> float_layers = {},
                                                float smooth_alpha = 0.0f, int activation_bits = 8);
// Whether the scheme's activations are u8 (the ones --activation-bits 7 applies to).
bool integer_scheme_has_u8_activations(IntegerScheme scheme);
// True if `pattern` selects the dense layer `node` in the sense above.
bool dense_layer_matches(const ir::Node& node, const std::string& pattern);

}  // namespace ratel::passes
