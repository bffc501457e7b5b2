// The integer GEMM driver: weight packing with the zero points folded into column terms, the
// loop nest, the split across threads, and the reference.
//
// Zero points. A kernel multiplies A' and B' (its domain, qgemm_ukernel.h); with za', zw'[n] the
// zero points in that domain and K the true depth,
//
//   sum_k (a'-za')(w'-zw') = acc - zw'[n] * rowsum'[m] + za' * (K zw'[n] - colsum'[n])
//                          = acc - zw'[n] * rowsum'[m] + za' * col_term[n]
//
// col_term is computed at pack time; rowsum' (sum over k of the packed A values) per call, and
// only when some zw' != 0 (asymmetric weights on the u8-domain kernels). Domains:
//   u8 x s8 kernels (VNNI, generic): a' = a (u8) or a + 128 (s8, by flipping the top bit), za'
//     accordingly; w' = w (s8) or w - 128 (u8 weights), zw' accordingly.
//   16-bit kernels with int8 weights: a' = a - za (so za' = 0); s16 B: w' = w - zw (zw' = 0,
//     nothing left to correct); s8 B: w' as above.
//   int16: a' = a, w' = w, zero points 0.
// Every correction is an int32 operation mod 2^32, so it is exact whenever the true sum fits.
//
// Loop nest per thread over its rows [m0, m1) and columns [n0, n1):
//
//   for each N block of n_block columns       K x n_block slice of B -> L2 (l2_bytes), reused
//     for each row tile of MR rows              by every row tile
//       for each K block of k_block             A tile (MR x k_block) packed on the stack -> L1
//         for each NR panel of the N block      microkernel: B panel's K block streams from L2
//           (last K block) output stage         int32 tile (L1) -> C
//
// Unlike the f32 GEMM, K blocks are inside the row tile: the int32 partial sums cannot be
// carried in C (C may be float or bytes), so they stay in a stack scratch of MR x n_block int32
// (MR x NR when K fits one block, the common case: K <= 1024 for int8, 512 for 16-bit A).
#include "kernels/qgemm.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/f32-gemm/f32_gemm_reference.h"

