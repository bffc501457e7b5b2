// Broadcasting element-wise ops: arithmetic, comparison, logic, selection, variadic min/max/sum.
#include <cmath>
#include <type_traits>

#include "ops/op.h"
#include "ops/op_util.h"

namespace ratel::ops {

namespace {

// ---- inference -------------------------------------------------------------------------------

Status check_same_dtype(const InferContext& ctx, size_t a, size_t b) {
  if (ctx.input_dtype(a) != ctx.input_dtype(b)) {
    return invalid_argument("inputs {} and {} have different types ({} and {})", a, b,
                            dtype_name(ctx.input_dtype(a)), dtype_name(ctx.input_dtype(b)));
  }
  return Status::Ok();
}

template <typename Set>
Status check_dtype(DType t, size_t input) {
  if (!dtype_in<Set>(t)) {
    return unsupported("input {} has type {}, which this op does not accept", input, dtype_name(t));
  }
  return Status::Ok();
}

// Before opset 7, binary ops broadcast only with an explicit `broadcast` attribute and an `axis`
// that aligns the second input — different from numpy's rule, so it is refused, not guessed.
Status check_legacy_broadcast(const InferContext& ctx) {
  if (ctx.opset() < 7 && ctx.attrs().has("broadcast")) {
    return unsupported("the legacy 'broadcast' attribute (opset {} < 7) is not supported; "
                       "re-export the model with opset 7 or later", ctx.opset());
  }
  return Status::Ok();
}

// Output of a two-input op: broadcast shape, with the given dtype (or the inputs' dtype).
template <typename Set>
Status infer_binary(InferContext& ctx, bool bool_output) {
  if (ctx.num_inputs() != 2 || !ctx.has_input(0) || !ctx.has_input(1)) {
    return invalid_argument("expects 2 inputs, got {}", ctx.num_inputs());
  }
  RATEL_RETURN_IF_ERROR(check_legacy_broadcast(ctx));
  RATEL_RETURN_IF_ERROR(check_same_dtype(ctx, 0, 1));
  RATEL_RETURN_IF_ERROR(check_dtype<Set>(ctx.input_dtype(0), 0));
  RATEL_ASSIGN_OR_RETURN(Shape out, broadcast_shapes(ctx.input_shape(0), ctx.input_shape(1)));
  ctx.set_output(0, bool_output ? DType::kBool : ctx.input_dtype(0), std::move(out));
  return Status::Ok();
}

Status infer_arith(InferContext& ctx) { return infer_binary<NumericTypes>(ctx, false); }
Status infer_compare(InferContext& ctx) { return infer_binary<AllTypes>(ctx, true); }
Status infer_logic(InferContext& ctx) {
  RATEL_RETURN_IF_ERROR(infer_binary<AllTypes>(ctx, true));
  if (ctx.input_dtype(0) != DType::kBool) return unsupported("logical ops take bool inputs");
  return Status::Ok();
}

Status infer_pow(InferContext& ctx) {
  // Pow allows the exponent to have another numeric type (opset 12+); the output is the base's.
  if (ctx.num_inputs() != 2) return invalid_argument("expects 2 inputs");
  RATEL_RETURN_IF_ERROR(check_legacy_broadcast(ctx));
  RATEL_RETURN_IF_ERROR(check_dtype<NumericTypes>(ctx.input_dtype(0), 0));
  RATEL_RETURN_IF_ERROR(check_dtype<NumericTypes>(ctx.input_dtype(1), 1));
  RATEL_ASSIGN_OR_RETURN(Shape out, broadcast_shapes(ctx.input_shape(0), ctx.input_shape(1)));
  ctx.set_output(0, ctx.input_dtype(0), std::move(out));
  return Status::Ok();
}

Status infer_variadic(InferContext& ctx) {
  if (ctx.num_inputs() < 1) return invalid_argument("expects at least 1 input");
  Shape out = ctx.input_shape(0);
  RATEL_RETURN_IF_ERROR(check_dtype<NumericTypes>(ctx.input_dtype(0), 0));
  for (size_t i = 1; i < ctx.num_inputs(); ++i) {
    RATEL_RETURN_IF_ERROR(check_same_dtype(ctx, 0, i));
    RATEL_ASSIGN_OR_RETURN(out, broadcast_shapes(out, ctx.input_shape(i)));
  }
  ctx.set_output(0, ctx.input_dtype(0), std::move(out));
  return Status::Ok();
}

Status infer_where(InferContext& ctx) {
  if (ctx.num_inputs() != 3) return invalid_argument("expects 3 inputs");
  if (ctx.input_dtype(0) != DType::kBool) return invalid_argument("condition must be bool");
  RATEL_RETURN_IF_ERROR(check_same_dtype(ctx, 1, 2));
  RATEL_ASSIGN_OR_RETURN(Shape s, broadcast_shapes(ctx.input_shape(0), ctx.input_shape(1)));
  RATEL_ASSIGN_OR_RETURN(s, broadcast_shapes(s, ctx.input_shape(2)));
  ctx.set_output(0, ctx.input_dtype(1), std::move(s));
  return Status::Ok();
}

Status infer_not(InferContext& ctx) {
  if (ctx.num_inputs() != 1 || ctx.input_dtype(0) != DType::kBool) {
    return invalid_argument("expects one bool input");
  }
  ctx.set_output(0, DType::kBool, ctx.input_shape(0));
  return Status::Ok();
}

Status infer_clip(InferContext& ctx) {
  if (ctx.num_inputs() < 1 || ctx.num_inputs() > 3 || !ctx.has_input(0)) {
    return invalid_argument("expects an input and optional min and max");
  }
  if (ctx.opset() < 11 && ctx.num_inputs() != 1) return invalid_argument("Clip-6 takes one input (min/max are attributes)");
  RATEL_RETURN_IF_ERROR(check_dtype<NumericTypes>(ctx.input_dtype(0), 0));
  // Integer types from Clip-12 on; before, the float min/max attributes or inputs.
  if (ctx.opset() < 12 && !dtype_is_float(ctx.input_dtype(0))) {
    return invalid_argument("Clip-{} takes float types only, got {} (integer types need opset 12)", ctx.opset(),
                            dtype_name(ctx.input_dtype(0)));
  }
  for (size_t i = 1; i < 3; ++i) {
    if (!ctx.has_input(i)) continue;
    RATEL_RETURN_IF_ERROR(check_same_dtype(ctx, 0, i));
    if (numel(ctx.input_shape(i)) != 1) return invalid_argument("min/max must be scalars");
  }
  ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
  return Status::Ok();
}

// ---- compute ---------------------------------------------------------------------------------

// out[i] = f(a[i'], b[i'']) with broadcasting; T is the input storage type, U the output's.
template <typename T, typename U, typename F>
void binary_loop(const Tensor& a, const Tensor& b, Tensor& out, F f) {
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  U* po = out.mutable_data<U>();
  for_each_broadcast<2>(out.shape(), {&a.shape(), &b.shape()},
                        [&](int64_t i, const std::array<int64_t, 2>& off) {
                          po[i] = f(pa[off[0]], pb[off[1]]);
                        });
}

enum class Arith2 { kAdd, kSub, kMul, kDiv };

// Integer arithmetic wraps (two's complement), as ONNX Runtime's does; signed overflow in C++
// is undefined, so it is done in the unsigned type.
template <typename A, Arith2 kOp>
A wrapping(A a, A b) {
  // At least `unsigned int`, so that small types do not promote to (signed, overflowing) int.
  using U = std::common_type_t<std::make_unsigned_t<A>, unsigned>;
  const U ua = static_cast<U>(a);
  const U ub = static_cast<U>(b);
  if constexpr (kOp == Arith2::kAdd) return static_cast<A>(static_cast<U>(ua + ub));
  if constexpr (kOp == Arith2::kSub) return static_cast<A>(static_cast<U>(ua - ub));
  return static_cast<A>(static_cast<U>(ua * ub));
}

template <Arith2 kOp>
Status compute_arith(KernelContext& ctx) {
  return dispatch<NumericTypes>(ctx.in(0).dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    using A = typename Arith<T>::type;
    bool div_by_zero = false;
    binary_loop<T, T>(ctx.in(0), ctx.in(1), ctx.out(0), [&](T x, T y) -> T {
      const A a = Arith<T>::load(x);
      const A b = Arith<T>::load(y);
      if constexpr (std::is_integral_v<A>) {
        if constexpr (kOp != Arith2::kDiv) {
          return wrapping<A, kOp>(a, b);
        } else {
          if (b == 0) {
            div_by_zero = true;
            return T{};
          }
          if constexpr (std::is_signed_v<A>) {
            if (b == -1) return wrapping<A, Arith2::kSub>(0, a);  // INT_MIN / -1 wraps
          }
          return static_cast<T>(a / b);
        }
      } else {
        if constexpr (kOp == Arith2::kAdd) return Arith<T>::store(a + b);
        if constexpr (kOp == Arith2::kSub) return Arith<T>::store(a - b);
        if constexpr (kOp == Arith2::kMul) return Arith<T>::store(a * b);
        return Arith<T>::store(a / b);
      }
    });
    if (div_by_zero) return invalid_argument("integer division by zero");
    return Status::Ok();
  });
}

// Mod: with fmod=0 the result takes the divisor's sign (Python's %), with fmod=1 the dividend's
// (C's fmod). Integer inputs require fmod=0 semantics unless fmod=1 is given.
Status compute_mod(KernelContext& ctx) {
  const bool fmod = *ctx.attrs().get_int("fmod", 0) != 0;
  return dispatch<NumericTypes>(ctx.in(0).dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    using A = typename Arith<T>::type;
    bool div_by_zero = false;
    binary_loop<T, T>(ctx.in(0), ctx.in(1), ctx.out(0), [&](T x, T y) -> T {
      const A a = Arith<T>::load(x);
      const A b = Arith<T>::load(y);
      if constexpr (std::is_integral_v<A>) {
        if (b == 0) {
          div_by_zero = true;
          return T{};
        }
        if constexpr (std::is_signed_v<A>) {
          if (b == -1) return T{};  // avoids INT_MIN % -1 overflow; the answer is 0
        }
        A r = static_cast<A>(a % b);
        if (!fmod && r != 0 && ((r < 0) != (b < 0))) r = static_cast<A>(r + b);
        return static_cast<T>(r);
      } else {
        A r = std::fmod(a, b);
        if (!fmod && r != 0 && ((r < 0) != (b < 0))) r += b;
        return Arith<T>::store(r);
      }
    });
    if (div_by_zero) return invalid_argument("integer modulo by zero");
    return Status::Ok();
  });
}

