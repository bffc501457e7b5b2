// Integer GEMM microkernels (int8 and int16) under kernels/qgemm.h, and the pieces the driver
// plugs around them: A-tile packers and output stages.
//
// A microkernel computes one MR x NR tile of int32 dot products for one K block:
//
//   acc[mr x NR] = (accumulate ? acc : 0) + A'[mr x kc] * B'[kc x NR]      (mod 2^32)
//
// Operands:
//   a         the A tile: mr rows of kc elements (u8 or s16, see below) with the kernel's
//             constant row stride `a_stride` (elements), kc rounded up to the kernel's k group
//             KR with zeros. Written by the kernel's pack_a.
//   packed_b  kc/KR groups of NR x KR elements (s8 or s16): one K block of one panel, in the
//             "c<KR>" layout: group g holds B'[g*KR + t][j] at (j * KR + t). Zero past N and K.
//   acc       mr x NR int32 with row stride NR: a scratch tile the driver owns (it carries the
//             sums across K blocks; the output stage then reads it from L1).
// Preconditions (asserted): 1 <= mr <= MR, 1 <= kc <= a_stride.
//
// Kernel domains (the A' and B' values a kernel multiplies; the driver folds the difference
// from the caller's values into zero points, see qgemm.cpp):
//   qs8 c4 kernels (VNNI, generic): A' = u8 (s8 activations get 0x80 flipped: a + 128),
//       B' = s8. vpdpbusd multiplies u8 x s8 and adds four products into s32 without
//       saturation.
//   16-bit kernels (AVX2 / AVX-512BW int8 path, every int16 path): A' = s16, B' = s16 (or s8
//       sign-extended in the kernel); vpmaddwd multiplies s16 x s16 and adds pairs into s32.
//       The int8 path subtracts the zero points while packing (a - za and w - zw fit in s16),
//       so no correction is left.
//   qs8_gemm_6x16c4__avx2 (a_max_127): A' = u8 <= 127, B' = s8, with vpmaddubsw (u8 x s8 pairs
//       -> s16 with saturation). 255 * -128 * 2 overflows int16, so it is exact only for
//       7-bit activations (2 * 127 * 128 fits); the driver refuses it for any other A.
//
// Naming: <family>_gemm_<MR>x<NR>c<KR>__<isa>, one file per kernel with that name.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cpu/cpu_features.h"
#include "kernels/f32-gemm/f32_gemm_ukernel.h"