namespace ratel::kernels {
namespace {

constexpr size_t kMinMacsPerThread = size_t{1} << 19;
constexpr size_t kAccScratchInts = 16 * 512;  // MR x n_block int32 (32 KiB)

size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }
size_t round_up(size_t a, size_t b) { return ceil_div(a, b) * b; }

size_t qtype_size(QType t) { return t == QType::kS16 ? 2 : 1; }

bool is_int8_family(QType t) { return t != QType::kS16; }

void qtype_range(QType t, int32_t* lo, int32_t* hi) {
  switch (t) {
    case QType::kU8: *lo = 0; *hi = 255; break;
    case QType::kS8: *lo = -128; *hi = 127; break;
    default: *lo = -32768; *hi = 32767; break;
  }
}

bool output_range(QOutput o, int32_t* lo, int32_t* hi) {
  switch (o) {
    case QOutput::kU8: *lo = 0; *hi = 255; return true;
    case QOutput::kS8: *lo = -128; *hi = 127; return true;
    case QOutput::kS16: *lo = -32768; *hi = 32767; return true;
    default: return false;
  }
}

[[maybe_unused]] size_t output_size(QOutput o) {
  switch (o) {
    case QOutput::kU8:
    case QOutput::kS8: return 1;
    case QOutput::kS16: return 2;
    default: return 4;
  }
}

int32_t load_weight(const QGemmWeights& w, size_t kk, size_t nn) {
  const size_t i = kk * w.ldb + nn;
  switch (w.type) {
    case QType::kU8: return static_cast<const uint8_t*>(w.data)[i];
    case QType::kS8: return static_cast<const int8_t*>(w.data)[i];
    default: return static_cast<const int16_t*>(w.data)[i];
  }
}

int32_t weight_zero_point(const QGemmWeights& w, size_t nn) {
  if (w.zero_points == nullptr || w.zero_point_count == 0) return 0;
  return w.zero_points[w.zero_point_count == 1 ? 0 : nn];
}

float weight_scale(const QGemmWeights& w, size_t nn) {
  return w.scales[w.scale_count == 1 ? 0 : nn];
}

// Sizes of the parts of a packed weight, in bytes, each rounded to 64.
struct PackedLayout {
  size_t panels = 0, col_term = 0, zw = 0, w_scale = 0;
  size_t total() const { return panels + col_term + zw + w_scale; }
};

PackedLayout packed_layout(size_t k, size_t n, const QGemmUkernel& uk) {
  PackedLayout l;
  const size_t np = round_up(n, uk.nr);
  l.panels = round_up(np * round_up(k, uk.kr) * uk.b_elem, 64);
  l.col_term = round_up(np * 4, 64);
  l.zw = l.col_term;
  l.w_scale = l.col_term;
  return l;
}

[[maybe_unused]] bool overlaps(const void* a, size_t a_bytes, const void* b, size_t b_bytes) {
  const auto* pa = static_cast<const std::byte*>(a);
  const auto* pb = static_cast<const std::byte*>(b);
  return pa < pb + b_bytes && pb < pa + a_bytes;
}

struct QCall {
  const QGemmUkernel* uk;
  const uint8_t* a;          // activations (bytes)
  size_t lda;                // elements
  size_t a_elem;             // bytes per activation
  QPackAParams pack;
  bool row_sums;             // the output stage needs them
  const PackedQGemmBView* b;
  size_t n_block;
  QOutputParams out;
};

void qgemm_region(const QCall& call, size_t m0, size_t m1, size_t n0, size_t n1) {
  const QGemmUkernel& uk = *call.uk;
  alignas(64) uint8_t a_tile[kQGemmMaxATileBytes];
  alignas(64) int32_t acc[kAccScratchInts];
  int32_t row_sums[16];
  const size_t k = call.b->k;
  const size_t kp = round_up(k, uk.kr);
  const bool multi_k = k > uk.k_block;
  const auto* panels = static_cast<const uint8_t*>(call.b->data);
  for (size_t nb = n0; nb < n1; nb += call.n_block) {
    const size_t nb_end = std::min(nb + call.n_block, n1);
    for (size_t mt = m0; mt < m1; mt += uk.mr) {
      const size_t rows = std::min(uk.mr, m1 - mt);
      if (call.row_sums) std::fill(row_sums, row_sums + rows, 0);
      for (size_t k0 = 0; k0 < k; k0 += uk.k_block) {
        const size_t kc = std::min(uk.k_block, k - k0);
        uk.pack_a(rows, kc, round_up(kc, uk.kr), call.a + (mt * call.lda + k0) * call.a_elem,
                  call.lda, call.pack, a_tile, uk.a_stride, call.row_sums ? row_sums : nullptr);
        const bool last = k0 + kc == k;
        for (size_t nt = nb; nt < nb_end; nt += uk.nr) {
          int32_t* tile = multi_k ? acc + ((nt - nb) / uk.nr) * uk.mr * uk.nr : acc;
          const uint8_t* panel = panels + ((nt / uk.nr) * kp + k0) * uk.nr * uk.b_elem;
          uk.fn(rows, kc, a_tile, panel, tile, k0 > 0);
          if (last) {
            uk.output(rows, std::min(uk.nr, nb_end - nt), tile, uk.nr, row_sums, mt, nt, call.out);
          }
        }
      }
    }
  }
}

// Units of work: column blocks of n_block, then enough row blocks for ~4 units per thread
// (claimed from a counter, as in gemm.cpp: a thread that loses its core delays one unit).
struct UnitGrid {
  size_t row_blocks = 1;
  size_t col_blocks = 1;
};

}  // namespace

size_t packed_qgemm_b_size(size_t k, size_t n, const QGemmUkernel& uk) {
  return packed_layout(k, n, uk).total();
}

