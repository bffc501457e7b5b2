// AVX2 exp: 8 lanes per step; the tail goes through a stack copy (AVX2 masked stores are slow on
// AMD, and the tail is at most 7 elements).
#include <immintrin.h>

#include <cstring>

#include "kernels/math/vexp_avx2.h"
#include "kernels/softmax.h"

namespace ratel::kernels {

void f32_vexp__avx2_fma(size_t n, const float* x, float* y) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, math::exp_avx2(_mm256_loadu_ps(x + i)));
  if (i < n) {
    alignas(32) float tail[8] = {};
    std::memcpy(tail, x + i, (n - i) * sizeof(float));
    _mm256_store_ps(tail, math::exp_avx2(_mm256_load_ps(tail)));
    std::memcpy(y + i, tail, (n - i) * sizeof(float));
  }
}

}  // namespace ratel::kernels
