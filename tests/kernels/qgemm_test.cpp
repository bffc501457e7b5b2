// qgemm_packed (int8 / int16) on every kernel this binary has, against qgemm_reference.
//
// Integer results are compared for exact equality: the int32 accumulator, the requantized
// u8/s8/s16 outputs, and the dequantized fp32 output without GELU (its float operations are
// the same IEEE operations in the same order on every path). With GELU the fp32 output is
// within the erf approximation's bound. Data covers each type's full range (u8 255 x s8 -128
// pairs are where vpmaddubsw would saturate), zero points per tensor and per column, both
// activation types, odd sizes (M, N, K in 1..130, primes), K and N across the kernels' blocks,
// and thread counts 1/2/3 (bit-identical). Kernels the CPU lacks are skipped with a message.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cpu/thread_pool.h"
#include "guarded_array.h"
#include "kernel_test_util.h"
#include "kernels/f32-gemm/f32_gemm_reference.h"
#include "kernels/qgemm.h"

namespace ratel::testing {
namespace {

using kernels::Activation;
using kernels::QFamily;
using kernels::QGemmUkernel;
using kernels::QOutput;
using kernels::QType;

std::vector<const QGemmUkernel*> all_qkernels() {
  std::vector<const QGemmUkernel*> v;
  for (const QGemmUkernel* const* p = kernels::qgemm_all_ukernels(); *p != nullptr; ++p) v.push_back(*p);
  return v;
}

std::string kernel_param_name(const ::testing::TestParamInfo<const QGemmUkernel*>& info) {
  std::string s = info.param->name;
  for (char& ch : s) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return s;
}

#define RATEL_SKIP_IF_QKERNEL_UNAVAILABLE(uk)                                                  \
  do {                                                                                         \
    if (!kernels::qgemm_ukernel_supported(*(uk))) {                                            \
      GTEST_SKIP() << "this CPU cannot run " << (uk)->name << " (needs "                       \
                   << cpu::isa_name((uk)->isa)                                                 \
                   << ((uk)->needs_avx512_vnni ? " + AVX512-VNNI" : "")                        \
                   << ((uk)->needs_avx_vnni ? " + AVX-VNNI" : "") << ")";                      \
    }                                                                                          \
    if ((uk)->isa > cpu::active_isa()) {                                                       \
      GTEST_SKIP() << "RATEL_ISA limits this run to " << cpu::isa_name(cpu::active_isa());     \
    }                                                                                          \
  } while (0)

void range_of(QType t, int* lo, int* hi) {
  switch (t) {
    case QType::kU8: *lo = 0; *hi = 255; break;
    case QType::kS8: *lo = -128; *hi = 127; break;
    default: *lo = -32768; *hi = 32767; break;
  }
}

size_t type_bytes(QType t) { return t == QType::kS16 ? 2 : 1; }
size_t out_bytes(QOutput o) {
  return o == QOutput::kU8 || o == QOutput::kS8 ? 1 : (o == QOutput::kS16 ? 2 : 4);
}

void store(void* base, QType t, size_t i, int v) {
  switch (t) {
    case QType::kU8: static_cast<uint8_t*>(base)[i] = static_cast<uint8_t>(v); break;
    case QType::kS8: static_cast<int8_t*>(base)[i] = static_cast<int8_t>(v); break;
    default: static_cast<int16_t*>(base)[i] = static_cast<int16_t>(v); break;
  }
}

// How the values are drawn.
enum class Fill { kUniform, kExtreme, kSmall };

struct QCase {
  size_t m, n, k;
  QType a_type = QType::kU8;
  QType w_type = QType::kS8;
  int zp_mode = 0;  // weights: 0 none, 1 per tensor, 2 per column
  bool a_zp = true;
  bool per_column_scale = true;
  QOutput output = QOutput::kInt32;
  bool bias_i32 = false, bias = false, residual = false;
  Activation activation = Activation::kNone;
  size_t lda_pad = 0, ldc_pad = 0;
  int out_min = INT32_MIN, out_max = INT32_MAX;
  Fill fill = Fill::kUniform;
};

std::string describe(const QCase& q) {
  static const char* types[] = {"u8", "s8", "s16"};
  static const char* outs[] = {"i32", "f32", "u8", "s8", "s16"};
  return "M=" + std::to_string(q.m) + " N=" + std::to_string(q.n) + " K=" + std::to_string(q.k) +
         " a=" + types[static_cast<int>(q.a_type)] + " w=" + types[static_cast<int>(q.w_type)] +
         " zp_mode=" + std::to_string(q.zp_mode) + " out=" + outs[static_cast<int>(q.output)] +
         (q.bias_i32 ? " bias_i32" : "") + (q.bias ? " bias" : "") +
         (q.residual ? " residual" : "") + (q.activation == Activation::kGelu ? " gelu" : "") +
         " fill=" + std::to_string(static_cast<int>(q.fill));
}

// `a_max_127`: an activation for a kernel that is exact only up to 127 (u8 in [0, 127]).
int draw(std::mt19937& rng, QType t, Fill fill, bool a_max_127 = false) {
  int lo, hi;
  range_of(t, &lo, &hi);
  if (a_max_127) hi = 127;
  if (fill == Fill::kExtreme) return (rng() & 1) ? lo : hi;
  if (fill == Fill::kSmall && t == QType::kS16) {
    return std::uniform_int_distribution<int>(-300, 300)(rng);
  }
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

// Runs one case with `uk` and compares with the reference; returns false on failure.
void check_qgemm(const QGemmUkernel& uk, const QCase& case_, std::mt19937& rng,
                 cpu::ThreadPool* pool = nullptr) {
  QCase q = case_;
  if (uk.a_max_127) q.a_type = QType::kU8;  // the only activations it takes, <= 127
  SCOPED_TRACE(describe(q) + " kernel=" + uk.name);
  const size_t lda = q.k + q.lda_pad, ldc = q.n + q.ldc_pad;
  const size_t ab = type_bytes(q.a_type), wb = type_bytes(q.w_type), cb = out_bytes(q.output);
  GuardedArray<uint8_t> a(q.m * lda * ab), w(q.k * q.n * wb);
  GuardedArray<uint8_t> c(((q.m - 1) * ldc + q.n) * cb), c_ref(q.m * q.n * cb);
  GuardedArray<float> w_scales(q.n), bias(q.n), residual(q.m * q.n);
  GuardedArray<int32_t> w_zps(q.n), bias_i32(q.n);
  for (size_t i = 0; i < q.m * lda; ++i) store(a.data(), q.a_type, i, draw(rng, q.a_type, q.fill, uk.a_max_127));
  for (size_t i = 0; i < q.k * q.n; ++i) store(w.data(), q.w_type, i, draw(rng, q.w_type, q.fill));
  std::uniform_real_distribution<float> scale_dist(1e-3f, 2e-2f), real(-2.0f, 2.0f);
  for (size_t j = 0; j < q.n; ++j) {
    w_scales[j] = scale_dist(rng);
    bias[j] = real(rng);
    bias_i32[j] = std::uniform_int_distribution<int32_t>(-100000, 100000)(rng);
    w_zps[j] = q.w_type == QType::kS16 ? 0 : draw(rng, q.w_type, Fill::kUniform);
  }
  for (size_t i = 0; i < q.m * q.n; ++i) residual[i] = real(rng);

  kernels::QGemmWeights wt;
  wt.type = q.w_type;
  wt.data = w.data();
  wt.k = q.k;
  wt.n = q.n;
  wt.ldb = q.n;
  wt.scales = w_scales.data();
  wt.scale_count = q.per_column_scale ? q.n : 1;
  if (q.zp_mode != 0) {
    wt.zero_points = w_zps.data();
    wt.zero_point_count = q.zp_mode == 1 ? 1 : q.n;
  }
  auto packed = kernels::PackedQGemmB::pack(wt, uk);
  ASSERT_TRUE(packed.ok()) << packed.status().message();

  kernels::QGemmA qa;
  qa.type = q.a_type;
  qa.data = a.data();
  qa.stride = lda;
  qa.scale = scale_dist(rng) * 10;
  qa.zero_point = (q.a_zp && q.a_type != QType::kS16) ? draw(rng, q.a_type, Fill::kUniform, uk.a_max_127) : 0;

  kernels::QGemmEpilogue epi;
  epi.output = q.output;
  epi.bias_i32 = q.bias_i32 ? bias_i32.data() : nullptr;
  epi.bias = q.bias ? bias.data() : nullptr;
  epi.activation = q.activation;
  epi.residual = q.residual ? residual.data() : nullptr;
  epi.residual_stride = q.n;
  // An output scale that puts typical results around +-64 steps: some clamp, most do not.
  epi.out_scale = qa.scale * 1e-2f * std::sqrt(static_cast<float>(q.k)) * 60.0f / 64.0f;
  epi.out_zero_point = q.output == QOutput::kU8 ? 100 : (q.output == QOutput::kS16 ? -7 : 3);
  epi.out_min = q.out_min;
  epi.out_max = q.out_max;

  std::memset(c.data(), 0xCD, c.size());
  kernels::qgemm_packed(q.m, qa, packed->view(), c.data(), ldc, epi, pool);
  kernels::qgemm_reference(q.m, qa, wt, c_ref.data(), q.n, epi);

  // GELU's input, for its error bound: the same formula without activation and residual.
  std::vector<float> pre;
  if (q.output == QOutput::kFloat && q.activation == Activation::kGelu) {
    pre.resize(q.m * q.n);
    kernels::QGemmEpilogue e = epi;
    e.activation = Activation::kNone;
    e.residual = nullptr;
    kernels::qgemm_reference(q.m, qa, wt, pre.data(), q.n, e);
  }
  ASSERT_TRUE(a.canary_intact() && w.canary_intact() && c.canary_intact());
  int reported = 0;
  for (size_t i = 0; i < q.m; ++i) {
    for (size_t j = 0; j < ldc && (i * ldc + j) * cb < c.size(); ++j) {
      const uint8_t* got = c.data() + (i * ldc + j) * cb;
      if (j >= q.n) {
        for (size_t b = 0; b < cb; ++b) ASSERT_EQ(got[b], 0xCD) << "wrote C padding at " << i << "," << j;
        continue;
      }
      const uint8_t* want = c_ref.data() + (i * q.n + j) * cb;
      if (std::memcmp(got, want, cb) == 0) continue;
      if (q.output == QOutput::kFloat && q.activation == Activation::kGelu) {
        float g, r;
        std::memcpy(&g, got, 4);
        std::memcpy(&r, want, 4);
        // GELU's error at its input x, then the residual add's rounding (both sides round).
        const double x = pre[i * q.n + j];
        const double y = kernels::gelu_reference(x);
        const double res = q.residual ? std::fabs(residual[i * q.n + j]) : 0.0;
        const double bound = gelu_error_bound(x, y) + 2 * kUnitRoundoff * (std::fabs(y) + res);
        if (std::fabs(double{g} - double{r}) <= bound) continue;
        if (reported++ < 5) ADD_FAILURE() << "C[" << i << "][" << j << "] = " << g << ", want " << r;
        continue;
      }
      if (reported++ < 5) {
        int32_t gv = 0, wv = 0;
        std::memcpy(&gv, got, std::min<size_t>(cb, 4));
        std::memcpy(&wv, want, std::min<size_t>(cb, 4));
        ADD_FAILURE() << "C[" << i << "][" << j << "] bytes differ: got 0x" << std::hex << gv
                      << ", want 0x" << wv << std::dec;
      }
    }
  }
  ASSERT_EQ(reported, 0) << reported << " elements differ";
}

const std::vector<size_t> kSizes = {1,  2,  3,  4,  5,  7,  8,  13, 14, 15,  16,  17,
                                    29, 31, 32, 33, 47, 61, 64, 65, 97, 127, 130};

class QGemmKernelTest : public ::testing::TestWithParam<const QGemmUkernel*> {
 protected:
  const QGemmUkernel& uk() const { return *GetParam(); }
  bool int8() const { return uk().family == QFamily::kInt8; }
};

// Every (M, N) of the sweep with K drawn from it, int32 output: exact. Cycles through the
// activation / weight types and zero-point modes.
TEST_P(QGemmKernelTest, SweepInt32ExactlyEqual) {
  RATEL_SKIP_IF_QKERNEL_UNAVAILABLE(GetParam());
  std::mt19937 rng(42);
  std::uniform_int_distribution<size_t> pick(0, kSizes.size() - 1), pad(0, 3);
  int i = 0;
  for (size_t m : kSizes) {
    for (size_t n : kSizes) {
      QCase q{m, n, kSizes[pick(rng)]};
      ++i;
      q.lda_pad = pad(rng);
      q.ldc_pad = pad(rng);
      if (int8()) {
        q.a_type = (i & 1) ? QType::kU8 : QType::kS8;
        q.w_type = (i & 2) ? QType::kS8 : QType::kU8;
        q.zp_mode = (i / 4) % 3;
        q.a_zp = (i % 5) != 0;
      } else {
        q.a_type = q.w_type = QType::kS16;
      }
      q.bias_i32 = i % 3 == 0;
      check_qgemm(uk(), q, rng);
      if (HasFatalFailure()) return;
    }
  }
}

// Every value at its type's extreme: u8 255 x s8 -128 in every pair (vpmaddubsw would saturate
// there), s16 -32768 x -32768 (vpmaddwd's wrap); for the 7-bit kernel 127 x -128, its largest
// pair sum (-32512). Long K too.
TEST_P(QGemmKernelTest, ExtremeValuesExactlyEqual) {
  RATEL_SKIP_IF_QKERNEL_UNAVAILABLE(GetParam());
  std::mt19937 rng(1);
  for (size_t k : {1, 2, 3, 4, 64, 511, 1024, 1531}) {
    for (int variant = 0; variant < 4; ++variant) {
      QCase q{17, 37, k};
      q.fill = Fill::kExtreme;
      if (int8()) {
        q.a_type = (variant & 1) ? QType::kS8 : QType::kU8;
        q.w_type = (variant & 2) ? QType::kU8 : QType::kS8;
        q.zp_mode = variant % 3;
      } else {
        q.a_type = q.w_type = QType::kS16;
      }
      check_qgemm(uk(), q, rng);
      if (HasFatalFailure()) return;
    }
  }
}

// Every output stage, exact except GELU (bounded).
TEST_P(QGemmKernelTest, OutputStages) {
  RATEL_SKIP_IF_QKERNEL_UNAVAILABLE(GetParam());
  std::mt19937 rng(3);
  const size_t shapes[][3] = {{1, 1, 1}, {7, 33, 19}, {14, 32, 256}, {15, 65, 257},
                              {61, 47, 130}, {130, 97, 61}, {6, 17, 1100}};
  int i = 0;
  for (const auto& s : shapes) {
    for (QOutput out : {QOutput::kInt32, QOutput::kFloat, QOutput::kU8, QOutput::kS8, QOutput::kS16}) {
      for (int variant = 0; variant < 3; ++variant) {
        QCase q{s[0], s[1], s[2]};
        ++i;
        q.output = out;
        q.lda_pad = i % 3;
        q.ldc_pad = (i / 3) % 2;
        if (int8()) {
          q.a_type = (i & 1) ? QType::kS8 : QType::kU8;
          q.w_type = (i & 2) ? QType::kU8 : QType::kS8;
          q.zp_mode = i % 3;
        } else {
          q.a_type = q.w_type = QType::kS16;
          q.fill = Fill::kSmall;  // meaningful (non-wrapping) values for the float outputs
        }
        q.per_column_scale = variant != 1;
        q.bias_i32 = variant == 2;
        if (out == QOutput::kFloat) {
          q.bias = variant != 0;
          q.residual = variant == 2;
          q.activation = variant == 1 ? Activation::kGelu : Activation::kNone;
        }
        if (out == QOutput::kU8 && variant == 2) q.out_min = 100;  // ReLU-like: clamp at zo
        if (out == QOutput::kS8 && variant == 1) {
          q.out_min = -20;
          q.out_max = 90;
        }
        check_qgemm(uk(), q, rng);
        if (HasFatalFailure()) return;
      }
    }
  }
}

// K across the K block (partial sums carried in the scratch tile) and N across n_block.
TEST_P(QGemmKernelTest, BlockBoundariesExactlyEqual) {
  RATEL_SKIP_IF_QKERNEL_UNAVAILABLE(GetParam());
  std::mt19937 rng(7);
  for (size_t k : {511, 512, 513, 1023, 1024, 1025, 2100}) {
    for (size_t n : {31, 257, 700}) {
      QCase q{19, n, k, QType::kU8, QType::kS8, 2};
      if (!int8()) {
        q.a_type = q.w_type = QType::kS16;
        q.zp_mode = 0;
      }
      q.lda_pad = 1;
      q.ldc_pad = 2;
      q.output = (k + n) % 2 ? QOutput::kInt32 : QOutput::kFloat;
      q.bias = true;
      check_qgemm(uk(), q, rng);
      if (HasFatalFailure()) return;
    }
  }
}

// BERT shapes (M = 31 keeps the reference fast; it has full and partial row tiles).
TEST_P(QGemmKernelTest, BertShapesExactlyEqual) {
  RATEL_SKIP_IF_QKERNEL_UNAVAILABLE(GetParam());
  std::mt19937 rng(11);
  const size_t shapes[][2] = {{384, 384}, {384, 1536}, {1536, 384}, {768, 768}, {768, 3072}, {3072, 768}};
  for (const auto& s : shapes) {
    QCase q{31, s[1], s[0], QType::kU8, QType::kS8, 0};
    if (!int8()) {
      q.a_type = q.w_type = QType::kS16;
      q.fill = Fill::kSmall;
    }
    q.output = QOutput::kFloat;
    q.bias = true;
    q.residual = true;
    check_qgemm(uk(), q, rng);
    if (HasFatalFailure()) return;
  }
}

TEST_P(QGemmKernelTest, ThreadCountsGiveIdenticalBits) {
  RATEL_SKIP_IF_QKERNEL_UNAVAILABLE(GetParam());
  cpu::ThreadPool pool2(2), pool3(3);
  std::mt19937 rng(5);
  for (const auto& s : {std::array<size_t, 3>{384, 768, 768}, {130, 600, 1300}, {97, 61, 513},
                        {5, 1000, 64}}) {
    const size_t m = s[0], n = s[1], k = s[2];
    const QType at = int8() ? QType::kU8 : QType::kS16, wt_type = int8() ? QType::kS8 : QType::kS16;
    const size_t ab = type_bytes(at), wb = type_bytes(wt_type);
    std::vector<uint8_t> a(m * k * ab), w(k * n * wb);
    for (size_t i = 0; i < m * k; ++i) store(a.data(), at, i, draw(rng, at, Fill::kSmall, uk().a_max_127));
    for (size_t i = 0; i < k * n; ++i) store(w.data(), wt_type, i, draw(rng, wt_type, Fill::kSmall));
    std::vector<float> scales(n, 0.01f), bias(n, 0.5f);
    std::vector<int32_t> zps(n, 3);
    kernels::QGemmWeights wt;
    wt.type = wt_type;
    wt.data = w.data();
    wt.k = k;
    wt.n = n;
    wt.ldb = n;
    wt.scales = scales.data();
    wt.scale_count = n;
    if (int8()) {
      wt.zero_points = zps.data();
      wt.zero_point_count = n;
    }
    auto packed = kernels::PackedQGemmB::pack(wt, uk());
    ASSERT_TRUE(packed.ok()) << packed.status().message();
    kernels::QGemmA qa;
    qa.type = at;
    qa.data = a.data();
    qa.stride = k;
    qa.scale = 0.05f;
    qa.zero_point = int8() ? 128 : 0;
    kernels::QGemmEpilogue epi;
    epi.output = QOutput::kFloat;
    epi.bias = bias.data();
    epi.activation = Activation::kGelu;
    std::vector<float> c1(m * n), c2(m * n), c3(m * n);
    kernels::qgemm_packed(m, qa, packed->view(), c1.data(), n, epi, nullptr);
    kernels::qgemm_packed(m, qa, packed->view(), c2.data(), n, epi, &pool2);
    kernels::qgemm_packed(m, qa, packed->view(), c3.data(), n, epi, &pool3);
    EXPECT_EQ(std::memcmp(c1.data(), c2.data(), m * n * 4), 0) << "1 vs 2 threads, M=" << m;
    EXPECT_EQ(std::memcmp(c1.data(), c3.data(), m * n * 4), 0) << "1 vs 3 threads, M=" << m;
  }
}

INSTANTIATE_TEST_SUITE_P(AllKernels, QGemmKernelTest, ::testing::ValuesIn(all_qkernels()),
                         kernel_param_name);

// The vpmaddubsw kernel is picked only for activations that keep it exact, and only where it is
// the best int8 kernel (AVX2 without VNNI).
TEST(PackedQGemmB, SevenBitKernelOnlyForSevenBitActivations) {
  for (cpu::Isa isa : {cpu::Isa::kGeneric, cpu::Isa::kAvx2, cpu::Isa::kAvx512}) {
    if (isa > cpu::active_isa()) continue;
    const QGemmUkernel& wide = kernels::qgemm_ukernel(QFamily::kInt8, isa);
    EXPECT_EQ(&kernels::qgemm_ukernel_for(QFamily::kInt8, isa, 255), &wide);
    EXPECT_EQ(&kernels::qgemm_ukernel_for(QFamily::kInt8, isa, 128), &wide);
    const QGemmUkernel& narrow = kernels::qgemm_ukernel_for(QFamily::kInt8, isa, 127);
    const bool avx2_without_vnni = isa == cpu::Isa::kAvx2 && !wide.needs_avx_vnni;
    EXPECT_EQ(narrow.a_max_127, avx2_without_vnni) << narrow.name;
    if (!avx2_without_vnni) {
      EXPECT_EQ(&narrow, &wide);
    }
    EXPECT_EQ(&kernels::qgemm_ukernel_for(QFamily::kInt16, isa, 0),
              &kernels::qgemm_ukernel(QFamily::kInt16, isa));
  }
  // Why it must not see larger activations: 255 x -128 twice saturates vpmaddubsw's int16.
  const QGemmUkernel* narrow = nullptr;
  for (const QGemmUkernel* uk : all_qkernels()) {
    if (uk->a_max_127 && kernels::qgemm_ukernel_supported(*uk)) narrow = uk;
  }
  if (narrow == nullptr) GTEST_SKIP() << "this CPU runs no 7-bit activation kernel (needs AVX2)";
  const int8_t w[8] = {-128, -128, -128, -128, -128, -128, -128, -128};  // K = 8, N = 1
  const float scale = 1.0f;
  kernels::QGemmWeights wt;
  wt.type = QType::kS8;
  wt.data = w;
  wt.k = 8;
  wt.n = 1;
  wt.ldb = 1;
  wt.scales = &scale;
  wt.scale_count = 1;
  auto packed = kernels::PackedQGemmB::pack(wt, *narrow);
  ASSERT_TRUE(packed.ok()) << packed.status().message();
  uint8_t a[8] = {127, 127, 127, 127, 127, 127, 127, 127};
  kernels::QGemmA qa;
  qa.type = QType::kU8;
  qa.data = a;
  qa.stride = 8;
  int32_t c = 0;
  kernels::qgemm_packed(1, qa, packed->view(), &c, 1);
  EXPECT_EQ(c, 8 * 127 * -128);  // exact at its largest pair sums
#ifdef NDEBUG  // (debug builds assert on this misuse instead)
  for (uint8_t& v : a) v = 255;
  kernels::qgemm_packed(1, qa, packed->view(), &c, 1);
  EXPECT_NE(c, 8 * 255 * -128) << "vpmaddubsw did not saturate: the 7-bit limit would be unnecessary";
#endif
}

TEST(PackedQGemmB, PacksForTheActiveIsaAndComputes) {
  const int8_t w[] = {1, -2, 3, 4, 5, -6};  // 2 x 3
  const float scale = 0.5f;
  kernels::QGemmWeights wt;
  wt.type = QType::kS8;
  wt.data = w;
  wt.k = 2;
  wt.n = 3;
  wt.ldb = 3;
  wt.scales = &scale;
  wt.scale_count = 1;
  auto packed = kernels::PackedQGemmB::pack(wt);
  ASSERT_TRUE(packed.ok()) << packed.status().message();
  // x86 has a kernel for every ISA level; on riscv64 these GEMMs have only the portable one so far.
  EXPECT_EQ(packed->view().ukernel->isa,
            cpu::active_isa() == cpu::Isa::kRvv ? cpu::Isa::kGeneric : cpu::active_isa());
  const uint8_t a[] = {10, 11, 130, 200};  // 2 x 2, zero point 10
  kernels::QGemmA qa;
  qa.type = QType::kU8;
  qa.data = a;
  qa.stride = 2;
  qa.scale = 2.0f;
  qa.zero_point = 10;
  int32_t c[6];
  kernels::qgemm_packed(2, qa, packed->view(), c, 3);
  // (0, 1) x w = (4, 5, -6); (120, 190) x w = (120 + 760, -240 + 950, 360 - 1140)
  EXPECT_EQ(std::vector<int32_t>(c, c + 6), (std::vector<int32_t>{4, 5, -6, 880, 710, -780}));
  float f[6];
  kernels::QGemmEpilogue epi;
  epi.output = QOutput::kFloat;
  kernels::qgemm_packed(2, qa, packed->view(), f, 3, epi);
  EXPECT_EQ(std::vector<float>(f, f + 6), (std::vector<float>{4, 5, -6, 880, 710, -780}));
}

TEST(PackedQGemmB, RejectsBadArguments) {
  const int8_t w[6] = {};
  const float scales[3] = {1, 1, 1};
  const int32_t zps[3] = {0, 200, 0};
  kernels::QGemmWeights wt;
  wt.type = QType::kS8;
  wt.data = w;
  wt.k = 2;
  wt.n = 3;
  wt.ldb = 3;
  wt.scales = scales;
  wt.scale_count = 3;
  EXPECT_TRUE(kernels::PackedQGemmB::pack(wt).ok());
  auto bad = wt;
  bad.k = 0;
  EXPECT_FALSE(kernels::PackedQGemmB::pack(bad).ok());
  bad = wt;
  bad.ldb = 2;
  EXPECT_FALSE(kernels::PackedQGemmB::pack(bad).ok());
  bad = wt;
  bad.scale_count = 2;
  EXPECT_FALSE(kernels::PackedQGemmB::pack(bad).ok());
  bad = wt;
  bad.zero_points = zps;  // 200 is out of s8 range
  bad.zero_point_count = 3;
  EXPECT_FALSE(kernels::PackedQGemmB::pack(bad).ok());
  bad.type = QType::kU8;  // but fine for u8
  EXPECT_TRUE(kernels::PackedQGemmB::pack(bad).ok());
  bad.type = QType::kS16;  // int16 is symmetric only
  EXPECT_FALSE(kernels::PackedQGemmB::pack(bad).ok());
  if (cpu::best_isa(cpu::cpu_features()) < cpu::Isa::kAvx512) {
    auto r = kernels::PackedQGemmB::pack(wt, cpu::Isa::kAvx512);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  }
}

TEST(QGemmPacked, ZeroRowsIsANoOp) {
  const int8_t w[4] = {1, 2, 3, 4};
  kernels::QGemmWeights wt;
  wt.type = QType::kS8;
  wt.data = w;
  wt.k = 2;
  wt.n = 2;
  wt.ldb = 2;
  auto packed = kernels::PackedQGemmB::pack(wt);
  ASSERT_TRUE(packed.ok());
  GuardedArray<int32_t> c(0);
  kernels::QGemmA qa;
  qa.data = w;
  qa.stride = 2;
  kernels::qgemm_packed(0, qa, packed->view(), c.data(), 2);
  EXPECT_TRUE(c.canary_intact());
}

}  // namespace
}  // namespace ratel::testing
