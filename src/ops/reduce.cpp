// Reductions over axes (ReduceSum ... ReduceLogSumExp) and ArgMax/ArgMin.
//
// Float inputs reduce in double and are rounded once when stored, so this reference is more
// accurate than the float-accumulating fast kernels it judges. Integer inputs: Sum, Mean, Prod,
// SumSquare and L1 wrap (two's complement) like integer arithmetic elsewhere, and Mean truncates
// the sum's quotient toward zero; Max/Min are exact; L2, LogSum and LogSumExp are computed in
// double and truncated toward zero with saturation (numpy's astype, minus its UB).
//
// Axes are the `axes` attribute before opset 13 for ReduceSum and before 18 for the others, and
// an optional second input from then on; that input must be a constant since it fixes the output
// shape. No axes means all axes, unless noop_with_empty_axes is set: then the reduction runs over
// no axes, so each element is its own group. ReduceSum/Mean/Max/Min/Prod then return the input
// and ReduceSumSquare/L1/L2/LogSum apply their element function (x², |x|, ...), which is what
// ONNX's reference implementation computes.
//
// Reducing an empty group gives the operation's identity: 0 for sums, 1 for Prod, -inf (or the
// integer type's minimum) for Max, +inf (maximum) for Min, -inf for LogSum/LogSumExp, and NaN for
// a float Mean (0/0); an integer Mean of nothing is 0.
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "ops/op.h"
#include "ops/op_util.h"

namespace ratel::ops {

namespace {

enum class Reduce { kSum, kMean, kMax, kMin, kProd, kSumSquare, kL1, kL2, kLogSum, kLogSumExp };

// The opset in which the op's axes moved from an attribute to input 1.
constexpr int axes_input_since(Reduce op) { return op == Reduce::kSum ? 13 : 18; }

// ---- axes and shapes ------------------------------------------------------------------------

struct ReducePlan {
  Shape kept;         // the input shape with every reduced dim set to 1
  Shape out;          // `kept`, or without the reduced dims when keepdims = 0
  int64_t group = 1;  // input elements folded into each output element
};

Result<bool> read_flag(const ir::Attributes& attrs, const char* name, int64_t dflt) {
  RATEL_ASSIGN_OR_RETURN(int64_t v, attrs.get_int(name, dflt));
  if (v != 0 && v != 1) return invalid_argument("attribute '{}' must be 0 or 1, got {}", name, v);
  return v == 1;
}

// `axes_input` is input 1's values, or nullptr when that input is absent.
Result<ReducePlan> plan_reduce(const ir::Attributes& attrs, int opset, Reduce op,
                               const std::vector<int64_t>* axes_input, const Shape& in) {
  const int since = axes_input_since(op);
  std::vector<int64_t> axes;
  bool noop_with_empty_axes = false;
  if (opset >= since) {
    if (attrs.has("axes")) {
      return invalid_argument("'axes' is input 1 from opset {}, not an attribute (opset {})", since,
                              opset);
    }
    if (axes_input) axes = *axes_input;
    RATEL_ASSIGN_OR_RETURN(noop_with_empty_axes, read_flag(attrs, "noop_with_empty_axes", 0));
  } else {
    if (axes_input) {
      return invalid_argument("'axes' is an attribute before opset {}, not an input (opset {})",
                              since, opset);
    }
    if (attrs.has("noop_with_empty_axes")) {
      RATEL_RETURN_IF_ERROR(require_opset(opset, since, "attribute 'noop_with_empty_axes'"));
    }
    RATEL_ASSIGN_OR_RETURN(axes, attrs.get_ints("axes"));
  }
  RATEL_ASSIGN_OR_RETURN(bool keepdims, read_flag(attrs, "keepdims", 1));
  const int rank = static_cast<int>(in.size());
  std::vector<bool> reduced(in.size(), axes.empty() && !noop_with_empty_axes);
  RATEL_ASSIGN_OR_RETURN(std::vector<int> normalized, normalize_axes(axes, rank));
  for (int a : normalized) reduced[static_cast<size_t>(a)] = true;

  ReducePlan p;
  for (size_t d = 0; d < in.size(); ++d) {
    p.kept.push_back(reduced[d] ? 1 : in[d]);
    if (reduced[d]) p.group *= in[d];
    if (!reduced[d] || keepdims) p.out.push_back(p.kept.back());
  }
  return p;
}

Result<ReducePlan> plan_reduce_for(const InferContext& ctx, Reduce op) {
  std::vector<int64_t> axes;
  const bool has_axes = ctx.has_input(1);
  if (has_axes && ctx.opset() >= axes_input_since(op)) {
    RATEL_ASSIGN_OR_RETURN(axes, ctx.input_ints(1));
  }
  return plan_reduce(ctx.attrs(), ctx.opset(), op, has_axes ? &axes : nullptr, ctx.input_shape(0));
}

template <Reduce kOp>
Status infer_reduce(InferContext& ctx) {
  if (ctx.num_inputs() < 1 || ctx.num_inputs() > 2 || !ctx.has_input(0)) {
    return invalid_argument("expects the data input and optionally axes, got {} inputs",
                            ctx.num_inputs());
  }
  if (!dtype_in<NumericTypes>(ctx.input_dtype(0))) {
    return unsupported("input type {} is not accepted", dtype_name(ctx.input_dtype(0)));
  }
  RATEL_ASSIGN_OR_RETURN(ReducePlan p, plan_reduce_for(ctx, kOp));
  ctx.set_output(0, ctx.input_dtype(0), std::move(p.out));
  return Status::Ok();
}

// ---- kernels --------------------------------------------------------------------------------

// Calls fn(input_index, output_index) for every input element; output_index is the group.
template <typename Fn>
void for_each_in_group(const Shape& in, const ReducePlan& p, Fn&& fn) {
  for_each_broadcast<1>(in, {&p.kept}, [&](int64_t i, const std::array<int64_t, 1>& off) {
    fn(i, static_cast<size_t>(off[0]));
  });
}

// Floats (and integer L2/LogSum/LogSumExp): every element read as double, folded in double.
template <Reduce kOp, typename T>
void reduce_in_double(const Tensor& in, const ReducePlan& p, Tensor& out) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const T* px = in.data<T>();
  auto x_at = [px](int64_t i) { return static_cast<double>(Arith<T>::load(px[i])); };
  const size_t n_out = static_cast<size_t>(numel(p.kept));

