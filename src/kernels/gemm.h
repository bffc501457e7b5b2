// fp32 GEMM with packed weights and fused epilogues: the matrix multiply under BERT's MatMul,
// Gemm and attention.
//
//   C[M x N] = activation(A[M x K] * B[K x N] + bias) + residual
//
// How the runtime uses it
// -----------------------
// 1. At load time, for each constant MatMul/Gemm weight B (ONNX layout: K x N row-major), pack
//    it once for the kernel the session will run:
//
//      RATEL_ASSIGN_OR_RETURN(PackedGemmB w, PackedGemmB::pack(b, K, N, /*ldb=*/N));
//
//    (defaults to cpu::active_isa(); pass an Isa to force a path). Packing reorders B into
//    panels of NR columns (see pack_gemm_b) so the microkernel streams it contiguously.
// 2. At run time, per call (A is row-major with row stride lda; C gets row stride ldc):
//
//      GemmEpilogue epi;                 // all optional
//      epi.bias = bias;                  // N floats (MatMul+Add, Gemm's C)
//      epi.activation = Activation::kGelu;
//      epi.residual = skip;              // M x N, row stride epi.residual_stride
//      epi.residual_stride = N;
//      gemm_packed(M, a, lda, w.view(), c, ldc, epi, &pool);   // pool may be null
//
//    BERT's fusions map to it as: QKV and output projections = bias; intermediate dense =
//    bias + GELU; attention-output and FFN-output dense = bias + residual (LayerNorm follows).
// 3. Activations times activations (attention): gemm_strided packs B from any strides into a
//    caller-owned workspace, then runs the same kernel. For head h of an [S x 3*H*D] QKV buffer
//    with Q at column h*D, K at H*D + h*D, V at 2*H*D + h*D, row stride L = 3*H*D:
//      scores = Q_h * K_h^T :  gemm_strided(S, S, D, q, L, k, /*b_stride_k=*/1,
//                                           /*b_stride_n=*/L, scores, S, {}, ws, nullptr)
//      context_h = P * V_h  :  gemm_strided(S, D, S, p, S, v, /*b_stride_k=*/L,
//                                           /*b_stride_n=*/1, ctx + h*D, H*D, {}, ws, nullptr)
//    The 1/sqrt(D) scale is folded into the Q projection's weights and bias at load time (or
//    applied by the softmax). Heads are independent: parallel_for over heads with one workspace
//    per thread (gemm_workspace_size floats each) and no pool inside, which keeps every GEMM
//    on one core with its B panel in that core's L2. (kernels/attention.h builds the fused
//    attention on pack_gemm_b + gemm_packed this way.)
//
// Threads and determinism: the work is cut into blocks of whole row tiles x whole column
// panels (never K) that the pool's threads claim as they go, so a thread that loses its core to
// another process delays only the block it holds. Every element of C is one FMA chain over k
// in order, computed by one block with the same code whichever thread runs it, so C is
// bit-identical for any thread count, schedule and blocking. Kernels do not allocate (the A
// tile lives on the stack), and assert their preconditions in debug builds.
#pragma once

#include <cstddef>
#include <memory>

#include "core/status.h"
#include "core/tensor.h"
#include "cpu/cpu_features.h"
#include "cpu/thread_pool.h"
#include "kernels/f32-gemm/f32_gemm_ukernel.h"

namespace ratel::kernels {

struct GemmEpilogue {
  const float* bias = nullptr;  // N floats, added to every row; or null
  Activation activation = Activation::kNone;
  const float* residual = nullptr;  // M x N, added after the activation; or null
  size_t residual_stride = 0;       // row stride of residual (floats), >= N
};

// B packed for one microkernel: ceil(N / NR) panels, panel p holding columns [p*NR, p*NR + NR)
// as K rows of NR contiguous floats (zero past column N). 64-byte aligned.
struct PackedBView {
  const float* data = nullptr;
  size_t k = 0;
  size_t n = 0;
  const GemmUkernel* ukernel = nullptr;  // the kernel it was packed for (gemm_packed runs it)
};

// Floats pack_gemm_b writes for a K x N matrix.
size_t packed_gemm_b_size(size_t k, size_t n, cpu::Isa isa);
// Packs B[k][n] = b[k * b_stride_k + n * b_stride_n] (so a transposed B is just other strides)
// into `packed` (packed_gemm_b_size floats, 64-byte aligned) for gemm_ukernel(isa).
PackedBView pack_gemm_b(size_t k, size_t n, const float* b, size_t b_stride_k, size_t b_stride_n,
                        cpu::Isa isa, float* packed);
// The same for an explicit microkernel (tests and benchmarks use it to compare tile shapes;
// `ukernel` must outlive the view and be runnable on this CPU).
size_t packed_gemm_b_size(size_t k, size_t n, const GemmUkernel& ukernel);
PackedBView pack_gemm_b(size_t k, size_t n, const float* b, size_t b_stride_k, size_t b_stride_n,
                        const GemmUkernel& ukernel, float* packed);
// Largest MR x a_stride the driver's stack A tile holds; a GemmUkernel must fit in it.
inline constexpr size_t kGemmMaxATileFloats = 16 * 400;

// Packed weights that own their memory (shared, so copies are cheap and sessions can share).
class PackedGemmB {
 public:
  PackedGemmB() = default;
  // B is K x N row-major with row stride ldb >= N. Fails if `isa` is not supported by this CPU
  // or the allocation exceeds the limit.
  static Result<PackedGemmB> pack(const float* b, size_t k, size_t n, size_t ldb,
                                  cpu::Isa isa = cpu::active_isa());
  const PackedBView& view() const { return view_; }

 private:
  std::shared_ptr<Storage> storage_;
  PackedBView view_;
};

// C = epilogue(A * B). A: M x K (K = b.k) row-major with row stride lda >= K; C: M x N with row
// stride ldc >= N. C must not overlap A, B, bias or residual. M = 0 does nothing.
void gemm_packed(size_t m, const float* a, size_t lda, const PackedBView& b, float* c,
                 size_t ldc, const GemmEpilogue& epilogue = {}, cpu::ThreadPool* pool = nullptr);

// Floats of workspace gemm_strided needs (= packed_gemm_b_size).
size_t gemm_workspace_size(size_t k, size_t n, cpu::Isa isa = cpu::active_isa());

// C = epilogue(A * B) with B[k][n] = b[k * b_stride_k + n * b_stride_n], packed into
// `workspace` (gemm_workspace_size floats, 64-byte aligned) on the calling thread first.
void gemm_strided(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b,
                  size_t b_stride_k, size_t b_stride_n, float* c, size_t ldc,
                  const GemmEpilogue& epilogue, float* workspace, cpu::ThreadPool* pool = nullptr,
                  cpu::Isa isa = cpu::active_isa());

// Portable reference: the same operation computed naively with double accumulation and
// std::erf, for tests (and as the oracle the fast paths are compared against).
void gemm_reference(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b,
                    size_t b_stride_k, size_t b_stride_n, float* c, size_t ldc,
                    const GemmEpilogue& epilogue);

}  // namespace ratel::kernels
