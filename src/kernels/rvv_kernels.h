// The RVV 1.0 elementwise / row kernels (riscv64 builds with RATEL_RVV_KERNELS only). Each has the
// signature of its portable twin in vunary.h, softmax.h, layernorm.h and the same contract and
// error bound; tests/riscv/rvv_kernels_test.cpp compares them with the references.
//
// Run them only where cpu::active_isa() is Isa::kRvv (rvv_*_kernel below check that): on the C920 /
// C906 (RVV 0.7.1) they crash with SIGILL.
#pragma once

#include <cstddef>

#include "cpu/cpu_features.h"
#include "kernels/layernorm.h"
#include "kernels/softmax.h"
#include "kernels/vunary.h"

namespace ratel::kernels {

void f32_vgelu__rvv(size_t n, const float* x, float* y);
void f32_verf__rvv(size_t n, const float* x, float* y);
void f32_vexp__rvv(size_t n, const float* x, float* y);
void f32_softmax__rvv(size_t n, const float* x, float scale, const float* bias, float* y);
void f32_layernorm__rvv(size_t n, const float* x, const float* skip, const float* gamma,
                        const float* beta, float epsilon, float* y);

}  // namespace ratel::kernels
