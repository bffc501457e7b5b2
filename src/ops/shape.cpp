// Shape-only ops: ops that report a tensor's shape or re-label its dimensions without reordering
// its elements (Shape, Size, Reshape, Flatten, Squeeze, Unsqueeze, Identity, inference-mode
// Dropout). Their kernels are byte copies; all the work is in inference.
#include <algorithm>
#include <utility>

#include "ops/copy_util.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ratel::ops {

namespace {

Status expect_inputs(const InferContext& ctx, size_t min, size_t max) {
  if (ctx.num_inputs() < min || ctx.num_inputs() > max || !ctx.has_input(0)) {
    if (min == max) return invalid_argument("expects {} input(s), got {}", min, ctx.num_inputs());
    return invalid_argument("expects {} to {} inputs, got {}", min, max, ctx.num_inputs());
  }
  return Status::Ok();
}

Status reject_attr_before(const InferContext& ctx, const char* name, int since) {
  if (!ctx.attrs().has(name)) return Status::Ok();
  return require_opset(ctx.opset(), since, fmt::format("attribute '{}'", name));
}

// Shape and Size depend only on the input's static shape, never on its values, so their result
// is known at compile time even when the input is computed at run time. Recording it as the
// output's constant is what lets shape subgraphs (Shape->Gather->Concat->Reshape) fold into
// static shapes; graph-wide inference only folds nodes whose inputs are all constant.
void set_known_output(InferContext& ctx, size_t i, Tensor value) {
  ir::Value* v = ctx.node().outputs[i];
  if (v) v->constant = std::move(value);
}

// ---- Shape, Size -----------------------------------------------------------------------------

// The [start, end) range of dimensions Shape reports: all of them before opset 15, then the
// `start`/`end` attributes, negative counting from the back and clamped to [0, rank].
Result<std::pair<int64_t, int64_t>> shape_range(const ir::Attributes& attrs, int opset, int rank) {
  if (opset < 15) return std::pair<int64_t, int64_t>{0, rank};
  RATEL_ASSIGN_OR_RETURN(int64_t start, attrs.get_int("start", 0));
  RATEL_ASSIGN_OR_RETURN(int64_t end, attrs.get_int("end", rank));
  auto clamp = [rank](int64_t v) {
    if (v < 0) v = v < -rank ? 0 : v + rank;
    return std::min<int64_t>(v, rank);
  };
  start = clamp(start);
  end = std::max(clamp(end), start);  // an empty range gives an empty shape, not an error
  return std::pair<int64_t, int64_t>{start, end};
}

Tensor shape_values(const Shape& shape, int64_t start, int64_t end) {
  std::vector<int64_t> dims(shape.begin() + start, shape.begin() + end);
  const auto n = static_cast<int64_t>(dims.size());
  return Tensor::from_vector<int64_t>(dims, {n});
}

Status infer_shape(InferContext& ctx) {
  RATEL_RETURN_IF_ERROR(expect_inputs(ctx, 1, 1));
  RATEL_RETURN_IF_ERROR(reject_attr_before(ctx, "start", 15));
  RATEL_RETURN_IF_ERROR(reject_attr_before(ctx, "end", 15));
  RATEL_ASSIGN_OR_RETURN(auto range, shape_range(ctx.attrs(), ctx.opset(), ctx.input_rank(0)));
  ctx.set_output(0, DType::kI64, {range.second - range.first});
  set_known_output(ctx, 0, shape_values(ctx.input_shape(0), range.first, range.second));
  return Status::Ok();
}

Status compute_shape(KernelContext& ctx) {
  const Shape& shape = ctx.in(0).shape();
  RATEL_ASSIGN_OR_RETURN(auto range, shape_range(ctx.attrs(), ctx.opset(), static_cast<int>(shape.size())));
  int64_t* out = ctx.out(0).mutable_data<int64_t>();
  for (int64_t d = range.first; d < range.second; ++d) out[d - range.first] = shape[static_cast<size_t>(d)];
  return Status::Ok();
}

Status infer_size(InferContext& ctx) {
  RATEL_RETURN_IF_ERROR(expect_inputs(ctx, 1, 1));
  ctx.set_output(0, DType::kI64, {});
  set_known_output(ctx, 0, Tensor::scalar<int64_t>(numel(ctx.input_shape(0))));
  return Status::Ok();
}

Status compute_size(KernelContext& ctx) {
  ctx.out(0).mutable_data<int64_t>()[0] = ctx.in(0).numel();
  return Status::Ok();
}

// ---- Reshape, Flatten, Squeeze, Unsqueeze, Identity: inference only, then a copy -------------

Status compute_copy(KernelContext& ctx) {
  copy_all(ctx.in(0), ctx.out(0));
  return Status::Ok();
}

// Reshape's target: 0 copies the input's dimension at that position (unless allowzero, where 0
// is a literal 0), one -1 takes whatever element count is left.
Result<Shape> reshape_target(const Shape& in, const std::vector<int64_t>& requested, bool allowzero) {
  Shape out(requested.size());
  int inferred = -1;
  bool has_zero = false;
  for (size_t i = 0; i < requested.size(); ++i) {
    const int64_t d = requested[i];
    if (d == -1) {
      if (inferred >= 0) {
        return invalid_argument("shape {} has more than one -1", shape_str(requested));
      }
      inferred = static_cast<int>(i);
      out[i] = 1;  // placeholder, so the product below counts the other dims
    } else if (d < -1) {
      return invalid_argument("shape {} has the invalid dimension {}", shape_str(requested), d);
    } else if (d == 0 && !allowzero) {
      if (i >= in.size()) {
        return invalid_argument(
            "shape {}: dimension {} is 0 (copy the input's dimension) but the input {} has only "
            "{} dimensions",
            shape_str(requested), i, shape_str(in), in.size());
      }
      out[i] = in[i];
    } else {
      has_zero = has_zero || d == 0;
      out[i] = d;
    }
  }
  if (allowzero && has_zero && inferred >= 0) {
    return invalid_argument("shape {} has both 0 and -1, which allowzero=1 forbids", shape_str(requested));
  }
  RATEL_ASSIGN_OR_RETURN(const int64_t known, checked_numel(out));
  const int64_t total = numel(in);
  if (inferred >= 0) {
    if (known == 0 || total % known != 0) {
      return invalid_argument("cannot reshape {} ({} elements) into {}: the -1 has no integer solution",
                              shape_str(in), total, shape_str(requested));
    }
    out[static_cast<size_t>(inferred)] = total / known;
  } else if (known != total) {
    return invalid_argument("cannot reshape {} ({} elements) into {} ({} elements)", shape_str(in),
                            total, shape_str(out), known);
  }
  return out;
}

Status infer_reshape(InferContext& ctx) {
  RATEL_RETURN_IF_ERROR(expect_inputs(ctx, 2, 2));
  RATEL_RETURN_IF_ERROR(reject_attr_before(ctx, "allowzero", 14));
  RATEL_ASSIGN_OR_RETURN(const int64_t allowzero, ctx.attrs().get_int("allowzero", 0));
  RATEL_ASSIGN_OR_RETURN(const std::vector<int64_t> requested, ctx.input_ints(1));
  if (ctx.input_rank(1) != 1) {
    return invalid_argument("the shape input must be 1-D, got shape {}", shape_str(ctx.input_shape(1)));
  }
  RATEL_ASSIGN_OR_RETURN(Shape out, reshape_target(ctx.input_shape(0), requested, allowzero != 0));
  ctx.set_output(0, ctx.input_dtype(0), std::move(out));
  return Status::Ok();
}

Status infer_flatten(InferContext& ctx) {
  RATEL_RETURN_IF_ERROR(expect_inputs(ctx, 1, 1));
  const Shape& in = ctx.input_shape(0);
  const int rank = ctx.input_rank(0);
  RATEL_ASSIGN_OR_RETURN(const int64_t axis_attr, ctx.attrs().get_int("axis", 1));
  // axis is in [-rank, rank]: rank itself is allowed (everything goes to the first dimension).
  if (axis_attr < -rank || axis_attr > rank) {
    return invalid_argument("axis {} is out of range [{}, {}] for input shape {}", axis_attr, -rank,
                            rank, shape_str(in));
  }
  const int axis = static_cast<int>(axis_attr < 0 ? axis_attr + rank : axis_attr);
  ctx.set_output(0, ctx.input_dtype(0), {dims_product(in, 0, axis), dims_product(in, axis, rank)});
  return Status::Ok();
}

// Squeeze/Unsqueeze `axes`: an attribute before opset 13, an int64 input from 13 (which, being
// shape-defining, must be known at compile time). `present` is false when it is omitted.
struct AxesArg {
  bool present = false;
  std::vector<int64_t> values;
};

Result<AxesArg> read_axes(const InferContext& ctx) {
  AxesArg axes;
  if (ctx.opset() < 13) {
    if (ctx.num_inputs() > 1) {
      return invalid_argument("axes is an attribute before opset 13, not an input (model opset {})",
                              ctx.opset());
    }
    axes.present = ctx.attrs().has("axes");
    RATEL_ASSIGN_OR_RETURN(axes.values, ctx.attrs().get_ints("axes"));
  } else {
    if (ctx.attrs().has("axes")) {
      return invalid_argument("axes is an input from opset 13, not an attribute (model opset {})",
                              ctx.opset());
    }
    axes.present = ctx.has_input(1);
    if (axes.present) {
      RATEL_ASSIGN_OR_RETURN(axes.values, ctx.input_ints(1));
    }
  }
  return axes;
}

Status infer_squeeze(InferContext& ctx) {
  RATEL_RETURN_IF_ERROR(expect_inputs(ctx, 1, 2));
  RATEL_ASSIGN_OR_RETURN(const AxesArg axes, read_axes(ctx));
  const Shape& in = ctx.input_shape(0);
  std::vector<bool> drop(in.size(), false);
  // No axes (or an empty list, as ONNX Runtime reads it): remove every dimension of size 1.
  if (!axes.present || axes.values.empty()) {
    for (size_t d = 0; d < in.size(); ++d) drop[d] = in[d] == 1;
  } else {
    RATEL_ASSIGN_OR_RETURN(const std::vector<int> normalized, normalize_axes(axes.values, ctx.input_rank(0)));
    for (int d : normalized) {
      if (in[static_cast<size_t>(d)] != 1) {
        return invalid_argument("cannot squeeze axis {} of shape {}: its size is {}, not 1", d,
                                shape_str(in), in[static_cast<size_t>(d)]);
      }
      drop[static_cast<size_t>(d)] = true;
    }
  }
  Shape out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (!drop[d]) out.push_back(in[d]);
  }
  ctx.set_output(0, ctx.input_dtype(0), std::move(out));
  return Status::Ok();
}

