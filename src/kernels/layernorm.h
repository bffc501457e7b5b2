// Layer normalization over rows (fp32): ONNX LayerNormalization over the last axis and Ratel's
// SkipLayerNorm (a residual added first).
//
//   layernorm_kernel(isa)(n, x, skip, gamma, beta, epsilon, y), one row of n >= 1:
//     z = x + skip            (skip may be null: z = x; the sum is rounded to float, as the
//                              unfused Add would store it)
//     mean = sum z / n,  var = sum (z - mean)^2 / n              (two passes: no cancellation)
//     y = (z - mean) * rstd * gamma + beta,  rstd = 1 / sqrt(var + epsilon)   (beta may be null)
//
// The mean is accumulated as z0 + sum (z - z0) / n (z0 the row's first element), which is exact
// for a constant row and loses nothing when |mean| >> std; rstd is computed in double from the
// float variance. x == y and skip == y (in place) are allowed; gamma/beta must not overlap y.
// Several rows over a thread pool (one row = one thread, same code: the result does not depend
// on the thread count): layernorm_rows.
//
// Error against the double-precision definition, per element (u = 2^-24, m, s2 the exact mean
// and variance of z, r = 1 / sqrt(s2 + eps); derived and asserted in
// tests/kernels/layernorm_test.cpp):
//   dm  <= gamma(n + 2) * mean|z - z0| + u |m|                 (error of the computed mean)
//   e_r <= 0.5 (dm^2 + gamma(n + 4) (s2 + dm^2)) / (s2 + eps) + 2u      (relative, of rstd)
//   |y - y_ref| <= |gamma| r ((1 + e_r) dm + |z - m| (e_r + 3u)) + u (|gamma (z - m) r| + |beta|)
//                  + u |y_ref|                                    (the reference's own rounding)
// For BERT rows (n = 384, |mean| and std of order 1) this is a few 1e-6 relative to |gamma|.
#pragma once

#include <cstddef>

#include "cpu/cpu_features.h"
#include "cpu/thread_pool.h"

namespace ratel::kernels {

using LayerNormKernelFn = void (*)(size_t n, const float* x, const float* skip, const float* gamma,
                                   const float* beta, float epsilon, float* y);

LayerNormKernelFn layernorm_kernel(cpu::Isa isa);

// Reference: the definition in double precision (z rounded to float first), rounded once.
void f32_layernorm_reference(size_t n, const float* x, const float* skip, const float* gamma,
                             const float* beta, float epsilon, float* y);

void f32_layernorm__generic(size_t n, const float* x, const float* skip, const float* gamma,
                            const float* beta, float epsilon, float* y);
#if defined(__x86_64__)
void f32_layernorm__avx2_fma(size_t n, const float* x, const float* skip, const float* gamma,
                             const float* beta, float epsilon, float* y);
void f32_layernorm__avx512f(size_t n, const float* x, const float* skip, const float* gamma,
                            const float* beta, float epsilon, float* y);
#endif

// `rows` contiguous rows of n (x, skip, y: rows * n floats; skip and beta may be null).
void layernorm_rows(size_t rows, size_t n, const float* x, const float* skip, const float* gamma,
                    const float* beta, float epsilon, float* y, cpu::ThreadPool* pool,
                    cpu::Isa isa = cpu::active_isa());

}  // namespace ratel::kernels
