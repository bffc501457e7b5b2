// Row softmax and the vectorized exp under it (fp32), for ONNX Softmax and attention.
//
//   softmax_kernel(isa)(n, x, scale, bias, y):
//     t[j] = scale * x[j] + bias[j]   (bias may be null: 0)
//     y[j] = exp(t[j] - max t) / sum_k exp(t[k] - max t)          for j < n (n >= 1)
//
// Three passes over the row (max of t; exp, store and sum; multiply by 1 / sum), t recomputed
// from x in the second pass, so x == y (in place) is allowed; bias must not overlap y. A NaN in
// t, or +inf (inf - inf), makes the whole row NaN, like the double reference and ONNX's numpy
// definition. Several rows, split over a thread pool (each row computed by one thread with the
// same code, so the result does not depend on the thread count):
//     softmax_rows(rows, n, x, ldx, y, ldy, pool)
//
// Error against the double-precision definition (derived in tests/kernels/softmax_test.cpp and
// asserted there per element), u = 2^-24:
//   |y_j / y_ref_j - 1| <= da_j + max_k da_k + 2 e_exp + gamma(n) + 3u   (+ 2e-38 absolute)
// where da_j = 2u (|scale x_j| + |bias_j|) + 2u (|scale x_m| + |bias_m|) + u |t_j - t_m| bounds the
// error of the computed exp argument (t_j by FMA or multiply-add, m the max element, then the
// subtraction; exp turns it into the same relative error), e_exp = math::kExpMaxRelError, gamma(n)
// covers the sum in any order and 3u the reciprocal, the multiply and the reference's rounding.
// The absolute term covers exps below FLT_MIN (returned as 0 or subnormal); the test multiplies
// the relative bound by 1.01 for second-order terms.
//
// Summation order: element j always lands in the same partial sum whatever n is, so elements whose
// exp is exactly 0 appended to a row do not change the other outputs' bits (the attention kernel
// leaves such keys out and stays bit-identical to computing them).
#pragma once

#include <cstddef>

#include "cpu/cpu_features.h"
#include "cpu/thread_pool.h"

namespace ratel::kernels {

using SoftmaxKernelFn = void (*)(size_t n, const float* x, float scale, const float* bias,
                                 float* y);

SoftmaxKernelFn softmax_kernel(cpu::Isa isa);

// Reference: the definition in double precision, rounded once.
void f32_softmax_reference(size_t n, const float* x, float scale, const float* bias, float* y);

void f32_softmax__generic(size_t n, const float* x, float scale, const float* bias, float* y);
#if defined(__x86_64__)
void f32_softmax__avx2_fma(size_t n, const float* x, float scale, const float* bias, float* y);
void f32_softmax__avx512f(size_t n, const float* x, float scale, const float* bias, float* y);
#endif

// rows x n, row strides ldx, ldy >= n (x == y with ldx == ldy allowed), scale 1, no bias.
void softmax_rows(size_t rows, size_t n, const float* x, size_t ldx, float* y, size_t ldy,
                  cpu::ThreadPool* pool, cpu::Isa isa = cpu::active_isa());

// y[i] = exp(x[i]) for i < n with math/exp_approx.h's approximation (x == y allowed); exposes
// the exp each softmax path inlines, so tests can measure its error.
using VexpKernelFn = void (*)(size_t n, const float* x, float* y);
VexpKernelFn vexp_kernel(cpu::Isa isa);
void f32_vexp__generic(size_t n, const float* x, float* y);
#if defined(__x86_64__)
void f32_vexp__avx2_fma(size_t n, const float* x, float* y);
void f32_vexp__avx512f(size_t n, const float* x, float* y);
#endif

}  // namespace ratel::kernels
