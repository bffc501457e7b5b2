// Softmax, LogSoftmax and LayerNormalization reference kernels.
//
// Everything is computed in double from the stored values and rounded once on store, so the
// reference is more accurate than the float kernels it judges: exp(x - max) never overflows,
// and LayerNormalization's two-pass variance (mean first, then Σ(x - mean)²) does not cancel the
// way E[x²] - E[x]² does.
#include <cmath>
#include <limits>
#include <vector>

#include "ops/op.h"
#include "ops/op_util.h"

namespace ratel::ops {

namespace {

Status check_float_input(const InferContext& ctx, size_t i) {
  const DType t = ctx.input_dtype(i);
  if (!dtype_is_float(t)) {
    return unsupported("input {} has type {}; only float types are accepted", i, dtype_name(t));
  }
  if (t == DType::kBF16 && ctx.opset() < 13) {
    return unsupported("bf16 inputs need opset 13 or later; the model imports opset {}",
                       ctx.opset());
  }
  return Status::Ok();
}

// ---- Softmax / LogSoftmax -------------------------------------------------------------------

// The input as [outer, n, inner]; the op normalizes over n.
struct SoftmaxPlan {
  int64_t outer = 1, n = 1, inner = 1;
};

// Before opset 13 the input is coerced to 2-D at `axis` (default 1) and normalized over the
// whole second half, [d0..d(axis-1)] x [d(axis)..]. From 13 on it is one axis (default -1).
Result<SoftmaxPlan> plan_softmax(const ir::Attributes& attrs, int opset, const Shape& shape) {
  const bool coerce_2d = opset < 13;
  const int rank = static_cast<int>(shape.size());
  RATEL_ASSIGN_OR_RETURN(int64_t axis_attr, attrs.get_int("axis", coerce_2d ? 1 : -1));
  RATEL_ASSIGN_OR_RETURN(int axis, normalize_axis(axis_attr, rank));
  SoftmaxPlan p;
  p.outer = dims_product(shape, 0, axis);
  if (coerce_2d) {
    p.n = dims_product(shape, axis, rank);
  } else {
    p.n = shape[static_cast<size_t>(axis)];
    p.inner = dims_product(shape, axis + 1, rank);
  }
  return p;
}

Status infer_softmax(InferContext& ctx) {
  if (ctx.num_inputs() != 1 || !ctx.has_input(0)) {
    return invalid_argument("expects 1 input, got {}", ctx.num_inputs());
  }
  RATEL_RETURN_IF_ERROR(check_float_input(ctx, 0));
  RATEL_RETURN_IF_ERROR(plan_softmax(ctx.attrs(), ctx.opset(), ctx.input_shape(0)).status());
  ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
  return Status::Ok();
}

// softmax(x) = exp(x - max) / Σ exp(x - max); log_softmax(x) = (x - max) - log Σ exp(x - max).
// A NaN anywhere in a line makes the whole line NaN, as in ONNX's numpy reference.
template <bool kLog>
Status compute_softmax(KernelContext& ctx) {
  const Tensor& x = ctx.in(0);
  Tensor& out = ctx.out(0);
  RATEL_ASSIGN_OR_RETURN(SoftmaxPlan p, plan_softmax(ctx.attrs(), ctx.opset(), x.shape()));
  return dispatch<FloatTypes>(x.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* po = out.mutable_data<T>();
    std::vector<double> shifted(static_cast<size_t>(p.n));
    for (int64_t o = 0; o < p.outer; ++o) {
      for (int64_t i = 0; i < p.inner; ++i) {
        const int64_t base = o * p.n * p.inner + i;
        double max = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < p.n; ++j) {
          const double v = static_cast<double>(Arith<T>::load(px[base + j * p.inner]));
          if (v > max || std::isnan(v)) max = v;
          shifted[static_cast<size_t>(j)] = v;
        }
        double sum = 0;
        for (double& v : shifted) {
          v -= max;
          sum += std::exp(v);
        }
        const double log_sum = std::log(sum);
        for (int64_t j = 0; j < p.n; ++j) {
          const double v = shifted[static_cast<size_t>(j)];
          const double r = kLog ? v - log_sum : std::exp(v) / sum;
          po[base + j * p.inner] = float_from_double<T>(r);
        }
      }
    }
    return Status::Ok();
  });
}

// ---- LayerNormalization ---------------------------------------------------------------------

struct LayerNormPlan {
  int axis = 0;
  int64_t rows = 1, row_size = 1;  // X as [rows, row_size], normalized along each row
  double epsilon = 1e-5;
  DType stash = DType::kF32;  // type of the Mean and InvStdDev outputs
};

Result<LayerNormPlan> plan_layer_norm(const ir::Attributes& attrs, const Shape& x) {
  LayerNormPlan p;
  const int rank = static_cast<int>(x.size());
  RATEL_ASSIGN_OR_RETURN(int64_t axis, attrs.get_int("axis", -1));
  RATEL_ASSIGN_OR_RETURN(p.axis, normalize_axis(axis, rank));
  RATEL_ASSIGN_OR_RETURN(float epsilon, attrs.get_float("epsilon", 1e-5f));
  if (!(epsilon >= 0)) return invalid_argument("attribute 'epsilon' must be >= 0, got {}", epsilon);
  p.epsilon = epsilon;
  // stash_type is an ONNX type code; opset 17 allows float (1) and bfloat16 (16).
  RATEL_ASSIGN_OR_RETURN(int64_t stash, attrs.get_int("stash_type", 1));
  if (stash == 1) {
    p.stash = DType::kF32;
  } else if (stash == 16) {
    p.stash = DType::kBF16;
  } else {
    return invalid_argument("attribute 'stash_type' must be 1 (FLOAT) or 16 (BFLOAT16), got {}",
                            onnx_type_code_name(stash));
  }
  p.rows = dims_product(x, 0, p.axis);
  p.row_size = dims_product(x, p.axis, rank);
  return p;
}

