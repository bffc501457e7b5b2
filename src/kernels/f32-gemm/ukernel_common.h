// Plumbing shared by the GEMM microkernel files (included by them only, so each ISA file
// compiles it with its own flags): dispatch on the row count, and partial column tiles.
//
// Each ISA file writes one function template, Tile<ROWS>(kc, a, b, c, c_stride, params), that
// computes ROWS full rows of NR columns. Instantiating it for every ROWS in 1..MR lets edge rows
// run a smaller register tile instead of computing rows that are thrown away. Partial column
// tiles (nc < NR, only the last panel of a matrix) go through a stack copy of C, bias and
// residual so that the tile code never needs masks: a few hundred extra loads and stores on a
// tile that does kc * MR * NR multiply-adds.
#pragma once

#include <array>
#include <cstring>
#include <utility>

#include "core/status.h"
#include "kernels/f32-gemm/f32_gemm_ukernel.h"

namespace ratel::kernels::detail {

using FullTileFn = void (*)(size_t kc, const float* __restrict a, const float* __restrict b,
                            float* __restrict c, size_t c_stride, const GemmUkernelParams& params);

template <size_t MR, template <size_t> class Tile, size_t... I>
constexpr std::array<FullTileFn, MR> make_row_table(std::index_sequence<I...>) {
  return {&Tile<I + 1>::run...};
}

// The microkernel entry point (GemmUkernelFn) for a family of full tiles Tile<1..MR>.
template <size_t MR, size_t NR, template <size_t> class Tile>
void run_ukernel(size_t mr, size_t nc, size_t kc, const float* __restrict a,
                 const float* __restrict packed_b, float* __restrict c, size_t c_stride,
                 const GemmUkernelParams& params) {
  static constexpr std::array<FullTileFn, MR> kRows =
      make_row_table<MR, Tile>(std::make_index_sequence<MR>());
  RATEL_ASSERT(mr >= 1 && mr <= MR && nc >= 1 && nc <= NR && kc >= 1);
  const FullTileFn tile = kRows[mr - 1];
  if (nc == NR) {
    tile(kc, a, packed_b, c, c_stride, params);
    return;
  }
  alignas(64) float c_tmp[MR * NR];
  alignas(64) float bias_tmp[NR];
  alignas(64) float residual_tmp[MR * NR];
  GemmUkernelParams p = params;
  if (params.accumulate) {
    for (size_t r = 0; r < mr; ++r) std::memcpy(c_tmp + r * NR, c + r * c_stride, nc * 4);
  }
  if (params.last_k_block && params.bias != nullptr) {
    std::memcpy(bias_tmp, params.bias, nc * 4);
    p.bias = bias_tmp;
  }
  if (params.last_k_block && params.residual != nullptr) {
    for (size_t r = 0; r < mr; ++r) {
      std::memcpy(residual_tmp + r * NR, params.residual + r * params.residual_stride, nc * 4);
    }
    p.residual = residual_tmp;
    p.residual_stride = NR;
  }
  // Columns past nc compute garbage from whatever the buffers hold; they are never stored.
  // Zero them so that no NaN or denormal pattern slows the tile down.
  for (size_t r = 0; r < mr; ++r) {
    std::memset(c_tmp + r * NR + nc, 0, (NR - nc) * 4);
    std::memset(residual_tmp + r * NR + nc, 0, (NR - nc) * 4);
  }
  std::memset(bias_tmp + nc, 0, (NR - nc) * 4);
  tile(kc, a, packed_b, c_tmp, NR, p);
  for (size_t r = 0; r < mr; ++r) std::memcpy(c + r * c_stride, c_tmp + r * NR, nc * 4);
}

}  // namespace ratel::kernels::detail
