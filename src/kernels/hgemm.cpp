// The half-precision-weight GEMM driver: packing and the f32 GEMM's loop nest (gemm.cpp), with
// the A tile converted by the kernel's packer (fp32 copy, or bf16 rounding) and the partial
// sums carried across K blocks in C (fp32, exact).
//
//   for each N block of n_block columns      B slice (k_block x n_block, half precision) -> L2
//     for each K block of k_block
//       for each row tile of MR rows         A tile packed on the stack -> L1
//         for each NR panel of the N block   microkernel (B converted in registers)
//
// fp16 conversion in the kernel vs while packing: the alternative, converting each B slice to
// fp32 into a per-thread buffer once per (N block, K block) and running the f32 kernel on it,
// is measured in bench/qgemm_bench.cpp (qgemm/f16_panels). Zen 4, 1 thread, M = 384, the six
// BERT shapes, medians of 5: AVX-512 in-kernel (6 x 64) 103.5-109.8 GOP/s, panels 102.5-109.4,
// f32 104.3-109.9; AVX2 in-kernel 100.6-109.7, panels 101.7-105.2, f32 98.9-108.2. Equal
// within the spread, so the kernel converts: no per-thread buffer, no extra pass over B, and
// half the bytes streamed from memory (which matters once weights do not fit in cache).
#include "kernels/hgemm.h"

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "kernels/f32-gemm/f32_gemm_reference.h"
#include "kernels/math/half.h"

namespace ratel::kernels {
namespace {

constexpr size_t kMinMacsPerThread = size_t{1} << 17;

size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }
size_t round_up(size_t a, size_t b) { return ceil_div(a, b) * b; }

[[maybe_unused]] bool overlaps(const float* a, size_t a_count, const float* b, size_t b_count) {
  return a < b + b_count && b < a + a_count;
}

size_t panel_bytes(size_t k, size_t n, const HGemmUkernel& uk) {
  return round_up(round_up(n, uk.nr) * round_up(k, uk.kr) * 2, 64);
}

uint16_t flush_bf16(uint16_t h) { return (h & 0x7F80u) == 0 ? static_cast<uint16_t>(h & 0x8000u) : h; }

void hgemm_region(const HGemmUkernel& uk, size_t m0, size_t m1, size_t n0, size_t n1,
                  const float* a, size_t lda, const PackedHGemmBView& b, float* c, size_t ldc,
                  const GemmEpilogue& epilogue) {
  alignas(64) uint8_t a_tile[kHGemmMaxATileBytes];
  const size_t k = b.k;
  const size_t kp = round_up(k, uk.kr);
  for (size_t nb = n0; nb < n1; nb += uk.n_block) {
    const size_t nb_end = std::min(nb + uk.n_block, n1);
    for (size_t k0 = 0; k0 < k; k0 += uk.k_block) {
      const size_t kc = std::min(uk.k_block, k - k0);
      HGemmUkernelParams params;
      params.f32.accumulate = k0 > 0;
      params.f32.last_k_block = k0 + kc == k;
      params.f32.activation = epilogue.activation;
      params.f32.residual_stride = epilogue.residual_stride;
      for (size_t mt = m0; mt < m1; mt += uk.mr) {
        const size_t mr = std::min(uk.mr, m1 - mt);
        uk.pack_a(mr, kc, round_up(kc, uk.kr), a + mt * lda + k0, lda, a_tile, uk.a_stride);
        for (size_t nt = nb; nt < nb_end; nt += uk.nr) {
          const size_t nr = std::min(uk.nr, nb_end - nt);
          params.f32.bias = epilogue.bias != nullptr ? epilogue.bias + nt : nullptr;
          params.f32.residual = epilogue.residual != nullptr
                                    ? epilogue.residual + mt * epilogue.residual_stride + nt
                                    : nullptr;
          params.col_scale = b.col_scale != nullptr ? b.col_scale + nt : nullptr;
          const uint16_t* panel = b.data + ((nt / uk.nr) * kp + k0) * uk.nr;
          uk.fn(mr, nr, kc, a_tile, panel, c + mt * ldc + nt, ldc, params);
        }
      }
    }
  }
}

}  // namespace

size_t packed_hgemm_b_size(size_t k, size_t n, const HGemmUkernel& uk) {
  return panel_bytes(k, n, uk) + round_up(round_up(n, uk.nr) * 4, 64);
}

