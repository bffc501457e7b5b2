// The integer GEMMs' A-tile packer (qpack_a.h) compiled for avx2.
#include "kernels/qgemm-common/qpack_a.h"

namespace ratel::kernels {

void qgemm_pack_a__avx2(size_t rows, size_t kc, size_t kc_padded, const void* __restrict a,
                        size_t lda, const QPackAParams& params, void* __restrict tile,
                        size_t tile_stride, int32_t* __restrict row_sums) {
  detail::qpack_a(rows, kc, kc_padded, a, lda, params, tile, tile_stride, row_sums);
}

}  // namespace ratel::kernels
