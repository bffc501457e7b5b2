// The GEMM driver: packing, cache blocking and the split across threads (GotoBLAS/BLIS order).
//
// Loop nest run by each thread over its own rows [m0, m1) and columns [n0, n1):
//
//   for each N block of n_block columns      B slice (k_block x n_block) -> L2, reused by
//     for each K block of k_block             every row tile (K blocks in order: C carries
//       for each row tile of MR rows          the FMA chain); A tile (MR x k_block) copied to
//         for each NR panel of the N block    the stack -> L1; microkernel: B panel streams
//                                             from L2, C tile prefetched one call ahead
//
// Why A is copied: the microkernel reads MR rows of A at once. With the caller's row stride,
// rows that are a multiple of 4 KiB apart (K = 1024, 2048, 3072...) map to the same L1 set and
// evict each other; the stack tile has a stride of k_block + 16 floats, and being a
// compile-time constant the kernel reaches every row from one pointer. The copy costs
// MR x k_block loads and stores per MR x k_block x n_block multiply-adds (measured: ~1.5%).
#include "kernels/gemm.h"

#include <algorithm>
#include <atomic>
#include <cstring>

namespace ratel::kernels {
namespace {

// Below this many multiply-adds per thread, waking more threads costs more than it saves.
constexpr size_t kMinMacsPerThread = size_t{1} << 17;

size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

[[maybe_unused]] bool overlaps(const float* a, size_t a_count, const float* b, size_t b_count) {
  return a < b + b_count && b < a + a_count;
}

// How the threads share the work: a grid of units, each a block of whole row tiles times a
// block of whole panels, claimed by the threads from an atomic counter as they go.
//
// Why claimed rather than assigned: a static split leaves the whole GEMM waiting for its
// slowest thread, and a thread is slow whenever another process holds its core (measured on a
// busy 2-core machine: 2 threads statically split ran at 65% of 1 thread). Claiming keeps
// results bit-identical anyway: every element of C is computed by exactly one unit with the same
// FMA chain over all of K, whichever thread runs it.
// Shape of the grid: column blocks of at most n_block (each unit's B slice stays in L2 and the
// A tile copy is amortized over many panels), then enough row blocks for ~4 units per thread,
// so that a late thread costs at most about a quarter of its share, and a unit count that the
// threads divide: 3 column blocks x 3 row blocks left one of 2 threads a 5th unit while the other
// idled (MiniLM's QKV and FFN-in GEMMs with 512-column blocks).
struct UnitGrid {
  size_t row_blocks = 1;
  size_t col_blocks = 1;
};

UnitGrid choose_unit_grid(size_t threads, size_t m_tiles, size_t n_panels, const GemmUkernel& uk) {
  UnitGrid g;
  g.col_blocks = std::min(n_panels, ceil_div(n_panels * uk.nr, uk.n_block));
  g.row_blocks = std::min(m_tiles, std::max<size_t>(1, ceil_div(4 * threads, g.col_blocks)));
  while (g.row_blocks < m_tiles && g.row_blocks * g.col_blocks % threads != 0) ++g.row_blocks;
  return g;
}

void copy_a_tile(const float* a, size_t lda, size_t rows, size_t cols, float* tile,
                 size_t tile_stride) {
  for (size_t r = 0; r < rows; ++r) std::memcpy(tile + r * tile_stride, a + r * lda, cols * 4);
}

// Fetches the next C tile while the current one computes. C tiles come from L3 or memory (the
// C block of a thread does not fit in L2 next to its B block), and a microkernel otherwise
// stalls on them: on its first loads (later K blocks) and on its final stores, whose lines must
// be read before they are written. One kernel call is thousands of cycles of lead time.
void prefetch_c_tile(const float* c, size_t ldc, size_t rows, size_t cols) {
  for (size_t r = 0; r < rows; ++r) {
    for (size_t j = 0; j < cols; j += 16) __builtin_prefetch(c + r * ldc + j, /*rw=*/1, 3);
  }
}

void gemm_region(const GemmUkernel& uk, size_t m0, size_t m1, size_t n0, size_t n1,
                 const float* a, size_t lda, const PackedBView& b, float* c, size_t ldc,
                 const GemmEpilogue& epilogue) {
  alignas(64) float a_tile[kGemmMaxATileFloats];
  const size_t k = b.k;
  for (size_t nb = n0; nb < n1; nb += uk.n_block) {
    const size_t nb_end = std::min(nb + uk.n_block, n1);
    for (size_t k0 = 0; k0 < k; k0 += uk.k_block) {
      const size_t kc = std::min(uk.k_block, k - k0);
      GemmUkernelParams params;
      params.accumulate = k0 > 0;
      params.last_k_block = k0 + kc == k;
      params.activation = epilogue.activation;
      params.residual_stride = epilogue.residual_stride;
      for (size_t mt = m0; mt < m1; mt += uk.mr) {
        const size_t mr = std::min(uk.mr, m1 - mt);
        copy_a_tile(a + mt * lda + k0, lda, mr, kc, a_tile, uk.a_stride);
        for (size_t nt = nb; nt < nb_end; nt += uk.nr) {
          const size_t nr = std::min(uk.nr, nb_end - nt);
          params.bias = epilogue.bias != nullptr ? epilogue.bias + nt : nullptr;
          params.residual = epilogue.residual != nullptr
                                ? epilogue.residual + mt * epilogue.residual_stride + nt
                                : nullptr;
          const float* panel = b.data + (nt / uk.nr) * k * uk.nr + k0 * uk.nr;
          if (nt + uk.nr < nb_end) {
            prefetch_c_tile(c + mt * ldc + nt + uk.nr, ldc, mr, uk.nr);
          } else if (mt + uk.mr < m1) {
            prefetch_c_tile(c + (mt + uk.mr) * ldc + nb, ldc, std::min(uk.mr, m1 - mt - uk.mr),
                            uk.nr);
          }
          uk.fn(mr, nr, kc, a_tile, panel, c + mt * ldc + nt, ldc, params);
        }
      }
    }
  }
}

}  // namespace

size_t packed_gemm_b_size(size_t k, size_t n, const GemmUkernel& ukernel) {
  return ceil_div(n, ukernel.nr) * ukernel.nr * k;
}

size_t packed_gemm_b_size(size_t k, size_t n, cpu::Isa isa) {
  return packed_gemm_b_size(k, n, gemm_ukernel(isa));
}

PackedBView pack_gemm_b(size_t k, size_t n, const float* b, size_t b_stride_k, size_t b_stride_n,
                        cpu::Isa isa, float* packed) {
  return pack_gemm_b(k, n, b, b_stride_k, b_stride_n, gemm_ukernel(isa), packed);
}

PackedBView pack_gemm_b(size_t k, size_t n, const float* b, size_t b_stride_k, size_t b_stride_n,
                        const GemmUkernel& ukernel, float* packed) {
  const size_t nr = ukernel.nr;
  RATEL_ASSERT(k >= 1 && n >= 1 && b != nullptr && packed != nullptr);
  RATEL_ASSERT(reinterpret_cast<uintptr_t>(packed) % 64 == 0);
  for (size_t p = 0; p * nr < n; ++p) {
    float* panel = packed + p * k * nr;
    const size_t cols = std::min(nr, n - p * nr);
    const float* src = b + p * nr * b_stride_n;
    if (b_stride_n == 1) {  // row-major B (weights, V): copy row segments
      for (size_t kk = 0; kk < k; ++kk) {
        std::memcpy(panel + kk * nr, src + kk * b_stride_k, cols * 4);
        std::memset(panel + kk * nr + cols, 0, (nr - cols) * 4);
      }
    } else {  // e.g. K^T for attention scores: read along k, the contiguous direction
      for (size_t kk = 0; kk < k; ++kk) std::memset(panel + kk * nr + cols, 0, (nr - cols) * 4);
      for (size_t j = 0; j < cols; ++j) {
        for (size_t kk = 0; kk < k; ++kk) panel[kk * nr + j] = src[j * b_stride_n + kk * b_stride_k];
      }
    }
  }
  return {packed, k, n, &ukernel};
}

Result<PackedGemmB> PackedGemmB::pack(const float* b, size_t k, size_t n, size_t ldb,
                                      cpu::Isa isa) {
  if (k == 0 || n == 0) return invalid_argument("cannot pack an empty {}x{} GEMM weight", k, n);
  if (ldb < n) return invalid_argument("GEMM weight row stride {} < N = {}", ldb, n);
  if (isa > cpu::best_isa(cpu::cpu_features())) {
    return unsupported("this CPU cannot run the {} GEMM kernel", cpu::isa_name(isa));
  }
  PackedGemmB out;
  RATEL_ASSIGN_OR_RETURN(out.storage_, Storage::allocate(packed_gemm_b_size(k, n, isa) * 4));
  auto* data = reinterpret_cast<float*>(out.storage_->data());
  out.view_ = pack_gemm_b(k, n, b, ldb, 1, isa, data);
  return out;
}

void gemm_packed(size_t m, const float* a, size_t lda, const PackedBView& b, float* c,
                 size_t ldc, const GemmEpilogue& epilogue, cpu::ThreadPool* pool) {
  RATEL_ASSERT(b.ukernel != nullptr);
  const GemmUkernel& uk = *b.ukernel;
  // The A tile is a fixed stack buffer: a kernel that does not fit must never run (not even in
  // a release build, where RATEL_ASSERT is off).
  const bool tile_fits = uk.mr * uk.a_stride <= kGemmMaxATileFloats && uk.k_block <= uk.a_stride;
  RATEL_ASSERT(tile_fits);
  if (!tile_fits) return;
  const size_t n = b.n;
  const size_t k = b.k;
  if (m == 0) return;  // an empty batch
  RATEL_ASSERT(n >= 1 && k >= 1 && lda >= k && ldc >= n);
  RATEL_ASSERT(a != nullptr && b.data != nullptr && c != nullptr);
  RATEL_ASSERT(epilogue.residual == nullptr || epilogue.residual_stride >= n);
  RATEL_ASSERT(!overlaps(c, (m - 1) * ldc + n, a, (m - 1) * lda + k));
  RATEL_ASSERT(epilogue.residual == nullptr ||
               !overlaps(c, (m - 1) * ldc + n, epilogue.residual,
                         (m - 1) * epilogue.residual_stride + n));

  const size_t m_tiles = ceil_div(m, uk.mr);
  const size_t n_panels = ceil_div(n, uk.nr);
  size_t threads = pool != nullptr ? static_cast<size_t>(pool->num_threads()) : 1;
  threads = std::min(threads, std::max<size_t>(1, m * n * k / kMinMacsPerThread));
  if (threads == 1) {
    gemm_region(uk, 0, m, 0, n, a, lda, b, c, ldc, epilogue);
    return;
  }
  const UnitGrid grid = choose_unit_grid(threads, m_tiles, n_panels, uk);
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
      if (m0 < m1 && n0 < n1) gemm_region(uk, m0, m1, n0, n1, a, lda, b, c, ldc, epilogue);
    }
  };
  // One index per thread: each runs the claiming loop (the pool's static split hands them out).
  cpu::parallel_for(pool, static_cast<int64_t>(threads), claim_units);
}

size_t gemm_workspace_size(size_t k, size_t n, cpu::Isa isa) {
  return packed_gemm_b_size(k, n, isa);
}

void gemm_strided(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b,
                  size_t b_stride_k, size_t b_stride_n, float* c, size_t ldc,
                  const GemmEpilogue& epilogue, float* workspace, cpu::ThreadPool* pool,
                  cpu::Isa isa) {
  const PackedBView packed = pack_gemm_b(k, n, b, b_stride_k, b_stride_n, isa, workspace);
  gemm_packed(m, a, lda, packed, c, ldc, epilogue, pool);
}

}  // namespace ratel::kernels
