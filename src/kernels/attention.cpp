#include "kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/status.h"
#include "kernels/gemm.h"
#include "kernels/softmax.h"

namespace ratel::kernels {

namespace {

constexpr size_t kAlignFloats = 16;  // 64 bytes

size_t align_up(size_t n) { return (n + kAlignFloats - 1) / kAlignFloats * kAlignFloats; }
size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

// Aim for blocks of about this many query rows: R x S scores (R = 96, S = 384: 144 KiB) stay in
// L2 between the two GEMMs and the softmax, next to the packed K and V (2 x 48 KiB).
constexpr size_t kTargetRowBlock = 96;

struct WorkspaceLayout {
  size_t packed_k, packed_v, scores, mask_row, col_max, total;
};

WorkspaceLayout layout(size_t seq, size_t head_size, cpu::Isa isa) {
  WorkspaceLayout l;
  l.packed_k = 0;
  l.packed_v = l.packed_k + align_up(packed_gemm_b_size(head_size, seq, isa));
  l.scores = l.packed_v + align_up(packed_gemm_b_size(seq, head_size, gemm_ukernel_for(isa, head_size)));
  l.mask_row = l.scores + align_up(attention_row_block(seq, isa) * seq);
  l.col_max = l.mask_row + align_up(seq);
  l.total = l.col_max + 2 * align_up(head_size);
  return l;
}

// col_max[c] = max over rows of |x[r * ld + c]| for c < d (elementwise maxima: vectorizes).
void column_max_abs(size_t rows, size_t d, const float* x, size_t ld, float* col_max) {
  for (size_t c = 0; c < d; ++c) col_max[c] = 0;
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x + r * ld;
    for (size_t c = 0; c < d; ++c) {
      const float a = std::fabs(row[c]);
      col_max[c] = col_max[c] < a ? a : col_max[c];
    }
  }
}

// Keys [0, end) that can carry weight for (b, h); the suffix [end, seq) is masked so far below the
// best key that its exp underflows to exactly 0 in every row (see attention.h). Only for masks
// that do not vary over query rows (BERT's [B, 1, 1, S]); otherwise every key is kept.
size_t live_keys(const AttentionParams& p, size_t b, size_t h, float* col_max) {
  const size_t S = p.seq, D = p.head_size;
  if (p.mask == nullptr || p.mask_strides[2] != 0 || p.mask_strides[3] == 0) return S;
  const float* m = p.mask + static_cast<int64_t>(b) * p.mask_strides[0] +
                   static_cast<int64_t>(h) * p.mask_strides[1];
  const int64_t ms = p.mask_strides[3];
  float best = -INFINITY;
  for (size_t j = 0; j < S; ++j) {
    const float v = m[static_cast<int64_t>(j) * ms];
    if (std::isnan(v)) return S;
    best = std::max(best, v);
  }
  if (!(m[static_cast<int64_t>(S - 1) * ms] < best)) return S;  // quick exit: last key is live
  // |scale q_i . k_j| <= |scale| sum_c max_i |q_ic| max_j |k_jc| =: bound, for every i, j.
  float* q_max = col_max;
  float* k_max = col_max + align_up(D);
  column_max_abs(S, D, p.q + b * S * p.ldq + h * D, p.ldq, q_max);
  column_max_abs(S, D, p.k + b * S * p.ldk + h * D, p.ldk, k_max);
  double bound = 0;
  for (size_t c = 0; c < D; ++c) bound += double{q_max[c]} * k_max[c];
  bound *= std::fabs(double{p.scale});
  if (!std::isfinite(bound)) return S;
  // Key j is dead when t_ij - max_i t <= 2 bound + (m_j - best) + rounding < -128 for all i:
  // its exp is then exactly 0 (below math::kExpMin) on every path.
  size_t end = S;
  while (end > 0) {
    const double mj = m[static_cast<int64_t>(end - 1) * ms];
    if (mj == -INFINITY) {  // t = -inf: exp is 0 whatever the score
      --end;
      continue;
    }
    const double slack = 2 * bound * 1.001 + 1e-6 * (std::fabs(mj) + std::fabs(double{best})) + 128;
    if (!(mj - best < -slack)) break;
    --end;
  }
  return end;  // >= 1: the best key is never dead
}

}  // namespace

size_t attention_row_block(size_t seq, cpu::Isa isa) {
  const size_t mr = gemm_ukernel(isa).mr;
  const size_t blocks = ceil_div(seq, kTargetRowBlock);
  return std::min(seq, ceil_div(ceil_div(seq, blocks), mr) * mr);
}

size_t attention_workspace_size(size_t seq, size_t head_size, cpu::Isa isa) {
  return layout(seq, head_size, isa).total;
}