Status infer_unsqueeze(InferContext& ctx) {
  RATEL_RETURN_IF_ERROR(expect_inputs(ctx, 1, 2));
  RATEL_ASSIGN_OR_RETURN(const AxesArg axes, read_axes(ctx));
  if (!axes.present) return invalid_argument("Unsqueeze needs axes");
  const Shape& in = ctx.input_shape(0);
  // Axes index the output, whose rank is the input's plus one per inserted axis.
  const int out_rank = ctx.input_rank(0) + static_cast<int>(axes.values.size());
  RATEL_ASSIGN_OR_RETURN(const std::vector<int> normalized, normalize_axes(axes.values, out_rank));
  std::vector<bool> inserted(static_cast<size_t>(out_rank), false);
  for (int d : normalized) inserted[static_cast<size_t>(d)] = true;
  Shape out;
  size_t next_in = 0;
  for (size_t d = 0; d < inserted.size(); ++d) out.push_back(inserted[d] ? 1 : in[next_in++]);
  ctx.set_output(0, ctx.input_dtype(0), std::move(out));
  return Status::Ok();
}

Status infer_identity(InferContext& ctx) {
  RATEL_RETURN_IF_ERROR(expect_inputs(ctx, 1, 1));
  ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
  return Status::Ok();
}

// ---- Dropout (inference mode only) ----------------------------------------------------------