PackedQGemmBView pack_qgemm_b(const QGemmWeights& w, const QGemmUkernel& uk, void* packed) {
  RATEL_ASSERT(w.k >= 1 && w.n >= 1 && w.data != nullptr && packed != nullptr);
  RATEL_ASSERT(reinterpret_cast<uintptr_t>(packed) % 64 == 0);
  RATEL_ASSERT(is_int8_family(w.type) == (uk.family == QFamily::kInt8));
  const size_t k = w.k, n = w.n, nr = uk.nr, kr = uk.kr;
  const size_t kp = round_up(k, kr);
  const PackedLayout layout = packed_layout(k, n, uk);
  auto* base = static_cast<uint8_t*>(packed);
  std::memset(base, 0, layout.total());
  auto* col_term = reinterpret_cast<int32_t*>(base + layout.panels);
  auto* zw = reinterpret_cast<int32_t*>(base + layout.panels + layout.col_term);
  auto* w_scale = reinterpret_cast<float*>(base + layout.panels + layout.col_term + layout.zw);

  // The weights in the kernel's domain (see the top of this file).
  const bool s16_b = uk.b_elem == 2;
  const int32_t u8_shift = w.type == QType::kU8 ? 128 : 0;  // u8 weights -> s8: w - 128
  bool any_zw = false;
  for (size_t nn = 0; nn < n; ++nn) {
    const int32_t z = weight_zero_point(w, nn);
    // s16 B with int8 weights: the zero point is subtracted here, none is left.
    const int32_t zdom = (s16_b && uk.family == QFamily::kInt8) ? 0 : z - u8_shift;
    zw[nn] = zdom;
    any_zw |= zdom != 0;
    w_scale[nn] = w.scales != nullptr ? weight_scale(w, nn) : 1.0f;
    uint32_t colsum = 0;
    for (size_t kk = 0; kk < k; ++kk) {
      int32_t v = load_weight(w, kk, nn);
      v = (s16_b && uk.family == QFamily::kInt8) ? v - z : v - u8_shift;
      colsum += static_cast<uint32_t>(v);
      // Panel p = nn / nr, group g = kk / kr: element (j * kr + t) of the group.
      const size_t idx = ((nn / nr) * kp + (kk / kr) * kr) * nr + (nn % nr) * kr + kk % kr;
      if (s16_b) {
        const auto s = static_cast<int16_t>(v);
        std::memcpy(base + idx * 2, &s, 2);
      } else {
        base[idx] = static_cast<uint8_t>(static_cast<int8_t>(v));
      }
    }
    col_term[nn] = static_cast<int32_t>(static_cast<uint32_t>(zdom) * static_cast<uint32_t>(k) - colsum);
  }
  PackedQGemmBView view;
  view.data = base;
  view.k = k;
  view.n = n;
  view.weight_type = w.type;
  view.col_term = col_term;
  view.zw = any_zw ? zw : nullptr;
  view.w_scale = w_scale;
  view.ukernel = &uk;
  return view;
}

Result<PackedQGemmB> PackedQGemmB::pack(const QGemmWeights& w, cpu::Isa isa, int a_u8_max) {
  if (isa > cpu::best_isa(cpu::cpu_features())) {
    return unsupported("this CPU cannot run the {} quantized GEMM kernel", cpu::isa_name(isa));
  }
  return pack(w, qgemm_ukernel_for(is_int8_family(w.type) ? QFamily::kInt8 : QFamily::kInt16, isa,
                                   a_u8_max));
}

Result<PackedQGemmB> PackedQGemmB::pack(const QGemmWeights& w, const QGemmUkernel& uk) {
  if (w.k == 0 || w.n == 0) return invalid_argument("cannot pack an empty {}x{} GEMM weight", w.k, w.n);
  if (w.data == nullptr) return invalid_argument("quantized GEMM weight without data");
  if (w.ldb < w.n) return invalid_argument("GEMM weight row stride {} < N = {}", w.ldb, w.n);
  if (w.scales != nullptr && w.scale_count != 1 && w.scale_count != w.n) {
    return invalid_argument("{} weight scales for N = {} (want 1 or N)", w.scale_count, w.n);
  }
  if (w.scales == nullptr && w.scale_count != 0) return invalid_argument("weight scale count without scales");
  if (w.zero_points != nullptr) {
    if (w.zero_point_count != 1 && w.zero_point_count != w.n) {
      return invalid_argument("{} weight zero points for N = {} (want 1 or N)", w.zero_point_count, w.n);
    }
    int32_t lo, hi;
    qtype_range(w.type, &lo, &hi);
    if (w.type == QType::kS16) lo = hi = 0;
    for (size_t i = 0; i < w.zero_point_count; ++i) {
      if (w.zero_points[i] < lo || w.zero_points[i] > hi) {
        return invalid_argument("weight zero point {} out of range [{}, {}]", w.zero_points[i], lo, hi);
      }
    }
  }
  if (!qgemm_ukernel_supported(uk)) return unsupported("this CPU cannot run {}", uk.name);
  if (is_int8_family(w.type) != (uk.family == QFamily::kInt8)) {
    return invalid_argument("{} does not take this weight type", uk.name);
  }
  PackedQGemmB out;
  RATEL_ASSIGN_OR_RETURN(out.storage_, Storage::allocate(packed_qgemm_b_size(w.k, w.n, uk)));
  out.view_ = pack_qgemm_b(w, uk, out.storage_->data());
  return out;
}

namespace {
// Debug check of a_max_127 kernels' precondition.
[[maybe_unused]] bool u8_at_most_127(size_t m, size_t k, const QGemmA& a) {
  const uint8_t* p = static_cast<const uint8_t*>(a.data);
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < k; ++j) {
      if (p[i * a.stride + j] > 127) return false;
    }
  }
  return true;
}
}  // namespace