  // Max and Min take NaN as the result as soon as one appears, as numpy does. LogSumExp needs
  // each group's max before it can sum exp(x - max) without overflow.
  std::vector<double> group_max;
  if constexpr (kOp == Reduce::kLogSumExp || kOp == Reduce::kMax) {
    group_max.assign(n_out, -kInf);
    for_each_in_group(in.shape(), p, [&](int64_t i, size_t o) {
      const double x = x_at(i);
      if (x > group_max[o] || std::isnan(x)) group_max[o] = x;
    });
  }
  double init = 0;
  if constexpr (kOp == Reduce::kMin) init = kInf;
  if constexpr (kOp == Reduce::kProd) init = 1;
  std::vector<double> acc(n_out, init);
  if constexpr (kOp != Reduce::kMax) {
    for_each_in_group(in.shape(), p, [&](int64_t i, size_t o) {
      const double x = x_at(i);
      double& a = acc[o];
      if constexpr (kOp == Reduce::kMin) {
        if (x < a || std::isnan(x)) a = x;
      } else if constexpr (kOp == Reduce::kProd) {
        a *= x;
      } else if constexpr (kOp == Reduce::kSumSquare || kOp == Reduce::kL2) {
        a += x * x;
      } else if constexpr (kOp == Reduce::kL1) {
        a += std::fabs(x);
      } else if constexpr (kOp == Reduce::kLogSumExp) {
        a += std::exp(x - group_max[o]);
      } else {
        a += x;  // Sum, Mean, LogSum
      }
    });
  }

