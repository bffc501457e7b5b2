// A-tile packers of the half-precision-weight GEMMs as plain loops, instantiated per ISA by
// the *_pack_a_*__<isa>.cpp files (the compiler vectorizes them under each file's flags).
#pragma once

#include <cstring>

#include "kernels/hgemm-common/hgemm_ukernel.h"
#include "kernels/math/half.h"

namespace ratel::kernels::detail {

// fp32 tile: a copy.
inline void hpack_a_f32(size_t rows, size_t kc, size_t kc_padded, const float* __restrict a,
                        size_t lda, void* __restrict tile, size_t tile_stride) {
  for (size_t r = 0; r < rows; ++r) {
    float* dst = static_cast<float*>(tile) + r * tile_stride;
    std::memcpy(dst, a + r * lda, kc * 4);
    for (size_t k = kc; k < kc_padded; ++k) dst[k] = 0.0f;
  }
}

// fp32 tile holding the activations rounded to bf16 (math::bf16_from_f32, branch-free so that
// it vectorizes): what the emulating bf16 kernels broadcast.
inline void hpack_a_bf16_as_f32(size_t rows, size_t kc, size_t kc_padded,
                                const float* __restrict a, size_t lda, void* __restrict tile,
                                size_t tile_stride) {
  for (size_t r = 0; r < rows; ++r) {
    const float* src = a + r * lda;
    uint32_t* dst = static_cast<uint32_t*>(tile) + r * tile_stride;
    for (size_t k = 0; k < kc; ++k) {
      uint32_t u;
      std::memcpy(&u, src + k, 4);
      const uint32_t abs = u & 0x7FFFFFFFu;
      const uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u;
      const uint32_t nan = (u | 0x00400000u) & 0xFFFF0000u;
      const uint32_t zero = u & 0x80000000u;
      uint32_t v = abs > 0x7F800000u ? nan : rounded;
      v = abs < 0x00800000u ? zero : v;
      dst[k] = v;
    }
    for (size_t k = kc; k < kc_padded; ++k) dst[k] = 0;
  }
}

}  // namespace ratel::kernels::detail
