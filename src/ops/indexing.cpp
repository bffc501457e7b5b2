// Indexing ops: Slice, Gather, GatherElements. Every index read from data is bounds-checked
// before it is used; an out-of-range index is an error naming the value and the axis size.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>

#include "ops/copy_util.h"
#include "ops/indexing.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ratel::ops {

namespace {

// ---- Slice -----------------------------------------------------------------------------------

struct SliceArgs {
  std::vector<int64_t> starts, ends, axes, steps;
  bool has_axes = false, has_steps = false;
};

// The part of the input a Slice reads, as a strided view: output shape, offset of the first
// element and the input stride of each output dimension.
struct SliceView {
  Shape shape;
  int64_t base = 0;
  std::vector<int64_t> strides;
};

// Per ONNX: negative starts/ends count from the back, then clamp to [0, dim] for positive
// steps and to [0, dim-1] / [-1, dim-1] for negative ones (so INT64_MAX and INT64_MIN mean
// "to the end" in either direction).
Result<SliceView> resolve_slice(const Shape& in, const SliceArgs& args) {
  const size_t n = args.starts.size();
  if (args.ends.size() != n || (args.has_axes && args.axes.size() != n) ||
      (args.has_steps && args.steps.size() != n)) {
    return invalid_argument("starts, ends, axes and steps must have the same length, got {}, {}, {}, {}",
                            n, args.ends.size(), args.has_axes ? args.axes.size() : n,
                            args.has_steps ? args.steps.size() : n);
  }
  const int rank = static_cast<int>(in.size());
  std::vector<int> axes(n);
  if (args.has_axes) {
    RATEL_ASSIGN_OR_RETURN(axes, normalize_axes(args.axes, rank));
  } else {
    if (static_cast<int64_t>(n) > rank) {
      return invalid_argument("{} starts given for an input of rank {}", n, rank);
    }
    for (size_t i = 0; i < n; ++i) axes[i] = static_cast<int>(i);
  }
  SliceView view;
  view.shape = in;
  view.strides = contiguous_strides(in);
  for (size_t i = 0; i < n; ++i) {
    const auto axis = static_cast<size_t>(axes[i]);
    const int64_t dim = in[axis];
    const int64_t step = args.has_steps ? args.steps[i] : 1;
    if (step == 0) return invalid_argument("step of axis {} is 0", axes[i]);
    int64_t start = args.starts[i];
    int64_t end = args.ends[i];
    if (start < 0) start = start < -dim ? -1 : start + dim;  // -1: before the first element
    if (end < 0) end = end < -dim ? -1 : end + dim;
    int64_t count = 0;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
      if (end > start) count = (end - start - 1) / step + 1;
    } else if (dim > 0) {
      start = std::clamp<int64_t>(start, 0, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
      // |step| as unsigned: -INT64_MIN does not fit in int64.
      const uint64_t magnitude = 0 - static_cast<uint64_t>(step);
      if (start > end) count = static_cast<int64_t>(static_cast<uint64_t>(start - end - 1) / magnitude + 1);
    }
    view.shape[axis] = count;
    if (count > 0) view.base += start * view.strides[axis];
    // With one element the step is never taken; normalizing it keeps a huge step from
    // overflowing the stride product.
    view.strides[axis] *= count > 1 ? step : 1;
  }
  return view;
}

Status infer_slice(InferContext& ctx) {
  SliceArgs args;
  if (ctx.opset() < 10) {
    if (ctx.num_inputs() != 1 || !ctx.has_input(0)) {
      return invalid_argument("expects 1 input before opset 10 (starts/ends are attributes), got {}",
                              ctx.num_inputs());
    }
    if (!ctx.attrs().has("starts") || !ctx.attrs().has("ends")) {
      return invalid_argument("the starts and ends attributes are required");
    }
    RATEL_ASSIGN_OR_RETURN(args.starts, ctx.attrs().get_ints("starts"));
    RATEL_ASSIGN_OR_RETURN(args.ends, ctx.attrs().get_ints("ends"));
    args.has_axes = ctx.attrs().has("axes");
    RATEL_ASSIGN_OR_RETURN(args.axes, ctx.attrs().get_ints("axes"));
  } else {
    if (ctx.num_inputs() < 3 || ctx.num_inputs() > 5 || !ctx.has_input(0)) {
      return invalid_argument("expects 3 to 5 inputs (data, starts, ends, axes, steps), got {}",
                              ctx.num_inputs());
    }
    for (const char* name : {"starts", "ends", "axes"}) {
      if (ctx.attrs().has(name)) {
        return invalid_argument("{} is an input from opset 10, not an attribute (model opset {})", name,
                                ctx.opset());
      }
    }
    RATEL_ASSIGN_OR_RETURN(args.starts, ctx.input_ints(1));
    RATEL_ASSIGN_OR_RETURN(args.ends, ctx.input_ints(2));
    args.has_axes = ctx.has_input(3);
    if (args.has_axes) {
      RATEL_ASSIGN_OR_RETURN(args.axes, ctx.input_ints(3));
    }
    args.has_steps = ctx.has_input(4);
    if (args.has_steps) {
      RATEL_ASSIGN_OR_RETURN(args.steps, ctx.input_ints(4));
    }
  }
  RATEL_ASSIGN_OR_RETURN(SliceView view, resolve_slice(ctx.input_shape(0), args));
  ctx.set_output(0, ctx.input_dtype(0), std::move(view.shape));
  return Status::Ok();
}

Status compute_slice(KernelContext& ctx) {
  SliceArgs args;
  if (ctx.opset() < 10) {
    args.starts = *ctx.attrs().get_ints("starts");
    args.ends = *ctx.attrs().get_ints("ends");
    args.has_axes = ctx.attrs().has("axes");
    args.axes = *ctx.attrs().get_ints("axes");
  } else {
    args.starts = ctx.input_ints(1);
    args.ends = ctx.input_ints(2);
    args.has_axes = ctx.has_input(3);
    if (args.has_axes) args.axes = ctx.input_ints(3);
    args.has_steps = ctx.has_input(4);
    if (args.has_steps) args.steps = ctx.input_ints(4);
  }
  const Tensor& in = ctx.in(0);
  RATEL_ASSIGN_OR_RETURN(const SliceView view, resolve_slice(in.shape(), args));
  if (view.shape != ctx.out(0).shape()) {
    return internal_error("slice of {} resolves to {}, but inference gave {}", shape_str(in.shape()),
                          shape_str(view.shape), shape_str(ctx.out(0).shape()));
  }
  return copy_strided(in, ctx.out(0), view.shape, view.base, view.strides);
}

// ---- Gather, GatherElements ------------------------------------------------------------------

Status check_indices_dtype(const InferContext& ctx, size_t i) {
  const DType t = ctx.input_dtype(i);
  if (t != DType::kI32 && t != DType::kI64) {
    return invalid_argument("indices must be int32 or int64, got {}", dtype_name(t));
  }
  return Status::Ok();
}

// Maps index `v` into [0, dim) (negative counts from the back) or fails naming it.
Result<int64_t> resolve_index(int64_t v, int axis, int64_t dim) {
  if (v < -dim || v >= dim) {
    return out_of_range("index {} is out of range for axis {} of size {}", v, axis, dim);
  }
  return v < 0 ? v + dim : v;
}

// When the indices are known at compile time (position ids, a fixed column), a bad one is
// reported while loading the model rather than on the first run.
Status check_constant_indices(const InferContext& ctx, int axis) {
  const Tensor* indices = ctx.input_constant(1);
  if (!indices) return Status::Ok();
  const int64_t dim = ctx.input_shape(0)[static_cast<size_t>(axis)];
  for (int64_t i = 0; i < indices->numel(); ++i) {
    RATEL_RETURN_IF_ERROR(resolve_index(indices->get_as_int64(i), axis, dim).status());
  }
  return Status::Ok();
}

Status infer_gather(InferContext& ctx) {
  if (ctx.num_inputs() != 2 || !ctx.has_input(0) || !ctx.has_input(1)) {
    return invalid_argument("expects 2 inputs (data, indices), got {}", ctx.num_inputs());
  }
  RATEL_RETURN_IF_ERROR(check_indices_dtype(ctx, 1));
  RATEL_ASSIGN_OR_RETURN(const int64_t axis_attr, ctx.attrs().get_int("axis", 0));
  const Shape& data = ctx.input_shape(0);
  if (data.empty()) return invalid_argument("cannot gather from a scalar");
  RATEL_ASSIGN_OR_RETURN(const int axis, normalize_axis(axis_attr, ctx.input_rank(0)));
  RATEL_RETURN_IF_ERROR(check_constant_indices(ctx, axis));
  // data[:axis] + indices.shape + data[axis+1:]
  Shape out(data.begin(), data.begin() + axis);
  const Shape& indices = ctx.input_shape(1);
  out.insert(out.end(), indices.begin(), indices.end());
  out.insert(out.end(), data.begin() + axis + 1, data.end());
  ctx.set_output(0, ctx.input_dtype(0), std::move(out));
  return Status::Ok();
}

// For each outer position (dims before the axis) and each index, copies one contiguous block
// (the dims after the axis).
Status compute_gather(KernelContext& ctx) {
  const Tensor& data = ctx.in(0);
  RATEL_ASSIGN_OR_RETURN(const int axis, normalize_axis(*ctx.attrs().get_int("axis", 0), data.rank()));
  const std::vector<int64_t> indices = ctx.input_ints(1);
  const int64_t dim = data.dim(axis);
  const int64_t outer = dims_product(data.shape(), 0, axis);
  const size_t block = static_cast<size_t>(dims_product(data.shape(), axis + 1, data.rank())) *
                       dtype_size(data.dtype());
  // Check every index before copying anything, so an error leaves no half-written output.
  std::vector<int64_t> resolved(indices.size());
  for (size_t j = 0; j < indices.size(); ++j) {
    auto r = resolve_index(indices[j], axis, dim);
    if (!r.ok()) {
      // Name where the bad index came from: with token ids this is the input and the position
      // of the out-of-vocabulary id.
      return r.status().with_context(fmt::format("indices '{}' at position {}", ctx.node.inputs[1]->name, j));
    }
    resolved[j] = *r;
  }
  const auto* src = static_cast<const std::byte*>(data.raw());
  auto* dst = static_cast<std::byte*>(ctx.out(0).mutable_raw());
  for (int64_t o = 0; o < outer; ++o) {
    const std::byte* row = src + static_cast<size_t>(o * dim) * block;
    for (int64_t r : resolved) {
      copy_bytes(dst, row + static_cast<size_t>(r) * block, block);
      dst += block;
    }
  }
  return Status::Ok();
}

// Outside the axis, an output position reads the same position of data, so indices may not be
// larger than data there (that would read out of bounds).
Status check_gather_elements_shapes(const Shape& data, const Shape& indices, int axis) {
  bool ok = data.size() == indices.size();
  for (size_t d = 0; ok && d < data.size(); ++d) {
    ok = static_cast<int>(d) == axis || indices[d] <= data[d];
  }
  if (!ok) {
    return invalid_argument(
        "indices of shape {} do not fit data of shape {}: same rank needed, and no larger outside "
        "axis {}",
        shape_str(indices), shape_str(data), axis);
  }
  return Status::Ok();
}

Status infer_gather_elements(InferContext& ctx) {
  RATEL_RETURN_IF_ERROR(require_opset(ctx.opset(), 11, "GatherElements"));
  if (ctx.num_inputs() != 2 || !ctx.has_input(0) || !ctx.has_input(1)) {
    return invalid_argument("expects 2 inputs (data, indices), got {}", ctx.num_inputs());
  }
  RATEL_RETURN_IF_ERROR(check_indices_dtype(ctx, 1));
  if (ctx.input_rank(0) == 0) return invalid_argument("cannot gather from a scalar");
  RATEL_ASSIGN_OR_RETURN(const int64_t axis_attr, ctx.attrs().get_int("axis", 0));
  RATEL_ASSIGN_OR_RETURN(const int axis, normalize_axis(axis_attr, ctx.input_rank(0)));
  RATEL_RETURN_IF_ERROR(check_gather_elements_shapes(ctx.input_shape(0), ctx.input_shape(1), axis));
  RATEL_RETURN_IF_ERROR(check_constant_indices(ctx, axis));
  ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(1));
  return Status::Ok();
}

