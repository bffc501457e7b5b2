// AVX-512 GEMM microkernel, 14 x 32 register tile.
//
// Why 14 x 32: AVX-512 has 32 zmm registers. 14 rows x 2 vectors = 28 accumulators, plus 2 for
// the B vectors and 1 for the broadcast A value, leaves one spare. Per k step the kernel issues
// 28 FMAs against 2 B loads + 14 broadcasts, the highest FMA-to-load ratio that fits the
// register file (12x32 gives 24:14, 8x48 24:11, 6x64 24:10). Zen 4 runs one 512-bit FMA per
// cycle (two 256-bit pipes) with 4-cycle latency, so 28 independent chains hide the latency 7
// times over; Intel parts with two 512-bit FMA units need >= 8 and also get them.
// Measured on Zen 4 against 12x32, 8x48 and 6x64: see bench/README.md.
#include "kernels/f32-gemm/tile_avx512.h"
#include "kernels/f32-gemm/ukernel_common.h"

namespace ratel::kernels {
namespace {
template <size_t ROWS>
using Tile = detail::TileAvx512<ROWS, 2, kF32Gemm14x32Avx512AStride>;
}  // namespace

void f32_gemm_14x32__avx512f(size_t mr, size_t nc, size_t kc, const float* __restrict a,
                             const float* __restrict packed_b, float* __restrict c,
                             size_t c_stride, const GemmUkernelParams& params) {
  RATEL_ASSERT(kc <= kF32Gemm14x32Avx512AStride);
  detail::run_ukernel<14, 32, Tile>(mr, nc, kc, a, packed_b, c, c_stride, params);
}

}  // namespace ratel::kernels
