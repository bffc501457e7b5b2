// Constructors of every pass (one pass per file in src/passes/).
#pragma once

#include <memory>
#include <string>

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

}  // namespace ratel::passes
