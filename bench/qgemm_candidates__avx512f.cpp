// fp16 -> fp32 slice conversion with AVX-512F (for the "convert while packing" candidate).
#include <immintrin.h>

#include "qgemm_candidates.h"

namespace ratel::bench {

void convert_f16_avx512(const uint16_t* src, float* dst, size_t count) {
  for (size_t i = 0; i < count; i += 16) {
    _mm512_store_ps(dst + i, _mm512_maskz_cvtph_ps(0xFFFF, _mm256_load_si256(
                                 reinterpret_cast<const __m256i*>(src + i))));
  }
}

}  // namespace ratel::bench
