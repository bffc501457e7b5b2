// Portable GEMM microkernel, 4 x 8 tile, plain C++.
//
// The fallback for CPUs without AVX2 + FMA (and for riscv64 until it gets a vector kernel).
// 4 x 8 accumulators fit the 16 xmm registers of baseline x86-64 as 8 SSE vectors, which GCC
// and Clang produce from the inner loop over the 8 columns; on a scalar rv64gc core they fit the
// 32 FP registers. There is no FMA in baseline x86-64, so each step is a multiply then an add.
#include "kernels/f32-gemm/f32_gemm_ukernel.h"
#include "kernels/f32-gemm/ukernel_common.h"
#include "kernels/math/erf_approx.h"

namespace ratel::kernels {
namespace {

constexpr size_t kNR = 8;
constexpr size_t kAStride = kF32Gemm4x8GenericAStride;

template <size_t ROWS>
struct Tile {
  static void run(size_t kc, const float* __restrict a, const float* __restrict b,
                  float* __restrict c, size_t c_stride, const GemmUkernelParams& params) {
    float acc[ROWS][kNR];
    for (size_t r = 0; r < ROWS; ++r) {
      for (size_t j = 0; j < kNR; ++j) acc[r][j] = params.accumulate ? c[r * c_stride + j] : 0.0f;
    }
    for (size_t k = 0; k < kc; ++k) {
      for (size_t r = 0; r < ROWS; ++r) {
        const float ar = a[r * kAStride + k];
        for (size_t j = 0; j < kNR; ++j) acc[r][j] += ar * b[j];
      }
      b += kNR;
    }
    if (params.last_k_block) {
      for (size_t r = 0; r < ROWS; ++r) {
        for (size_t j = 0; j < kNR; ++j) {
          float v = acc[r][j];
          if (params.bias != nullptr) v += params.bias[j];
          if (params.activation == Activation::kGelu) v = math::gelu_approx(v);
          if (params.residual != nullptr) v += params.residual[r * params.residual_stride + j];
          acc[r][j] = v;
        }
      }
    }
    for (size_t r = 0; r < ROWS; ++r) {
      for (size_t j = 0; j < kNR; ++j) c[r * c_stride + j] = acc[r][j];
    }
  }
};

}  // namespace

void f32_gemm_4x8__generic(size_t mr, size_t nc, size_t kc, const float* __restrict a,
                           const float* __restrict packed_b, float* __restrict c,
                           size_t c_stride, const GemmUkernelParams& params) {
  RATEL_ASSERT(kc <= kAStride);
  detail::run_ukernel<4, kNR, Tile>(mr, nc, kc, a, packed_b, c, c_stride, params);
}

}  // namespace ratel::kernels
