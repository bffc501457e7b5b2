// Multi-head scaled dot-product attention (fp32), the kernel under ratel.Attention.
//
//   for each batch b and head h (head size D, columns [h D, h D + D) of Q, K, V and the output):
//     P = softmax(scale * Q_h K_h^T + mask[b, h])     (S x S, row softmax over the keys)
//     out_h = P V_h
//
// Q, K and V are token-major with row strides ldq, ldk, ldv (BERT's packed QKV: one [B, S, 3H]
// buffer, K = Q + H, V = Q + 2H, all strides 3H); row b * seq + i holds token i of batch b. The
// mask is additive with element strides for [batch, head, query, key] (0 where it broadcasts;
// BERT's [B, 1, 1, S] mask has strides {S, 0, 0, 1}); null for none.
//
// How it runs: the work is (batch, head, block of query rows) units, split statically over the
// pool. A thread packs K_h^T and V_h once per head into its workspace (pack_gemm_b), then per
// block of R query rows: scores = Q_block K_h^T (gemm_packed, R x S floats kept in L2), the
// scaled, masked softmax of each row in place (softmax_kernel), out_block = P V_h (gemm_packed,
// straight into the output's column block). Every element is computed by the same code whatever
// the thread count and the split, so the result is bit-identical for any pool.
//
// Masked keys: when the mask does not vary over query rows (BERT's [B, 1, 1, S], padding = -10000)
// the trailing keys whose mask is provably so far below the best key's that t - max < -128 in
// every row (so their exp is exactly 0 on every path) are left out of both GEMMs and the softmax (the bound: |scale q.k| <=
// |scale| sum_c max_i |q_ic| max_j |k_jc|, per head). Their weight is exactly 0 in float, so the
// result is bit-identical to computing them; a padded QA window (171 of 384 tokens) then costs
// 171/384 of the full attention. (One difference from the definition: NaN in the K or V rows of
// such keys does not reach the output.)
//
// Error against the double-precision definition (derived and asserted per element in
// tests/kernels/attention_test.cpp): the scores carry gamma(D) sum_c |q_c k_c| (FMA chains of
// length D), which the softmax sees as argument errors (see softmax.h), then
//   |out - out_ref| <= sum_j |p_j - p_ref_j| |v_j| + gamma(S) sum_j p_j |v_j|.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cpu/cpu_features.h"
#include "cpu/thread_pool.h"

namespace ratel::kernels {

struct AttentionParams {
  size_t batch = 0, seq = 0, heads = 0, head_size = 0;
  const float* q = nullptr;
  size_t ldq = 0;
  const float* k = nullptr;
  size_t ldk = 0;
  const float* v = nullptr;
  size_t ldv = 0;
  float* out = nullptr;  // must not overlap q, k, v or mask
  size_t ldo = 0;
  const float* mask = nullptr;
  int64_t mask_strides[4] = {0, 0, 0, 0};  // batch, head, query, key (elements, >= 0)
  float scale = 1.0f;
};

// Floats of workspace one thread needs (64-byte aligned slices); attention() takes
// attention_workspace_size * threads floats, threads = the pool's size (1 without a pool).
size_t attention_workspace_size(size_t seq, size_t head_size, cpu::Isa isa = cpu::active_isa());

// Query rows per block (a multiple of the GEMM's MR), exposed for tests and benchmarks.
size_t attention_row_block(size_t seq, cpu::Isa isa);

void attention(const AttentionParams& p, float* workspace, cpu::ThreadPool* pool,
               cpu::Isa isa = cpu::active_isa());

// Reference: the definition in double precision (scores, softmax, P V), rounded once.
void attention_reference(const AttentionParams& p);

}  // namespace ratel::kernels