// out[i_0..i_n] = data[i_0 .. indices[i_0..i_n] (at axis) .. i_n]
Status compute_gather_elements(KernelContext& ctx) {
  const Tensor& data = ctx.in(0);
  const Tensor& out_t = ctx.out(0);
  RATEL_ASSIGN_OR_RETURN(const int axis, normalize_axis(*ctx.attrs().get_int("axis", 0), data.rank()));
  RATEL_RETURN_IF_ERROR(check_gather_elements_shapes(data.shape(), ctx.in(1).shape(), axis));
  const std::vector<int64_t> indices = ctx.input_ints(1);
  const int64_t dim = data.dim(axis);
  std::vector<int64_t> strides = contiguous_strides(data.shape());
  const int64_t axis_stride = strides[static_cast<size_t>(axis)];
  strides[static_cast<size_t>(axis)] = 0;  // the axis position comes from the index instead
  std::vector<int64_t> offsets(indices.size());
  Status status = Status::Ok();
  for_each_strided(out_t.shape(), strides, 0, [&](int64_t i, int64_t off) {
    if (!status.ok()) return;
    auto r = resolve_index(indices[static_cast<size_t>(i)], axis, dim);
    if (!r.ok()) {
      status = r.status();
      return;
    }
    offsets[static_cast<size_t>(i)] = off + *r * axis_stride;
  });
  RATEL_RETURN_IF_ERROR(status);
  const auto* src = static_cast<const std::byte*>(data.raw());
  auto* dst = static_cast<std::byte*>(ctx.out(0).mutable_raw());
  return dispatch_width(data.dtype(), [&](auto width) -> Status {
    constexpr size_t W = decltype(width)::value;
    for (size_t i = 0; i < offsets.size(); ++i) {
      std::memcpy(dst + i * W, src + static_cast<size_t>(offsets[i]) * W, W);
    }
    return Status::Ok();
  });
}

}  // namespace

void register_indexing_ops(OpRegistry& r) {
  r.add({"", "Slice", infer_slice, compute_slice});
  r.add({"", "Gather", infer_gather, compute_gather});
  r.add({"", "GatherElements", infer_gather_elements, compute_gather_elements});
}

}  // namespace ratel::ops