Status compute_pow(KernelContext& ctx) {
  const Tensor& base = ctx.in(0);
  const Tensor& expo = ctx.in(1);
  Tensor& out = ctx.out(0);
  // Computed in double: exact for every integer power that fits, and within 0.5 ulp of the true
  // float result for float inputs.
  return dispatch<NumericTypes>(base.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    T* po = out.mutable_data<T>();
    for_each_broadcast<2>(out.shape(), {&base.shape(), &expo.shape()},
                          [&](int64_t i, const std::array<int64_t, 2>& off) {
                            const double r = std::pow(base.get_as_double(off[0]),
                                                      expo.get_as_double(off[1]));
                            if constexpr (std::is_integral_v<T>) {
                              po[i] = saturate_cast_float<T>(r);
                            } else {
                              po[i] = Arith<T>::store(static_cast<typename Arith<T>::type>(r));
                            }
                          });
    return Status::Ok();
  });
}

enum class Cmp { kEq, kLt, kGt, kLe, kGe };

template <Cmp kOp>
Status compute_compare(KernelContext& ctx) {
  return dispatch<AllTypes>(ctx.in(0).dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    binary_loop<T, bool>(ctx.in(0), ctx.in(1), ctx.out(0), [](T x, T y) {
      const auto a = Arith<T>::load(x);
      const auto b = Arith<T>::load(y);
      if constexpr (kOp == Cmp::kEq) return a == b;
      if constexpr (kOp == Cmp::kLt) return a < b;
      if constexpr (kOp == Cmp::kGt) return a > b;
      if constexpr (kOp == Cmp::kLe) return a <= b;
      return a >= b;
    });
    return Status::Ok();
  });
}

