// Output stage of the integer GEMMs, AVX-512 (formula: qgemm_output__generic.cpp). Columns in
// vectors of 16 with masks for the last partial one; column vectors (za * col_term, zw, the
// combined scale, biases) are computed once per 16 columns and reused by every row.
#include <immintrin.h>

#include "kernels/math/vmath_avx512.h"
#include "kernels/qs8-gemm/qgemm_ukernel.h"

namespace ratel::kernels {
namespace {
// Full-mask maskz forms are the plain instructions (GCC 12 warns falsely on some unmasked
// intrinsics, see math/vmath_avx512.h).
constexpr __mmask16 kAll = 0xFFFF;
}  // namespace

void qgemm_output__avx512f(size_t rows, size_t nc, const int32_t* __restrict acc,
                           size_t acc_stride, const int32_t* __restrict row_sums, size_t m0,
                           size_t n0, const QOutputParams& p) {
  for (size_t j = 0; j < nc; j += 16) {
    const size_t cnt = nc - j < 16 ? nc - j : 16;
    const __mmask16 mask = static_cast<__mmask16>((1u << cnt) - 1u);
    const size_t n = n0 + j;
    __m512i col = _mm512_mullo_epi32(_mm512_set1_epi32(p.za), _mm512_maskz_loadu_epi32(mask, p.col_term + n));
    if (p.bias_i32 != nullptr) col = _mm512_add_epi32(col, _mm512_maskz_loadu_epi32(mask, p.bias_i32 + n));
    const __m512i zw = p.zw != nullptr ? _mm512_maskz_loadu_epi32(mask, p.zw + n) : _mm512_setzero_si512();
    __m512 s = _mm512_setzero_ps(), bias = _mm512_setzero_ps();
    if (p.output != QOutput::kInt32) {
      s = _mm512_mul_ps(_mm512_set1_ps(p.scale), _mm512_maskz_loadu_ps(mask, p.w_scale + n));
      if (p.bias != nullptr) bias = _mm512_maskz_loadu_ps(mask, p.bias + n);
    }
    for (size_t r = 0; r < rows; ++r) {
      const size_t m = m0 + r;
      __m512i v = _mm512_add_epi32(_mm512_maskz_loadu_epi32(mask, acc + r * acc_stride + j), col);
      if (p.zw != nullptr) v = _mm512_sub_epi32(v, _mm512_mullo_epi32(zw, _mm512_set1_epi32(row_sums[r])));
      if (p.output == QOutput::kInt32) {
        _mm512_mask_storeu_epi32(static_cast<int32_t*>(p.c) + m * p.ldc + n, mask, v);
        continue;
      }
      __m512 y = _mm512_mul_ps(_mm512_maskz_cvtepi32_ps(kAll, v), s);
      if (p.output == QOutput::kFloat) {
        if (p.bias != nullptr) y = _mm512_add_ps(y, bias);
        if (p.activation == Activation::kGelu) y = math::gelu_avx512(y);
        if (p.residual != nullptr) {
          y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(mask, p.residual + m * p.residual_stride + n));
        }
        _mm512_mask_storeu_ps(static_cast<float*>(p.c) + m * p.ldc + n, mask, y);
        continue;
      }
      y = _mm512_maskz_min_ps(kAll, _mm512_maskz_max_ps(kAll, y, _mm512_set1_ps(p.clamp_lo)),
                            _mm512_set1_ps(p.clamp_hi));
      const __m512i q = _mm512_add_epi32(_mm512_maskz_cvtps_epi32(kAll, y), _mm512_set1_epi32(p.out_zero_point));
      if (p.output == QOutput::kS16) {
        _mm512_mask_cvtepi32_storeu_epi16(static_cast<int16_t*>(p.c) + m * p.ldc + n, mask, q);
      } else {  // u8 / s8: q is in range, vpmovdb keeps its low byte
        _mm512_mask_cvtepi32_storeu_epi8(static_cast<uint8_t*>(p.c) + m * p.ldc + n, mask, q);
      }
    }
  }
}

}  // namespace ratel::kernels
