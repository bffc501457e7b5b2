// The vpmaddubsw int8 kernel (INEXACT, benchmark only) and the F16C slice conversion.
#include <immintrin.h>

#include "kernels/qs8-gemm/qtile_avx2.h"
#include "qgemm_candidates.h"

namespace ratel::bench {
namespace {

// u8 x s8 in groups of 4 k (the VNNI "c4" layout): vpmaddubsw adds adjacent products into s16
// with saturation, vpmaddwd with ones adds those pairs into s32.
struct OpMaddubs {
  static constexpr size_t kGroupBytes = 64;
  static __m256i load_b(const uint8_t* b, size_t v) {
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(b + 32 * v));
  }
  static __m256i mac(__m256i c, __m256i a, __m256i b) {
    const __m256i p16 = _mm256_maddubs_epi16(a, b);
    return _mm256_add_epi32(c, _mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
  }
};
struct Kernel {
  template <size_t ROWS>
  using Tile = kernels::detail::QTileAvx2<ROWS, kernels::kQs8AStride, OpMaddubs>;
};

void qs8_gemm_6x16c4__avx2_maddubs(size_t mr, size_t kc, const void* __restrict a,
                                   const void* __restrict packed_b, int32_t* __restrict acc,
                                   bool accumulate) {
  kernels::detail::run_qukernel<6, 4, kernels::kQs8AStride, Kernel>(mr, kc, a, packed_b, acc,
                                                                    accumulate);
}

constexpr kernels::QGemmUkernel kMaddubs = {
    &qs8_gemm_6x16c4__avx2_maddubs, "qs8_gemm_6x16c4__avx2_maddubs(INEXACT)",
    kernels::QFamily::kInt8, cpu::Isa::kAvx2, false, false, 6, 16, 4, kernels::kQs8KBlock,
    kernels::kQs8AStride, 1, 1, false, 256 << 10, &kernels::qgemm_pack_a__avx2,
    &kernels::qgemm_output__avx2};

}  // namespace

const kernels::QGemmUkernel* avx2_maddubs_candidate() { return &kMaddubs; }

void convert_f16_avx2(const uint16_t* src, float* dst, size_t count) {
  for (size_t i = 0; i < count; i += 8) {
    _mm256_store_ps(dst + i, _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(src + i))));
  }
}

}  // namespace ratel::bench
