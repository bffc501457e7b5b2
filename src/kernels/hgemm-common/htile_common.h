// Plumbing shared by the half-precision-weight microkernel files (included by them only):
// dispatch on the row count and partial column tiles, as ukernel_common.h does for f32 (a stack
// copy of C, bias and residual for the last, partial panel; col_scale is padded at pack time).
#pragma once

#include <array>
#include <cstring>
#include <utility>

#include "core/status.h"
#include "kernels/hgemm-common/hgemm_ukernel.h"

namespace ratel::kernels::detail {

using HFullTileFn = void (*)(size_t kc, const void* __restrict a, const void* __restrict b,
                             float* __restrict c, size_t c_stride,
                             const HGemmUkernelParams& params);

template <size_t MR, class Kernel, size_t... I>
constexpr std::array<HFullTileFn, MR> make_hrow_table(std::index_sequence<I...>) {
  return {&Kernel::template Tile<I + 1>::run...};
}

// `Kernel`: a struct with the tile template as member Tile<ROWS> (see qs8-gemm/qtile_common.h
// for why not the tile template itself).
template <size_t MR, size_t NR, size_t A_STRIDE, class Kernel>
void run_hukernel(size_t mr, size_t nc, size_t kc, const void* __restrict a,
                  const void* __restrict packed_b, float* __restrict c, size_t c_stride,
                  const HGemmUkernelParams& params) {
  constexpr std::array<HFullTileFn, MR> kRows =
      make_hrow_table<MR, Kernel>(std::make_index_sequence<MR>());
  RATEL_ASSERT(mr >= 1 && mr <= MR && nc >= 1 && nc <= NR && kc >= 1 && kc <= A_STRIDE);
  const HFullTileFn tile = kRows[mr - 1];
  if (nc == NR) {
    tile(kc, a, packed_b, c, c_stride, params);
    return;
  }
  alignas(64) float c_tmp[MR * NR];
  alignas(64) float bias_tmp[NR];
  alignas(64) float residual_tmp[MR * NR];
  HGemmUkernelParams p = params;
  std::memset(c_tmp, 0, sizeof(c_tmp));
  std::memset(bias_tmp, 0, sizeof(bias_tmp));
  std::memset(residual_tmp, 0, sizeof(residual_tmp));
  if (params.f32.accumulate) {
    for (size_t r = 0; r < mr; ++r) std::memcpy(c_tmp + r * NR, c + r * c_stride, nc * 4);
  }
  if (params.f32.last_k_block && params.f32.bias != nullptr) {
    std::memcpy(bias_tmp, params.f32.bias, nc * 4);
    p.f32.bias = bias_tmp;
  }
  if (params.f32.last_k_block && params.f32.residual != nullptr) {
    for (size_t r = 0; r < mr; ++r) {
      std::memcpy(residual_tmp + r * NR, params.f32.residual + r * params.f32.residual_stride, nc * 4);
    }
    p.f32.residual = residual_tmp;
    p.f32.residual_stride = NR;
  }
  tile(kc, a, packed_b, c_tmp, NR, p);
  for (size_t r = 0; r < mr; ++r) std::memcpy(c + r * c_stride, c_tmp + r * NR, nc * 4);
}

}  // namespace ratel::kernels::detail
