// Scalar quantization arithmetic shared by ratel.QDense's reference kernel (ops/quantized.cpp),
// its fast adapter (runtime/kernels/qdense_int_kernel.cpp) and the quantizer (src/quant/), so the
// three agree bit for bit on what "quantize x" means:
//
//   q = clamp(round_half_even(x / scale), qmin - zp, qmax - zp) + zp
//
// computed as one IEEE single division, the clamp (NaN clamps to the low end, so every input
// maps to a defined integer), then rounding to nearest even of a value that is already within
// the integer range. Clamping before rounding gives the same integer as clamping after, because
// the bounds are integers and rounding is monotonic.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/dtype.h"

namespace ratel::ops::quant {

struct QRange {
  int32_t min = 0;
  int32_t max = 0;
};

// Integer range of a quantized storage type (u8, i8, i16); {0, 0} for other types.
inline QRange storage_range(DType t) {
  switch (t) {
    case DType::kU8: return {0, 255};
    case DType::kI8: return {-128, 127};
    case DType::kI16: return {-32768, 32767};
    default: return {0, 0};
  }
}

// x / scale clamped to [lo, hi] (NaN -> lo), not yet rounded. lo and hi are qmin - zp and
// qmax - zp as floats (exact: |bounds| < 2^24).
inline float quantize_clamped(float x, float scale, float lo, float hi) {
  float v = x / scale;
  v = v > lo ? v : lo;  // also maps NaN to lo
  v = v < hi ? v : hi;
  return v;
}

// Round half to even of |v| <= 2^22 without depending on the FP environment's library calls:
// adding and subtracting 1.5 * 2^23 leaves the nearest integer (ties to even) in round-to-
// nearest mode, the IEEE default that Ratel never changes. Equals std::nearbyint on that range.
inline float round_half_even_small(float v) {
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23
  return (v + kMagic) - kMagic;
}

inline int32_t quantize_value(float x, float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  const float v = quantize_clamped(x, scale, static_cast<float>(qmin - zero_point),
                                   static_cast<float>(qmax - zero_point));
  return static_cast<int32_t>(round_half_even_small(v)) + zero_point;
}

}  // namespace ratel::ops::quant
