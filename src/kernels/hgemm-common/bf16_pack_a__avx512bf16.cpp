// A tile of the AVX512-BF16 GEMM: activations converted to bf16 pairs with vcvtne2ps2bf16
// (round to nearest even, DAZ), 32 per instruction; the tail through masked (zeroing) loads,
// which also writes the zero padding of an odd kc.
#include <immintrin.h>

#include "kernels/hgemm-common/hgemm_ukernel.h"

namespace ratel::kernels {

void bf16_pack_a__avx512bf16(size_t rows, size_t kc, size_t kc_padded, const float* __restrict a,
                             size_t lda, void* __restrict tile, size_t tile_stride) {
  for (size_t r = 0; r < rows; ++r) {
    const float* src = a + r * lda;
    uint16_t* dst = static_cast<uint16_t*>(tile) + r * tile_stride;
    size_t k = 0;
    for (; k + 32 <= kc; k += 32) {
      const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + k + 16), _mm512_loadu_ps(src + k));
      _mm512_storeu_si512(dst + k, reinterpret_cast<const __m512i&>(v));
    }
    if (k < kc_padded) {
      const size_t left = kc - k;  // 0..31 real values, then zeros up to kc_padded
      const __mmask16 lo = static_cast<__mmask16>(left >= 16 ? 0xFFFFu : (1u << left) - 1u);
      const __mmask16 hi = static_cast<__mmask16>(left <= 16 ? 0u : (1u << (left - 16)) - 1u);
      const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, src + k + 16),
                                             _mm512_maskz_loadu_ps(lo, src + k));
      const __mmask32 out = static_cast<__mmask32>((uint64_t{1} << (kc_padded - k)) - 1u);
      _mm512_mask_storeu_epi16(dst + k, out, reinterpret_cast<const __m512i&>(v));
    }
  }
}

}  // namespace ratel::kernels
