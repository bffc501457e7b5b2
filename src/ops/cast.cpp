// Cast and CastLike: conversion between every pair of Ratel element types.
//
// Every conversion is defined for every input value; none is undefined behaviour:
//  - float -> integer truncates toward zero; NaN gives 0 and values beyond the target's range
//    (±inf included) saturate to its limits. C++ leaves these undefined and hardware gives
//    INT_MIN-like garbage, which a reference must not depend on.
//  - integer -> integer keeps the low bits (two's complement wrap), as C++20 and numpy do.
//  - anything -> bool is `x != 0` (NaN is true, as in C and numpy); bool -> number is 0 or 1.
//  - conversions to a float type are correctly rounded (nearest, ties to even) from the exact
//    source value. Narrowing to f16/bf16 goes through round-to-odd intermediates, so a value is
//    never rounded twice (double -> float -> half can be one ulp off on near-ties).
//
// Ratel has no string type, so casts to or from STRING are refused with a clear error.
#include <bit>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "ops/op.h"
#include "ops/op_util.h"

namespace ratel::ops {

namespace {

template <typename T>
constexpr bool kIsFloatStorage = std::is_floating_point_v<T> || std::is_same_v<T, Half> ||
                                 std::is_same_v<T, BFloat16>;

// An integer as a double rounded to odd (truncated, last bit set if inexact). Below 2^53 this is
// exact; above, it keeps enough information for one correct rounding to float, f16 or bf16.
template <typename I>
double int_to_double_round_odd(I v) {
  bool negative = false;
  uint64_t magnitude = static_cast<uint64_t>(v);
  if constexpr (std::is_signed_v<I>) {
    negative = v < 0;
    if (negative) magnitude = 0 - magnitude;  // |INT64_MIN| = 2^63 fits in uint64
  }
  double d;
  if (magnitude < (uint64_t{1} << 53)) {
    d = static_cast<double>(magnitude);
  } else {
    const int drop = (63 - std::countl_zero(magnitude)) - 52;  // bits beyond double's 53
    uint64_t kept = magnitude >> drop;
    if ((magnitude & ((uint64_t{1} << drop) - 1)) != 0) kept |= 1;  // sticky: inexact -> odd
    d = std::ldexp(static_cast<double>(kept), drop);
  }
  return negative ? -d : d;
}

template <typename D, typename S>
D convert(S s) {
  if constexpr (std::is_same_v<S, bool>) {
    return convert<D>(static_cast<uint8_t>(s ? 1 : 0));
  } else if constexpr (std::is_same_v<D, bool>) {
    return Arith<S>::load(s) != 0;
  } else if constexpr (kIsFloatStorage<S>) {
    // Every float storage value is exact in double.
    const double d = static_cast<double>(Arith<S>::load(s));
    if constexpr (kIsFloatStorage<D>) {
      return float_from_double<D>(d);
    } else {
      return saturate_cast_float<D>(d);  // truncates; NaN -> 0; saturates
    }
  } else if constexpr (kIsFloatStorage<D>) {
    if constexpr (std::is_same_v<D, double>) {
      return static_cast<double>(s);  // one hardware rounding, to nearest even
    } else {
      return float_from_double<D>(int_to_double_round_odd(s));
    }
  } else {
    return static_cast<D>(s);  // integer narrowing/widening: modulo 2^bits
  }
}

Status cast_tensor(const Tensor& in, Tensor& out) {
  if (in.dtype() == out.dtype()) {
    std::memcpy(out.mutable_raw(), in.raw(), in.nbytes());
    return Status::Ok();
  }
  return dispatch<AllTypes>(in.dtype(), [&](auto src_tag) -> Status {
    using S = decltype(src_tag);
    return dispatch<AllTypes>(out.dtype(), [&](auto dst_tag) -> Status {
      using D = decltype(dst_tag);
      const S* src = in.data<S>();
      D* dst = out.mutable_data<D>();
      for (int64_t i = 0; i < in.numel(); ++i) dst[i] = convert<D>(src[i]);
      return Status::Ok();
    });
  });
}

// bfloat16 entered Cast's type list in opset 13.
Status check_bf16_opset(const InferContext& ctx, DType t, const char* role) {
  if (t == DType::kBF16 && ctx.opset() < 13) {
    return unsupported("{} type bf16 needs opset 13 or later; the model imports opset {}", role,
                       ctx.opset());
  }
  return Status::Ok();
}

// Cast's target type: an ONNX type code from opset 6, a type name ("FLOAT") before.
Result<DType> cast_target(const ir::Attributes& attrs) {
  const ir::AttrValue* to = attrs.find("to");
  if (!to) return invalid_argument("attribute 'to' is missing");
  int64_t code = -1;
  if (const auto* name = std::get_if<std::string>(to)) {
    code = onnx_type_code_from_name(*name);
    if (code < 0) return invalid_argument("attribute 'to' names no ONNX type: '{}'", *name);
  } else {
    RATEL_ASSIGN_OR_RETURN(code, attrs.get_int("to", -1));
  }
  DType dtype;
  if (!dtype_from_onnx_code(code, &dtype)) {
    return unsupported("cannot cast to {}: Ratel has no such element type",
                       onnx_type_code_name(code));
  }
  return dtype;
}

Status infer_cast(InferContext& ctx) {
  if (ctx.num_inputs() != 1 || !ctx.has_input(0)) {
    return invalid_argument("expects 1 input, got {}", ctx.num_inputs());
  }
  RATEL_ASSIGN_OR_RETURN(DType to, cast_target(ctx.attrs()));
  RATEL_RETURN_IF_ERROR(check_bf16_opset(ctx, ctx.input_dtype(0), "input"));
  RATEL_RETURN_IF_ERROR(check_bf16_opset(ctx, to, "target"));
  ctx.set_output(0, to, ctx.input_shape(0));
  return Status::Ok();
}

Status infer_cast_like(InferContext& ctx) {
  RATEL_RETURN_IF_ERROR(require_opset(ctx.opset(), 15, "CastLike"));
  if (ctx.num_inputs() != 2 || !ctx.has_input(0) || !ctx.has_input(1)) {
    return invalid_argument("expects 2 inputs (input, target_type), got {}", ctx.num_inputs());
  }
  ctx.set_output(0, ctx.input_dtype(1), ctx.input_shape(0));
  return Status::Ok();
}

Status compute_cast(KernelContext& ctx) { return cast_tensor(ctx.in(0), ctx.out(0)); }

}  // namespace

void register_cast_ops(OpRegistry& r) {
  r.add({"", "Cast", infer_cast, compute_cast});
  r.add({"", "CastLike", infer_cast_like, compute_cast});
}

}  // namespace ratel::ops
