// Unary math and activation ops, computed element by element in the input's arithmetic type
// (float for 16-bit floats) with the C library's correctly-rounded-or-nearly functions.
#include <cmath>
#include <type_traits>

#include "ops/op.h"
#include "ops/op_util.h"

namespace ratel::ops {

namespace {

template <typename Set>
Status infer_unary(InferContext& ctx) {
  if (ctx.num_inputs() != 1 || !ctx.has_input(0)) return invalid_argument("expects 1 input");
  if (!dtype_in<Set>(ctx.input_dtype(0))) {
    return unsupported("input type {} is not accepted", dtype_name(ctx.input_dtype(0)));
  }
  ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
  return Status::Ok();
}

// Applies f (which sees the arithmetic type and the node's attributes) to every element.
template <typename Set, typename F>
Status unary_loop(KernelContext& ctx, F f) {
  const Tensor& x = ctx.in(0);
  Tensor& out = ctx.out(0);
  return dispatch<Set>(x.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    using A = typename Arith<T>::type;
    const T* px = x.data<T>();
    T* po = out.mutable_data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      po[i] = Arith<T>::store(static_cast<A>(f(Arith<T>::load(px[i]))));
    }
    return Status::Ok();
  });
}

#define RATEL_FLOAT_UNARY(NAME, EXPR)                                            \
  Status compute_##NAME(KernelContext& ctx) {                                    \
    return unary_loop<FloatTypes>(ctx, [](auto x) -> decltype(x) { return EXPR; }); \
  }

RATEL_FLOAT_UNARY(sqrt, std::sqrt(x))
RATEL_FLOAT_UNARY(reciprocal, decltype(x)(1) / x)
RATEL_FLOAT_UNARY(exp, std::exp(x))
RATEL_FLOAT_UNARY(log, std::log(x))
RATEL_FLOAT_UNARY(erf, std::erf(x))
RATEL_FLOAT_UNARY(tanh, std::tanh(x))
RATEL_FLOAT_UNARY(sin, std::sin(x))
RATEL_FLOAT_UNARY(cos, std::cos(x))
RATEL_FLOAT_UNARY(floor, std::floor(x))
RATEL_FLOAT_UNARY(ceil, std::ceil(x))
// 1/(1+e^-x) overflows e^-x for very negative x; the split form does not.
RATEL_FLOAT_UNARY(sigmoid, x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x)))
// log(1+e^x) computed without overflow: x + log1p(e^-x) for positive x.
RATEL_FLOAT_UNARY(softplus, x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)))
#undef RATEL_FLOAT_UNARY

Status compute_neg(KernelContext& ctx) {
  return unary_loop<NumericTypes>(ctx, [](auto x) -> decltype(x) {
    using A = decltype(x);
    if constexpr (std::is_integral_v<A>) {
      // two's complement wrap for the most negative value, like hardware negation
      using U = std::common_type_t<std::make_unsigned_t<A>, unsigned>;
      return static_cast<A>(static_cast<U>(0u - static_cast<U>(x)));
    } else {
      return -x;
    }
  });
}

Status compute_abs(KernelContext& ctx) {
  return unary_loop<NumericTypes>(ctx, [](auto x) -> decltype(x) {
    using A = decltype(x);
    if constexpr (std::is_unsigned_v<A>) {
      return x;
    } else if constexpr (std::is_integral_v<A>) {
      using U = std::common_type_t<std::make_unsigned_t<A>, unsigned>;
      return x < 0 ? static_cast<A>(static_cast<U>(0u - static_cast<U>(x))) : x;
    } else {
      return std::fabs(x);
    }
  });
}

Status compute_sign(KernelContext& ctx) {
  return unary_loop<NumericTypes>(ctx, [](auto x) -> decltype(x) {
    using A = decltype(x);
    if constexpr (std::is_floating_point_v<A>) {
      if (std::isnan(x)) return x;
    }
    return static_cast<A>((A(0) < x) - (x < A(0)));
  });
}

Status compute_relu(KernelContext& ctx) {
  return unary_loop<NumericTypes>(ctx, [](auto x) -> decltype(x) {
    using A = decltype(x);
    return x > A(0) ? x : A(0);
  });
}

Status compute_leaky_relu(KernelContext& ctx) {
  const float alpha = *ctx.attrs().get_float("alpha", 0.01f);
  return unary_loop<FloatTypes>(ctx, [alpha](auto x) -> decltype(x) {
    using A = decltype(x);
    return x >= A(0) ? x : static_cast<A>(alpha) * x;
  });
}

Status infer_relu(InferContext& ctx) {
  // Relu takes integer inputs from opset 14 on; floats always.
  if (ctx.opset() < 14 && !dtype_is_float(ctx.input_dtype(0))) {
    return unsupported("Relu before opset 14 takes float inputs, got {}", dtype_name(ctx.input_dtype(0)));
  }
  return infer_unary<NumericTypes>(ctx);
}

}  // namespace

void register_math_ops(OpRegistry& r) {
  r.add({"", "Sqrt", infer_unary<FloatTypes>, compute_sqrt});
  r.add({"", "Reciprocal", infer_unary<FloatTypes>, compute_reciprocal});
  r.add({"", "Exp", infer_unary<FloatTypes>, compute_exp});
  r.add({"", "Log", infer_unary<FloatTypes>, compute_log});
  r.add({"", "Erf", infer_unary<FloatTypes>, compute_erf});
  r.add({"", "Tanh", infer_unary<FloatTypes>, compute_tanh});
  r.add({"", "Sin", infer_unary<FloatTypes>, compute_sin});
  r.add({"", "Cos", infer_unary<FloatTypes>, compute_cos});
  r.add({"", "Floor", infer_unary<FloatTypes>, compute_floor});
  r.add({"", "Ceil", infer_unary<FloatTypes>, compute_ceil});
  r.add({"", "Sigmoid", infer_unary<FloatTypes>, compute_sigmoid});
  r.add({"", "Softplus", infer_unary<FloatTypes>, compute_softplus});
  r.add({"", "LeakyRelu", infer_unary<FloatTypes>, compute_leaky_relu});
  r.add({"", "Neg", infer_unary<NumericTypes>, compute_neg});
  r.add({"", "Abs", infer_unary<NumericTypes>, compute_abs});
  r.add({"", "Sign", infer_unary<NumericTypes>, compute_sign});
  r.add({"", "Relu", infer_relu, compute_relu});
}

}  // namespace ratel::ops
