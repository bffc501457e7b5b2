// Output stage of the integer GEMMs, AVX2 (formula: qgemm_output__generic.cpp). Columns in
// vectors of 8; the last partial vector is read with masked loads and written through masked
// stores (32-bit outputs) or a small stack buffer (8/16-bit outputs).
#include <immintrin.h>

#include <cstring>

#include "kernels/math/vmath_avx2.h"
#include "kernels/qs8-gemm/qgemm_ukernel.h"

namespace ratel::kernels {
namespace {

__m256i tail_mask(size_t cnt) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(cnt)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

__m256i load_i32(const int32_t* p, __m256i mask, bool full) {
  return full ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))
              : _mm256_maskload_epi32(p, mask);
}

__m256 load_f32(const float* p, __m256i mask, bool full) {
  return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask);
}

}  // namespace

void qgemm_output__avx2(size_t rows, size_t nc, const int32_t* __restrict acc,
                        size_t acc_stride, const int32_t* __restrict row_sums, size_t m0,
                        size_t n0, const QOutputParams& p) {
  for (size_t j = 0; j < nc; j += 8) {
    const size_t cnt = nc - j < 8 ? nc - j : 8;
    const bool full = cnt == 8;
    const __m256i mask = tail_mask(cnt);
    const size_t n = n0 + j;
    __m256i col = _mm256_mullo_epi32(_mm256_set1_epi32(p.za), load_i32(p.col_term + n, mask, full));
    if (p.bias_i32 != nullptr) col = _mm256_add_epi32(col, load_i32(p.bias_i32 + n, mask, full));
    const __m256i zw = p.zw != nullptr ? load_i32(p.zw + n, mask, full) : _mm256_setzero_si256();
    __m256 s = _mm256_setzero_ps(), bias = _mm256_setzero_ps();
    if (p.output != QOutput::kInt32) {
      s = _mm256_mul_ps(_mm256_set1_ps(p.scale), load_f32(p.w_scale + n, mask, full));
      if (p.bias != nullptr) bias = load_f32(p.bias + n, mask, full);
    }
    for (size_t r = 0; r < rows; ++r) {
      const size_t m = m0 + r;
      __m256i v = _mm256_add_epi32(load_i32(acc + r * acc_stride + j, mask, full), col);
      if (p.zw != nullptr) v = _mm256_sub_epi32(v, _mm256_mullo_epi32(zw, _mm256_set1_epi32(row_sums[r])));
      if (p.output == QOutput::kInt32) {
        int32_t* dst = static_cast<int32_t*>(p.c) + m * p.ldc + n;
        if (full) {
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), v);
        } else {
          _mm256_maskstore_epi32(dst, mask, v);
        }
        continue;
      }
      __m256 y = _mm256_mul_ps(_mm256_cvtepi32_ps(v), s);
      if (p.output == QOutput::kFloat) {
        if (p.bias != nullptr) y = _mm256_add_ps(y, bias);
        if (p.activation == Activation::kGelu) y = math::gelu_avx2(y);
        if (p.residual != nullptr) y = _mm256_add_ps(y, load_f32(p.residual + m * p.residual_stride + n, mask, full));
        float* dst = static_cast<float*>(p.c) + m * p.ldc + n;
        if (full) {
          _mm256_storeu_ps(dst, y);
        } else {
          _mm256_maskstore_ps(dst, mask, y);
        }
        continue;
      }
      y = _mm256_min_ps(_mm256_max_ps(y, _mm256_set1_ps(p.clamp_lo)), _mm256_set1_ps(p.clamp_hi));
      const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(y), _mm256_set1_epi32(p.out_zero_point));
      // Values are in range: packing with saturation keeps them. 32 -> 16 bits, lanes in order.
      const __m128i q16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
      if (p.output == QOutput::kS16) {
        int16_t* dst = static_cast<int16_t*>(p.c) + m * p.ldc + n;
        if (full) {
          _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), q16);
        } else {
          alignas(16) int16_t tmp[8];
          _mm_store_si128(reinterpret_cast<__m128i*>(tmp), q16);
          std::memcpy(dst, tmp, cnt * 2);
        }
        continue;
      }
      const __m128i q8 = p.output == QOutput::kU8 ? _mm_packus_epi16(q16, q16) : _mm_packs_epi16(q16, q16);
      uint8_t* dst = static_cast<uint8_t*>(p.c) + m * p.ldc + n;
      if (full) {
        _mm_storel_epi64(reinterpret_cast<__m128i*>(dst), q8);
      } else {
        alignas(16) uint8_t tmp[16];
        _mm_store_si128(reinterpret_cast<__m128i*>(tmp), q8);
        std::memcpy(dst, tmp, cnt);
      }
    }
  }
}

}  // namespace ratel::kernels
