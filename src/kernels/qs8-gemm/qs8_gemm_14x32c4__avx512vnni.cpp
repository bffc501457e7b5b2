// AVX512-VNNI int8 GEMM microkernel, 14 x 32 tile, u8 x s8 -> s32 with vpdpbusd.
//
// vpdpbusd multiplies 4 adjacent u8 (A) by 4 s8 (B) and adds the four products to an s32 lane
// with no intermediate saturation (|sum| <= 4 * 255 * 128), so the result is the exact integer
// dot product (mod 2^32, reached only for K > 65793). B is packed in groups of 4 k ("c4"):
// one 64-byte vector holds 16 columns x 4 k. The tile is the f32 kernel's 14 x 32 (28 zmm
// accumulators + 2 B + 1 broadcast A): per 4 k, 28 vpdpbusd against 2 loads + 14 broadcasts.
#include "kernels/qs8-gemm/qtile_avx512.h"

namespace ratel::kernels {
namespace {
struct OpDpbusd {
  static __m512i mac(__m512i c, __m512i a, __m512i b) { return _mm512_dpbusd_epi32(c, a, b); }
};
struct Kernel {
  template <size_t ROWS>
  using Tile = detail::QTileAvx512<ROWS, 2, kQs8AStride, OpDpbusd>;
};
}  // namespace

void qs8_gemm_14x32c4__avx512vnni(size_t mr, size_t kc, const void* __restrict a,
                                  const void* __restrict packed_b, int32_t* __restrict acc,
                                  bool accumulate) {
  detail::run_qukernel<14, 4, kQs8AStride, Kernel>(mr, kc, a, packed_b, acc, accumulate);
}

}  // namespace ratel::kernels
