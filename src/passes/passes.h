// Constructors of every pass (one pass per file in src/passes/).
#pragma once

#include <memory>

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

}  // namespace ratel::passes