namespace ratel::kernels {

using QGemmUkernelFn = void (*)(size_t mr, size_t kc, const void* __restrict a,
                                const void* __restrict packed_b, int32_t* __restrict acc,
                                bool accumulate);

// Copies rows x kc activations (row stride lda elements, element type per `in_type`) into the
// A tile (row stride tile_stride elements), zero-padded to kc_padded columns, transformed into
// the kernel's domain (`offset` is subtracted for the 16-bit int8 domain; `flip` xor-ed for the
// u8 domain). If row_sums is not null, adds each row's sum of the packed values to it.
enum class QInType : uint8_t { kU8 = 0, kS8 = 1, kS16 = 2 };
struct QPackAParams {
  QInType in_type = QInType::kU8;
  bool to_s16 = false;   // the kernel's A domain: u8 (false) or s16 (true)
  uint8_t flip = 0;      // u8 domain: 0x80 for s8 input
  int32_t offset = 0;    // s16 domain from 8-bit input: subtract the zero point
};
using QPackAFn = void (*)(size_t rows, size_t kc, size_t kc_padded, const void* __restrict a,
                          size_t lda, const QPackAParams& params, void* __restrict tile,
                          size_t tile_stride, int32_t* __restrict row_sums);

enum class QOutput : uint8_t {
  kInt32 = 0,  // the exact accumulator (+ bias_i32)
  kFloat = 1,  // dequantized: float(acc) * (a_scale * w_scale[n]) + bias[n] -> activation -> + residual
  kU8 = 2,     // requantized: round(clamp(float(acc) * (a_scale / out_scale * w_scale[n]))) + zo
  kS8 = 3,
  kS16 = 4,
};

// Everything the output stage needs for a call; column arrays are indexed by the global column
// n (the driver passes the tile's first column), row_sums by the tile's row.
struct QOutputParams {
  QOutput output = QOutput::kInt32;
  void* c = nullptr;          // output base (element type per `output`)
  size_t ldc = 0;             // row stride, elements
  // Zero-point correction in the kernel's domain: acc += za * col_term[n] - zw[n] * row_sum[m].
  int32_t za = 0;
  const int32_t* col_term = nullptr;  // padded to the panel width; K*zw[n] - sum_k B'[k][n]
  const int32_t* zw = nullptr;        // padded; null when every column's zero point is 0
  const int32_t* bias_i32 = nullptr;  // N values or null
  // kFloat and requantized outputs: scale[n] = scale * w_scale[n] (one float multiply).
  float scale = 1.0f;
  const float* w_scale = nullptr;  // padded to the panel width
  // kFloat:
  const float* bias = nullptr;
  Activation activation = Activation::kNone;
  const float* residual = nullptr;
  size_t residual_stride = 0;
  // Requantized: clamp bounds relative to the zero point (qmin - zo, qmax - zo) and zo.
  float clamp_lo = 0.0f;
  float clamp_hi = 0.0f;
  int32_t out_zero_point = 0;
};

// Processes rows x nc accumulators (row stride acc_stride >= nc, readable up to a multiple of
// 16 columns) of the tile whose top-left element is C[m0][n0].
using QOutputFn = void (*)(size_t rows, size_t nc, const int32_t* __restrict acc,
                           size_t acc_stride, const int32_t* __restrict row_sums, size_t m0,
                           size_t n0, const QOutputParams& params);

enum class QFamily : uint8_t { kInt8 = 0, kInt16 = 1 };

// A microkernel and everything the driver needs to run it.
struct QGemmUkernel {
  QGemmUkernelFn fn = nullptr;
  const char* name = "";
  QFamily family = QFamily::kInt8;
  cpu::Isa isa = cpu::Isa::kGeneric;
  bool needs_avx512_vnni = false;  // beyond `isa`
  bool needs_avx_vnni = false;
  size_t mr = 0, nr = 0, kr = 0;   // register tile, k group
  size_t k_block = 0;              // largest kc per call (multiple of kr)
  size_t a_stride = 0;             // A tile row stride, elements (>= k_block)
  size_t a_elem = 0;               // bytes per A tile element (1: u8, 2: s16)
  size_t b_elem = 0;               // bytes per packed B element (1: s8, 2: s16)
  bool a_s16_domain = false;       // true: A' = a - za in s16 (int8 on a 16-bit kernel)
  size_t l2_bytes = 0;             // budget for the K x n_block slice of B a thread reuses
  QPackAFn pack_a = nullptr;
  QOutputFn output = nullptr;
  bool a_max_127 = false;          // exact only for u8 activations <= 127 (see above)
};

// Whether this CPU can run `uk`.
bool qgemm_ukernel_supported(const QGemmUkernel& uk);
// The default kernel of `family` for `isa` (must be supported): the fastest measured one.
const QGemmUkernel& qgemm_ukernel(QFamily family, cpu::Isa isa);
// The same, knowing the activations: `a_u8_max` is the largest value the caller's activations
// take in the u8 domain (u8 activations: their largest quantized value, e.g. 127 for 7-bit ones;
// s8 activations: 255, as they are flipped to a + 128). Below 128 an AVX2 CPU without VNNI gets
// the vpmaddubsw kernel; otherwise this is qgemm_ukernel(family, isa).
const QGemmUkernel& qgemm_ukernel_for(QFamily family, cpu::Isa isa, int a_u8_max);
// Every kernel built into this binary (runnable or not; check qgemm_ukernel_supported), for
// tests and benchmarks. Null-terminated.
const QGemmUkernel* const* qgemm_all_ukernels();

// --- the kernels (each in the file of the same name) ---
// K blocks and A tile strides (elements): the MR x k_block A tile stays in L1 (14 x 1088 bytes
// = 15 KiB) while B panels stream from L2; the padding breaks 4 KiB set aliasing between rows.
inline constexpr size_t kQs8KBlock = 1024;   // u8 elements
inline constexpr size_t kQs8AStride = 1024 + 64;
inline constexpr size_t kQs16KBlock = 512;   // s16 elements
inline constexpr size_t kQs16AStride = 512 + 32;
// Largest A tile (bytes) the driver's stack buffer holds.
inline constexpr size_t kQGemmMaxATileBytes = 16 * 1088;

void qs8_gemm_4x8c4__generic(size_t mr, size_t kc, const void* __restrict a,
                             const void* __restrict packed_b, int32_t* __restrict acc,
                             bool accumulate);
void qs16_gemm_4x8c2__generic(size_t mr, size_t kc, const void* __restrict a,
                              const void* __restrict packed_b, int32_t* __restrict acc,
                              bool accumulate);
void qgemm_pack_a__generic(size_t rows, size_t kc, size_t kc_padded, const void* __restrict a,
                           size_t lda, const QPackAParams& params, void* __restrict tile,
                           size_t tile_stride, int32_t* __restrict row_sums);
void qgemm_output__generic(size_t rows, size_t nc, const int32_t* __restrict acc,
                           size_t acc_stride, const int32_t* __restrict row_sums, size_t m0,
                           size_t n0, const QOutputParams& params);

#if defined(__x86_64__)
// AVX2: s16 x s16 (vpmaddwd), B stored s16 (qs16) or s8 sign-extended in the kernel (qs8).
void qs16_gemm_6x16c2__avx2(size_t mr, size_t kc, const void* __restrict a,
                            const void* __restrict packed_b, int32_t* __restrict acc,
                            bool accumulate);
void qs8_gemm_6x16c2__avx2(size_t mr, size_t kc, const void* __restrict a,
                           const void* __restrict packed_b, int32_t* __restrict acc,
                           bool accumulate);
// AVX2, 7-bit u8 activations x s8: vpmaddubsw + vpmaddwd(ones) (exact only for a <= 127).
void qs8_gemm_6x16c4__avx2(size_t mr, size_t kc, const void* __restrict a,
                           const void* __restrict packed_b, int32_t* __restrict acc,
                           bool accumulate);
void qgemm_pack_a__avx2(size_t rows, size_t kc, size_t kc_padded, const void* __restrict a,
                        size_t lda, const QPackAParams& params, void* __restrict tile,
                        size_t tile_stride, int32_t* __restrict row_sums);
void qgemm_output__avx2(size_t rows, size_t nc, const int32_t* __restrict acc,
                        size_t acc_stride, const int32_t* __restrict row_sums, size_t m0,
                        size_t n0, const QOutputParams& params);
// AVX-VNNI (VEX, ymm): u8 x s8 with vpdpbusd. The same tile compiled with the EVEX encoding
// (AVX512-VNNI + VL) lets CPUs without AVX-VNNI (Zen 4, Ice Lake) test it.
void qs8_gemm_6x16c4__avxvnni(size_t mr, size_t kc, const void* __restrict a,
                              const void* __restrict packed_b, int32_t* __restrict acc,
                              bool accumulate);
void qs8_gemm_6x16c4__avx512vnni_ymm(size_t mr, size_t kc, const void* __restrict a,
                                     const void* __restrict packed_b, int32_t* __restrict acc,
                                     bool accumulate);
// AVX-512: 16-bit kernels (BW: vpmaddwd + vpaddd; VNNI: vpdpwssd) and the u8 x s8 VNNI kernel.
void qs16_gemm_14x32c2__avx512bw(size_t mr, size_t kc, const void* __restrict a,
                                 const void* __restrict packed_b, int32_t* __restrict acc,
                                 bool accumulate);
void qs16_gemm_14x32c2__avx512vnni(size_t mr, size_t kc, const void* __restrict a,
                                   const void* __restrict packed_b, int32_t* __restrict acc,
                                   bool accumulate);
void qs8_gemm_14x32c4__avx512vnni(size_t mr, size_t kc, const void* __restrict a,
                                  const void* __restrict packed_b, int32_t* __restrict acc,
                                  bool accumulate);
void qs8_gemm_6x64c4__avx512vnni(size_t mr, size_t kc, const void* __restrict a,
                                 const void* __restrict packed_b, int32_t* __restrict acc,
                                 bool accumulate);
void qgemm_pack_a__avx512bw(size_t rows, size_t kc, size_t kc_padded, const void* __restrict a,
                            size_t lda, const QPackAParams& params, void* __restrict tile,
                            size_t tile_stride, int32_t* __restrict row_sums);
void qgemm_output__avx512f(size_t rows, size_t nc, const int32_t* __restrict acc,
                           size_t acc_stride, const int32_t* __restrict row_sums, size_t m0,
                           size_t n0, const QOutputParams& params);
#endif

}  // namespace ratel::kernels
