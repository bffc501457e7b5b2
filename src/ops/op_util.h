// Helpers shared by the reference op implementations: dtype dispatch, numpy broadcasting,
// axis handling. Reference code favours obviousness over speed.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"
#include "core/tensor.h"

namespace ratel::ops {

// Arithmetic type for a storage type: 16-bit floats compute in float, everything else in itself.
template <typename T>
struct Arith {
  using type = T;
  static type load(T v) { return v; }
  static T store(type v) { return v; }
};
template <>
struct Arith<Half> {
  using type = float;
  static float load(Half v) { return half_to_float(v.bits); }
  static Half store(float v) { return Half{float_to_half(v)}; }
};
template <>
struct Arith<BFloat16> {
  using type = float;
  static float load(BFloat16 v) { return bf16_to_float(v.bits); }
  static BFloat16 store(float v) { return BFloat16{float_to_bf16(v)}; }
};

// Dispatch sets: which storage types a kernel is instantiated for.
struct FloatTypes {};    // f32 f64 f16 bf16
struct NumericTypes {};  // floats + all integers
struct AllTypes {};      // numeric + bool

template <typename Set, typename F>
Status dispatch(DType t, F&& f) {
  constexpr bool kInts = !std::is_same_v<Set, FloatTypes>;
  constexpr bool kBool = std::is_same_v<Set, AllTypes>;
  switch (t) {
    case DType::kF32: return f(float{});
    case DType::kF64: return f(double{});
    case DType::kF16: return f(Half{});
    case DType::kBF16: return f(BFloat16{});
    default: break;
  }
  if constexpr (kInts) {
    switch (t) {
      case DType::kI8: return f(int8_t{});
      case DType::kU8: return f(uint8_t{});
      case DType::kI16: return f(int16_t{});
      case DType::kU16: return f(uint16_t{});
      case DType::kI32: return f(int32_t{});
      case DType::kU32: return f(uint32_t{});
      case DType::kI64: return f(int64_t{});
      case DType::kU64: return f(uint64_t{});
      default: break;
    }
  }
  if constexpr (kBool) {
    if (t == DType::kBool) return f(bool{});
  }
  return unsupported("element type {} is not supported here", dtype_name(t));
}

// True if `t` is in the dispatch set.
template <typename Set>
bool dtype_in(DType t) {
  if (dtype_is_float(t)) return true;
  if (dtype_is_integer(t)) return !std::is_same_v<Set, FloatTypes>;
  if (t == DType::kBool) return std::is_same_v<Set, AllTypes>;
  return false;
}

// numpy-style broadcast of two shapes.
Result<Shape> broadcast_shapes(const Shape& a, const Shape& b);

// Element strides of `in` seen from `out` (right-aligned, 0 where `in` broadcasts).
std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out);

// Calls fn(out_index, in_offsets) for every element of `out`, in row-major order, where
// in_offsets[k] is the element offset into input k after broadcasting.
template <size_t N, typename Fn>
void for_each_broadcast(const Shape& out, const std::array<const Shape*, N>& ins, Fn&& fn) {
  const size_t rank = out.size();
  std::array<std::vector<int64_t>, N> strides;
  for (size_t k = 0; k < N; ++k) strides[k] = broadcast_strides(*ins[k], out);
  const int64_t total = numel(out);
  std::vector<int64_t> idx(rank, 0);
  std::array<int64_t, N> off{};
  for (int64_t i = 0; i < total; ++i) {
    fn(i, off);
    // advance the multi-index, updating offsets incrementally
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < out[d]) {
        for (size_t k = 0; k < N; ++k) off[k] += strides[k][d];
        break;
      }
      for (size_t k = 0; k < N; ++k) off[k] -= strides[k][d] * (out[d] - 1);
      idx[d] = 0;
    }
  }
}

// Maps a possibly negative axis into [0, rank). Error names the axis and rank.
Result<int> normalize_axis(int64_t axis, int rank);
// Same for a list; also rejects duplicates.
Result<std::vector<int>> normalize_axes(const std::vector<int64_t>& axes, int rank);

// Product of dims in [begin, end).
int64_t dims_product(const Shape& s, int begin, int end);

// Integer conversion of a float that must be exact (shape values, ids stored as float).
template <typename T>
T saturate_cast_float(double v) {
  if constexpr (std::is_integral_v<T>) {
    if (std::isnan(v)) return 0;
    constexpr double lo = static_cast<double>(std::numeric_limits<T>::min());
    constexpr double hi = static_cast<double>(std::numeric_limits<T>::max());
    if (v <= lo) return std::numeric_limits<T>::min();
    if (v >= hi) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  } else {
    return static_cast<T>(v);
  }
}

// Error unless `opset` >= `since`: `what` ("Range", "attribute 'start' of Shape") does not exist
// in the opset the model imports, so the model is malformed rather than merely unusual.
Status require_opset(int opset, int since, std::string_view what);


// ---- ONNX element type codes (TensorProto.DataType: Cast's `to`, generators' `dtype`) ----

// Ratel's dtype for an ONNX type code; false for codes Ratel has no type for (string, complex,
// float8) and for codes ONNX does not define.
bool dtype_from_onnx_code(int64_t code, DType* out);
// ONNX's name for a type code ("FLOAT", "STRING"), or "<code> (not an ONNX type)" if undefined.
std::string onnx_type_code_name(int64_t code);
// The type code ONNX names `name` ("FLOAT16" -> 10), or -1. Cast before opset 6 names its target
// type by string.
int64_t onnx_type_code_from_name(std::string_view name);

// ---- correctly rounded narrowing of doubles ----

// `d` rounded to float by round-to-odd: truncated toward zero, with the last mantissa bit set if
// anything was dropped. Rounding that result to nearest in a format at least 2 bits narrower
// (f16, bf16) gives exactly the nearest value to `d`, where double -> float -> f16 could round
// twice and land one ulp off. NaN stays NaN.
float round_to_odd_float(double d);

// The value of float storage type T nearest to `d` (ties to even), rounded once.
template <typename T>
T float_from_double(double d) {
  if constexpr (std::is_same_v<T, double>) {
    return d;
  } else if constexpr (std::is_same_v<T, float>) {
    return static_cast<float>(d);
  } else if constexpr (std::is_same_v<T, Half>) {
    return Half{float_to_half(round_to_odd_float(d))};
  } else {
    static_assert(std::is_same_v<T, BFloat16>, "float_from_double needs a float storage type");
    return BFloat16{float_to_bf16(round_to_odd_float(d))};
  }
}

}  // namespace ratel::ops
