// Portable bf16 GEMM microkernel, 4 x 8, following vdpbf16ps's definition (hgemm_ukernel.h)
// without relying on MXCSR (riscv64 has none): each step c + a * b is computed in double, where
// the bf16 product and the sum with an fp32 are exact or correctly rounded to double, then
// rounded once to fp32 (correct: double has more than 2 x 24 + 1 bits), and a subnormal result
// is flushed to a zero of its sign. Inputs were flushed (DAZ) by the packers.
#include <cfloat>
#include <cmath>

#include "kernels/hgemm-common/htile_common.h"
#include "kernels/math/erf_approx.h"
#include "kernels/math/half.h"

namespace ratel::kernels {
namespace {

constexpr size_t kNR = 8;
constexpr size_t kAStride = kHGemmAStrideF32;

inline float dp_step(float c, float a, float b) {
  const float s = static_cast<float>(double{c} + double{a} * double{b});
  return std::fabs(s) < FLT_MIN ? std::copysign(0.0f, s) : s;
}

template <size_t ROWS>
struct FullTile {
  static void run(size_t kc, const void* __restrict a_v, const void* __restrict b_v,
                  float* __restrict c, size_t c_stride, const HGemmUkernelParams& params) {
    const auto* a = static_cast<const float*>(a_v);
    const auto* b = static_cast<const uint16_t*>(b_v);
    const GemmUkernelParams& f = params.f32;
    float acc[ROWS][kNR];
    for (size_t r = 0; r < ROWS; ++r) {
      for (size_t j = 0; j < kNR; ++j) acc[r][j] = f.accumulate ? c[r * c_stride + j] : 0.0f;
    }
    const size_t groups = (kc + 1) / 2;
    for (size_t g = 0; g < groups; ++g) {
      for (size_t r = 0; r < ROWS; ++r) {
        const float a_even = a[r * kAStride + 2 * g], a_odd = a[r * kAStride + 2 * g + 1];
        for (size_t j = 0; j < kNR; ++j) {
          const float b_even = math::f32_from_bf16(b[2 * j]);
          const float b_odd = math::f32_from_bf16(b[2 * j + 1]);
          acc[r][j] = dp_step(dp_step(acc[r][j], a_odd, b_odd), a_even, b_even);
        }
      }
      b += 2 * kNR;
    }
    if (f.last_k_block) {
      for (size_t r = 0; r < ROWS; ++r) {
        for (size_t j = 0; j < kNR; ++j) {
          float v = acc[r][j];
          if (params.col_scale != nullptr) v *= params.col_scale[j];
          if (f.bias != nullptr) v += f.bias[j];
          if (f.activation == Activation::kGelu) v = math::gelu_approx(v);
          if (f.residual != nullptr) v += f.residual[r * f.residual_stride + j];
          acc[r][j] = v;
        }
      }
    }
    for (size_t r = 0; r < ROWS; ++r) {
      for (size_t j = 0; j < kNR; ++j) c[r * c_stride + j] = acc[r][j];
    }
  }
};

struct Kernel {
  template <size_t ROWS>
  using Tile = FullTile<ROWS>;
};

}  // namespace

void bf16_gemm_4x8c2__generic(size_t mr, size_t nc, size_t kc, const void* __restrict a,
                              const void* __restrict packed_b, float* __restrict c,
                              size_t c_stride, const HGemmUkernelParams& params) {
  detail::run_hukernel<4, kNR, kAStride, Kernel>(mr, nc, kc, a, packed_b, c, c_stride, params);
}

}  // namespace ratel::kernels