PackedHGemmBView pack_hgemm_b(size_t k, size_t n, const void* b, size_t ldb, HSource source,
                              const float* scales, size_t scale_count, const HGemmUkernel& uk,
                              void* packed) {
  RATEL_ASSERT(k >= 1 && n >= 1 && b != nullptr && packed != nullptr && ldb >= n);
  RATEL_ASSERT(reinterpret_cast<uintptr_t>(packed) % 64 == 0);
  RATEL_ASSERT(source != HSource::kS8 || uk.format == HFormat::kF16);
  const size_t nr = uk.nr, kr = uk.kr, kp = round_up(k, kr);
  std::memset(packed, 0, packed_hgemm_b_size(k, n, uk));
  auto* out = static_cast<uint16_t*>(packed);
  const bool bf16 = uk.format == HFormat::kBF16;
  for (size_t kk = 0; kk < k; ++kk) {
    for (size_t nn = 0; nn < n; ++nn) {
      const size_t i = kk * ldb + nn;
      uint16_t h;
      switch (source) {
        case HSource::kF32: {
          const float v = static_cast<const float*>(b)[i];
          h = bf16 ? math::bf16_from_f32(v) : math::f16_from_f32(v);
          break;
        }
        case HSource::kBits: h = static_cast<const uint16_t*>(b)[i]; break;
        default: h = math::f16_from_f32(static_cast<float>(static_cast<const int8_t*>(b)[i])); break;
      }
      if (bf16) h = flush_bf16(h);
      out[((nn / nr) * kp + (kk / kr) * kr) * nr + (nn % nr) * kr + kk % kr] = h;
    }
  }
  PackedHGemmBView view;
  view.data = out;
  view.k = k;
  view.n = n;
  view.ukernel = &uk;
  if (scales != nullptr) {
    auto* s = reinterpret_cast<float*>(static_cast<uint8_t*>(packed) + panel_bytes(k, n, uk));
    for (size_t nn = 0; nn < n; ++nn) s[nn] = scales[scale_count == 1 ? 0 : nn];
    view.col_scale = s;
  }
  return view;
}

Result<PackedHGemmB> PackedHGemmB::pack(size_t k, size_t n, const void* b, size_t ldb,
                                        HSource source, const float* scales, size_t scale_count,
                                        const HGemmUkernel& uk) {
  if (k == 0 || n == 0) return invalid_argument("cannot pack an empty {}x{} GEMM weight", k, n);
  if (b == nullptr) return invalid_argument("GEMM weight without data");
  if (ldb < n) return invalid_argument("GEMM weight row stride {} < N = {}", ldb, n);
  if (scales != nullptr && scale_count != 1 && scale_count != n) {
    return invalid_argument("{} weight scales for N = {} (want 1 or N)", scale_count, n);
  }
  if (source == HSource::kS8 && uk.format != HFormat::kF16) {
    return invalid_argument("int8 weights are stored as fp16, not with {}", uk.name);
  }
  if (!hgemm_ukernel_supported(uk)) return unsupported("this CPU cannot run {}", uk.name);
  PackedHGemmB out;
  RATEL_ASSIGN_OR_RETURN(out.storage_, Storage::allocate(packed_hgemm_b_size(k, n, uk)));
  out.view_ = pack_hgemm_b(k, n, b, ldb, source, scales, scale_count, uk, out.storage_->data());
  return out;
}

namespace {
Result<PackedHGemmB> pack_for_isa(size_t k, size_t n, const void* b, size_t ldb, HSource source,
                                  const float* scales, size_t scale_count, HFormat format,
                                  cpu::Isa isa) {
  if (isa > cpu::best_isa(cpu::cpu_features())) {
    return unsupported("this CPU cannot run the {} GEMM kernel", cpu::isa_name(isa));
  }
  return PackedHGemmB::pack(k, n, b, ldb, source, scales, scale_count, hgemm_ukernel(format, isa));
}
}  // namespace

Result<PackedHGemmB> PackedHGemmB::pack_f16(const float* b, size_t k, size_t n, size_t ldb,
                                            cpu::Isa isa) {
  return pack_for_isa(k, n, b, ldb, HSource::kF32, nullptr, 0, HFormat::kF16, isa);
}
Result<PackedHGemmB> PackedHGemmB::pack_f16_bits(const uint16_t* b, size_t k, size_t n,
                                                 size_t ldb, cpu::Isa isa) {
  return pack_for_isa(k, n, b, ldb, HSource::kBits, nullptr, 0, HFormat::kF16, isa);
}
Result<PackedHGemmB> PackedHGemmB::pack_f16_from_s8(const int8_t* b, size_t k, size_t n,
                                                    size_t ldb, const float* scales,
                                                    size_t scale_count, cpu::Isa isa) {
  if (scales == nullptr) return invalid_argument("float16_w_int8 weights need scales");
  return pack_for_isa(k, n, b, ldb, HSource::kS8, scales, scale_count, HFormat::kF16, isa);
}
Result<PackedHGemmB> PackedHGemmB::pack_bf16(const float* b, size_t k, size_t n, size_t ldb,
                                             cpu::Isa isa) {
  return pack_for_isa(k, n, b, ldb, HSource::kF32, nullptr, 0, HFormat::kBF16, isa);
}
Result<PackedHGemmB> PackedHGemmB::pack_bf16_bits(const uint16_t* b, size_t k, size_t n,
                                                  size_t ldb, cpu::Isa isa) {
  return pack_for_isa(k, n, b, ldb, HSource::kBits, nullptr, 0, HFormat::kBF16, isa);
}

