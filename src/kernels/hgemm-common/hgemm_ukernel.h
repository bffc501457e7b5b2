// Half-precision-weight GEMM microkernels under kernels/hgemm.h: fp32 activations times fp16 or
// bf16 weights, fp32 accumulation, the f32 GEMM's epilogues.
//
// A microkernel computes one MR x NR tile of C for one K block (the f32 contract,
// f32_gemm_ukernel.h, with other element types):
//
//   C[mr x nc] = (accumulate ? C : 0) + A[mr x kc] * B[kc x nc]
//   then, if last_k_block:  C = activation(C * col_scale + bias) + residual
//
//   a         the A tile written by the kernel's pack_a: mr rows with the constant row stride
//             a_stride (tile elements): fp32 (f16w kernels, bf16 emulation: the fp32 values of
//             the bf16-rounded activations) or bf16 pairs (AVX512-BF16).
//   packed_b  one K block of one panel: f16w: kc rows of NR fp16; bf16: ceil(kc/2) groups of
//             NR x 2 bf16 ("c2": group g holds B[2g + t][j] at j * 2 + t). Zero-padded.
//   col_scale NR floats (padded) or null: per-column weight scales (float16_w_int8 weights are
//             stored as exact small integers in fp16 and scaled here, after the sum).
//
// Accumulation order (what makes every path of a format bit-identical):
//   f16w: one FMA chain over k in order per element (a multiply then an add on the generic
//     path, which has no FMA), continued across K blocks through C: exactly the f32 GEMM run on
//     the fp16 weights converted to fp32 (the tests check that equality).
//   bf16: vdpbf16ps's definition. For each pair (2i, 2i+1) in order:
//       c = c + a[2i+1] * b[2i+1];  c = c + a[2i] * b[2i]
//     each step rounded to nearest even (the bf16 x bf16 product is exact in fp32, so one FMA
//     or one add of the product gives the same result), inputs that are fp32/bf16 subnormals
//     read as zero (DAZ) and subnormal results flushed to zero of the same sign (FTZ). The
//     emulating kernels run their FMAs with MXCSR.FTZ|DAZ set; the generic one computes in
//     double and flushes explicitly. K odd: the last pair is padded with zeros.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cpu/cpu_features.h"
#include "kernels/f32-gemm/f32_gemm_ukernel.h"

namespace ratel::kernels {

struct HGemmUkernelParams {
  GemmUkernelParams f32;              // accumulate, last_k_block, bias, activation, residual
  const float* col_scale = nullptr;   // NR floats or null
};

using HGemmUkernelFn = void (*)(size_t mr, size_t nc, size_t kc, const void* __restrict a,
                                const void* __restrict packed_b, float* __restrict c,
                                size_t c_stride, const HGemmUkernelParams& params);

// Writes rows x kc activations (row stride lda floats) into the A tile (row stride
// tile_stride tile elements), zero-padded to kc_padded columns.
using HPackAFn = void (*)(size_t rows, size_t kc, size_t kc_padded, const float* __restrict a,
                          size_t lda, void* __restrict tile, size_t tile_stride);

enum class HFormat : uint8_t { kF16 = 0, kBF16 = 1 };

struct HGemmUkernel {
  HGemmUkernelFn fn = nullptr;
  const char* name = "";
  HFormat format = HFormat::kF16;
  cpu::Isa isa = cpu::Isa::kGeneric;
  bool needs_avx512_bf16 = false;
  bool needs_f16c = false;
  size_t mr = 0, nr = 0, kr = 0;  // tile; k group of the B layout (1: f16, 2: bf16 pairs)
  size_t k_block = 0;             // multiple of kr
  size_t a_stride = 0;            // A tile row stride in tile elements (>= k_block)
  size_t a_elem = 0;              // bytes per A tile element (4: fp32, 2: bf16)
  size_t n_block = 0;             // multiple of nr
  HPackAFn pack_a = nullptr;
};

bool hgemm_ukernel_supported(const HGemmUkernel& uk);
const HGemmUkernel& hgemm_ukernel(HFormat format, cpu::Isa isa);
const HGemmUkernel* const* hgemm_all_ukernels();  // null-terminated

inline constexpr size_t kHGemmAStrideF32 = 256 + 16;   // floats, k_block 256
inline constexpr size_t kHGemmAStrideBf16 = 512 + 32;  // bf16 elements, k_block 512
inline constexpr size_t kHGemmMaxATileBytes = 16 * 272 * 4;

void f32_f16w_gemm_4x8__generic(size_t mr, size_t nc, size_t kc, const void* __restrict a,
                                const void* __restrict packed_b, float* __restrict c,
                                size_t c_stride, const HGemmUkernelParams& params);
void bf16_gemm_4x8c2__generic(size_t mr, size_t nc, size_t kc, const void* __restrict a,
                              const void* __restrict packed_b, float* __restrict c,
                              size_t c_stride, const HGemmUkernelParams& params);
void hgemm_pack_a_f32__generic(size_t rows, size_t kc, size_t kc_padded, const float* __restrict a,
                               size_t lda, void* __restrict tile, size_t tile_stride);
void bf16_pack_a_f32__generic(size_t rows, size_t kc, size_t kc_padded, const float* __restrict a,
                              size_t lda, void* __restrict tile, size_t tile_stride);
#if defined(__x86_64__)
void f32_f16w_gemm_6x16__avx2_fma(size_t mr, size_t nc, size_t kc, const void* __restrict a,
                                  const void* __restrict packed_b, float* __restrict c,
                                  size_t c_stride, const HGemmUkernelParams& params);
void f32_f16w_gemm_14x32__avx512f(size_t mr, size_t nc, size_t kc, const void* __restrict a,
                                  const void* __restrict packed_b, float* __restrict c,
                                  size_t c_stride, const HGemmUkernelParams& params);
void bf16_gemm_6x16c2__avx2_fma(size_t mr, size_t nc, size_t kc, const void* __restrict a,
                                const void* __restrict packed_b, float* __restrict c,
                                size_t c_stride, const HGemmUkernelParams& params);
void bf16_gemm_12x32c2__avx512f(size_t mr, size_t nc, size_t kc, const void* __restrict a,
                                const void* __restrict packed_b, float* __restrict c,
                                size_t c_stride, const HGemmUkernelParams& params);
void f32_f16w_gemm_6x64__avx512f(size_t mr, size_t nc, size_t kc, const void* __restrict a,
                                 const void* __restrict packed_b, float* __restrict c,
                                 size_t c_stride, const HGemmUkernelParams& params);
void bf16_gemm_6x64c2__avx512bf16(size_t mr, size_t nc, size_t kc, const void* __restrict a,
                                  const void* __restrict packed_b, float* __restrict c,
                                  size_t c_stride, const HGemmUkernelParams& params);
void bf16_gemm_14x32c2__avx512bf16(size_t mr, size_t nc, size_t kc, const void* __restrict a,
                                   const void* __restrict packed_b, float* __restrict c,
                                   size_t c_stride, const HGemmUkernelParams& params);
void bf16_pack_a_f32__avx2(size_t rows, size_t kc, size_t kc_padded, const float* __restrict a,
                           size_t lda, void* __restrict tile, size_t tile_stride);
void bf16_pack_a_f32__avx512f(size_t rows, size_t kc, size_t kc_padded, const float* __restrict a,
                              size_t lda, void* __restrict tile, size_t tile_stride);
void bf16_pack_a__avx512bf16(size_t rows, size_t kc, size_t kc_padded, const float* __restrict a,
                             size_t lda, void* __restrict tile, size_t tile_stride);
#endif

}  // namespace ratel::kernels
