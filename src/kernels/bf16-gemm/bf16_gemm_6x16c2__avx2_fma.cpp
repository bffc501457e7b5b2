// AVX2 + FMA bf16 GEMM microkernel, 6 x 16: the exact emulation of vdpbf16ps described in
// bf16_gemm_12x32c2__avx512f.cpp with ymm registers. 12 accumulators + 2 raw B + 2 halves +
// 1 A + the AND mask need 18 of the 16 registers, so GCC spills about one accumulator per k
// pair; measured anyway faster than the spill-free 5 x 16 (Zen 4, AVX2 path: 67 vs 60 GOP/s
// at K = N = 768; f32 AVX2: 103).
// For Zen 3 and other CPUs without AVX512-BF16: the weights take half the memory of fp32, the
// arithmetic is the f32 kernel's plus one AND or shift per B vector.
#include <immintrin.h>

#include "kernels/f32-gemm/tile_avx2.h"
#include "kernels/hgemm-common/htile_common.h"

namespace ratel::kernels {
namespace {

constexpr size_t kAStride = kHGemmAStrideF32;
constexpr unsigned kFtzDaz = 0x8040;

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
    const unsigned csr = _mm_getcsr();
    _mm_setcsr(csr | kFtzDaz);
#pragma GCC unroll 8
    for (size_t r = 0; r < ROWS; ++r) asm volatile("" : "+x"(acc[r][0]), "+x"(acc[r][1]));
    const __m256i hi_mask = _mm256_set1_epi32(static_cast<int>(0xFFFF0000u));
    const size_t groups = (kc + 1) / 2;
    for (size_t g = 0; g < groups; ++g) {
      const __m256i raw0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b));
      const __m256i raw1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + 16));
      b += 32;
      const __m256 odd0 = _mm256_castsi256_ps(_mm256_and_si256(raw0, hi_mask));
      const __m256 odd1 = _mm256_castsi256_ps(_mm256_and_si256(raw1, hi_mask));
#pragma GCC unroll 8
      for (size_t r = 0; r < ROWS; ++r) {
        const __m256 ar = _mm256_broadcast_ss(a + r * kAStride + 2 * g + 1);
        acc[r][0] = _mm256_fmadd_ps(ar, odd0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(ar, odd1, acc[r][1]);
      }
      const __m256 even0 = _mm256_castsi256_ps(_mm256_slli_epi32(raw0, 16));
      const __m256 even1 = _mm256_castsi256_ps(_mm256_slli_epi32(raw1, 16));
#pragma GCC unroll 8
      for (size_t r = 0; r < ROWS; ++r) {
        const __m256 ar = _mm256_broadcast_ss(a + r * kAStride + 2 * g);
        acc[r][0] = _mm256_fmadd_ps(ar, even0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(ar, even1, acc[r][1]);
      }
    }
#pragma GCC unroll 8
    for (size_t r = 0; r < ROWS; ++r) asm volatile("" : "+x"(acc[r][0]), "+x"(acc[r][1]));
    _mm_setcsr(csr);
#pragma GCC unroll 8
    for (size_t r = 0; r < ROWS; ++r) asm volatile("" : "+x"(acc[r][0]), "+x"(acc[r][1]));
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

void bf16_gemm_6x16c2__avx2_fma(size_t mr, size_t nc, size_t kc, const void* __restrict a,
                                const void* __restrict packed_b, float* __restrict c,
                                size_t c_stride, const HGemmUkernelParams& params) {
  detail::run_hukernel<6, 16, kAStride, Kernel>(mr, nc, kc, a, packed_b, c, c_stride, params);
}

}  // namespace ratel::kernels
