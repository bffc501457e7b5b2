// Plumbing shared by the integer GEMM microkernel files (included by them only, so each ISA file
// compiles it with its own flags): dispatch on the row count. Each kernel file writes a tile
// template Tile<ROWS>::run(groups, a, b, acc, accumulate) for full rows; instantiating it for
// every ROWS in 1..MR lets edge rows run a smaller register tile. Columns need no edge case:
// the accumulator is the driver's full-width scratch tile and B is zero-padded to NR.
#pragma once

#include <array>
#include <cstring>
#include <utility>

#include "core/status.h"
#include "kernels/qs8-gemm/qgemm_ukernel.h"

namespace ratel::kernels::detail {

using QFullTileFn = void (*)(size_t groups, const uint8_t* __restrict a,
                             const uint8_t* __restrict b, int32_t* __restrict acc,
                             bool accumulate);

template <size_t MR, class Kernel, size_t... I>
constexpr std::array<QFullTileFn, MR> make_qrow_table(std::index_sequence<I...>) {
  return {&Kernel::template Tile<I + 1>::run...};
}

// The QGemmUkernelFn body for a family of full tiles Kernel::Tile<1..MR> with k groups of KR.
//
// `Kernel` is a struct (in the kernel file's anonymous namespace) holding the tile template,
// not the tile template itself: GCC 12 gives a function template instantiated with a *template*
// template argument from an anonymous namespace a weak global symbol whose name is the same in
// every file (..._GLOBAL__N_14Tile...), so two kernel files with the same <MR, KR, A_STRIDE>
// would silently share one body. A type argument from an anonymous namespace is handled right.
template <size_t MR, size_t KR, size_t A_STRIDE, class Kernel>
void run_qukernel(size_t mr, size_t kc, const void* __restrict a, const void* __restrict packed_b,
                  int32_t* __restrict acc, bool accumulate) {
  constexpr std::array<QFullTileFn, MR> kRows =
      make_qrow_table<MR, Kernel>(std::make_index_sequence<MR>());
  RATEL_ASSERT(mr >= 1 && mr <= MR && kc >= 1 && kc <= A_STRIDE);
  kRows[mr - 1]((kc + KR - 1) / KR, static_cast<const uint8_t*>(a),
                static_cast<const uint8_t*>(packed_b), acc, accumulate);
}

// A 4-byte group of the A tile as the 32-bit word the kernels broadcast.
inline int32_t load_group(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace ratel::kernels::detail
