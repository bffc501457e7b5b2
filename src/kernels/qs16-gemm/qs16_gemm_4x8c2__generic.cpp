// Portable 16-bit GEMM microkernel, 4 x 8 tile, s16 x s16 -> int32 mod 2^32, B in pairs of k
// (c2, the vpmaddwd layout). Each product fits in int32 (|p| <= 2^30); sums are taken in
// unsigned arithmetic so that they wrap like vpaddd instead of overflowing.
#include "kernels/qs8-gemm/qtile_common.h"

namespace ratel::kernels {
namespace {

template <size_t ROWS>
struct FullTile {
  static void run(size_t groups, const uint8_t* __restrict a, const uint8_t* __restrict b,
                  int32_t* __restrict acc, bool accumulate) {
    const auto* as = reinterpret_cast<const int16_t*>(a);
    const auto* bs = reinterpret_cast<const int16_t*>(b);
    uint32_t c[ROWS][8];
    for (size_t r = 0; r < ROWS; ++r) {
      for (size_t j = 0; j < 8; ++j) c[r][j] = accumulate ? static_cast<uint32_t>(acc[r * 8 + j]) : 0u;
    }
    for (size_t g = 0; g < groups; ++g) {
      for (size_t r = 0; r < ROWS; ++r) {
        const int16_t* ar = as + r * kQs16AStride + 2 * g;
        for (size_t j = 0; j < 8; ++j) {
          c[r][j] += static_cast<uint32_t>(int32_t{ar[0]} * int32_t{bs[j * 2]});
          c[r][j] += static_cast<uint32_t>(int32_t{ar[1]} * int32_t{bs[j * 2 + 1]});
        }
      }
      bs += 16;
    }
    for (size_t r = 0; r < ROWS; ++r) {
      for (size_t j = 0; j < 8; ++j) acc[r * 8 + j] = static_cast<int32_t>(c[r][j]);
    }
  }
};

struct Kernel {
  template <size_t ROWS>
  using Tile = FullTile<ROWS>;
};

}  // namespace

void qs16_gemm_4x8c2__generic(size_t mr, size_t kc, const void* __restrict a,
                              const void* __restrict packed_b, int32_t* __restrict acc,
                              bool accumulate) {
  detail::run_qukernel<4, 2, kQs16AStride, Kernel>(mr, kc, a, packed_b, acc, accumulate);
}

}  // namespace ratel::kernels
