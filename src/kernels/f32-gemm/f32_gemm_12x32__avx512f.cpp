// AVX-512 GEMM microkernel, 12 x 32 register tile: for B matrices at most 32 columns wide
// (gemm_ukernel_for), where the 6 x 64 tile would spend half its FMAs on padding columns.
// Attention's P x V is one: [rows x keys] x [keys x head_size], and MiniLM's head size is 32.
//
// 12 rows x 2 vectors = 24 accumulators, 2 B vectors and 1 broadcast: 27 of the 32 zmm
// registers, the same 24 independent FMA chains per k step as 6 x 64 (enough to hide the FMA
// latency), with 12 broadcasts per 2 B loads instead of 6 per 4.
#include "kernels/f32-gemm/tile_avx512.h"
#include "kernels/f32-gemm/ukernel_common.h"

namespace ratel::kernels {
namespace {
template <size_t ROWS>
using Tile = detail::TileAvx512<ROWS, 2, kF32Gemm12x32Avx512AStride>;
}  // namespace

void f32_gemm_12x32__avx512f(size_t mr, size_t nc, size_t kc, const float* __restrict a,
                             const float* __restrict packed_b, float* __restrict c,
                             size_t c_stride, const GemmUkernelParams& params) {
  RATEL_ASSERT(kc <= kF32Gemm12x32Avx512AStride);
  detail::run_ukernel<12, 32, Tile>(mr, nc, kc, a, packed_b, c, c_stride, params);
}

}  // namespace ratel::kernels
