// AVX512-VNNI int16 GEMM microkernel, 14 x 32 tile, s16 x s16 -> s32 with vpdpwssd.
//
// vpdpwssd multiplies 2 adjacent s16 (A) by 2 s16 (B) and adds both products to an s32 lane,
// wrapping (not saturating) like vpaddd: the result is the integer dot product mod 2^32. The
// int16 path only: int8 uses the u8 x s8 kernel, which does 4 products per lane instead of 2.
#include "kernels/qs8-gemm/qtile_avx512.h"

namespace ratel::kernels {
namespace {
struct OpDpwssd {
  static __m512i mac(__m512i c, __m512i a, __m512i b) { return _mm512_dpwssd_epi32(c, a, b); }
};
struct Kernel {
  template <size_t ROWS>
  using Tile = detail::QTileAvx512<ROWS, 2, 2 * kQs16AStride, OpDpwssd>;
};
}  // namespace

void qs16_gemm_14x32c2__avx512vnni(size_t mr, size_t kc, const void* __restrict a,
                                   const void* __restrict packed_b, int32_t* __restrict acc,
                                   bool accumulate) {
  detail::run_qukernel<14, 2, kQs16AStride, Kernel>(mr, kc, a, packed_b, acc, accumulate);
}

}  // namespace ratel::kernels
