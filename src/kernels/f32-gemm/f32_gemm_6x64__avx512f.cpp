// AVX-512 GEMM microkernel, 6 x 64 register tile.
//
// Why 6 x 64: AVX-512 has 32 zmm registers. 6 rows x 4 vectors = 24 accumulators, plus 4 for
// the B vectors and 1 for the broadcast A value. Per k step the kernel issues 24 FMAs against
// 4 B loads + 6 broadcasts. Zen 4 runs one 512-bit FMA per cycle (two 256-bit pipes) with a
// 4-cycle latency, so 24 independent chains hide the latency 6 times over (Intel parts with two
// 512-bit FMA units need >= 8). On paper 14 x 32 (28 FMAs per 2 loads + 14 broadcasts) has the
// better FMA-to-load ratio, but loads are nowhere near a limit at these ratios. Measured on
// Zen 4 over the six BERT shapes (bench/README.md), 6 x 64 was ahead of or level with 14 x 32
// on 5-6 shapes in three of four comparisons (up to 6 points of peak, K = 768, N = 3072) and
// behind by 1-3.5 points on three shapes in one; 12 x 32 and 8 x 48 were within the noise. It
// also divides every BERT dimension (M = 384 = 64 x 6; N = 64, 384, 768, 3072).
#include "kernels/f32-gemm/tile_avx512.h"
#include "kernels/f32-gemm/ukernel_common.h"

namespace ratel::kernels {
namespace {
template <size_t ROWS>
using Tile = detail::TileAvx512<ROWS, 4, kF32Gemm6x64Avx512AStride>;
}  // namespace

void f32_gemm_6x64__avx512f(size_t mr, size_t nc, size_t kc, const float* __restrict a,
                            const float* __restrict packed_b, float* __restrict c,
                            size_t c_stride, const GemmUkernelParams& params) {
  RATEL_ASSERT(kc <= kF32Gemm6x64Avx512AStride);
  detail::run_ukernel<6, 64, Tile>(mr, nc, kc, a, packed_b, c, c_stride, params);
}

}  // namespace ratel::kernels
