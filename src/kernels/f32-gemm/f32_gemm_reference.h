// Portable references for the GEMM kernels: naive loops, double accumulation, std::erf.
// Tests compare every fast kernel against the reference with the same signature.
#pragma once

#include <cstddef>

#include "kernels/f32-gemm/f32_gemm_ukernel.h"

namespace ratel::kernels {

// The microkernel contract (f32_gemm_ukernel.h) for any tile: MR and NR only bound mr and nc,
// NR is the packed panel width and a_stride the A tile's row stride.
void f32_gemm_ukernel_reference(size_t tile_mr, size_t tile_nr, size_t a_stride, size_t mr,
                                size_t nc, size_t kc, const float* a, const float* packed_b,
                                float* c, size_t c_stride, const GemmUkernelParams& params);

// The reference with exactly a GemmUkernelFn's signature, for a kernel with this geometry.
template <size_t MR, size_t NR, size_t A_STRIDE>
void f32_gemm_ukernel_reference_t(size_t mr, size_t nc, size_t kc, const float* __restrict a,
                                  const float* __restrict packed_b, float* __restrict c,
                                  size_t c_stride, const GemmUkernelParams& params) {
  f32_gemm_ukernel_reference(MR, NR, A_STRIDE, mr, nc, kc, a, packed_b, c, c_stride, params);
}

// GELU in double precision, erf form.
double gelu_reference(double x);

}  // namespace ratel::kernels
