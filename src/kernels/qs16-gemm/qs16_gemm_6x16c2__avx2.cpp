// AVX2 16-bit GEMM microkernel, 6 x 16 tile, s16 x s16 -> s32 with vpmaddwd + vpaddd, B stored
// as s16 pairs (c2). Serves int16 weights, and int8 weights widened to s16 at pack time (the
// int8 path on AVX2: exact, unlike vpmaddubsw; qs8_gemm_6x16c2__avx2 is the same tile reading
// s8 B and sign-extending it in the kernel, half the weight memory).
#include "kernels/qs8-gemm/qtile_avx2.h"

namespace ratel::kernels {
namespace {
struct Kernel {
  template <size_t ROWS>
  using Tile = detail::QTileAvx2<ROWS, 2 * kQs16AStride, detail::QOpMaddS16>;
};
}  // namespace

void qs16_gemm_6x16c2__avx2(size_t mr, size_t kc, const void* __restrict a,
                            const void* __restrict packed_b, int32_t* __restrict acc,
                            bool accumulate) {
  detail::run_qukernel<6, 2, kQs16AStride, Kernel>(mr, kc, a, packed_b, acc, accumulate);
}

}  // namespace ratel::kernels