  T* po = out.mutable_data<T>();
  for (size_t o = 0; o < n_out; ++o) {
    double r = acc[o];
    if constexpr (kOp == Reduce::kMax) r = group_max[o];
    if constexpr (kOp == Reduce::kMean) r /= static_cast<double>(p.group);
    if constexpr (kOp == Reduce::kL2) r = std::sqrt(r);
    if constexpr (kOp == Reduce::kLogSum) r = std::log(r);
    if constexpr (kOp == Reduce::kLogSumExp) {
      // An infinite max decides the result alone (x - max would be NaN); an empty or all -inf
      // group is -inf, log of an empty sum.
      const double m = group_max[o];
      r = std::isinf(m) ? m : m + std::log(r);
    }
    if constexpr (std::is_integral_v<T>) {
      po[o] = saturate_cast_float<T>(r);
    } else {
      po[o] = float_from_double<T>(r);
    }
  }
}

// Integer Sum/Mean/Prod/SumSquare/L1 (wrapping, in uint64) and Max/Min (exact).
template <Reduce kOp, typename T>
void reduce_integer(const Tensor& in, const ReducePlan& p, Tensor& out) {
  constexpr bool kMinMax = kOp == Reduce::kMax || kOp == Reduce::kMin;
  // uint64 arithmetic is modulo 2^64, and its low bits are the wrapped result in T.
  using A = std::conditional_t<kMinMax, T, uint64_t>;
  A init = 0;
  if constexpr (kOp == Reduce::kMax) init = std::numeric_limits<T>::lowest();
  if constexpr (kOp == Reduce::kMin) init = std::numeric_limits<T>::max();
  if constexpr (kOp == Reduce::kProd) init = 1;
  std::vector<A> acc(static_cast<size_t>(numel(p.kept)), init);
  const T* px = in.data<T>();
  for_each_in_group(in.shape(), p, [&](int64_t i, size_t o) {
    const T v = px[i];
    A& a = acc[o];
    if constexpr (kMinMax) {
      if (kOp == Reduce::kMax ? v > a : v < a) a = v;
    } else {
      const uint64_t x = static_cast<uint64_t>(v);  // sign-extended modulo 2^64
      if constexpr (kOp == Reduce::kProd) {
        a *= x;
      } else if constexpr (kOp == Reduce::kSumSquare) {
        a += x * x;
      } else if constexpr (kOp == Reduce::kL1 && std::is_signed_v<T>) {
        a += v < 0 ? 0 - x : x;
      } else {
        a += x;  // Sum, Mean, and L1 of unsigned values
      }
    }
  });
  T* po = out.mutable_data<T>();
  for (size_t o = 0; o < acc.size(); ++o) {
    if constexpr (kOp == Reduce::kMean) {
      if (p.group == 0) {
        po[o] = 0;
      } else if constexpr (std::is_signed_v<T>) {
        po[o] = static_cast<T>(static_cast<int64_t>(acc[o]) / p.group);
      } else {
        po[o] = static_cast<T>(acc[o] / static_cast<uint64_t>(p.group));
      }
    } else {
      po[o] = static_cast<T>(acc[o]);
    }
  }
}

template <Reduce kOp>
Status compute_reduce(KernelContext& ctx) {
  std::vector<int64_t> axes;
  const bool has_axes = ctx.has_input(1);
  if (has_axes) axes = ctx.input_ints(1);
  const Tensor& in = ctx.in(0);
  RATEL_ASSIGN_OR_RETURN(ReducePlan p,
                         plan_reduce(ctx.attrs(), ctx.opset(), kOp, has_axes ? &axes : nullptr,
                                     in.shape()));
  return dispatch<NumericTypes>(in.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    constexpr bool kNeedsReal =
        kOp == Reduce::kL2 || kOp == Reduce::kLogSum || kOp == Reduce::kLogSumExp;
    if constexpr (std::is_integral_v<T> && !kNeedsReal) {
      reduce_integer<kOp, T>(in, p, ctx.out(0));
    } else {
      reduce_in_double<kOp, T>(in, p, ctx.out(0));
    }
    return Status::Ok();
  });
}

// ---- ArgMax / ArgMin ------------------------------------------------------------------------

struct ArgPlan {
  int axis = 0;
  bool keepdims = true;
  bool select_last_index = false;
};

Result<ArgPlan> plan_arg(const ir::Attributes& attrs, int opset, const Shape& in) {
  ArgPlan p;
  RATEL_ASSIGN_OR_RETURN(int64_t axis, attrs.get_int("axis", 0));
  RATEL_ASSIGN_OR_RETURN(p.axis, normalize_axis(axis, static_cast<int>(in.size())));
  RATEL_ASSIGN_OR_RETURN(p.keepdims, read_flag(attrs, "keepdims", 1));
  if (attrs.has("select_last_index")) {
    RATEL_RETURN_IF_ERROR(require_opset(opset, 12, "attribute 'select_last_index'"));
  }
  RATEL_ASSIGN_OR_RETURN(p.select_last_index, read_flag(attrs, "select_last_index", 0));
  if (in[static_cast<size_t>(p.axis)] == 0) {
    return invalid_argument("axis {} of shape {} is empty: there is no extremum to index",
                            p.axis, shape_str(in));
  }
  return p;
}

