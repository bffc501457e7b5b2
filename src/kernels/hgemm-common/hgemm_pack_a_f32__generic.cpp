// fp32 A tile of the fp16-weight GEMMs (a copy; memcpy is already vectorized).
#include "kernels/hgemm-common/hpack_a.h"

namespace ratel::kernels {

void hgemm_pack_a_f32__generic(size_t rows, size_t kc, size_t kc_padded, const float* __restrict a,
                               size_t lda, void* __restrict tile, size_t tile_stride) {
  detail::hpack_a_f32(rows, kc, kc_padded, a, lda, tile, tile_stride);
}

}  // namespace ratel::kernels
