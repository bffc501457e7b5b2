// Affine quantization of constants, shared by the quantization passes (weight_quantization.cpp,
// integer_quantization.cpp) so that "int8 weights" means the same numbers in every scheme:
// q = quantize_value(w, scale, zero_point, qmin, qmax) (ops/quant_math.h), with the scale and
// zero point mapping [min(w), max(w)] widened to contain 0 onto [qmin, qmax] (symmetric: max |w|
// onto qmax, zero point 0). A group of zeros gets scale 1.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "core/tensor.h"

namespace ratel::passes {

struct Affine {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// The scale and zero point mapping [lo, hi] (widened to contain 0) onto [qmin, qmax].
Affine affine_for(float lo, float hi, int32_t qmin, int32_t qmax, bool symmetric);

struct QuantizedWeights {
  Tensor data, scale, zero_point;  // zero_point undefined when symmetric
};

// Quantizes a [K, N] f32 weight per column (or per tensor) into [qmin, qmax] of `type` (i8, u8
// or i16); scale (and zero_point) hold N values, or 1.
QuantizedWeights quantize_weights(const Tensor& w, DType type, bool symmetric, bool per_channel, int32_t qmin,
                                  int32_t qmax);

}  // namespace ratel::passes