void qgemm_packed(size_t m, const QGemmA& a, const PackedQGemmBView& b, void* c, size_t ldc,
                  const QGemmEpilogue& epi, cpu::ThreadPool* pool) {
  RATEL_ASSERT(b.ukernel != nullptr);
  if (m == 0) return;
  const QGemmUkernel& uk = *b.ukernel;
  const size_t n = b.n, k = b.k;
  RATEL_ASSERT(n >= 1 && k >= 1 && a.stride >= k && ldc >= n);
  RATEL_ASSERT(a.data != nullptr && b.data != nullptr && c != nullptr);
  RATEL_ASSERT(is_int8_family(a.type) == is_int8_family(b.weight_type));
  [[maybe_unused]] int32_t za_lo, za_hi;
  qtype_range(a.type, &za_lo, &za_hi);
  RATEL_ASSERT(a.type == QType::kS16 ? a.zero_point == 0
                                     : (a.zero_point >= za_lo && a.zero_point <= za_hi));
  RATEL_ASSERT(epi.residual == nullptr || epi.residual_stride >= n);
  // The vpmaddubsw kernel saturates for activations above 127 (qs8_gemm_6x16c4__avx2.cpp).
  RATEL_ASSERT(!uk.a_max_127 || (a.type == QType::kU8 && u8_at_most_127(m, k, a)));
  RATEL_ASSERT(!overlaps(c, ((m - 1) * ldc + n) * output_size(epi.output), a.data,
                         ((m - 1) * a.stride + k) * qtype_size(a.type)));

  QCall call;
  call.uk = &uk;
  call.a = static_cast<const uint8_t*>(a.data);
  call.lda = a.stride;
  call.a_elem = qtype_size(a.type);
  call.b = &b;
  call.pack.in_type = static_cast<QInType>(a.type);
  call.pack.to_s16 = uk.a_s16_domain;
  int32_t za_dom = 0;
  if (uk.a_s16_domain) {
    call.pack.offset = a.zero_point;  // a' = a - za, za' = 0 (int16: za is 0)
  } else {
    call.pack.flip = a.type == QType::kS8 ? 0x80 : 0;
    za_dom = a.zero_point + (a.type == QType::kS8 ? 128 : 0);
  }
  call.row_sums = b.zw != nullptr;

  QOutputParams& o = call.out;
  o.output = epi.output;
  o.c = c;
  o.ldc = ldc;
  o.za = za_dom;
  o.col_term = b.col_term;
  o.zw = b.zw;
  o.bias_i32 = epi.bias_i32;
  o.w_scale = b.w_scale;
  o.bias = epi.bias;
  o.activation = epi.activation;
  o.residual = epi.residual;
  o.residual_stride = epi.residual_stride;
  o.scale = a.scale;
  int32_t lo, hi;
  if (output_range(epi.output, &lo, &hi)) {
    const int32_t qmin = epi.out_min == INT32_MIN ? lo : epi.out_min;
    const int32_t qmax = epi.out_max == INT32_MAX ? hi : epi.out_max;
    RATEL_ASSERT(lo <= qmin && qmin <= qmax && qmax <= hi);
    RATEL_ASSERT(epi.out_zero_point >= lo && epi.out_zero_point <= hi);
    o.scale = a.scale / epi.out_scale;
    o.clamp_lo = static_cast<float>(qmin - epi.out_zero_point);
    o.clamp_hi = static_cast<float>(qmax - epi.out_zero_point);
    o.out_zero_point = epi.out_zero_point;
  }

  // n_block: whole panels whose K x n_block slice fits the L2 budget. With several K blocks the
  // partial sums of the N block live in the stack scratch, which bounds it too.
  const size_t kp = round_up(k, uk.kr);
  size_t n_block = std::max<size_t>(1, uk.l2_bytes / (kp * uk.nr * uk.b_elem)) * uk.nr;
  if (k > uk.k_block) n_block = std::min(n_block, kAccScratchInts / (uk.mr * uk.nr) * uk.nr);
  call.n_block = std::max(uk.nr, n_block);

  const size_t m_tiles = ceil_div(m, uk.mr);
  const size_t n_panels = ceil_div(n, uk.nr);
  size_t threads = pool != nullptr ? static_cast<size_t>(pool->num_threads()) : 1;
  threads = std::min(threads, std::max<size_t>(1, m * n * k / kMinMacsPerThread));
  if (threads == 1) {
    qgemm_region(call, 0, m, 0, n);
    return;
  }
  UnitGrid grid;
  grid.col_blocks = std::min(n_panels, ceil_div(n_panels * uk.nr, call.n_block));
  grid.row_blocks = std::min(m_tiles, std::max<size_t>(1, ceil_div(4 * threads, grid.col_blocks)));
  const size_t units = grid.row_blocks * grid.col_blocks;
  std::atomic<size_t> next_unit{0};
  auto claim_units = [&](int64_t, int64_t, int /*thread*/) {
    for (size_t unit; (unit = next_unit.fetch_add(1, std::memory_order_relaxed)) < units;) {
      const cpu::IndexRange rows = cpu::static_chunk(static_cast<int64_t>(m_tiles),
                                                     static_cast<int>(grid.row_blocks),
                                                     static_cast<int>(unit / grid.col_blocks));
      const cpu::IndexRange cols = cpu::static_chunk(static_cast<int64_t>(n_panels),
                                                     static_cast<int>(grid.col_blocks),
                                                     static_cast<int>(unit % grid.col_blocks));
      const size_t m0 = static_cast<size_t>(rows.begin) * uk.mr;
      const size_t m1 = std::min(static_cast<size_t>(rows.end) * uk.mr, m);
      const size_t n0 = static_cast<size_t>(cols.begin) * uk.nr;
      const size_t n1 = std::min(static_cast<size_t>(cols.end) * uk.nr, n);
      if (m0 < m1 && n0 < n1) qgemm_region(call, m0, m1, n0, n1);
    }
  };
  cpu::parallel_for(pool, static_cast<int64_t>(threads), claim_units);
}

