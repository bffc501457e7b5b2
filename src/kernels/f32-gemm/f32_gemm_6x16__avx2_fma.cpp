// AVX2 + FMA GEMM microkernel, 6 x 16 register tile.
//
// Why 6 x 16: AVX2 has 16 ymm registers. 6 rows x 2 vectors = 12 accumulators, plus 2 for the B
// vectors and 1 for the broadcast A value. Per k step: 12 FMAs against 2 B loads + 6
// broadcasts. Zen 3/4 and Intel since Haswell run two 256-bit FMAs per cycle with 4-5 cycle
// latency, so >= 10 independent chains are needed to keep both pipes busy: 12 is the only
// shape with two or more vectors per row that reaches that (4 x 24 also has 12 and was measured
// too: see bench/README.md).
#include "kernels/f32-gemm/tile_avx2.h"
#include "kernels/f32-gemm/ukernel_common.h"

namespace ratel::kernels {
namespace {
template <size_t ROWS>
using Tile = detail::TileAvx2<ROWS, 2, kF32Gemm6x16Avx2AStride>;
}  // namespace

void f32_gemm_6x16__avx2_fma(size_t mr, size_t nc, size_t kc, const float* __restrict a,
                             const float* __restrict packed_b, float* __restrict c,
                             size_t c_stride, const GemmUkernelParams& params) {
  RATEL_ASSERT(kc <= kF32Gemm6x16Avx2AStride);
  detail::run_ukernel<6, 16, Tile>(mr, nc, kc, a, packed_b, c, c_stride, params);
}

}  // namespace ratel::kernels
