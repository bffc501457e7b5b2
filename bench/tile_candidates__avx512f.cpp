#include "kernels/f32-gemm/tile_avx512.h"
#include "kernels/f32-gemm/ukernel_common.h"
#include "tile_candidates.h"

namespace ratel::bench {
namespace {

constexpr size_t kStride = 272;  // kc <= 256, as the shipped kernel

template <size_t MR, size_t NRV, size_t A_STRIDE>
struct Candidate {
  template <size_t ROWS>
  using Tile = kernels::detail::TileAvx512<ROWS, NRV, A_STRIDE>;
  static void run(size_t mr, size_t nc, size_t kc, const float* __restrict a,
                  const float* __restrict b, float* __restrict c, size_t c_stride,
                  const kernels::GemmUkernelParams& p) {
    kernels::detail::run_ukernel<MR, 16 * NRV, Tile>(mr, nc, kc, a, b, c, c_stride, p);
  }
};

kernels::GemmUkernel make(kernels::GemmUkernelFn fn, const char* name, size_t mr, size_t nr,
                          size_t kc, size_t a_stride, size_t nc) {
  return {fn, name, cpu::Isa::kAvx512, mr, nr, kc, a_stride, nc};
}

}  // namespace

std::vector<kernels::GemmUkernel> avx512_tile_candidates() {
  return {
      make(&Candidate<12, 2, kStride>::run, "12x32_kc256", 12, 32, 256, kStride, 512),
      make(&Candidate<8, 3, kStride>::run, "8x48_kc256", 8, 48, 256, kStride, 480),
      make(&Candidate<14, 2, kStride>::run, "14x32_kc256", 14, 32, 256, kStride, 512),
      make(&Candidate<6, 4, kStride>::run, "6x64_kc128", 6, 64, 128, kStride, 512),
      make(&Candidate<6, 4, kStride>::run, "6x64_kc256_nc256", 6, 64, 256, kStride, 256),
      make(&Candidate<6, 4, kStride>::run, "6x64_kc256_nc1024", 6, 64, 256, kStride, 1024),
      make(&Candidate<6, 4, 400>::run, "6x64_kc384", 6, 64, 384, 400, 512),
  };
}

}  // namespace ratel::bench
