// The A-tile packer of the integer GEMMs as a template over nothing but plain loops: each
// qgemm_pack_a__<isa>.cpp instantiates it under its own ISA flags and the compiler vectorizes
// it (the loops are byte/short copies with an xor or a subtraction, and a sum). It runs once
// per row tile and K block: MR x kc elements per MR x kc x n_block multiply-adds.
#pragma once

#include <cstring>

#include "kernels/qs8-gemm/qgemm_ukernel.h"

namespace ratel::kernels::detail {

// `to_s16`: the kernel's A domain (false: u8 tile, true: s16 tile).
template <bool TO_S16>
inline void qpack_a_rows(size_t rows, size_t kc, size_t kc_padded, const void* __restrict a,
                         size_t lda, const QPackAParams& p, void* __restrict tile,
                         size_t tile_stride, int32_t* __restrict row_sums) {
  for (size_t r = 0; r < rows; ++r) {
    int32_t sum = 0;
    if constexpr (!TO_S16) {
      const uint8_t* src = static_cast<const uint8_t*>(a) + r * lda;
      uint8_t* dst = static_cast<uint8_t*>(tile) + r * tile_stride;
      const uint8_t flip = p.flip;
      for (size_t k = 0; k < kc; ++k) dst[k] = static_cast<uint8_t>(src[k] ^ flip);
      for (size_t k = kc; k < kc_padded; ++k) dst[k] = 0;
      if (row_sums != nullptr) {
        for (size_t k = 0; k < kc; ++k) sum += dst[k];
      }
    } else {
      int16_t* dst = static_cast<int16_t*>(tile) + r * tile_stride;
      if (p.in_type == QInType::kS16) {
        const int16_t* src = static_cast<const int16_t*>(a) + r * lda;
        std::memcpy(dst, src, kc * 2);
      } else if (p.in_type == QInType::kU8) {
        const uint8_t* src = static_cast<const uint8_t*>(a) + r * lda;
        const int16_t off = static_cast<int16_t>(p.offset);
        for (size_t k = 0; k < kc; ++k) dst[k] = static_cast<int16_t>(int16_t{src[k]} - off);
      } else {
        const int8_t* src = static_cast<const int8_t*>(a) + r * lda;
        const int16_t off = static_cast<int16_t>(p.offset);
        for (size_t k = 0; k < kc; ++k) dst[k] = static_cast<int16_t>(int16_t{src[k]} - off);
      }
      for (size_t k = kc; k < kc_padded; ++k) dst[k] = 0;
      if (row_sums != nullptr) {
        for (size_t k = 0; k < kc; ++k) sum += dst[k];
      }
    }
    if (row_sums != nullptr) row_sums[r] += sum;
  }
}

inline void qpack_a(size_t rows, size_t kc, size_t kc_padded, const void* __restrict a, size_t lda,
                    const QPackAParams& p, void* __restrict tile, size_t tile_stride,
                    int32_t* __restrict row_sums) {
  if (p.to_s16) {
    qpack_a_rows<true>(rows, kc, kc_padded, a, lda, p, tile, tile_stride, row_sums);
  } else {
    qpack_a_rows<false>(rows, kc, kc_padded, a, lda, p, tile, tile_stride, row_sums);
  }
}

}  // namespace ratel::kernels::detail
