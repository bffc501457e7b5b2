// AVX-VNNI int8 GEMM microkernel (VEX-encoded vpdpbusd on ymm: Alder Lake, Zen 5), 6 x 16 tile,
// u8 x s8 -> s32 without saturation, B in groups of 4 k (c4) like the AVX-512 VNNI kernel.
// This CPU family is not available to every developer: qs8_gemm_6x16c4__avx512vnni_ymm.cpp
// compiles the same tile with the EVEX encoding of the same instruction so the tests exercise
// the tile wherever AVX512-VNNI exists.
#include "kernels/qs8-gemm/qtile_avx2.h"

namespace ratel::kernels {
namespace {
struct OpDpbusdVex {
  static constexpr size_t kGroupBytes = 64;
  static __m256i load_b(const uint8_t* b, size_t v) {
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(b + 32 * v));
  }
  static __m256i mac(__m256i c, __m256i a, __m256i b) { return _mm256_dpbusd_avx_epi32(c, a, b); }
};
struct Kernel {
  template <size_t ROWS>
  using Tile = detail::QTileAvx2<ROWS, kQs8AStride, OpDpbusdVex>;
};
}  // namespace

void qs8_gemm_6x16c4__avxvnni(size_t mr, size_t kc, const void* __restrict a,
                              const void* __restrict packed_b, int32_t* __restrict acc,
                              bool accumulate) {
  detail::run_qukernel<6, 4, kQs8AStride, Kernel>(mr, kc, a, packed_b, acc, accumulate);
}

}  // namespace ratel::kernels
