// Elementwise fp32 kernels: y[i] = f(x[i]) for i < n. x == y (in place) is allowed; partial
// overlap is not. n may be 0. The fast versions never read or write past n.
//
//   GELU (erf form) for a GELU node the GEMM epilogue did not absorb, and erf for a bare Erf:
//     vgelu_kernel(cpu::active_isa())(n, x, y);
// Error bounds: math/erf_approx.h (erf <= 5e-7 absolute; GELU <= 0.5 |x| 5e-7 + 2 ulp).
#pragma once

#include <cstddef>

#include "cpu/cpu_features.h"

namespace ratel::kernels {

using UnaryKernelFn = void (*)(size_t n, const float* x, float* y);

UnaryKernelFn vgelu_kernel(cpu::Isa isa);
UnaryKernelFn verf_kernel(cpu::Isa isa);

// References (double precision std::erf, rounded once).
void f32_vgelu_reference(size_t n, const float* x, float* y);
void f32_verf_reference(size_t n, const float* x, float* y);

void f32_vgelu__generic(size_t n, const float* x, float* y);
void f32_verf__generic(size_t n, const float* x, float* y);
#if defined(__x86_64__)
void f32_vgelu__avx2_fma(size_t n, const float* x, float* y);
void f32_verf__avx2_fma(size_t n, const float* x, float* y);
void f32_vgelu__avx512f(size_t n, const float* x, float* y);
void f32_verf__avx512f(size_t n, const float* x, float* y);
#endif

}  // namespace ratel::kernels
