// AVX-512 GEMM microkernel with fp16 weights, 14 x 32 tile: the f32 kernel's tile with each B
// vector converted by vcvtph2ps (AVX-512F) as it is loaded: per k, 2 conversions next to 28
// FMAs, and half the weight bytes streamed from L2/memory. Same FMA chain as
// f32_gemm_14x32__avx512f, same epilogue code (TileAvx512::epilogue), so on weights that are
// exactly fp16 it returns the f32 kernel's bits.
#include "kernels/f32-gemm/tile_avx512.h"
#include "kernels/hgemm-common/htile_common.h"

namespace ratel::kernels {
namespace {

constexpr size_t kAStride = kHGemmAStrideF32;
// vcvtph2ps through its maskz form with a full mask: the plain instruction (GCC 12 warns
// falsely on the unmasked intrinsic, see math/vmath_avx512.h).
constexpr __mmask16 kAll = 0xFFFF;

template <size_t ROWS>
struct FullTile {
  static void run(size_t kc, const void* __restrict a_v, const void* __restrict b_v,
                  float* __restrict c, size_t c_stride, const HGemmUkernelParams& params) {
    const auto* a = static_cast<const float*>(a_v);
    const auto* b = static_cast<const uint16_t*>(b_v);
    __m512 acc[ROWS][2];
#pragma GCC unroll 16
    for (size_t r = 0; r < ROWS; ++r) {
      acc[r][0] = params.f32.accumulate ? _mm512_loadu_ps(c + r * c_stride) : _mm512_setzero_ps();
      acc[r][1] = params.f32.accumulate ? _mm512_loadu_ps(c + r * c_stride + 16) : _mm512_setzero_ps();
    }
    for (size_t k = 0; k < kc; ++k) {
      const __m512 b0 = _mm512_maskz_cvtph_ps(kAll, _mm256_load_si256(reinterpret_cast<const __m256i*>(b)));
      const __m512 b1 = _mm512_maskz_cvtph_ps(kAll, _mm256_load_si256(reinterpret_cast<const __m256i*>(b + 16)));
      b += 32;
#pragma GCC unroll 16
      for (size_t r = 0; r < ROWS; ++r) {
        const __m512 ar = _mm512_set1_ps(a[r * kAStride + k]);
        acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(ar, b1, acc[r][1]);
      }
    }
    if (params.f32.last_k_block) {
      if (params.col_scale != nullptr) {
        const __m512 s0 = _mm512_loadu_ps(params.col_scale);
        const __m512 s1 = _mm512_loadu_ps(params.col_scale + 16);
#pragma GCC unroll 16
        for (size_t r = 0; r < ROWS; ++r) {
          acc[r][0] = _mm512_mul_ps(acc[r][0], s0);
          acc[r][1] = _mm512_mul_ps(acc[r][1], s1);
        }
      }
      detail::TileAvx512<ROWS, 2, kAStride>::epilogue(acc, params.f32);
    }
#pragma GCC unroll 16
    for (size_t r = 0; r < ROWS; ++r) {
      _mm512_storeu_ps(c + r * c_stride, acc[r][0]);
      _mm512_storeu_ps(c + r * c_stride + 16, acc[r][1]);
    }
  }
};

struct Kernel {
  template <size_t ROWS>
  using Tile = FullTile<ROWS>;
};

}  // namespace

void f32_f16w_gemm_14x32__avx512f(size_t mr, size_t nc, size_t kc, const void* __restrict a,
                                  const void* __restrict packed_b, float* __restrict c,
                                  size_t c_stride, const HGemmUkernelParams& params) {
  detail::run_hukernel<14, 32, kAStride, Kernel>(mr, nc, kc, a, packed_b, c, c_stride, params);
}

}  // namespace ratel::kernels
