// Quantized GEMM (int8 and int16) with packed weights and fused output stages: the kernel layer
// under a quantized ratel.Dense / MatMul. Real values are represented as
//
//   a_real[m][k] = a_scale * (a[m][k] - a_zero_point)          activations, per call
//   w_real[k][n] = w_scale[n] * (w[k][n] - w_zero_point[n])    weights, per column or tensor
//
// and the GEMM computes the exact integer accumulator
//
//   acc[m][n] = sum_k (a[m][k] - za) * (w[k][n] - zw[n])       (int32; mod 2^32, see below)
//
// then one output stage (QGemmEpilogue::output), with t = acc + bias_i32[n]:
//   kInt32  C = t
//   kFloat  C = act(float(t) * (a_scale * w_scale[n]) + bias[n]) + residual      (dequantize)
//   kU8/kS8/kS16 (requantize for a following quantized layer):
//           y = float(t) * ((a_scale / out_scale) * w_scale[n]), clamped to
//           [out_min - out_zp, out_max - out_zp], rounded half to even, + out_zp.
// Every float operation is one IEEE single operation in that order, so C is bit-identical on
// every ISA path, thread count and blocking (GELU excepted: each ISA's erf approximation is
// within math/erf_approx.h's bound, not bit-identical).
//
// HHB schemes and how they map:
//   int8_asym         a: u8 or s8 with zero point; w: s8 per-channel with zero points
//   int8_asym_w_sym   a: u8/s8 with zero point;    w: s8 per-channel, zero points 0
//   int8_sym          a: s8, zero point 0;         w: s8, zero points 0
//   uint8_asym        a: u8 with zero point;       w: u8 with zero points
//   int16_sym         a: s16, zero point 0;        w: s16, zero points 0 (kS16 weights)
//   (float16, float16_w_int8 and bfloat16 weights: hgemm.h.)
// Exactness: int8 accumulators are exact for K <= 33025 (|a - za|, |w - zw| <= 255); int16
// products are exact but their sum is taken mod 2^32 (wrapping, like the hardware), so the
// caller keeps |acc| < 2^31 (e.g. K * max|a| * max|w| < 2^31) for a meaningful result.
//
// How the runtime uses it
// -----------------------
// 1. At load time, pack each constant weight once (the quantization pass gives its scales and
//    zero points):
//
//      QGemmWeights w;  w.type = QType::kS8;  w.data = int8_data;  w.k = K;  w.n = N;
//      w.ldb = N;  w.scales = scales;  w.scale_count = N;          // or 1 (per tensor)
//      w.zero_points = nullptr;                                    // symmetric
//      RATEL_ASSIGN_OR_RETURN(PackedQGemmB pw, PackedQGemmB::pack(w));
//
//    Packing picks the kernel (cpu::active_isa(), VNNI if present; or pass an Isa), reorders
//    the weights into its panel layout, and precomputes per-column terms (the weights' column
//    sums folded with the zero points, the scales padded to the panel width).
// 2. Per call:
//
//      QGemmA a;  a.type = QType::kU8;  a.data = x_q;  a.stride = K;
//      a.scale = sx;  a.zero_point = zx;
//      QGemmEpilogue epi;  epi.output = QOutput::kFloat;  epi.bias = bias;    // f32 out, feeds
//      epi.residual = skip;  epi.residual_stride = N;                        // LayerNorm
//      qgemm_packed(M, a, pw.view(), c, /*ldc=*/N, epi, &pool);
//
//    For chained int8 layers set epi.output = QOutput::kU8 (or kS8) with out_scale /
//    out_zero_point (and optionally bias_i32, the bias quantized with scale a_scale*w_scale[n]).
//
// Threads and determinism as in gemm.h: blocks of whole row tiles x column panels (never K),
// claimed by the threads; C does not depend on the thread count. No allocation per call (the A
// tile, the accumulator tile and the row sums live on the stack).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/status.h"
#include "core/tensor.h"
#include "cpu/cpu_features.h"
#include "cpu/thread_pool.h"
#include "kernels/qs8-gemm/qgemm_ukernel.h"

