// qs8_gemm_6x16c4__avxvnni's tile compiled with the EVEX (AVX512-VNNI + VL) encoding of
// vpdpbusd on ymm registers: same instruction semantics, same tile code. It exists so that the
// tests check the AVX-VNNI tile on CPUs that have AVX512-VNNI but not AVX-VNNI (Zen 4, Ice
// Lake); the dispatch never picks it (the 14 x 32 zmm kernel is faster there).
#include "kernels/qs8-gemm/qtile_avx2.h"

namespace ratel::kernels {
namespace {
struct OpDpbusdEvex {
  static constexpr size_t kGroupBytes = 64;
  static __m256i load_b(const uint8_t* b, size_t v) {
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(b + 32 * v));
  }
  static __m256i mac(__m256i c, __m256i a, __m256i b) { return _mm256_dpbusd_epi32(c, a, b); }
};
struct Kernel {
  template <size_t ROWS>
  using Tile = detail::QTileAvx2<ROWS, kQs8AStride, OpDpbusdEvex>;
};
}  // namespace

void qs8_gemm_6x16c4__avx512vnni_ymm(size_t mr, size_t kc, const void* __restrict a,
                                     const void* __restrict packed_b, int32_t* __restrict acc,
                                     bool accumulate) {
  detail::run_qukernel<6, 4, kQs8AStride, Kernel>(mr, kc, a, packed_b, acc, accumulate);
}

}  // namespace ratel::kernels