void qgemm_reference(size_t m, const QGemmA& a, const QGemmWeights& w, void* c, size_t ldc,
                     const QGemmEpilogue& epi) {
  int32_t lo = 0, hi = 0;
  const bool requant = output_range(epi.output, &lo, &hi);
  const int32_t qmin = epi.out_min == INT32_MIN ? lo : epi.out_min;
  const int32_t qmax = epi.out_max == INT32_MAX ? hi : epi.out_max;
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < w.n; ++j) {
      int64_t sum = 0;
      const int64_t zw = weight_zero_point(w, j);
      for (size_t kk = 0; kk < w.k; ++kk) {
        int64_t av;
        const size_t idx = i * a.stride + kk;
        switch (a.type) {
          case QType::kU8: av = static_cast<const uint8_t*>(a.data)[idx]; break;
          case QType::kS8: av = static_cast<const int8_t*>(a.data)[idx]; break;
          default: av = static_cast<const int16_t*>(a.data)[idx]; break;
        }
        sum += (av - a.zero_point) * (load_weight(w, kk, j) - zw);
      }
      uint32_t t = static_cast<uint32_t>(static_cast<uint64_t>(sum));  // mod 2^32
      if (epi.bias_i32 != nullptr) t += static_cast<uint32_t>(epi.bias_i32[j]);
      const auto v = static_cast<int32_t>(t);
      const float ws = w.scales != nullptr ? weight_scale(w, j) : 1.0f;
      if (epi.output == QOutput::kInt32) {
        static_cast<int32_t*>(c)[i * ldc + j] = v;
      } else if (epi.output == QOutput::kFloat) {
        float y = static_cast<float>(v) * (a.scale * ws);
        if (epi.bias != nullptr) y = y + epi.bias[j];
        if (epi.activation == Activation::kGelu) y = static_cast<float>(gelu_reference(y));
        if (epi.residual != nullptr) y = y + epi.residual[i * epi.residual_stride + j];
        static_cast<float*>(c)[i * ldc + j] = y;
      } else if (requant) {
        float y = static_cast<float>(v) * ((a.scale / epi.out_scale) * ws);
        const float clo = static_cast<float>(qmin - epi.out_zero_point);
        const float chi = static_cast<float>(qmax - epi.out_zero_point);
        y = y < clo ? clo : (y > chi ? chi : y);
        const int32_t q = static_cast<int32_t>(std::nearbyint(y)) + epi.out_zero_point;
        if (epi.output == QOutput::kU8) static_cast<uint8_t*>(c)[i * ldc + j] = static_cast<uint8_t>(q);
        if (epi.output == QOutput::kS8) static_cast<int8_t*>(c)[i * ldc + j] = static_cast<int8_t>(q);
        if (epi.output == QOutput::kS16) static_cast<int16_t*>(c)[i * ldc + j] = static_cast<int16_t>(q);
      }
    }
  }
}

}  // namespace ratel::kernels
