// Portable int8 GEMM microkernel, 4 x 8 tile, u8 x s8 -> int32, B in groups of 4 k (c4, the
// VNNI layout, so the generic and VNNI paths share one packing). Sums wrap mod 2^32 (unsigned
// arithmetic: no signed overflow); they never do for K <= 65793.
#include "kernels/qs8-gemm/qtile_common.h"

namespace ratel::kernels {
namespace {

template <size_t ROWS>
struct FullTile {
  static void run(size_t groups, const uint8_t* __restrict a, const uint8_t* __restrict b,
                  int32_t* __restrict acc, bool accumulate) {
    const auto* bs = reinterpret_cast<const int8_t*>(b);
    uint32_t c[ROWS][8];
    for (size_t r = 0; r < ROWS; ++r) {
      for (size_t j = 0; j < 8; ++j) c[r][j] = accumulate ? static_cast<uint32_t>(acc[r * 8 + j]) : 0u;
    }
    for (size_t g = 0; g < groups; ++g) {
      for (size_t r = 0; r < ROWS; ++r) {
        const uint8_t* ar = a + r * kQs8AStride + 4 * g;
        for (size_t j = 0; j < 8; ++j) {
          int32_t s = 0;
          for (size_t t = 0; t < 4; ++t) s += int32_t{ar[t]} * int32_t{bs[j * 4 + t]};
          c[r][j] += static_cast<uint32_t>(s);
        }
      }
      bs += 32;
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

void qs8_gemm_4x8c4__generic(size_t mr, size_t kc, const void* __restrict a,
                             const void* __restrict packed_b, int32_t* __restrict acc,
                             bool accumulate) {
  detail::run_qukernel<4, 4, kQs8AStride, Kernel>(mr, kc, a, packed_b, acc, accumulate);
}

}  // namespace ratel::kernels
