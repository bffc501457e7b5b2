// Output stage of the integer GEMMs, portable C++ (the AVX2 / AVX-512 versions compute the same
// float operations in the same order, so every output but GELU's is bit-identical across paths):
//
//   t = acc + za * col_term[n] - zw[n] * row_sum[m] + bias_i32[n]        (int32, mod 2^32)
//   kInt32:  C = t
//   kFloat:  y = float(t) * (scale * w_scale[n]);  y = y + bias[n];  y = gelu(y);  y = y + residual
//   requant: y = float(t) * (scale * w_scale[n]);  y = min(max(y, clamp_lo), clamp_hi);
//            C = round_half_even(y) + out_zero_point
// (float(t) and the multiplications round to nearest even; under the default MXCSR / fenv.)
#include <cmath>

#include "kernels/math/erf_approx.h"
#include "kernels/qs8-gemm/qgemm_ukernel.h"

namespace ratel::kernels {

void qgemm_output__generic(size_t rows, size_t nc, const int32_t* __restrict acc,
                           size_t acc_stride, const int32_t* __restrict row_sums, size_t m0,
                           size_t n0, const QOutputParams& p) {
  for (size_t r = 0; r < rows; ++r) {
    const size_t m = m0 + r;
    for (size_t j = 0; j < nc; ++j) {
      const size_t n = n0 + j;
      uint32_t t = static_cast<uint32_t>(acc[r * acc_stride + j]);
      t += static_cast<uint32_t>(p.za) * static_cast<uint32_t>(p.col_term[n]);
      if (p.zw != nullptr) t -= static_cast<uint32_t>(p.zw[n]) * static_cast<uint32_t>(row_sums[r]);
      if (p.bias_i32 != nullptr) t += static_cast<uint32_t>(p.bias_i32[n]);
      const auto v = static_cast<int32_t>(t);
      if (p.output == QOutput::kInt32) {
        static_cast<int32_t*>(p.c)[m * p.ldc + n] = v;
        continue;
      }
      const float s = p.scale * p.w_scale[n];
      float y = static_cast<float>(v) * s;
      if (p.output == QOutput::kFloat) {
        if (p.bias != nullptr) y = y + p.bias[n];
        if (p.activation == Activation::kGelu) y = math::gelu_approx(y);
        if (p.residual != nullptr) y = y + p.residual[m * p.residual_stride + n];
        static_cast<float*>(p.c)[m * p.ldc + n] = y;
        continue;
      }
      y = std::fmin(std::fmax(y, p.clamp_lo), p.clamp_hi);
      const int32_t q = static_cast<int32_t>(std::lrintf(y)) + p.out_zero_point;
      switch (p.output) {
        case QOutput::kU8: static_cast<uint8_t*>(p.c)[m * p.ldc + n] = static_cast<uint8_t>(q); break;
        case QOutput::kS8: static_cast<int8_t*>(p.c)[m * p.ldc + n] = static_cast<int8_t>(q); break;
        default: static_cast<int16_t*>(p.c)[m * p.ldc + n] = static_cast<int16_t>(q); break;
      }
    }
  }
}

}  // namespace ratel::kernels