enum class Logic { kAnd, kOr, kXor };

template <Logic kOp>
Status compute_logic(KernelContext& ctx) {
  binary_loop<bool, bool>(ctx.in(0), ctx.in(1), ctx.out(0), [](bool a, bool b) {
    if constexpr (kOp == Logic::kAnd) return a && b;
    if constexpr (kOp == Logic::kOr) return a || b;
    return a != b;
  });
  return Status::Ok();
}

Status compute_not(KernelContext& ctx) {
  const bool* in = ctx.in(0).data<bool>();
  bool* out = ctx.out(0).mutable_data<bool>();
  for (int64_t i = 0; i < ctx.in(0).numel(); ++i) out[i] = !in[i];
  return Status::Ok();
}

Status compute_where(KernelContext& ctx) {
  const Tensor& c = ctx.in(0);
  const Tensor& x = ctx.in(1);
  const Tensor& y = ctx.in(2);
  Tensor& out = ctx.out(0);
  return dispatch<AllTypes>(x.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    const bool* pc = c.data<bool>();
    const T* px = x.data<T>();
    const T* py = y.data<T>();
    T* po = out.mutable_data<T>();
    for_each_broadcast<3>(out.shape(), {&c.shape(), &x.shape(), &y.shape()},
                          [&](int64_t i, const std::array<int64_t, 3>& off) {
                            po[i] = pc[off[0]] ? px[off[1]] : py[off[2]];
                          });
    return Status::Ok();
  });
}

enum class Variadic { kMin, kMax, kSum, kMean };

