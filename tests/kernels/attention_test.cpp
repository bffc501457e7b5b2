// Multi-head attention on every ISA path against the double-precision definition: every output
// element within the bound derived from the kernel's arithmetic (attention.h), for packed QKV and
// separate Q, K, V with padded strides, odd sequence lengths and head sizes (row blocks with
// tails), every mask layout (none, BERT's [B,1,1,S], full [B,nh,S,S], key-broadcast [B,1,S,1]),
// in guarded buffers; the output's padding columns stay untouched; 1, 2 and 3 threads give
// identical bits.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "cpu/thread_pool.h"
#include "guarded_buffer.h"
#include "kernel_test_util.h"
#include "kernels/attention.h"
#include "kernels/math/exp_approx.h"

namespace ratel::testing {
namespace {

using cpu::Isa;

constexpr float kUntouched = -12345.0f;

enum class MaskKind { kNone, kBert, kFull, kKeyBroadcast };

struct AttnCase {
  size_t batch, seq, heads, head_size;
  bool packed;
  MaskKind mask;
};

std::string describe(const AttnCase& c) {
  static const char* masks[] = {"none", "[B,1,1,S]", "[B,nh,S,S]", "[B,1,S,1]"};
  return "B=" + std::to_string(c.batch) + " S=" + std::to_string(c.seq) + " nh=" +
         std::to_string(c.heads) + " D=" + std::to_string(c.head_size) +
         (c.packed ? " packed" : " separate") + " mask=" + masks[static_cast<int>(c.mask)];
}

// Operands of one case; buffers are guarded, strides padded when not packed.
struct AttnData {
  AttnData(const AttnCase& c, std::mt19937& rng)
      : hidden(c.heads * c.head_size),
        ld_in(c.packed ? 3 * hidden : hidden + 5),
        ldo(hidden + 3),
        rows(c.batch * c.seq),
        qkv(rows * ld_in * (c.packed ? 1 : 3)),
        mask(mask_size(c)),
        out((rows - 1) * ldo + hidden + (ldo - hidden)) {
    qkv.fill_random(rng, -1.5f, 1.5f);
    mask.fill_random(rng, -2.0f, 0.0f);
    for (size_t i = 0; i < mask.size(); i += 7) mask[i] = -10000.0f;  // masked keys
    out.fill(kUntouched);
    p.batch = c.batch;
    p.seq = c.seq;
    p.heads = c.heads;
    p.head_size = c.head_size;
    p.q = qkv.data();
    p.k = c.packed ? qkv.data() + hidden : qkv.data() + rows * ld_in;
    p.v = c.packed ? qkv.data() + 2 * hidden : qkv.data() + 2 * rows * ld_in;
    p.ldq = p.ldk = p.ldv = ld_in;
    p.out = out.data();
    p.ldo = ldo;
    p.scale = 1.0f / std::sqrt(static_cast<float>(c.head_size));
    const int64_t S = static_cast<int64_t>(c.seq), H = static_cast<int64_t>(c.heads);
    switch (c.mask) {
      case MaskKind::kNone: break;
      case MaskKind::kBert: set_mask({S, 0, 0, 1}); break;
      case MaskKind::kFull: set_mask({H * S * S, S * S, S, 1}); break;
      case MaskKind::kKeyBroadcast: set_mask({S, 0, 1, 0}); break;
    }
  }
  static size_t mask_size(const AttnCase& c) {
    switch (c.mask) {
      case MaskKind::kNone: return 1;
      case MaskKind::kBert: return c.batch * c.seq;
      case MaskKind::kFull: return c.batch * c.heads * c.seq * c.seq;
      case MaskKind::kKeyBroadcast: return c.batch * c.seq;
    }
    return 1;
  }
  void set_mask(std::array<int64_t, 4> strides) {
    p.mask = mask.data();
    std::copy(strides.begin(), strides.end(), p.mask_strides);
  }
  float mask_at(size_t b, size_t h, size_t i, size_t j) const {
    if (!p.mask) return 0;
    return p.mask[static_cast<int64_t>(b) * p.mask_strides[0] + static_cast<int64_t>(h) * p.mask_strides[1] +
                  static_cast<int64_t>(i) * p.mask_strides[2] + static_cast<int64_t>(j) * p.mask_strides[3]];
  }

