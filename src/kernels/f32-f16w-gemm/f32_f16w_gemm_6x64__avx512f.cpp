// AVX-512 GEMM microkernel with fp16 weights, 6 x 64 tile: f32_gemm_6x64__avx512f's tile (24
// zmm accumulators + 4 B + 1 A) with each B vector converted by vcvtph2ps as it is loaded (4
// conversions per 24 FMAs). Same FMA chain and epilogue (TileAvx512::epilogue) as the f32
// kernel; f32_f16w_gemm_14x32__avx512f is the same with the 14 x 32 tile (the default is
// measured, hgemm_config.cpp).
#include "kernels/f32-gemm/tile_avx512.h"
#include "kernels/hgemm-common/htile_common.h"

namespace ratel::kernels {
namespace {

constexpr size_t kAStride = kHGemmAStrideF32;
constexpr size_t kNRV = 4;
// vcvtph2ps through its maskz form with a full mask: the plain instruction (GCC 12 warns
// falsely on the unmasked intrinsic, see math/vmath_avx512.h).
constexpr __mmask16 kAll = 0xFFFF;

template <size_t ROWS>
struct FullTile {
  static void run(size_t kc, const void* __restrict a_v, const void* __restrict b_v,
                  float* __restrict c, size_t c_stride, const HGemmUkernelParams& params) {
    const auto* a = static_cast<const float*>(a_v);
    const auto* b = static_cast<const uint16_t*>(b_v);
    __m512 acc[ROWS][kNRV];
#pragma GCC unroll 8
    for (size_t r = 0; r < ROWS; ++r) {
#pragma GCC unroll 4
      for (size_t v = 0; v < kNRV; ++v) {
        acc[r][v] = params.f32.accumulate ? _mm512_loadu_ps(c + r * c_stride + 16 * v) : _mm512_setzero_ps();
      }
    }
    for (size_t k = 0; k < kc; ++k) {
      __m512 bv[kNRV];
#pragma GCC unroll 4
      for (size_t v = 0; v < kNRV; ++v) {
        bv[v] = _mm512_maskz_cvtph_ps(kAll, _mm256_load_si256(reinterpret_cast<const __m256i*>(b + 16 * v)));
      }
      b += 16 * kNRV;
#pragma GCC unroll 8
      for (size_t r = 0; r < ROWS; ++r) {
        const __m512 ar = _mm512_set1_ps(a[r * kAStride + k]);
#pragma GCC unroll 4
        for (size_t v = 0; v < kNRV; ++v) acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
      }
    }
    if (params.f32.last_k_block) {
      if (params.col_scale != nullptr) {
#pragma GCC unroll 4
        for (size_t v = 0; v < kNRV; ++v) {
          const __m512 s = _mm512_loadu_ps(params.col_scale + 16 * v);
#pragma GCC unroll 8
          for (size_t r = 0; r < ROWS; ++r) acc[r][v] = _mm512_mul_ps(acc[r][v], s);
        }
      }
      detail::TileAvx512<ROWS, kNRV, kAStride>::epilogue(acc, params.f32);
    }
#pragma GCC unroll 8
    for (size_t r = 0; r < ROWS; ++r) {
#pragma GCC unroll 4
      for (size_t v = 0; v < kNRV; ++v) _mm512_storeu_ps(c + r * c_stride + 16 * v, acc[r][v]);
    }
  }
};

struct Kernel {
  template <size_t ROWS>
  using Tile = FullTile<ROWS>;
};

}  // namespace

void f32_f16w_gemm_6x64__avx512f(size_t mr, size_t nc, size_t kc, const void* __restrict a,
                                 const void* __restrict packed_b, float* __restrict c,
                                 size_t c_stride, const HGemmUkernelParams& params) {
  detail::run_hukernel<6, 64, kAStride, Kernel>(mr, nc, kc, a, packed_b, c, c_stride, params);
}

}  // namespace ratel::kernels
