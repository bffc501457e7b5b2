// AVX-512 bf16 GEMM microkernel without AVX512-BF16: exact emulation of vdpbf16ps, 12 x 32.
//
// A is held as fp32 (the bf16-rounded activations); a B vector of 16 columns x 2 k splits into
// its odd-k half (the high 16 bits of each word: a zero-masked move of the 16-bit lanes) and
// its even-k half (a 16-bit left shift), each an exact fp32 vector. Per pair: 24 FMAs with the odd halves, then 24 with the
// even halves, i.e. c = fma(a[2i+1], b[2i+1], c); c = fma(a[2i], b[2i], c): the instruction's
// order. The bf16 product is exact in fp32, so one FMA rounds exactly like the instruction's
// step; MXCSR.FTZ|DAZ is set around the loop (restored before the epilogue) to match its
// DAZ/FTZ. Registers: 24 accumulators + 2 raw B + 2 halves + 1 A (14 rows, the f32 tile,
// would need 33 and spilled 3 accumulators per pair).
#include <immintrin.h>

#include "kernels/f32-gemm/tile_avx512.h"
#include "kernels/hgemm-common/htile_common.h"

namespace ratel::kernels {
namespace {

constexpr size_t kAStride = kHGemmAStrideF32;
constexpr unsigned kFtzDaz = 0x8040;
// The maskz forms with a full mask are the plain instructions (GCC 12 warns falsely on some
// unmasked intrinsics, see math/vmath_avx512.h).
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
    const unsigned csr = _mm_getcsr();
    _mm_setcsr(csr | kFtzDaz);
    // The FMAs must run between the two MXCSR writes: pin the accumulators to both points.
#pragma GCC unroll 16
    for (size_t r = 0; r < ROWS; ++r) asm volatile("" : "+v"(acc[r][0]), "+v"(acc[r][1]));
    const __mmask32 odd_lanes = 0xAAAAAAAAu;  // the high 16-bit half of every 32-bit word
    const size_t groups = (kc + 1) / 2;
    for (size_t g = 0; g < groups; ++g) {
      const __m512i raw0 = _mm512_load_si512(b);
      const __m512i raw1 = _mm512_load_si512(b + 32);
      b += 64;
      const __m512 odd0 = _mm512_castsi512_ps(_mm512_maskz_mov_epi16(odd_lanes, raw0));
      const __m512 odd1 = _mm512_castsi512_ps(_mm512_maskz_mov_epi16(odd_lanes, raw1));
#pragma GCC unroll 16
      for (size_t r = 0; r < ROWS; ++r) {
        const __m512 ar = _mm512_set1_ps(a[r * kAStride + 2 * g + 1]);
        acc[r][0] = _mm512_fmadd_ps(ar, odd0, acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(ar, odd1, acc[r][1]);
      }
      const __m512 even0 = _mm512_castsi512_ps(_mm512_maskz_slli_epi32(kAll, raw0, 16));
      const __m512 even1 = _mm512_castsi512_ps(_mm512_maskz_slli_epi32(kAll, raw1, 16));
#pragma GCC unroll 16
      for (size_t r = 0; r < ROWS; ++r) {
        const __m512 ar = _mm512_set1_ps(a[r * kAStride + 2 * g]);
        acc[r][0] = _mm512_fmadd_ps(ar, even0, acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(ar, even1, acc[r][1]);
      }
    }
#pragma GCC unroll 16
    for (size_t r = 0; r < ROWS; ++r) asm volatile("" : "+v"(acc[r][0]), "+v"(acc[r][1]));
    _mm_setcsr(csr);
#pragma GCC unroll 16
    for (size_t r = 0; r < ROWS; ++r) asm volatile("" : "+v"(acc[r][0]), "+v"(acc[r][1]));
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

void bf16_gemm_12x32c2__avx512f(size_t mr, size_t nc, size_t kc, const void* __restrict a,
                                const void* __restrict packed_b, float* __restrict c,
                                size_t c_stride, const HGemmUkernelParams& params) {
  detail::run_hukernel<12, 32, kAStride, Kernel>(mr, nc, kc, a, packed_b, c, c_stride, params);
}

}  // namespace ratel::kernels
