// AVX2 int8 GEMM microkernel, 6 x 16 tile: A in s16 (a - za, packed per call), B stored as s8
// pairs (c2) and sign-extended in the kernel (vpmovsxbw), multiplied with vpmaddwd + vpaddd.
//
// Why not vpmaddubsw (u8 x s8 pairs -> s16): it saturates. 255 * -128 + 255 * -128 = -65280
// does not fit in int16, so for general weights its sum is not the integer dot product. Exact
// alternatives all pay for it: this kernel does 16 products per multiply instruction where
// vpmaddubsw + vpmaddwd(ones) does 32 per two; bench/qgemm_bench.cpp measures the difference
// against an (inexact) vpmaddubsw kernel. The s8 storage keeps the weights at one byte each.
#include "kernels/qs8-gemm/qtile_avx2.h"

namespace ratel::kernels {
namespace {
struct Kernel {
  template <size_t ROWS>
  using Tile = detail::QTileAvx2<ROWS, 2 * kQs16AStride, detail::QOpMaddS8>;
};
}  // namespace

void qs8_gemm_6x16c2__avx2(size_t mr, size_t kc, const void* __restrict a,
                           const void* __restrict packed_b, int32_t* __restrict acc,
                           bool accumulate) {
  detail::run_qukernel<6, 2, kQs16AStride, Kernel>(mr, kc, a, packed_b, acc, accumulate);
}

}  // namespace ratel::kernels
