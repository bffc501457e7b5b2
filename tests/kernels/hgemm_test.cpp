// hgemm_packed (fp16 and bf16 weights) on every kernel this binary has, and the conversions.
//
//  - fp16: each kernel must return exactly what gemm_packed (the f32 GEMM of the same ISA)
//    returns on the fp16-rounded weights, every epilogue included (same FMA chain, same
//    epilogue code); float16_w_int8 (int weights + column scales) exactly equals the integer
//    sum scaled in float.
//  - bf16: each kernel (AVX512-BF16 hardware or emulation) must equal bf16_gemm_reference
//    (vdpbf16ps's order, DAZ/FTZ) bit for bit, on ordinary values and on values whose products
//    and sums fall into the subnormal range; with GELU within the erf bound.
//  - conversions: f16 <-> f32 and f32 -> bf16 against the F16C / AVX512-BF16 instructions
//    (exhaustive for fp16 -> fp32, millions of bit patterns otherwise) where the CPU has them.
#include <gtest/gtest.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

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
#include "kernels/gemm.h"
#include "kernels/hgemm.h"
#include "kernels/math/half.h"

namespace ratel::testing {
namespace {

using kernels::Activation;
using kernels::HFormat;
using kernels::HGemmUkernel;
using kernels::HSource;

#if defined(__x86_64__)
__attribute__((target("f16c"))) float hw_f32_from_f16(uint16_t h) { return _cvtsh_ss(h); }
__attribute__((target("f16c"))) uint16_t hw_f16_from_f32(float x) {
  return static_cast<uint16_t>(_cvtss_sh(x, 0));
}
__attribute__((target("avx512bf16,avx512vl,avx512f"))) uint16_t hw_bf16_from_f32(float x) {
  // vcvtneps2bf16 on xmm (maskz with a full mask: GCC 12 warns on the unmasked form).
  const __m128bh h = _mm_maskz_cvtneps_pbh(0xFF, _mm_set1_ps(x));
  uint16_t u[8];
  std::memcpy(u, &h, 16);
  return u[0];
}
#endif

TEST(HalfConversions, F16ToF32MatchesF16cExhaustively) {
#if defined(__x86_64__)
  if (!cpu::cpu_features().f16c) GTEST_SKIP() << "this CPU lacks F16C";
  for (uint32_t h = 0; h < 65536; ++h) {
    const float want = hw_f32_from_f16(static_cast<uint16_t>(h));
    const float got = kernels::math::f32_from_f16(static_cast<uint16_t>(h));
    ASSERT_EQ(kernels::math::f32_bits(got), kernels::math::f32_bits(want)) << "h=0x" << std::hex << h;
  }
#else
  GTEST_SKIP() << "no F16C on this architecture";
#endif
}

// Used by the x86-only comparisons with the hardware conversions.
[[maybe_unused]] std::vector<uint32_t> interesting_f32_bits(size_t random_count) {
  std::vector<uint32_t> v;
  std::mt19937 rng(17);
  for (size_t i = 0; i < random_count; ++i) v.push_back(static_cast<uint32_t>(rng()));
  // Every exponent with fractions around the rounding points of both formats.
  for (uint32_t e = 0; e < 256; ++e) {
    for (uint32_t f : {0u, 1u, 0xFFFu, 0x1000u, 0x1001u, 0x7FFFu, 0x8000u, 0x8001u, 0x18000u,
                       0x2000u, 0x6000u, 0x7FFFFFu, 0x7FE000u, 0x7FF000u, 0x7FFFFFu - 0x1000u}) {
      v.push_back((e << 23) | f);
      v.push_back(0x80000000u | (e << 23) | f);
    }
  }
  return v;
}

TEST(HalfConversions, F32ToF16MatchesF16c) {
#if defined(__x86_64__)
  if (!cpu::cpu_features().f16c) GTEST_SKIP() << "this CPU lacks F16C";
  for (uint32_t u : interesting_f32_bits(4'000'000)) {
    const float x = kernels::math::f32_from_bits(u);
    ASSERT_EQ(kernels::math::f16_from_f32(x), hw_f16_from_f32(x)) << "x bits 0x" << std::hex << u;
  }
#else
  GTEST_SKIP() << "no F16C on this architecture";
#endif
}

TEST(HalfConversions, F32ToBf16MatchesAvx512Bf16) {
#if defined(__x86_64__)
  if (!cpu::cpu_features().avx512_bf16) GTEST_SKIP() << "this CPU lacks AVX512-BF16";
  for (uint32_t u : interesting_f32_bits(4'000'000)) {
    const float x = kernels::math::f32_from_bits(u);
    ASSERT_EQ(kernels::math::bf16_from_f32(x), hw_bf16_from_f32(x)) << "x bits 0x" << std::hex << u;
  }
#else
  GTEST_SKIP() << "no AVX512-BF16 on this architecture";
#endif
}

// ---------------------------------------------------------------------------------------------

std::vector<const HGemmUkernel*> kernels_of(HFormat f) {
  std::vector<const HGemmUkernel*> v;
  for (const HGemmUkernel* const* p = kernels::hgemm_all_ukernels(); *p != nullptr; ++p) {
    if ((*p)->format == f) v.push_back(*p);
  }
  return v;
}

std::string kernel_param_name(const ::testing::TestParamInfo<const HGemmUkernel*>& info) {
  return info.param->name;
}

#define RATEL_SKIP_IF_HKERNEL_UNAVAILABLE(uk)                                                   \
  do {                                                                                          \
    if (!kernels::hgemm_ukernel_supported(*(uk))) {                                             \
      GTEST_SKIP() << "this CPU cannot run " << (uk)->name << " (needs "                        \
                   << cpu::isa_name((uk)->isa)                                                  \
                   << ((uk)->needs_avx512_bf16 ? " + AVX512-BF16" : "")                         \
                   << ((uk)->needs_f16c ? " + F16C" : "") << ")";                               \
    }                                                                                           \
    if ((uk)->isa > cpu::active_isa()) {                                                        \
      GTEST_SKIP() << "RATEL_ISA limits this run to " << cpu::isa_name(cpu::active_isa());      \
    }                                                                                           \
  } while (0)

constexpr float kUntouched = -12345.0f;

struct HCase {
  size_t m, n, k;
  size_t lda_pad = 0, ldc_pad = 0;
  bool bias = false;
  Activation activation = Activation::kNone;
  bool residual = false;
};

std::string describe(const HCase& h) {
  return "M=" + std::to_string(h.m) + " N=" + std::to_string(h.n) + " K=" + std::to_string(h.k) +
         (h.bias ? " bias" : "") + (h.activation == Activation::kGelu ? " gelu" : "") +
         (h.residual ? " residual" : "");
}

enum class Data { kReal, kInteger, kTiny };

void fill(GuardedArray<float>& buf, std::mt19937& rng, Data d) {
  std::uniform_real_distribution<float> real(-1.0f, 1.0f);
  std::uniform_int_distribution<int> integer(-4, 4), expo(-70, -55);
  for (size_t i = 0; i < buf.size(); ++i) {
    switch (d) {
      case Data::kReal: buf[i] = real(rng); break;
      case Data::kInteger: buf[i] = static_cast<float>(integer(rng)); break;
      case Data::kTiny:  // products around 2^-126: subnormal partial sums, flushed or not
        buf[i] = std::ldexp(real(rng), expo(rng));
        break;
    }
  }
}

// Runs kernel `uk` and compares: fp16 against gemm_packed on rounded weights (exact), bf16
// against bf16_gemm_reference (exact without GELU).
void check_hgemm(const HGemmUkernel& uk, const HCase& h, std::mt19937& rng, Data data,
                 cpu::ThreadPool* pool = nullptr) {
  SCOPED_TRACE(describe(h) + " kernel=" + uk.name + " data=" + std::to_string(static_cast<int>(data)));
  const size_t lda = h.k + h.lda_pad, ldc = h.n + h.ldc_pad;
  GuardedArray<float> a(h.m * lda), b(h.k * h.n), bias(h.n), residual(h.m * h.n);
  GuardedArray<float> c((h.m - 1) * ldc + h.n), want(h.m * ldc);
  fill(a, rng, data);
  fill(b, rng, data);
  fill(bias, rng, data == Data::kTiny ? Data::kReal : data);
  fill(residual, rng, data == Data::kTiny ? Data::kReal : data);
  for (size_t i = 0; i < c.size(); ++i) c[i] = kUntouched;

  kernels::GemmEpilogue epi;
  epi.bias = h.bias ? bias.data() : nullptr;
  epi.activation = h.activation;
  epi.residual = h.residual ? residual.data() : nullptr;
  epi.residual_stride = h.n;

  auto packed = kernels::PackedHGemmB::pack(h.k, h.n, b.data(), h.n, HSource::kF32, nullptr, 0, uk);
  ASSERT_TRUE(packed.ok()) << packed.status().message();
  kernels::hgemm_packed(h.m, a.data(), lda, packed->view(), c.data(), ldc, epi, pool);

  if (uk.format == HFormat::kF16) {
    std::vector<float> rounded(h.k * h.n);
    for (size_t i = 0; i < rounded.size(); ++i) rounded[i] = kernels::math::f16_round(b[i]);
    auto f32 = kernels::PackedGemmB::pack(rounded.data(), h.k, h.n, h.n, uk.isa);
    ASSERT_TRUE(f32.ok());
    kernels::gemm_packed(h.m, a.data(), lda, f32->view(), want.data(), ldc, epi, nullptr);
  } else {
    kernels::bf16_gemm_reference(h.m, h.n, h.k, a.data(), lda, b.data(), h.n, nullptr,
                                 want.data(), ldc, epi);
  }
  ASSERT_TRUE(a.canary_intact() && b.canary_intact() && c.canary_intact());
  // bf16 with GELU: the reference's GELU is exact, the kernels' approximated. Its input:
  std::vector<float> pre;
  const bool bounded = uk.format == HFormat::kBF16 && h.activation == Activation::kGelu;
  if (bounded) {
    pre.resize(h.m * ldc);
    kernels::GemmEpilogue e = epi;
    e.activation = Activation::kNone;
    e.residual = nullptr;
    kernels::bf16_gemm_reference(h.m, h.n, h.k, a.data(), lda, b.data(), h.n, nullptr,
                                 pre.data(), ldc, e);
  }
  int reported = 0;
  for (size_t i = 0; i < h.m; ++i) {
    for (size_t j = 0; j < ldc && i * ldc + j < c.size(); ++j) {
      const float got = c[i * ldc + j];
      if (j >= h.n) {
        ASSERT_EQ(got, kUntouched) << "wrote C padding at row " << i << " col " << j;
        continue;
      }
      const float w = want[i * ldc + j];
      if (kernels::math::f32_bits(got) == kernels::math::f32_bits(w)) continue;
      if (bounded) {
        const double x = pre[i * ldc + j];
        const double y = kernels::gelu_reference(x);
        const double res = h.residual ? std::fabs(residual[i * h.n + j]) : 0.0;
        if (std::fabs(double{got} - double{w}) <=
            gelu_error_bound(x, y) + 2 * kUnitRoundoff * (std::fabs(y) + res)) {
          continue;
        }
      }
      if (reported++ < 5) {
        ADD_FAILURE() << "C[" << i << "][" << j << "] = " << got << " (0x" << std::hex
                      << kernels::math::f32_bits(got) << "), want " << std::dec << w << " (0x"
                      << std::hex << kernels::math::f32_bits(w) << std::dec << ")";
      }
    }
  }
  ASSERT_EQ(reported, 0) << reported << " elements differ";
}

const std::vector<size_t> kSizes = {1,  2,  3,  4,  5,  7,  8,  13, 14, 15,  16,  17,
                                    29, 31, 32, 33, 47, 61, 64, 65, 97, 127, 130};

class HGemmKernelTest : public ::testing::TestWithParam<const HGemmUkernel*> {
 protected:
  const HGemmUkernel& uk() const { return *GetParam(); }
};

TEST_P(HGemmKernelTest, SweepExactlyEqual) {
  RATEL_SKIP_IF_HKERNEL_UNAVAILABLE(GetParam());
  std::mt19937 rng(42);
  std::uniform_int_distribution<size_t> pick(0, kSizes.size() - 1), pad(0, 3);
  for (size_t m : kSizes) {
    for (size_t n : kSizes) {
      HCase h{m, n, kSizes[pick(rng)], pad(rng), pad(rng)};
      h.bias = (m + n) % 3 == 0;
      h.residual = (m + n) % 5 == 0;
      check_hgemm(uk(), h, rng, Data::kReal);
      if (HasFatalFailure()) return;
    }
  }
}

TEST_P(HGemmKernelTest, EpiloguesAndBlocks) {
  RATEL_SKIP_IF_HKERNEL_UNAVAILABLE(GetParam());
  std::mt19937 rng(3);
  const size_t shapes[][3] = {{1, 1, 1},      {7, 33, 19},   {14, 32, 256}, {15, 65, 257},
                              {61, 47, 130},  {6, 31, 511},  {6, 31, 512},  {6, 31, 513},
                              {19, 600, 1030}};
  for (const auto& s : shapes) {
    for (int e = 0; e < 4; ++e) {
      HCase h{s[0], s[1], s[2], 2, 1};
      h.bias = e != 0;
      h.activation = e >= 2 ? Activation::kGelu : Activation::kNone;
      h.residual = e == 3 || e == 1;
      check_hgemm(uk(), h, rng, Data::kReal);
      if (HasFatalFailure()) return;
    }
  }
}

// Operands around 2^-63: products and partial sums in and around fp32's subnormal range, where
// bf16's DAZ/FTZ decide the result.
TEST_P(HGemmKernelTest, TinyValuesExactlyEqual) {
  RATEL_SKIP_IF_HKERNEL_UNAVAILABLE(GetParam());
  std::mt19937 rng(13);
  for (size_t k : {1, 2, 3, 16, 77, 300}) {
    for (int rep = 0; rep < 4; ++rep) {
      check_hgemm(uk(), {23, 45, k}, rng, Data::kTiny);
      if (HasFatalFailure()) return;
    }
  }
}

TEST_P(HGemmKernelTest, BertShapesExactlyEqual) {
  RATEL_SKIP_IF_HKERNEL_UNAVAILABLE(GetParam());
  std::mt19937 rng(11);
  const size_t shapes[][2] = {{384, 384}, {384, 1536}, {1536, 384}, {768, 768}, {768, 3072}, {3072, 768}};
  for (const auto& s : shapes) {
    check_hgemm(uk(), {31, s[1], s[0], 0, 0, true, Activation::kNone, true}, rng, Data::kReal);
    if (HasFatalFailure()) return;
  }
}

TEST_P(HGemmKernelTest, ThreadCountsGiveIdenticalBits) {
  RATEL_SKIP_IF_HKERNEL_UNAVAILABLE(GetParam());
  cpu::ThreadPool pool2(2), pool3(3);
  std::mt19937 rng(5);
  for (const auto& s : {std::array<size_t, 3>{384, 768, 768}, {130, 600, 300}, {97, 61, 513},
                        {5, 1000, 64}}) {
    const size_t m = s[0], n = s[1], k = s[2];
    GuardedArray<float> a(m * k), b(k * n), bias(n);
    fill(a, rng, Data::kReal);
    fill(b, rng, Data::kReal);
    fill(bias, rng, Data::kReal);
    auto packed = kernels::PackedHGemmB::pack(k, n, b.data(), n, HSource::kF32, nullptr, 0, uk());
    ASSERT_TRUE(packed.ok());
    kernels::GemmEpilogue epi;
    epi.bias = bias.data();
    epi.activation = Activation::kGelu;
    std::vector<float> c1(m * n), c2(m * n), c3(m * n);
    kernels::hgemm_packed(m, a.data(), k, packed->view(), c1.data(), n, epi, nullptr);
    kernels::hgemm_packed(m, a.data(), k, packed->view(), c2.data(), n, epi, &pool2);
    kernels::hgemm_packed(m, a.data(), k, packed->view(), c3.data(), n, epi, &pool3);
    EXPECT_EQ(std::memcmp(c1.data(), c2.data(), m * n * 4), 0) << "1 vs 2 threads, M=" << m;
    EXPECT_EQ(std::memcmp(c1.data(), c3.data(), m * n * 4), 0) << "1 vs 3 threads, M=" << m;
  }
}

// float16_w_int8 (fp16 kernels only): int8 weights stored exactly, column scale after the sum.
// Integer activations keep every sum exact, so the expected value is float(acc) * s + bias.
class HGemmF16KernelTest : public HGemmKernelTest {};

TEST_P(HGemmF16KernelTest, Int8WeightsWithScalesExactlyEqual) {
  RATEL_SKIP_IF_HKERNEL_UNAVAILABLE(GetParam());
  std::mt19937 rng(21);
  std::uniform_int_distribution<int> w8(-128, 127), a8(-50, 50);
  std::uniform_real_distribution<float> sd(1e-3f, 1e-1f);
  for (const auto& s : {std::array<size_t, 3>{31, 77, 300}, {14, 32, 256}, {5, 3, 1}}) {
    const size_t m = s[0], n = s[1], k = s[2];
    std::vector<int8_t> w(k * n);
    std::vector<float> wf(k * n), a(m * k), scales(n), bias(n), c(m * n), acc(m * n);
    for (size_t i = 0; i < k * n; ++i) wf[i] = w[i] = static_cast<int8_t>(w8(rng));
    for (float& x : a) x = static_cast<float>(a8(rng));
    for (size_t j = 0; j < n; ++j) {
      scales[j] = sd(rng);
      bias[j] = sd(rng);
    }
    for (size_t sc : {size_t{1}, n}) {
      auto packed = kernels::PackedHGemmB::pack(k, n, w.data(), n, HSource::kS8, scales.data(), sc, uk());
      ASSERT_TRUE(packed.ok()) << packed.status().message();
      kernels::GemmEpilogue epi;
      epi.bias = bias.data();
      kernels::hgemm_packed(m, a.data(), k, packed->view(), c.data(), n, epi);
      kernels::gemm_reference(m, n, k, a.data(), k, wf.data(), n, 1, acc.data(), n, {});
      for (size_t i = 0; i < m; ++i) {
        for (size_t j = 0; j < n; ++j) {
          // Two roundings, or one where the compiler contracts to a fused multiply-add (gcc does
          // on riscv64, where fmadd.s is in the base ISA; x86-64's baseline has no FMA).
          const float s_j = scales[sc == 1 ? 0 : j];
          volatile float product = acc[i * n + j] * s_j;  // rounded: volatile stops the contraction here
          const float want = product + bias[j];
          const float want_fused = std::fma(acc[i * n + j], s_j, bias[j]);
          ASSERT_TRUE(c[i * n + j] == want || c[i * n + j] == want_fused)
              << i << "," << j << ": " << c[i * n + j] << " is neither " << want << " nor " << want_fused
              << " (sum " << acc[i * n + j] << ", scale " << s_j << ", bias " << bias[j] << ")";
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(F16, HGemmKernelTest, ::testing::ValuesIn(kernels_of(HFormat::kF16)),
                         kernel_param_name);
INSTANTIATE_TEST_SUITE_P(F16, HGemmF16KernelTest, ::testing::ValuesIn(kernels_of(HFormat::kF16)),
                         kernel_param_name);
INSTANTIATE_TEST_SUITE_P(Bf16, HGemmKernelTest, ::testing::ValuesIn(kernels_of(HFormat::kBF16)),
                         kernel_param_name);

TEST(PackedHGemmB, DefaultPackingComputes) {
  const float b[] = {1, 2, 3, 4, 5, 6};  // 2 x 3, exact in both formats
  const float a[] = {1, 10, 100, 1000};
  for (int f = 0; f < 2; ++f) {
    auto packed = f == 0 ? kernels::PackedHGemmB::pack_f16(b, 2, 3, 3)
                         : kernels::PackedHGemmB::pack_bf16(b, 2, 3, 3);
    ASSERT_TRUE(packed.ok()) << packed.status().message();
    // x86 has a kernel for every ISA level; on riscv64 these GEMMs have only the portable one so far.
    EXPECT_EQ(packed->view().ukernel->isa,
              cpu::active_isa() == cpu::Isa::kRvv ? cpu::Isa::kGeneric : cpu::active_isa());
    std::vector<float> c(6);
    kernels::hgemm_packed(2, a, 2, packed->view(), c.data(), 3);
    EXPECT_EQ(c, (std::vector<float>{41, 52, 63, 4100, 5200, 6300}));
  }
}

TEST(PackedHGemmB, RejectsBadArguments) {
  const float b[6] = {};
  const int8_t w[6] = {};
  EXPECT_FALSE(kernels::PackedHGemmB::pack_f16(b, 0, 3, 3).ok());
  EXPECT_FALSE(kernels::PackedHGemmB::pack_bf16(b, 2, 3, 2).ok());
  EXPECT_FALSE(kernels::PackedHGemmB::pack_f16_from_s8(w, 2, 3, 3, nullptr, 0).ok());
  const float s[2] = {1, 1};
  EXPECT_FALSE(kernels::PackedHGemmB::pack_f16_from_s8(w, 2, 3, 3, s, 2).ok());
}

}  // namespace
}  // namespace ratel::testing
