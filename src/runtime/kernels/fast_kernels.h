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
Result<std::unique_ptr<Kernel>> make_qdense_half_kernel(const ir::Node& node);

// y[m x n] = gelu_tanh(y) (+ residual, same layout) row by row on the pool (dense_kernel.cpp):
// the tanh-approximated GELU of TensorFlow's BERT, right after a GEMM wrote y.
void gelu_tanh_rows(const ExecContext& ctx, float* y, size_t m, size_t n, const float* residual);

}  // namespace ratel::runtime
