// AVX2 int8 GEMM microkernel for 7-bit activations, 6 x 16 tile: u8 x s8 in groups of 4 k (the
// VNNI "c4" layout), vpmaddubsw adds adjacent products into s16, vpmaddwd with ones adds those
// pairs into s32.
//
// Exact only when every A value is <= 127 (QGemmUkernel::a_max_127): vpmaddubsw saturates a pair
// sum a0 w0 + a1 w1 to int16, and with a <= 127, |w| <= 128 the largest is 2 * 127 * 128 = 32512
// < 32767, so it never does. With a full u8 range (255 * -128 * 2 = -65280) it would. The
// quantizer gives u8 activations the range [0, 127] when asked to (--activation-bits 7), and
// qgemm_ukernel_for() picks this kernel only then. It does 32 products per two multiply
// instructions where qs8_gemm_6x16c2__avx2 does 16 per one plus a sign extension of B, and reads
// A as bytes (half the A tile).
#include "kernels/qs8-gemm/qtile_avx2.h"

namespace ratel::kernels {
namespace {
struct OpMaddubs {
  static constexpr size_t kGroupBytes = 64;
  static __m256i load_b(const uint8_t* b, size_t v) {
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(b + 32 * v));
  }
  static __m256i mac(__m256i c, __m256i a, __m256i b) {
    const __m256i pairs = _mm256_maddubs_epi16(a, b);  // a: u8 <= 127, b: s8
    return _mm256_add_epi32(c, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
  }
};
struct Kernel {
  template <size_t ROWS>
  using Tile = detail::QTileAvx2<ROWS, kQs8AStride, OpMaddubs>;
};
}  // namespace

void qs8_gemm_6x16c4__avx2(size_t mr, size_t kc, const void* __restrict a,
                           const void* __restrict packed_b, int32_t* __restrict acc,
                           bool accumulate) {
  detail::run_qukernel<6, 4, kQs8AStride, Kernel>(mr, kc, a, packed_b, acc, accumulate);
}

}  // namespace ratel::kernels