Status infer_arg(InferContext& ctx) {
  if (ctx.num_inputs() != 1 || !ctx.has_input(0)) {
    return invalid_argument("expects 1 input, got {}", ctx.num_inputs());
  }
  if (!dtype_in<NumericTypes>(ctx.input_dtype(0))) {
    return unsupported("input type {} is not accepted", dtype_name(ctx.input_dtype(0)));
  }
  RATEL_ASSIGN_OR_RETURN(ArgPlan p, plan_arg(ctx.attrs(), ctx.opset(), ctx.input_shape(0)));
  Shape out = ctx.input_shape(0);
  if (p.keepdims) {
    out[static_cast<size_t>(p.axis)] = 1;
  } else {
    out.erase(out.begin() + p.axis);
  }
  ctx.set_output(0, DType::kI64, std::move(out));
  return Status::Ok();
}

// Index of the max (kMax) or min along the axis. Ties go to the first index, or the last with
// select_last_index. NaN counts as the extremum either way, as in numpy.
template <bool kMax>
Status compute_arg(KernelContext& ctx) {
  const Tensor& in = ctx.in(0);
  RATEL_ASSIGN_OR_RETURN(ArgPlan p, plan_arg(ctx.attrs(), ctx.opset(), in.shape()));
  const int64_t outer = dims_product(in.shape(), 0, p.axis);
  const int64_t n = in.dim(p.axis);
  const int64_t inner = dims_product(in.shape(), p.axis + 1, in.rank());
  int64_t* po = ctx.out(0).mutable_data<int64_t>();
  return dispatch<NumericTypes>(in.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    using A = typename Arith<T>::type;
    const T* px = in.data<T>();
    auto better = [&](A v, A best) {
      if constexpr (std::is_floating_point_v<A>) {
        if (std::isnan(best)) return p.select_last_index && std::isnan(v);
        if (std::isnan(v)) return true;
      }
      if (p.select_last_index) return kMax ? v >= best : v <= best;
      return kMax ? v > best : v < best;
    };
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        const T* line = px + o * n * inner + i;
        A best = Arith<T>::load(line[0]);
        int64_t best_j = 0;
        for (int64_t j = 1; j < n; ++j) {
          const A v = Arith<T>::load(line[j * inner]);
          if (better(v, best)) {
            best = v;
            best_j = j;
          }
        }
        po[o * inner + i] = best_j;
      }
    }
    return Status::Ok();
  });
}

}  // namespace

void register_reduce_ops(OpRegistry& r) {
  r.add({"", "ReduceSum", infer_reduce<Reduce::kSum>, compute_reduce<Reduce::kSum>});
  r.add({"", "ReduceMean", infer_reduce<Reduce::kMean>, compute_reduce<Reduce::kMean>});
  r.add({"", "ReduceMax", infer_reduce<Reduce::kMax>, compute_reduce<Reduce::kMax>});
  r.add({"", "ReduceMin", infer_reduce<Reduce::kMin>, compute_reduce<Reduce::kMin>});
  r.add({"", "ReduceProd", infer_reduce<Reduce::kProd>, compute_reduce<Reduce::kProd>});
  r.add({"", "ReduceSumSquare", infer_reduce<Reduce::kSumSquare>,
         compute_reduce<Reduce::kSumSquare>});
  r.add({"", "ReduceL1", infer_reduce<Reduce::kL1>, compute_reduce<Reduce::kL1>});
  r.add({"", "ReduceL2", infer_reduce<Reduce::kL2>, compute_reduce<Reduce::kL2>});
  r.add({"", "ReduceLogSum", infer_reduce<Reduce::kLogSum>, compute_reduce<Reduce::kLogSum>});
  r.add({"", "ReduceLogSumExp", infer_reduce<Reduce::kLogSumExp>,
         compute_reduce<Reduce::kLogSumExp>});
  r.add({"", "ArgMax", infer_arg, compute_arg<true>});
  r.add({"", "ArgMin", infer_arg, compute_arg<false>});
}

}  // namespace ratel::ops
