// AVX512-VNNI int8 GEMM microkernel, 6 x 64 tile, u8 x s8 -> s32 with vpdpbusd: the
// f32_gemm_6x64__avx512f shape (24 zmm accumulators + 4 B + 1 A). Per 4 k: 24 vpdpbusd
// against 4 B loads + 6 broadcasts (the 14 x 32 tile: 28 against 2 + 14). Same arithmetic as
// qs8_gemm_14x32c4__avx512vnni; which one is the default is measured (qgemm_config.cpp).
#include "kernels/qs8-gemm/qtile_avx512.h"

namespace ratel::kernels {
namespace {
struct OpDpbusd {
  static __m512i mac(__m512i c, __m512i a, __m512i b) { return _mm512_dpbusd_epi32(c, a, b); }
};
struct Kernel {
  template <size_t ROWS>
  using Tile = detail::QTileAvx512<ROWS, 4, kQs8AStride, OpDpbusd>;
};
}  // namespace

void qs8_gemm_6x64c4__avx512vnni(size_t mr, size_t kc, const void* __restrict a,
                                 const void* __restrict packed_b, int32_t* __restrict acc,
                                 bool accumulate) {
  detail::run_qukernel<6, 4, kQs8AStride, Kernel>(mr, kc, a, packed_b, acc, accumulate);
}

}  // namespace ratel::kernels