void hgemm_packed(size_t m, const float* a, size_t lda, const PackedHGemmBView& b, float* c,
                  size_t ldc, const GemmEpilogue& epilogue, cpu::ThreadPool* pool) {
  RATEL_ASSERT(b.ukernel != nullptr);
  const HGemmUkernel& uk = *b.ukernel;
  if (m == 0) return;
  const size_t n = b.n, k = b.k;
  RATEL_ASSERT(n >= 1 && k >= 1 && lda >= k && ldc >= n);
  RATEL_ASSERT(a != nullptr && b.data != nullptr && c != nullptr);
  RATEL_ASSERT(epilogue.residual == nullptr || epilogue.residual_stride >= n);
  RATEL_ASSERT(!overlaps(c, (m - 1) * ldc + n, a, (m - 1) * lda + k));

  const size_t m_tiles = ceil_div(m, uk.mr);
  const size_t n_panels = ceil_div(n, uk.nr);
  size_t threads = pool != nullptr ? static_cast<size_t>(pool->num_threads()) : 1;
  threads = std::min(threads, std::max<size_t>(1, m * n * k / kMinMacsPerThread));
  if (threads == 1) {
    hgemm_region(uk, 0, m, 0, n, a, lda, b, c, ldc, epilogue);
    return;
  }
  // Units as in gemm.cpp: column blocks of n_block, ~4 units per thread, claimed as they go.
  const size_t col_blocks = std::min(n_panels, ceil_div(n_panels * uk.nr, uk.n_block));
  const size_t row_blocks = std::min(m_tiles, std::max<size_t>(1, ceil_div(4 * threads, col_blocks)));
  const size_t units = row_blocks * col_blocks;
  std::atomic<size_t> next_unit{0};
  auto claim_units = [&](int64_t, int64_t, int) {
    for (size_t unit; (unit = next_unit.fetch_add(1, std::memory_order_relaxed)) < units;) {
      const cpu::IndexRange rows = cpu::static_chunk(static_cast<int64_t>(m_tiles),
                                                     static_cast<int>(row_blocks),
                                                     static_cast<int>(unit / col_blocks));
      const cpu::IndexRange cols = cpu::static_chunk(static_cast<int64_t>(n_panels),
                                                     static_cast<int>(col_blocks),
                                                     static_cast<int>(unit % col_blocks));
      const size_t m0 = static_cast<size_t>(rows.begin) * uk.mr;
      const size_t m1 = std::min(static_cast<size_t>(rows.end) * uk.mr, m);
      const size_t n0 = static_cast<size_t>(cols.begin) * uk.nr;
      const size_t n1 = std::min(static_cast<size_t>(cols.end) * uk.nr, n);
      if (m0 < m1 && n0 < n1) hgemm_region(uk, m0, m1, n0, n1, a, lda, b, c, ldc, epilogue);
    }
  };
  cpu::parallel_for(pool, static_cast<int64_t>(threads), claim_units);
}

void bf16_gemm_reference(size_t m, size_t n, size_t k, const float* a, size_t lda,
                         const float* b, size_t ldb, const float* col_scale, float* c, size_t ldc,
                         const GemmEpilogue& epi) {
  // One vdpbf16ps step: fp32 c + (exact) a * b, rounded once, subnormal results flushed.
  auto step = [](float acc, float x, float y) {
    const double exact_product = static_cast<double>(x) * static_cast<double>(y);
    float s = static_cast<float>(static_cast<double>(acc) + exact_product);
    if (s != 0.0f && std::fabs(s) < FLT_MIN) s = s < 0 ? -0.0f : 0.0f;
    return s;
  };
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      float acc = 0.0f;
      for (size_t kk = 0; kk < k; kk += 2) {
        const float a0 = math::bf16_round(a[i * lda + kk]);
        const float b0 = math::bf16_round(b[kk * ldb + j]);
        const float a1 = kk + 1 < k ? math::bf16_round(a[i * lda + kk + 1]) : 0.0f;
        const float b1 = kk + 1 < k ? math::bf16_round(b[(kk + 1) * ldb + j]) : 0.0f;
        acc = step(step(acc, a1, b1), a0, b0);
      }
      float y = acc;
      if (col_scale != nullptr) y = y * col_scale[j];
      if (epi.bias != nullptr) y = y + epi.bias[j];
      if (epi.activation == Activation::kGelu) y = static_cast<float>(gelu_reference(y));
      if (epi.residual != nullptr) y = y + epi.residual[i * epi.residual_stride + j];
      c[i * ldc + j] = y;
    }
  }
}

}  // namespace ratel::kernels