namespace ratel::kernels {

enum class QType : uint8_t { kU8 = 0, kS8 = 1, kS16 = 2 };

// A constant weight, K x N row-major (ONNX MatMul layout) with row stride ldb >= N elements.
struct QGemmWeights {
  QType type = QType::kS8;        // kS8 / kU8: the int8 family; kS16: int16
  const void* data = nullptr;
  size_t k = 0, n = 0, ldb = 0;
  const float* scales = nullptr;  // scale_count = 1 (per tensor) or N (per column)
  size_t scale_count = 0;
  const int32_t* zero_points = nullptr;  // null (all 0), or 1 or N values in the type's range
  size_t zero_point_count = 0;           // (must be 0 for kS16)
};

// Packed weights for one kernel. Layout (see qgemm_ukernel.h): ceil(N / NR) panels, each
// ceil(K / KR) groups of NR x KR elements (s8 or s16) in the kernel's domain, followed by
// col_term / zw / w_scale arrays padded to a multiple of NR.
struct PackedQGemmBView {
  const void* data = nullptr;      // panels, 64-byte aligned
  size_t k = 0, n = 0;
  QType weight_type = QType::kS8;  // the caller's type (the family)
  const int32_t* col_term = nullptr;
  const int32_t* zw = nullptr;     // null when every zero point is 0 in the kernel's domain
  const float* w_scale = nullptr;
  const QGemmUkernel* ukernel = nullptr;
};

// Bytes pack_qgemm_b writes for a K x N weight and kernel `uk` (panels + column arrays).
size_t packed_qgemm_b_size(size_t k, size_t n, const QGemmUkernel& uk);
// Packs into `packed` (64-byte aligned, packed_qgemm_b_size bytes). The weights must be valid
// (see PackedQGemmB::pack, which checks them).
PackedQGemmBView pack_qgemm_b(const QGemmWeights& w, const QGemmUkernel& uk, void* packed);

class PackedQGemmB {
 public:
  PackedQGemmB() = default;
  // Fails on empty shapes, ldb < N, scale/zero-point counts other than 1 or N, zero points
  // outside the type's range (or nonzero for kS16), or an Isa this CPU lacks.
  // `a_u8_max`: the largest value the activations will take in the u8 domain (see
  // qgemm_ukernel_for; 127 for 7-bit u8 activations lets AVX2 use its vpmaddubsw kernel, and
  // then every qgemm_packed call with these weights must keep to it).
  static Result<PackedQGemmB> pack(const QGemmWeights& w, cpu::Isa isa = cpu::active_isa(),
                                   int a_u8_max = 255);
  // The same for an explicit kernel (tests, benchmarks); fails if this CPU cannot run it or
  // its family does not match the weight type.
  static Result<PackedQGemmB> pack(const QGemmWeights& w, const QGemmUkernel& uk);
  const PackedQGemmBView& view() const { return view_; }

 private:
  std::shared_ptr<Storage> storage_;
  PackedQGemmBView view_;
};

// Activations, M x K row-major with row stride `stride` elements.
struct QGemmA {
  QType type = QType::kU8;  // kU8 / kS8 with int8 weights, kS16 with int16 weights
  const void* data = nullptr;
  size_t stride = 0;
  float scale = 1.0f;
  int32_t zero_point = 0;   // in the type's range; 0 for kS16
};

struct QGemmEpilogue {
  QOutput output = QOutput::kInt32;
  const int32_t* bias_i32 = nullptr;  // N values added to the accumulator, any output; or null
  // kFloat:
  const float* bias = nullptr;        // N floats added after scaling; or null
  Activation activation = Activation::kNone;
  const float* residual = nullptr;    // M x N, added last; or null
  size_t residual_stride = 0;
  // kU8 / kS8 / kS16:
  float out_scale = 1.0f;
  int32_t out_zero_point = 0;
  int32_t out_min = INT32_MIN;        // clamp; INT32_MIN / INT32_MAX mean the type's range
  int32_t out_max = INT32_MAX;
};

// C = epilogue(A * B). C is M x N with row stride ldc >= N elements of the output type
// (int32, float, uint8, int8 or int16) and must not overlap A, the weights or the residual.
// Preconditions (asserted): the activation type matches the weights' family, zero points in
// range, out_min <= out_max within the output type. M = 0 does nothing.
void qgemm_packed(size_t m, const QGemmA& a, const PackedQGemmBView& b, void* c, size_t ldc,
                  const QGemmEpilogue& epilogue = {}, cpu::ThreadPool* pool = nullptr);

// Portable reference: the formula above computed naively (int64 sums, then the same float
// operations; GELU in double), straight from the unpacked weights.
void qgemm_reference(size_t m, const QGemmA& a, const QGemmWeights& w, void* c, size_t ldc,
                     const QGemmEpilogue& epilogue);

}  // namespace ratel::kernels