template <Variadic kOp>
Status compute_variadic(KernelContext& ctx) {
  Tensor& out = ctx.out(0);
  return dispatch<NumericTypes>(out.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    using A = typename Arith<T>::type;
    // Accumulate input by input: out = op(out, in_k), starting from the broadcast input 0.
    std::vector<A> acc(static_cast<size_t>(out.numel()));
    for (size_t k = 0; k < ctx.inputs.size(); ++k) {
      const Tensor& in = ctx.in(k);
      const T* p = in.data<T>();
      for_each_broadcast<1>(out.shape(), {&in.shape()}, [&](int64_t i, const std::array<int64_t, 1>& off) {
        const A v = Arith<T>::load(p[off[0]]);
        A& a = acc[static_cast<size_t>(i)];
        if (k == 0) {
          a = v;
        } else if constexpr (kOp == Variadic::kSum || kOp == Variadic::kMean) {
          if constexpr (std::is_integral_v<A>) {
            a = wrapping<A, Arith2::kAdd>(a, v);
          } else {
            a = a + v;
          }
        } else {
          // NaN in any input gives NaN, as numpy's maximum/minimum do.
          if constexpr (std::is_floating_point_v<A>) {
            if (std::isnan(v) || std::isnan(a)) {
              a = std::numeric_limits<A>::quiet_NaN();
              return;
            }
          }
          if constexpr (kOp == Variadic::kMin) a = v < a ? v : a;
          if constexpr (kOp == Variadic::kMax) a = v > a ? v : a;
        }
      });
    }
    T* po = out.mutable_data<T>();
    for (int64_t i = 0; i < out.numel(); ++i) {
      A a = acc[static_cast<size_t>(i)];
      if constexpr (kOp == Variadic::kMean) a = static_cast<A>(a / static_cast<A>(ctx.inputs.size()));
      po[i] = Arith<T>::store(a);
    }
    return Status::Ok();
  });
}

Status compute_clip(KernelContext& ctx) {
  const Tensor& x = ctx.in(0);
  Tensor& out = ctx.out(0);
  return dispatch<NumericTypes>(x.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    using A = typename Arith<T>::type;
    A lo = std::numeric_limits<A>::lowest();
    A hi = std::numeric_limits<A>::max();
    if (ctx.opset() < 11) {
      lo = static_cast<A>(*ctx.attrs().get_float("min", -std::numeric_limits<float>::max()));
      hi = static_cast<A>(*ctx.attrs().get_float("max", std::numeric_limits<float>::max()));
    } else {
      if (ctx.has_input(1)) lo = Arith<T>::load(ctx.in(1).data<T>()[0]);
      if (ctx.has_input(2)) hi = Arith<T>::load(ctx.in(2).data<T>()[0]);
    }
    const T* px = x.data<T>();
    T* po = out.mutable_data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      A v = Arith<T>::load(px[i]);
      // min applied first, then max, as ONNX specifies (so lo > hi yields hi).
      if (v < lo) v = lo;
      if (v > hi) v = hi;
      po[i] = Arith<T>::store(v);
    }
    return Status::Ok();
  });
}

}  // namespace

void register_elementwise_ops(OpRegistry& r) {
  r.add({"", "Add", infer_arith, compute_arith<Arith2::kAdd>});
  r.add({"", "Sub", infer_arith, compute_arith<Arith2::kSub>});
  r.add({"", "Mul", infer_arith, compute_arith<Arith2::kMul>});
  r.add({"", "Div", infer_arith, compute_arith<Arith2::kDiv>});
  r.add({"", "Mod", infer_arith, compute_mod});
  r.add({"", "Pow", infer_pow, compute_pow});
  r.add({"", "Equal", infer_compare, compute_compare<Cmp::kEq>});
  r.add({"", "Less", infer_compare, compute_compare<Cmp::kLt>});
  r.add({"", "Greater", infer_compare, compute_compare<Cmp::kGt>});
  r.add({"", "LessOrEqual", infer_compare, compute_compare<Cmp::kLe>});
  r.add({"", "GreaterOrEqual", infer_compare, compute_compare<Cmp::kGe>});
  r.add({"", "And", infer_logic, compute_logic<Logic::kAnd>});
  r.add({"", "Or", infer_logic, compute_logic<Logic::kOr>});
  r.add({"", "Xor", infer_logic, compute_logic<Logic::kXor>});
  r.add({"", "Not", infer_not, compute_not});
  r.add({"", "Where", infer_where, compute_where});
  r.add({"", "Min", infer_variadic, compute_variadic<Variadic::kMin>});
  r.add({"", "Max", infer_variadic, compute_variadic<Variadic::kMax>});
  r.add({"", "Sum", infer_variadic, compute_variadic<Variadic::kSum>});
  r.add({"", "Mean", infer_variadic, compute_variadic<Variadic::kMean>});
  r.add({"", "Clip", infer_clip, compute_clip});
}

}  // namespace ratel::ops