// The mask's type: the data's type in opsets 7-9, bool from opset 10 on.
DType dropout_mask_dtype(int opset, DType data) { return opset < 10 ? data : DType::kBool; }

Status check_ratio(double ratio) {
  if (!(ratio >= 0.0 && ratio < 1.0)) {
    return invalid_argument("ratio {} is outside [0, 1)", ratio);
  }
  return Status::Ok();
}

Status infer_dropout(InferContext& ctx) {
  const DType dtype = ctx.input_dtype(0);
  if (ctx.opset() < 12) {
    RATEL_RETURN_IF_ERROR(expect_inputs(ctx, 1, 1));
    RATEL_ASSIGN_OR_RETURN(const float ratio, ctx.attrs().get_float("ratio", 0.5f));
    RATEL_RETURN_IF_ERROR(check_ratio(ratio));
  } else {
    RATEL_RETURN_IF_ERROR(expect_inputs(ctx, 1, 3));
    if (ctx.attrs().has("ratio")) {
      return invalid_argument("ratio is an input from opset 12, not an attribute (model opset {})",
                              ctx.opset());
    }
    if (const Tensor* ratio = ctx.input_constant(1)) {
      if (!dtype_is_float(ratio->dtype()) || ratio->numel() != 1) {
        return invalid_argument("ratio must be a float scalar, got {} {}", dtype_name(ratio->dtype()),
                                shape_str(ratio->shape()));
      }
      RATEL_RETURN_IF_ERROR(check_ratio(ratio->get_as_double(0)));
    }
    if (ctx.has_input(2)) {
      // Training mode draws a random mask; Ratel is an inference engine and refuses rather than
      // silently running the inference behaviour.
      const Tensor* training = ctx.input_constant(2);
      if (!training) {
        return unsupported("training_mode must be known at compile time (Ratel runs inference only)");
      }
      if (training->dtype() != DType::kBool || training->numel() != 1) {
        return invalid_argument("training_mode must be a bool scalar, got {} {}",
                                dtype_name(training->dtype()), shape_str(training->shape()));
      }
      if (training->data<bool>()[0]) {
        return unsupported("Dropout with training_mode=true is not supported (Ratel runs inference "
                           "only; export the model in eval mode)");
      }
    }
  }
  if (!dtype_is_float(dtype)) {
    return unsupported("Dropout takes float data, got {}", dtype_name(dtype));
  }
  if (ctx.num_outputs() < 1 || ctx.num_outputs() > 2) {
    return invalid_argument("expects 1 or 2 outputs, got {}", ctx.num_outputs());
  }
  ctx.set_output(0, dtype, ctx.input_shape(0));
  if (ctx.num_outputs() > 1) ctx.set_output(1, dropout_mask_dtype(ctx.opset(), dtype), ctx.input_shape(0));
  return Status::Ok();
}

// In inference mode Dropout is the identity and keeps every element: the mask is all ones.
Status compute_dropout(KernelContext& ctx) {
  copy_all(ctx.in(0), ctx.out(0));
  if (ctx.outputs.size() < 2 || ctx.outputs[1] == nullptr) return Status::Ok();
  Tensor& mask = ctx.out(1);
  return dispatch<AllTypes>(mask.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    const T one = Arith<T>::store(static_cast<typename Arith<T>::type>(1));
    return fill_with(mask, &one);
  });
}

}  // namespace

void register_shape_ops(OpRegistry& r) {
  r.add({"", "Shape", infer_shape, compute_shape});
  r.add({"", "Size", infer_size, compute_size});
  r.add({"", "Reshape", infer_reshape, compute_copy});
  r.add({"", "Flatten", infer_flatten, compute_copy});
  r.add({"", "Squeeze", infer_squeeze, compute_copy});
  r.add({"", "Unsqueeze", infer_unsqueeze, compute_copy});
  r.add({"", "Identity", infer_identity, compute_copy});
  r.add({"", "Dropout", infer_dropout, compute_dropout});
}

}  // namespace ratel::ops
