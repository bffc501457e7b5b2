// Alternative register tiles, compiled only into the benchmark, to justify the shapes the
// library ships (f32_gemm_6x64__avx512f, f32_gemm_6x16__avx2_fma) with measurements.
#pragma once

#include <vector>

#include "kernels/f32-gemm/f32_gemm_ukernel.h"

namespace ratel::bench {

std::vector<kernels::GemmUkernel> avx512_tile_candidates();
std::vector<kernels::GemmUkernel> avx2_tile_candidates();

}  // namespace ratel::bench