  size_t hidden, ld_in, ldo, rows;
  GuardedBuffer qkv, mask, out;
  kernels::AttentionParams p;
};

// The bound of attention.h for output (b, i, h*D + c), from exact (double) intermediate values:
// score error ds_j = |scale| gamma(D) sum_c |q_c k_jc| on top of the softmax argument errors of
// softmax.h (2u (|scale s_j| + |mask_j|) for the FMA, u |a_j| for the max subtraction), giving
// a relative error rho_j on p_j; then out_c = sum_j p_j v_jc, an FMA chain of length S.
void check_output(const AttnData& d, const std::vector<float>& ref, const float* got) {
  const kernels::AttentionParams& p = d.p;
  const size_t S = p.seq, D = p.head_size;
  const double u = kUnitRoundoff;
  int reported = 0;
  std::vector<double> s(S), serr(S), prob(S), rho(S);
  for (size_t b = 0; b < p.batch; ++b) {
    for (size_t h = 0; h < p.heads; ++h) {
      for (size_t i = 0; i < S; ++i) {
        const float* qi = p.q + (b * S + i) * p.ldq + h * D;
        size_t arg_max = 0;
        for (size_t j = 0; j < S; ++j) {
          const float* kj = p.k + (b * S + j) * p.ldk + h * D;
          double dot = 0, abs_dot = 0;
          for (size_t c = 0; c < D; ++c) {
            dot += double{qi[c]} * kj[c];
            abs_dot += std::fabs(double{qi[c]} * kj[c]);
          }
          const double m = d.mask_at(b, h, i, j);
          s[j] = double{p.scale} * dot + m;
          serr[j] = std::fabs(double{p.scale}) * gamma(static_cast<double>(D)) * abs_dot +
                    2 * u * (std::fabs(double{p.scale} * dot) + std::fabs(m));
          if (s[j] > s[arg_max]) arg_max = j;
        }
        double sum = 0, worst = 0;
        for (size_t j = 0; j < S; ++j) {
          prob[j] = std::exp(s[j] - s[arg_max]);
          sum += prob[j];
          // A key masked with -inf has weight exactly 0 in both: no error.
          const bool hard_masked = s[j] == -INFINITY;
          rho[j] = hard_masked ? 0.0
                               : serr[j] + serr[arg_max] + u * std::fabs(s[j] - s[arg_max]) +
                                     kernels::math::kExpMaxRelError;
          worst = std::max(worst, rho[j]);
        }
        for (size_t j = 0; j < S; ++j) {
          prob[j] /= sum;
          if (s[j] != -INFINITY) rho[j] = 1.01 * (rho[j] + worst + gamma(static_cast<double>(S)) + 3 * u);
        }
        for (size_t c = 0; c < D; ++c) {
          double e_p = 0, pv = 0;
          for (size_t j = 0; j < S; ++j) {
            const double v = std::fabs(p.v[(b * S + j) * p.ldv + h * D + c]);
            e_p += rho[j] * prob[j] * v + 2e-38 * v;
            pv += prob[j] * v;
          }
          const size_t at = (b * S + i) * p.ldo + h * D + c;
          const double want = ref[at];
          const double bound = e_p + gamma(static_cast<double>(S) + 1) * pv * 1.01 + u * std::fabs(want);
          const double err = std::fabs(double{got[at]} - want);
          if (!(err <= bound) && reported++ < 5) {
            ADD_FAILURE() << "out[b=" << b << " i=" << i << " h=" << h << " c=" << c << "] = " << got[at]
                          << ", reference " << want << ", |error| " << err << " > bound " << bound;
          }
        }
      }
    }
  }
  ASSERT_EQ(reported, 0);
}

void check_attention(Isa isa, const AttnCase& c, std::mt19937& rng) {
  SCOPED_TRACE(describe(c) + " isa=" + std::string(cpu::isa_name(isa)));
  AttnData d(c, rng);
  // Reference into a plain copy of the output layout.
  std::vector<float> ref(d.out.size(), kUntouched);
  kernels::AttentionParams rp = d.p;
  rp.out = ref.data();
  kernels::attention_reference(rp);

  const size_t ws_floats = kernels::attention_workspace_size(c.seq, c.head_size, isa);
  std::vector<float> first;
  for (int threads : {1, 2, 3}) {
    SCOPED_TRACE(std::to_string(threads) + " threads");
    cpu::ThreadPool pool(threads);
    GuardedBuffer ws(ws_floats * static_cast<size_t>(threads));
    d.out.fill(kUntouched);
    kernels::attention(d.p, ws.data(), threads > 1 ? &pool : nullptr, isa);
    for (GuardedBuffer* buf : {&d.qkv, &d.mask, &d.out, &ws}) ASSERT_TRUE(buf->canary_intact());
    for (size_t r = 0; r < d.rows; ++r) {
      for (size_t j = d.hidden; j < d.ldo && r * d.ldo + j < d.out.size(); ++j) {
        ASSERT_EQ(d.out[r * d.ldo + j], kUntouched) << "wrote padding at row " << r;
      }
    }
    if (threads == 1) {
      ASSERT_NO_FATAL_FAILURE(check_output(d, ref, d.out.data()));
      first.assign(d.out.data(), d.out.data() + d.out.size());
    } else {
      ASSERT_EQ(std::memcmp(first.data(), d.out.data(), first.size() * 4), 0);
    }
  }
}

class AttentionTest : public ::testing::TestWithParam<Isa> {};

TEST_P(AttentionTest, OddShapesAllMasks) {
  RATEL_SKIP_IF_ISA_UNAVAILABLE(GetParam());
  std::mt19937 rng(21);
  const AttnCase cases[] = {
      {1, 1, 1, 1, true, MaskKind::kNone},
      {1, 5, 2, 3, false, MaskKind::kBert},
      {2, 13, 3, 7, true, MaskKind::kFull},
      {2, 17, 2, 16, false, MaskKind::kKeyBroadcast},
      {1, 33, 4, 8, true, MaskKind::kBert},
      {1, 97, 3, 32, true, MaskKind::kBert},      // more rows than one block
      {2, 130, 2, 33, false, MaskKind::kFull},    // odd D past a panel
      {1, 200, 1, 64, true, MaskKind::kKeyBroadcast},
      {1, 290, 2, 5, false, MaskKind::kNone},     // S > kc of the P V GEMM
  };
  for (const AttnCase& c : cases) check_attention(GetParam(), c, rng);
}

// BERT-base-like shapes at full sequence length (MiniLM: 12 heads of 32, S = 384).
TEST_P(AttentionTest, BertShape) {
  RATEL_SKIP_IF_ISA_UNAVAILABLE(GetParam());
  std::mt19937 rng(22);
  check_attention(GetParam(), {1, 384, 3, 32, true, MaskKind::kBert}, rng);
}

// BERT padding: keys past each sequence's length masked with -10000 in a [B, 1, 1, S] mask. The
// kernel leaves those keys out (attention.h); the result must be within the bound of the
// definition and bit-identical to the same mask given as a full [B, nh, S, S] tensor, for which
// no key is skipped.
TEST_P(AttentionTest, PaddedKeysSkippedExactly) {
  RATEL_SKIP_IF_ISA_UNAVAILABLE(GetParam());
  const Isa isa = GetParam();
  std::mt19937 rng(23);
  struct PadCase {
    AttnCase c;
    float pad;
  };
  for (const PadCase& pc : {PadCase{{2, 384, 2, 32, true, MaskKind::kBert}, -10000.0f},
                            PadCase{{2, 57, 3, 16, false, MaskKind::kBert}, -10000.0f},
                            PadCase{{2, 40, 2, 8, true, MaskKind::kBert}, -INFINITY}}) {
    const AttnCase& c = pc.c;
    SCOPED_TRACE(describe(c) + " pad " + std::to_string(pc.pad));
    AttnData d(c, rng);
    const size_t lengths[2] = {c.seq * 4 / 9, c.seq - 1};
    for (size_t b = 0; b < 2; ++b) {
      for (size_t j = 0; j < c.seq; ++j) d.mask[b * c.seq + j] = j < lengths[b] ? 0.0f : pc.pad;
    }
    std::vector<float> ref(d.out.size(), kUntouched);
    kernels::AttentionParams rp = d.p;
    rp.out = ref.data();
    kernels::attention_reference(rp);
    GuardedBuffer ws(kernels::attention_workspace_size(c.seq, c.head_size, isa));
    kernels::attention(d.p, ws.data(), nullptr, isa);
    ASSERT_NO_FATAL_FAILURE(check_output(d, ref, d.out.data()));
    const std::vector<float> skipped(d.out.data(), d.out.data() + d.out.size());

    // The same mask as [B, nh, S, S].
    GuardedBuffer full(c.batch * c.heads * c.seq * c.seq);
    for (size_t b = 0; b < c.batch; ++b) {
      for (size_t i = 0; i < c.heads * c.seq; ++i) {
        for (size_t j = 0; j < c.seq; ++j) full[(b * c.heads * c.seq + i) * c.seq + j] = d.mask[b * c.seq + j];
      }
    }
    kernels::AttentionParams fp = d.p;
    fp.mask = full.data();
    const int64_t S = static_cast<int64_t>(c.seq);
    fp.mask_strides[0] = static_cast<int64_t>(c.heads) * S * S;
    fp.mask_strides[1] = S * S;
    fp.mask_strides[2] = S;
    fp.mask_strides[3] = 1;
    d.out.fill(kUntouched);
    kernels::attention(fp, ws.data(), nullptr, isa);
    EXPECT_EQ(std::memcmp(skipped.data(), d.out.data(), skipped.size() * 4), 0);

    // Evidence that the keys are skipped: NaN in their V rows does not reach the output (it
    // would through 0 * NaN).
    for (size_t j = lengths[0]; j < c.seq; ++j) {
      const_cast<float*>(d.p.v)[j * d.p.ldv] = std::nanf("");
    }
    kernels::attention(d.p, ws.data(), nullptr, isa);
    EXPECT_EQ(std::memcmp(skipped.data(), d.out.data(), skipped.size() * 4), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, AttentionTest, ::testing::ValuesIn(kAllIsas), isa_param_name);

}  // namespace
}  // namespace ratel::testing
