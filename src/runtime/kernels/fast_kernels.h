// Factories of the fast kernels (one per file in this folder). Each returns nullptr (and ok) for
// nodes it does not handle.
#pragma once

#include <memory>
#include <optional>

#include "kernels/f32-gemm/f32_gemm_ukernel.h"  // kernels::Activation
#include "runtime/kernel.h"

namespace ratel::kernels {
struct QGemmUkernel;
}  // namespace ratel::kernels

namespace ratel::runtime {

Result<std::unique_ptr<Kernel>> make_dense_kernel(const ir::Node& node);
Result<std::unique_ptr<Kernel>> make_attention_kernel(const ir::Node& node);
Result<std::unique_ptr<Kernel>> make_layer_norm_kernel(const ir::Node& node);
Result<std::unique_ptr<Kernel>> make_softmax_kernel(const ir::Node& node);
Result<std::unique_ptr<Kernel>> make_gelu_kernel(const ir::Node& node);
Result<std::unique_ptr<Kernel>> make_add_kernel(const ir::Node& node);
Result<std::unique_ptr<Kernel>> make_qdense_half_kernel(const ir::Node& node);
Result<std::unique_ptr<Kernel>> make_qdense_int_kernel(const ir::Node& node);
// The same packed for an explicit int8/int16 GEMM microkernel (null: the default one for
// cpu::active_isa()), so that tests cover every microkernel this CPU can run.
Result<std::unique_ptr<Kernel>> make_qdense_int_kernel_with(const ir::Node& node,
                                                            const kernels::QGemmUkernel* ukernel);

// y[m x n] = gelu_tanh(y) (+ residual, same layout) row by row on the pool (dense_kernel.cpp):
// the tanh-approximated GELU of TensorFlow's BERT, right after a GEMM wrote y.
void gelu_tanh_rows(const ExecContext& ctx, float* y, size_t m, size_t n, const float* residual);

// A fused dense layer's `activation` attribute (ratel.Dense, ratel.QDense): the GELU the GEMM
// epilogue applies (erf) and whether the tanh form runs after the GEMM (gelu_tanh_rows);
// nullopt for anything else (the reference kernel reports it).
struct DenseActivation {
  kernels::Activation epilogue = kernels::Activation::kNone;
  bool gelu_tanh = false;
};
std::optional<DenseActivation> dense_activation(const ir::Node& node);

}  // namespace ratel::runtime
