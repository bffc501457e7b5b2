#include "kernels/f32-gemm/tile_avx2.h"
#include "kernels/f32-gemm/ukernel_common.h"
#include "tile_candidates.h"

namespace ratel::bench {
namespace {

constexpr size_t kStride = 272;

template <size_t MR, size_t NRV, size_t A_STRIDE>
struct Candidate {
  template <size_t ROWS>
  using Tile = kernels::detail::TileAvx2<ROWS, NRV, A_STRIDE>;
  static void run(size_t mr, size_t nc, size_t kc, const float* __restrict a,
                  const float* __restrict b, float* __restrict c, size_t c_stride,
                  const kernels::GemmUkernelParams& p) {
    kernels::detail::run_ukernel<MR, 8 * NRV, Tile>(mr, nc, kc, a, b, c, c_stride, p);
  }
};

kernels::GemmUkernel make(kernels::GemmUkernelFn fn, const char* name, size_t mr, size_t nr,
                          size_t kc, size_t a_stride, size_t nc) {
  return {fn, name, cpu::Isa::kAvx2, mr, nr, kc, a_stride, nc};
}

}  // namespace

std::vector<kernels::GemmUkernel> avx2_tile_candidates() {
  return {
      make(&Candidate<4, 3, kStride>::run, "4x24_kc256", 4, 24, 256, kStride, 504),
      make(&Candidate<6, 2, kStride>::run, "6x16_kc128", 6, 16, 128, kStride, 512),
      make(&Candidate<6, 2, kStride>::run, "6x16_kc256_nc256", 6, 16, 256, kStride, 256),
      make(&Candidate<6, 2, 400>::run, "6x16_kc384", 6, 16, 384, 400, 512),
      make(&Candidate<6, 2, 528>::run, "6x16_kc512", 6, 16, 512, 528, 512),
      make(&Candidate<6, 2, 528>::run, "6x16_kc512_nc1024", 6, 16, 512, 528, 1024),
  };
}

}  // namespace ratel::bench
