#include "passes/quantize_weights.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/quant_math.h"

namespace ratel::passes {

// The scale and zero point mapping [lo, hi] (widened to contain 0) onto [qmin, qmax].
Affine affine_for(float lo, float hi, int32_t qmin, int32_t qmax, bool symmetric) {
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  Affine a;
  if (symmetric) {
    const float m = std::max(-lo, hi);
    a.scale = m > 0 ? m / static_cast<float>(qmax) : 1.0f;
    return a;
  }
  if (!(hi > lo)) return a;
  a.scale = (hi - lo) / static_cast<float>(qmax - qmin);
  const float z = static_cast<float>(qmin) - std::nearbyint(lo / a.scale);
  a.zero_point = static_cast<int32_t>(std::clamp(z, static_cast<float>(qmin), static_cast<float>(qmax)));
  return a;
}

// Quantizes a [K, N] f32 weight per column (or per tensor) into [qmin, qmax] of `type`.
QuantizedWeights quantize_weights(const Tensor& w, DType type, bool symmetric, bool per_channel, int32_t qmin,
                                  int32_t qmax) {
  const int64_t k = w.dim(0), n = w.dim(1), groups = per_channel ? n : 1;
  const float* src = w.data<float>();
  std::vector<float> lo(static_cast<size_t>(groups), 0.0f), hi(static_cast<size_t>(groups), 0.0f);
  for (int64_t r = 0; r < k; ++r) {
    for (int64_t c = 0; c < n; ++c) {
      const size_t g = static_cast<size_t>(per_channel ? c : 0);
      lo[g] = std::min(lo[g], src[r * n + c]);
      hi[g] = std::max(hi[g], src[r * n + c]);
    }
  }
  std::vector<Affine> aff(static_cast<size_t>(groups));
  for (size_t g = 0; g < aff.size(); ++g) aff[g] = affine_for(lo[g], hi[g], qmin, qmax, symmetric);
  auto q = Tensor::allocate(type, {k, n});
  RATEL_ASSERT(q.ok());
  for (int64_t r = 0; r < k; ++r) {
    for (int64_t c = 0; c < n; ++c) {
      const Affine& a = aff[static_cast<size_t>(per_channel ? c : 0)];
      const int32_t v = ops::quant::quantize_value(src[r * n + c], a.scale, a.zero_point, qmin, qmax);
      const size_t i = static_cast<size_t>(r * n + c);
      switch (type) {
        case DType::kI8: static_cast<int8_t*>(q->mutable_raw())[i] = static_cast<int8_t>(v); break;
        case DType::kU8: static_cast<uint8_t*>(q->mutable_raw())[i] = static_cast<uint8_t>(v); break;
        default: static_cast<int16_t*>(q->mutable_raw())[i] = static_cast<int16_t>(v); break;
      }
    }
  }
  std::vector<float> scales;
  std::vector<int32_t> zps;
  for (const Affine& a : aff) {
    scales.push_back(a.scale);
    zps.push_back(a.zero_point);
  }
  QuantizedWeights out;
  out.data = std::move(q).value();
  out.scale = Tensor::from_vector<float>(scales, {groups});
  if (!symmetric) out.zero_point = Tensor::from_vector<int32_t>(zps, {groups});
  return out;
}

}  // namespace ratel::passes
