// Portable conversions between fp32 and the two 16-bit float formats the half-precision GEMMs
// store weights in (hgemm.h). Scalar, constexpr-free, no ISA flags: used at pack time, by the
// generic kernels and by the references. The fast paths use F16C / AVX512-BF16 instructions or
// vectorized forms of the same bit manipulations, and the tests check they agree bit for bit.
//
// fp16 (IEEE binary16): 1 sign, 5 exponent, 10 fraction bits. f16_from_f32 rounds to nearest
//   even with full subnormal support and overflow to infinity, exactly like F16C's vcvtps2ph
//   with imm8 = 0 under the default MXCSR; f32_from_f16 is exact (every fp16 is an fp32; a
//   signaling NaN comes back quiet, like vcvtph2ps).
// bf16 (bfloat16): the top 16 bits of an fp32. bf16_from_f32 follows AVX512-BF16's
//   vcvtneps2bf16: round to nearest even, fp32 subnormal inputs become a zero of the same sign
//   (DAZ), NaN becomes a quiet NaN with the same sign and top payload bits.
#pragma once

#include <cstdint>
#include <cstring>

namespace ratel::kernels::math {

inline uint32_t f32_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}

inline float f32_from_bits(uint32_t u) {
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

inline uint16_t bf16_from_f32(float x) {
  const uint32_t u = f32_bits(x);
  if ((u & 0x7F800000u) == 0) return static_cast<uint16_t>((u >> 16) & 0x8000u);  // 0, subnormal
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 0x0040u);  // NaN
  return static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

inline float f32_from_bf16(uint16_t h) { return f32_from_bits(uint32_t{h} << 16); }

// x rounded to bf16 and back: the fp32 value the bf16 kernels multiply.
inline float bf16_round(float x) { return f32_from_bf16(bf16_from_f32(x)); }

inline uint16_t f16_from_f32(float x) {
  const uint32_t u = f32_bits(x);
  const uint32_t sign = (u >> 16) & 0x8000u;
  const uint32_t abs = u & 0x7FFFFFFFu;
  if (abs > 0x7F800000u) return static_cast<uint16_t>(sign | 0x7E00u | ((abs >> 13) & 0x3FFu));
  if (abs >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // rounds to >= 2^16: inf
  if (abs < 0x38800000u) {  // below 2^-14: an fp16 subnormal (or zero)
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);  // below half the smallest: 0
    // value = m * 2^(e - 150) with m the 24-bit significand; fp16 subnormal unit is 2^-24.
    const uint32_t e = abs >> 23;
    const uint32_t m = (abs & 0x7FFFFFu) | 0x800000u;
    const uint32_t shift = 126 - e;  // 14..24 since e in [102, 112]
    const uint32_t q = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    const uint32_t r = q + ((rem > half || (rem == half && (q & 1u))) ? 1u : 0u);
    return static_cast<uint16_t>(sign | r);  // r may carry into the exponent: still right
  }
  // Normal: rebias the exponent (127 -> 15) and round the 23-bit fraction to 10 bits.
  const uint32_t rebased = abs - ((127u - 15u) << 23);
  const uint32_t r = (rebased + 0xFFFu + ((rebased >> 13) & 1u)) >> 13;
  return static_cast<uint16_t>(sign | r);
}

inline float f32_from_f16(uint16_t h) {
  const uint32_t sign = uint32_t{h & 0x8000u} << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  const uint32_t frac = h & 0x3FFu;
  if (exp == 0x1F) {  // inf, or NaN made quiet (as vcvtph2ps does)
    return f32_from_bits(sign | 0x7F800000u | (frac << 13) | (frac != 0 ? 0x00400000u : 0u));
  }
  if (exp != 0) return f32_from_bits(sign | ((exp + 112u) << 23) | (frac << 13));
  if (frac == 0) return f32_from_bits(sign);
  // Subnormal: frac * 2^-24, exact in fp32.
  const float v = static_cast<float>(frac) * 5.9604644775390625e-8f;
  return sign != 0 ? -v : v;
}

// The fp32 value an fp16 weight multiplies with.
inline float f16_round(float x) { return f32_from_f16(f16_from_f32(x)); }

}  // namespace ratel::kernels::math
