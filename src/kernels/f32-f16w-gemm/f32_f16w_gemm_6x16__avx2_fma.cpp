// AVX2 + FMA + F16C GEMM microkernel with fp16 weights, 6 x 16 tile: the f32 AVX2 kernel's tile
// with each B vector converted by vcvtph2ps as it is loaded (2 conversions per 12 FMAs). Same
// FMA chain and epilogue (TileAvx2::epilogue) as f32_gemm_6x16__avx2_fma.
#include "kernels/f32-gemm/tile_avx2.h"
#include "kernels/hgemm-common/htile_common.h"

namespace ratel::kernels {
namespace {

constexpr size_t kAStride = kHGemmAStrideF32;

template <size_t ROWS>
struct FullTile {
  static void run(size_t kc, const void* __restrict a_v, const void* __restrict b_v,
                  float* __restrict c, size_t c_stride, const HGemmUkernelParams& params) {
    const auto* a = static_cast<const float*>(a_v);
    const auto* b = static_cast<const uint16_t*>(b_v);
    __m256 acc[ROWS][2];
#pragma GCC unroll 8
    for (size_t r = 0; r < ROWS; ++r) {
      acc[r][0] = params.f32.accumulate ? _mm256_loadu_ps(c + r * c_stride) : _mm256_setzero_ps();
      acc[r][1] = params.f32.accumulate ? _mm256_loadu_ps(c + r * c_stride + 8) : _mm256_setzero_ps();
    }
    for (size_t k = 0; k < kc; ++k) {
      const __m256 b0 = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(b)));
      const __m256 b1 = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(b + 8)));
      b += 16;
#pragma GCC unroll 8
      for (size_t r = 0; r < ROWS; ++r) {
        const __m256 ar = _mm256_broadcast_ss(a + r * kAStride + k);
        acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
      }
    }
    if (params.f32.last_k_block) {
      if (params.col_scale != nullptr) {
        const __m256 s0 = _mm256_loadu_ps(params.col_scale);
        const __m256 s1 = _mm256_loadu_ps(params.col_scale + 8);
#pragma GCC unroll 8
        for (size_t r = 0; r < ROWS; ++r) {
          acc[r][0] = _mm256_mul_ps(acc[r][0], s0);
          acc[r][1] = _mm256_mul_ps(acc[r][1], s1);
        }
      }
      detail::TileAvx2<ROWS, 2, kAStride>::epilogue(acc, params.f32);
    }
#pragma GCC unroll 8
    for (size_t r = 0; r < ROWS; ++r) {
      _mm256_storeu_ps(c + r * c_stride, acc[r][0]);
      _mm256_storeu_ps(c + r * c_stride + 8, acc[r][1]);
    }
  }
};

struct Kernel {
  template <size_t ROWS>
  using Tile = FullTile<ROWS>;
};

}  // namespace

void f32_f16w_gemm_6x16__avx2_fma(size_t mr, size_t nc, size_t kc, const void* __restrict a,
                                  const void* __restrict packed_b, float* __restrict c,
                                  size_t c_stride, const HGemmUkernelParams& params) {
  detail::run_hukernel<6, 16, kAStride, Kernel>(mr, nc, kc, a, packed_b, c, c_stride, params);
}

}  // namespace ratel::kernels
