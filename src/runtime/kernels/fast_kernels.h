// Factories of the fast kernels (one per file in this folder). Each returns nullptr (and ok) for
// nodes it does not handle.
#pragma once

#include <memory>

#include "runtime/kernel.h"

namespace ratel::runtime {

Result<std::unique_ptr<Kernel>> make_dense_kernel(const ir::Node& node);
Result<std::unique_ptr<Kernel>> make_attention_kernel(const ir::Node& node);
Result<std::unique_ptr<Kernel>> make_layer_norm_kernel(const ir::Node& node);
Result<std::unique_ptr<Kernel>> make_softmax_kernel(const ir::Node& node);
Result<std::unique_ptr<Kernel>> make_gelu_kernel(const ir::Node& node);

}  // namespace ratel::runtime