// Scale and B broadcast one way onto X (usually they have X's normalized shape, X.shape[axis:]).
Status check_affine_input(const InferContext& ctx, size_t i, const char* name) {
  RATEL_RETURN_IF_ERROR(check_float_input(ctx, i));
  if (ctx.input_dtype(i) != ctx.input_dtype(0)) {
    return invalid_argument("{} has type {}, X has {}", name, dtype_name(ctx.input_dtype(i)),
                            dtype_name(ctx.input_dtype(0)));
  }
  const Shape& x = ctx.input_shape(0);
  auto b = broadcast_shapes(x, ctx.input_shape(i));
  if (!b.ok() || *b != x) {
    return invalid_argument("{} of shape {} cannot be broadcast to X's shape {}", name,
                            shape_str(ctx.input_shape(i)), shape_str(x));
  }
  return Status::Ok();
}

Status infer_layer_norm(InferContext& ctx) {
  RATEL_RETURN_IF_ERROR(require_opset(ctx.opset(), 17, "LayerNormalization"));
  const size_t n_in = ctx.num_inputs();
  if (n_in < 2 || n_in > 3 || !ctx.has_input(0) || !ctx.has_input(1)) {
    return invalid_argument("expects inputs X, Scale and optionally B, got {} inputs", n_in);
  }
  if (ctx.num_outputs() > 3) {
    return invalid_argument("has at most 3 outputs (Y, Mean, InvStdDev), got {}", ctx.num_outputs());
  }
  RATEL_RETURN_IF_ERROR(check_float_input(ctx, 0));
  RATEL_RETURN_IF_ERROR(check_affine_input(ctx, 1, "Scale"));
  if (ctx.has_input(2)) RATEL_RETURN_IF_ERROR(check_affine_input(ctx, 2, "B"));
  const Shape& x = ctx.input_shape(0);
  RATEL_ASSIGN_OR_RETURN(LayerNormPlan p, plan_layer_norm(ctx.attrs(), x));
  ctx.set_output(0, ctx.input_dtype(0), x);
  // Mean and InvStdDev keep X's rank: X.shape[:axis] followed by ones.
  Shape stats = x;
  for (size_t d = static_cast<size_t>(p.axis); d < stats.size(); ++d) stats[d] = 1;
  for (size_t i = 1; i < ctx.num_outputs(); ++i) ctx.set_output(i, p.stash, stats);
  return Status::Ok();
}

// Y = (X - mean) / sqrt(var + epsilon) * Scale + B, per row.
Status compute_layer_norm(KernelContext& ctx) {
  const Tensor& x = ctx.in(0);
  const Tensor& scale = ctx.in(1);
  const Tensor* bias = ctx.has_input(2) ? &ctx.in(2) : nullptr;
  RATEL_ASSIGN_OR_RETURN(LayerNormPlan p, plan_layer_norm(ctx.attrs(), x.shape()));
  Tensor* mean_out = ctx.outputs.size() > 1 ? ctx.outputs[1] : nullptr;
  Tensor* inv_std_out = ctx.outputs.size() > 2 ? ctx.outputs[2] : nullptr;
  auto store_stat = [&](Tensor* t, int64_t row, double v) {
    if (!t) return;
    if (p.stash == DType::kF32) {
      t->mutable_data<float>()[row] = float_from_double<float>(v);
    } else {
      t->mutable_data<BFloat16>()[row] = float_from_double<BFloat16>(v);
    }
  };
  return dispatch<FloatTypes>(x.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    auto load = [](const T* ptr, int64_t i) { return static_cast<double>(Arith<T>::load(ptr[i])); };
    const T* px = x.data<T>();
    std::vector<double> normalized(static_cast<size_t>(x.numel()));
    const double n = static_cast<double>(p.row_size);
    for (int64_t r = 0; r < p.rows; ++r) {
      const int64_t base = r * p.row_size;
      double sum = 0;
      for (int64_t j = 0; j < p.row_size; ++j) sum += load(px, base + j);
      const double mean = sum / n;
      double squares = 0;
      for (int64_t j = 0; j < p.row_size; ++j) {
        const double d = load(px, base + j) - mean;
        squares += d * d;
      }
      const double inv_std = 1.0 / std::sqrt(squares / n + p.epsilon);
      for (int64_t j = 0; j < p.row_size; ++j) {
        normalized[static_cast<size_t>(base + j)] = (load(px, base + j) - mean) * inv_std;
      }
      store_stat(mean_out, r, mean);
      store_stat(inv_std_out, r, inv_std);
    }
    const T* ps = scale.data<T>();
    const T* pb = bias ? bias->data<T>() : nullptr;
    T* py = ctx.out(0).mutable_data<T>();
    // Without B, Scale's shape stands in for it; its offsets are then unused.
    const Shape& b_shape = bias ? bias->shape() : scale.shape();
    for_each_broadcast<2>(x.shape(), {&scale.shape(), &b_shape},
                          [&](int64_t i, const std::array<int64_t, 2>& off) {
                            double y = normalized[static_cast<size_t>(i)] * load(ps, off[0]);
                            if (pb) y += load(pb, off[1]);
                            py[i] = float_from_double<T>(y);
                          });
    return Status::Ok();
  });
}

}  // namespace

void register_normalization_ops(OpRegistry& r) {
  r.add({"", "Softmax", infer_softmax, compute_softmax<false>});
  r.add({"", "LogSoftmax", infer_softmax, compute_softmax<true>});
  r.add({"", "LayerNormalization", infer_layer_norm, compute_layer_norm});
}

}  // namespace ratel::ops
