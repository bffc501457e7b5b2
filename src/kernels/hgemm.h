// GEMM with fp32 activations and half-precision weights (fp16 or bf16), fp32 accumulation and
// the f32 GEMM's epilogues (bias, GELU, residual):
//
//   C[M x N] = activation((A[M x K] * B[K x N]) * col_scale + bias) + residual
//
// The kernel layer of HHB's float16, float16_w_int8 and bfloat16 schemes on x86:
//   float16         weights rounded to fp16 (or given as fp16) at load; half the bytes of fp32.
//                   The activations stay fp32 (a graph pass may round them to fp16 between
//                   layers; x86 without AVX512-FP16 computes in fp32 either way).
//   float16_w_int8  int8 weights stored as fp16 (every integer in [-128, 127] is exact in
//                   fp16) with the per-column scale applied after the sum (col_scale): exact
//                   dequantization w * scale[n] of the int8 weights, half the bytes of fp32.
//   bfloat16        activations rounded to bf16 per call, weights at load; products exact,
//                   summed in fp32 in vdpbf16ps's order (AVX512-BF16, or exact emulation).
// Accumulation orders and what is exact: hgemm-common/hgemm_ukernel.h. In short: the fp16 path
// returns exactly what gemm_packed (gemm.h) returns on the fp16-rounded weights, and every bf16
// path (hardware or emulated) returns the same bits.
//
// How the runtime uses it (like gemm.h):
//   load:  RATEL_ASSIGN_OR_RETURN(PackedHGemmB w, PackedHGemmB::pack_f16(b, K, N, N));
//          (or pack_f16_bits for ONNX float16 initializers, pack_f16_from_s8 with scales for
//          float16_w_int8, pack_bf16 / pack_bf16_bits for bfloat16)
//   call:  hgemm_packed(M, a, lda, w.view(), c, ldc, epi, &pool);   // GemmEpilogue from gemm.h
// Threads and determinism as in gemm.h (blocks never split K; C independent of the thread
// count). No allocation per call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/status.h"
#include "core/tensor.h"
#include "cpu/cpu_features.h"
#include "cpu/thread_pool.h"
#include "kernels/gemm.h"
#include "kernels/hgemm-common/hgemm_ukernel.h"

namespace ratel::kernels {

// Panels of NR columns: fp16: K rows of NR values; bf16: ceil(K/2) groups of NR x 2 (c2).
// Zero past N and K. col_scale: padded to a multiple of NR, or null.
struct PackedHGemmBView {
  const uint16_t* data = nullptr;
  size_t k = 0, n = 0;
  const float* col_scale = nullptr;
  const HGemmUkernel* ukernel = nullptr;
};

// How the source weights are given to pack_hgemm_b (K x N row-major, row stride ldb).
enum class HSource : uint8_t {
  kF32 = 0,    // float: rounded to the format (nearest even)
  kBits = 1,   // uint16_t already in the format (fp16 or bf16 bits)
  kS8 = 2,     // int8_t (fp16 format only): stored exactly, scaled by `scales` after the sum
};

size_t packed_hgemm_b_size(size_t k, size_t n, const HGemmUkernel& uk);  // bytes
// Packs into `packed` (64-byte aligned, packed_hgemm_b_size bytes). `scales`: scale_count = 1
// or N column scales (copied into the packed block), or null. bf16 subnormals are flushed.
PackedHGemmBView pack_hgemm_b(size_t k, size_t n, const void* b, size_t ldb, HSource source,
                              const float* scales, size_t scale_count, const HGemmUkernel& uk,
                              void* packed);

class PackedHGemmB {
 public:
  PackedHGemmB() = default;
  static Result<PackedHGemmB> pack_f16(const float* b, size_t k, size_t n, size_t ldb,
                                       cpu::Isa isa = cpu::active_isa());
  static Result<PackedHGemmB> pack_f16_bits(const uint16_t* b, size_t k, size_t n, size_t ldb,
                                            cpu::Isa isa = cpu::active_isa());
  // float16_w_int8: w_real[k][n] = b[k][n] * scales[scale_count == 1 ? 0 : n].
  static Result<PackedHGemmB> pack_f16_from_s8(const int8_t* b, size_t k, size_t n, size_t ldb,
                                               const float* scales, size_t scale_count,
                                               cpu::Isa isa = cpu::active_isa());
  static Result<PackedHGemmB> pack_bf16(const float* b, size_t k, size_t n, size_t ldb,
                                        cpu::Isa isa = cpu::active_isa());
  static Result<PackedHGemmB> pack_bf16_bits(const uint16_t* b, size_t k, size_t n, size_t ldb,
                                             cpu::Isa isa = cpu::active_isa());
  // Any source for an explicit kernel (tests, benchmarks); fails if this CPU cannot run it.
  static Result<PackedHGemmB> pack(size_t k, size_t n, const void* b, size_t ldb, HSource source,
                                   const float* scales, size_t scale_count,
                                   const HGemmUkernel& uk);
  const PackedHGemmBView& view() const { return view_; }

 private:
  std::shared_ptr<Storage> storage_;
  PackedHGemmBView view_;
};

// C = epilogue((A * B) * col_scale). A: M x K fp32 (row stride lda >= K); C: M x N fp32 (ldc >=
// N), not overlapping A, B, bias or residual. M = 0 does nothing.
void hgemm_packed(size_t m, const float* a, size_t lda, const PackedHGemmBView& b, float* c,
                  size_t ldc, const GemmEpilogue& epilogue = {}, cpu::ThreadPool* pool = nullptr);

// Reference for the bf16 format: A and B rounded to bf16 (math::bf16_from_f32 / given bits),
// each element summed in the defined order (hgemm_ukernel.h) in double-then-float steps with
// DAZ/FTZ, then the epilogue in float (GELU in double). B given as fp32 values (already in the
// format's precision: the caller rounds them, e.g. with math::bf16_round).
void bf16_gemm_reference(size_t m, size_t n, size_t k, const float* a, size_t lda,
                         const float* b, size_t ldb, const float* col_scale, float* c, size_t ldc,
                         const GemmEpilogue& epilogue);

}  // namespace ratel::kernels
