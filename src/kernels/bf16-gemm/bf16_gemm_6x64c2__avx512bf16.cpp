// AVX512-BF16 GEMM microkernel, 6 x 64 tile (24 zmm accumulators + 4 B + 1 A): the
// f32_gemm_6x64__avx512f shape with vdpbf16ps (see bf16_gemm_14x32c2__avx512bf16.cpp for the
// arithmetic; the default tile is measured, hgemm_config.cpp).
#include <immintrin.h>

#include "kernels/f32-gemm/tile_avx512.h"
#include "kernels/hgemm-common/htile_common.h"

namespace ratel::kernels {
namespace {

constexpr size_t kAStride = kHGemmAStrideBf16;  // bf16 elements
constexpr size_t kNRV = 4;

template <size_t ROWS>
struct FullTile {
  static void run(size_t kc, const void* __restrict a_v, const void* __restrict b_v,
                  float* __restrict c, size_t c_stride, const HGemmUkernelParams& params) {
    const auto* a = static_cast<const uint16_t*>(a_v);
    const auto* b = static_cast<const uint16_t*>(b_v);
    __m512 acc[ROWS][kNRV];
#pragma GCC unroll 8
    for (size_t r = 0; r < ROWS; ++r) {
#pragma GCC unroll 4
      for (size_t v = 0; v < kNRV; ++v) {
        acc[r][v] = params.f32.accumulate ? _mm512_loadu_ps(c + r * c_stride + 16 * v) : _mm512_setzero_ps();
      }
    }
    const size_t groups = (kc + 1) / 2;
    for (size_t g = 0; g < groups; ++g) {
      __m512i bv[kNRV];
#pragma GCC unroll 4
      for (size_t v = 0; v < kNRV; ++v) bv[v] = _mm512_load_si512(b + 32 * v);
      b += 32 * kNRV;
#pragma GCC unroll 8
      for (size_t r = 0; r < ROWS; ++r) {
        int32_t pair;
        std::memcpy(&pair, a + r * kAStride + 2 * g, 4);
        const __m512i ar = _mm512_set1_epi32(pair);
#pragma GCC unroll 4
        for (size_t v = 0; v < kNRV; ++v) {
          acc[r][v] = _mm512_dpbf16_ps(acc[r][v], (__m512bh)ar, (__m512bh)bv[v]);
        }
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

void bf16_gemm_6x64c2__avx512bf16(size_t mr, size_t nc, size_t kc, const void* __restrict a,
                                  const void* __restrict packed_b, float* __restrict c,
                                  size_t c_stride, const HGemmUkernelParams& params) {
  detail::run_hukernel<6, 64, kAStride, Kernel>(mr, nc, kc, a, packed_b, c, c_stride, params);
}

}  // namespace ratel::kernels
