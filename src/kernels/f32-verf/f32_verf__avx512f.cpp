// AVX-512 erf: 16 lanes per step, the tail under a mask (no reads or writes past n).
#include <immintrin.h>

#include "kernels/math/vmath_avx512.h"
#include "kernels/vunary.h"

namespace ratel::kernels {

void f32_verf__avx512f(size_t n, const float* x, float* y) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, math::erf_avx512(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 tail = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(y + i, tail, math::erf_avx512(_mm512_maskz_loadu_ps(tail, x + i)));
  }
}

}  // namespace ratel::kernels
