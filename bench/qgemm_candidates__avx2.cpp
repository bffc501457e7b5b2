// The F16C slice conversion (bench only).
#include <immintrin.h>

#include "qgemm_candidates.h"

namespace ratel::bench {
void convert_f16_avx2(const uint16_t* src, float* dst, size_t count) {
  for (size_t i = 0; i < count; i += 8) {
    _mm256_store_ps(dst + i, _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(src + i))));
  }
}

}  // namespace ratel::bench