void attention(const AttentionParams& p, float* workspace, cpu::ThreadPool* pool, cpu::Isa isa) {
  RATEL_ASSERT(p.batch >= 1 && p.seq >= 1 && p.heads >= 1 && p.head_size >= 1);
  [[maybe_unused]] const size_t hidden = p.heads * p.head_size;
  RATEL_ASSERT(p.ldq >= hidden && p.ldk >= hidden && p.ldv >= hidden && p.ldo >= hidden);
  RATEL_ASSERT(p.q && p.k && p.v && p.out && workspace);
  RATEL_ASSERT(reinterpret_cast<uintptr_t>(workspace) % 64 == 0);
  const size_t S = p.seq, D = p.head_size;
  const WorkspaceLayout wl = layout(S, D, isa);
  const size_t row_block = attention_row_block(S, isa);
  const size_t blocks = ceil_div(S, row_block);
  const SoftmaxKernelFn softmax = softmax_kernel(isa);
  // P x V is [rows x keys] x [keys x D]: a narrow B when D is small (gemm_ukernel_for).
  const GemmUkernel& pv_ukernel = gemm_ukernel_for(isa, D);
  const bool mask_contiguous = p.mask == nullptr || p.mask_strides[3] == 1;

  auto run_units = [&](int64_t begin, int64_t end, int thread) {
    float* ws = workspace + static_cast<size_t>(thread) * wl.total;
    float* scores = ws + wl.scores;
    float* mask_row = ws + wl.mask_row;
    size_t packed_bh = SIZE_MAX;
    size_t keys = S;  // live keys of the packed head
    PackedBView kt, vv;
    for (int64_t unit = begin; unit < end; ++unit) {
      const size_t bh = static_cast<size_t>(unit) / blocks;
      const size_t blk = static_cast<size_t>(unit) % blocks;
      const size_t b = bh / p.heads, h = bh % p.heads;
      const size_t col = h * D;
      if (bh != packed_bh) {
        keys = live_keys(p, b, h, ws + wl.col_max);
        // K_h^T: B[d][j] = k[(b S + j) ldk + h D + d]; V_h: B[j][d] = v[(b S + j) ldv + h D + d].
        kt = pack_gemm_b(D, keys, p.k + b * S * p.ldk + col, 1, p.ldk, isa, ws + wl.packed_k);
        vv = pack_gemm_b(keys, D, p.v + b * S * p.ldv + col, p.ldv, 1, pv_ukernel, ws + wl.packed_v);
        packed_bh = bh;
      }
      const size_t i0 = blk * row_block;
      const size_t rows = std::min(row_block, S - i0);
      gemm_packed(rows, p.q + (b * S + i0) * p.ldq + col, p.ldq, kt, scores, keys, {}, nullptr);
      for (size_t r = 0; r < rows; ++r) {
        const float* bias = nullptr;
        if (p.mask) {
          const float* m = p.mask + static_cast<int64_t>(b) * p.mask_strides[0] +
                           static_cast<int64_t>(h) * p.mask_strides[1] +
                           static_cast<int64_t>(i0 + r) * p.mask_strides[2];
          if (mask_contiguous) {
            bias = m;
          } else {
            for (size_t j = 0; j < keys; ++j) mask_row[j] = m[static_cast<int64_t>(j) * p.mask_strides[3]];
            bias = mask_row;
          }
        }
        softmax(keys, scores + r * keys, p.scale, bias, scores + r * keys);
      }
      gemm_packed(rows, scores, keys, vv, p.out + (b * S + i0) * p.ldo + col, p.ldo, {}, nullptr);
    }
  };
  cpu::parallel_for(pool, static_cast<int64_t>(p.batch * p.heads * blocks), run_units);
}

void attention_reference(const AttentionParams& p) {
  const size_t S = p.seq, D = p.head_size;
  std::vector<double> scores(S);
  for (size_t b = 0; b < p.batch; ++b) {
    for (size_t h = 0; h < p.heads; ++h) {
      for (size_t i = 0; i < S; ++i) {
        const float* qi = p.q + (b * S + i) * p.ldq + h * D;
        double max = -INFINITY;
        for (size_t j = 0; j < S; ++j) {
          const float* kj = p.k + (b * S + j) * p.ldk + h * D;
          double dot = 0;
          for (size_t c = 0; c < D; ++c) dot += double{qi[c]} * kj[c];
          double s = double{p.scale} * dot;
          if (p.mask) {
            s += p.mask[static_cast<int64_t>(b) * p.mask_strides[0] +
                        static_cast<int64_t>(h) * p.mask_strides[1] +
                        static_cast<int64_t>(i) * p.mask_strides[2] +
                        static_cast<int64_t>(j) * p.mask_strides[3]];
          }
          scores[j] = s;
          max = std::max(max, s);
        }
        double sum = 0;
        for (double& s : scores) {
          s = std::exp(s - max);
          sum += s;
        }
        float* oi = p.out + (b * S + i) * p.ldo + h * D;
        for (size_t c = 0; c < D; ++c) {
          double acc = 0;
          for (size_t j = 0; j < S; ++j) acc += scores[j] * p.v[(b * S + j) * p.ldv + h * D + c];
          oi[c] = static_cast<float>(acc / sum);
        }
      }
    }
  }
}

}  // namespace ratel::kernels
