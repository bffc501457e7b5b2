// AVX512-BF16 GEMM microkernel, 14 x 32 tile: fp32 += bf16 x bf16 pairs with vdpbf16ps.
//
// Per pair of k (2i, 2i+1), vdpbf16ps does c += a[2i+1] * b[2i+1], then c += a[2i] * b[2i],
// each an fp32 FMA with DAZ, FTZ and round-to-nearest-even (MXCSR not consulted): the order
// hgemm_ukernel.h defines and the emulating kernels reproduce. A is the bf16 pair tile
// (bf16_pack_a__avx512bf16), broadcast as one 32-bit word per row; B is packed c2: one 64-byte
// vector holds 16 columns x 2 k. 28 zmm accumulators + 2 B + 1 A, like the f32 kernel, with
// half the instructions per k.
#include <immintrin.h>

#include "kernels/f32-gemm/tile_avx512.h"
#include "kernels/hgemm-common/htile_common.h"

namespace ratel::kernels {
namespace {

constexpr size_t kAStride = kHGemmAStrideBf16;  // bf16 elements

template <size_t ROWS>
struct FullTile {
  static void run(size_t kc, const void* __restrict a_v, const void* __restrict b_v,
                  float* __restrict c, size_t c_stride, const HGemmUkernelParams& params) {
    const auto* a = static_cast<const uint16_t*>(a_v);
    const auto* b = static_cast<const uint16_t*>(b_v);
    __m512 acc[ROWS][2];
#pragma GCC unroll 16
    for (size_t r = 0; r < ROWS; ++r) {
      acc[r][0] = params.f32.accumulate ? _mm512_loadu_ps(c + r * c_stride) : _mm512_setzero_ps();
      acc[r][1] = params.f32.accumulate ? _mm512_loadu_ps(c + r * c_stride + 16) : _mm512_setzero_ps();
    }
    const size_t groups = (kc + 1) / 2;
    for (size_t g = 0; g < groups; ++g) {
      const __m512i b0 = _mm512_load_si512(b);
      const __m512i b1 = _mm512_load_si512(b + 32);
      b += 64;
#pragma GCC unroll 16
      for (size_t r = 0; r < ROWS; ++r) {
        int32_t pair;
        std::memcpy(&pair, a + r * kAStride + 2 * g, 4);
        const __m512i ar = _mm512_set1_epi32(pair);
        acc[r][0] = _mm512_dpbf16_ps(acc[r][0], (__m512bh)ar, (__m512bh)b0);
        acc[r][1] = _mm512_dpbf16_ps(acc[r][1], (__m512bh)ar, (__m512bh)b1);
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

void bf16_gemm_14x32c2__avx512bf16(size_t mr, size_t nc, size_t kc, const void* __restrict a,
                                   const void* __restrict packed_b, float* __restrict c,
                                   size_t c_stride, const HGemmUkernelParams& params) {
  detail::run_hukernel<14, 32, kAStride, Kernel>(mr, nc, kc, a, packed_b, c, c_stride, params);
}

}  // namespace ratel::kernels
