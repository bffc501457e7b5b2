// A tile of the emulating bf16 GEMMs (activations rounded to bf16, held as fp32), for avx512f.
#include "kernels/hgemm-common/hpack_a.h"

namespace ratel::kernels {

void bf16_pack_a_f32__avx512f(size_t rows, size_t kc, size_t kc_padded, const float* __restrict a,
                                     size_t lda, void* __restrict tile, size_t tile_stride) {
  detail::hpack_a_bf16_as_f32(rows, kc, kc_padded, a, lda, tile, tile_stride);
}

}  // namespace ratel::kernels
