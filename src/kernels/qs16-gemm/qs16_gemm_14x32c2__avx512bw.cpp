// AVX-512BW 16-bit GEMM microkernel, 14 x 32 tile, s16 x s16 -> s32 with vpmaddwd + vpaddd.
//
// For AVX-512 CPUs without VNNI (Skylake-SP, Cascade Lake has VNNI): int16 weights, and int8
// weights with the zero points subtracted at pack time (a - za and w - zw fit in s16; see
// qgemm_ukernel.h for why vpmaddubsw is not used). vpmaddwd's only overflow, all four inputs
// -32768, gives 0x80000000 = 2^31 mod 2^32: consistent with the wrapping int32 sum.
// 28 accumulators + 2 B + 1 A + 1 product temporary = 32 zmm registers.
#include "kernels/qs8-gemm/qtile_avx512.h"

namespace ratel::kernels {
namespace {
struct OpMadd {
  static __m512i mac(__m512i c, __m512i a, __m512i b) {
    return _mm512_add_epi32(c, _mm512_madd_epi16(a, b));
  }
};
struct Kernel {
  template <size_t ROWS>
  using Tile = detail::QTileAvx512<ROWS, 2, 2 * kQs16AStride, OpMadd>;
};
}  // namespace

void qs16_gemm_14x32c2__avx512bw(size_t mr, size_t kc, const void* __restrict a,
                                 const void* __restrict packed_b, int32_t* __restrict acc,
                                 bool accumulate) {
  detail::run_qukernel<14, 2, kQs16AStride, Kernel>(mr, kc, a, packed_b, acc, accumulate);
}

}  // namespace ratel::kernels
