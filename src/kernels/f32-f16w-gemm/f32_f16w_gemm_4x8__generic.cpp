// Portable GEMM microkernel with fp16 weights, 4 x 8 tile: each B row converted with
// math::f32_from_f16 (exact) and then the f32 generic kernel's loop (multiply, then add: no FMA
// in baseline x86-64), epilogue with math::gelu_approx.
#include "kernels/hgemm-common/htile_common.h"
#include "kernels/math/erf_approx.h"
#include "kernels/math/half.h"

namespace ratel::kernels {
namespace {

constexpr size_t kNR = 8;
constexpr size_t kAStride = kHGemmAStrideF32;

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
    for (size_t k = 0; k < kc; ++k) {
      float bf[kNR];
      for (size_t j = 0; j < kNR; ++j) bf[j] = math::f32_from_f16(b[j]);
      for (size_t r = 0; r < ROWS; ++r) {
        const float ar = a[r * kAStride + k];
        for (size_t j = 0; j < kNR; ++j) acc[r][j] += ar * bf[j];
      }
      b += kNR;
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

void f32_f16w_gemm_4x8__generic(size_t mr, size_t nc, size_t kc, const void* __restrict a,
                                const void* __restrict packed_b, float* __restrict c,
                                size_t c_stride, const HGemmUkernelParams& params) {
  detail::run_hukernel<4, kNR, kAStride, Kernel>(mr, nc, kc, a, packed_b, c, c_stride, params);
}

}  // namespace ratel::kernels
