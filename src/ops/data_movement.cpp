// Data movement: ops that rearrange elements without computing on them (Transpose, Concat,
// Split, Expand, Tile; Slice/Gather/GatherElements live in indexing.cpp). All dtypes are
// supported because elements are moved as opaque words (ops/copy_util.h).
#include <algorithm>
#include <numeric>
#include <utility>

#include "ops/copy_util.h"
#include "ops/indexing.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ratel::ops {

namespace {

Status expect_inputs(const InferContext& ctx, size_t min, size_t max) {
  if (ctx.num_inputs() < min || ctx.num_inputs() > max || !ctx.has_input(0)) {
    return invalid_argument("expects {} to {} inputs, got {}", min, max, ctx.num_inputs());
  }
  return Status::Ok();
}

// ---- Transpose -------------------------------------------------------------------------------

// `perm`, or the reversed dimensions when it is absent; must be a permutation of [0, rank).
Result<std::vector<int64_t>> transpose_perm(const ir::Attributes& attrs, int rank) {
  std::vector<int64_t> reversed(static_cast<size_t>(rank));
  std::iota(reversed.rbegin(), reversed.rend(), 0);
  RATEL_ASSIGN_OR_RETURN(std::vector<int64_t> perm, attrs.get_ints("perm", reversed));
  if (perm.size() != static_cast<size_t>(rank)) {
    return invalid_argument("perm {} has {} entries but the input has rank {}", shape_str(perm),
                            perm.size(), rank);
  }
  std::vector<bool> seen(perm.size(), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[static_cast<size_t>(p)]) {
      return invalid_argument("perm {} is not a permutation of 0..{}", shape_str(perm), rank - 1);
    }
    seen[static_cast<size_t>(p)] = true;
  }
  return perm;
}

Status infer_transpose(InferContext& ctx) {
  RATEL_RETURN_IF_ERROR(expect_inputs(ctx, 1, 1));
  RATEL_ASSIGN_OR_RETURN(const auto perm, transpose_perm(ctx.attrs(), ctx.input_rank(0)));
  Shape out;
  for (int64_t p : perm) out.push_back(ctx.input_shape(0)[static_cast<size_t>(p)]);
  ctx.set_output(0, ctx.input_dtype(0), std::move(out));
  return Status::Ok();
}

// out[i_0, ..., i_n] = in[...] with i_d walking input dimension perm[d].
Status compute_transpose(KernelContext& ctx) {
  const Tensor& in = ctx.in(0);
  RATEL_ASSIGN_OR_RETURN(const auto perm, transpose_perm(ctx.attrs(), in.rank()));
  const std::vector<int64_t> in_strides = contiguous_strides(in.shape());
  std::vector<int64_t> strides;
  for (int64_t p : perm) strides.push_back(in_strides[static_cast<size_t>(p)]);
  return copy_strided(in, ctx.out(0), ctx.out(0).shape(), 0, strides);
}

// ---- Concat ----------------------------------------------------------------------------------

Status infer_concat(InferContext& ctx) {
  if (ctx.num_inputs() < 1) return invalid_argument("expects at least 1 input");
  if (!ctx.attrs().has("axis")) return invalid_argument("the axis attribute is required");
  RATEL_ASSIGN_OR_RETURN(const int64_t axis_attr, ctx.attrs().get_int("axis", 0));
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) return invalid_argument("input {} is missing", i);
  }
  const int rank = ctx.input_rank(0);
  if (rank == 0) return invalid_argument("cannot concatenate scalars (input 0 has rank 0)");
  RATEL_ASSIGN_OR_RETURN(const int axis, normalize_axis(axis_attr, rank));
  Shape out = ctx.input_shape(0);
  for (size_t i = 1; i < ctx.num_inputs(); ++i) {
    if (ctx.input_dtype(i) != ctx.input_dtype(0)) {
      return invalid_argument("input {} has type {}, input 0 has {}", i, dtype_name(ctx.input_dtype(i)),
                              dtype_name(ctx.input_dtype(0)));
    }
    const Shape& s = ctx.input_shape(i);
    bool compatible = static_cast<int>(s.size()) == rank;
    for (int d = 0; compatible && d < rank; ++d) {
      compatible = d == axis || s[static_cast<size_t>(d)] == out[static_cast<size_t>(d)];
    }
    if (!compatible) {
      return invalid_argument("input {} has shape {}, which does not match input 0's {} outside axis {}",
                              i, shape_str(s), shape_str(ctx.input_shape(0)), axis);
    }
    out[static_cast<size_t>(axis)] += s[static_cast<size_t>(axis)];
  }
  ctx.set_output(0, ctx.input_dtype(0), std::move(out));
  return Status::Ok();
}

// Each output row (everything before the axis) is the inputs' rows laid end to end.
Status compute_concat(KernelContext& ctx) {
  Tensor& out = ctx.out(0);
  RATEL_ASSIGN_OR_RETURN(const int axis, normalize_axis(*ctx.attrs().get_int("axis", 0), out.rank()));
  const size_t width = dtype_size(out.dtype());
  const int64_t outer = dims_product(out.shape(), 0, axis);
  auto* dst = static_cast<std::byte*>(out.mutable_raw());
  for (int64_t o = 0; o < outer; ++o) {
    for (const Tensor* in : ctx.inputs) {
      const size_t block = static_cast<size_t>(dims_product(in->shape(), axis, in->rank())) * width;
      copy_bytes(dst, static_cast<const std::byte*>(in->raw()) + static_cast<size_t>(o) * block, block);
      dst += block;
    }
  }
  return Status::Ok();
}

// ---- Split -----------------------------------------------------------------------------------

// The size of each output along the axis. `split` is the explicit list when given (attribute
// before opset 13, input from 13); otherwise `num_outputs` (opset 18) or the number of outputs
// gives equal parts. Only num_outputs allows an uneven split: ceil-sized parts, a smaller last.
Result<std::vector<int64_t>> split_sizes(const ir::Attributes& attrs, int opset, size_t outputs,
                                         const std::vector<int64_t>* split, int64_t dim) {
  RATEL_ASSIGN_OR_RETURN(const int64_t num_outputs, attrs.get_int("num_outputs", 0));
  if (attrs.has("num_outputs")) {
    RATEL_RETURN_IF_ERROR(require_opset(opset, 18, "attribute 'num_outputs'"));
    if (split) return invalid_argument("give either split or num_outputs, not both");
    if (num_outputs != static_cast<int64_t>(outputs)) {
      return invalid_argument("num_outputs is {} but the node has {} outputs", num_outputs, outputs);
    }
  }
  const auto n = static_cast<int64_t>(outputs);
  if (split) {
    if (split->size() != outputs) {
      return invalid_argument("split {} has {} entries for {} outputs", shape_str(*split), split->size(),
                              outputs);
    }
    int64_t total = 0;
    for (int64_t s : *split) {
      if (s < 0) return invalid_argument("split {} has a negative size", shape_str(*split));
      total += s;
    }
    if (total != dim) {
      return invalid_argument("split {} adds up to {}, but the axis has size {}", shape_str(*split),
                              total, dim);
    }
    return *split;
  }
  if (attrs.has("num_outputs")) {
    const int64_t chunk = (dim + n - 1) / n;
    std::vector<int64_t> sizes(outputs, chunk);
    sizes.back() = dim - chunk * (n - 1);
    if (sizes.back() < 0) {
      return invalid_argument("cannot split an axis of size {} into {} outputs", dim, n);
    }
    return sizes;
  }
  if (dim % n != 0) {
    return invalid_argument("cannot split an axis of size {} into {} equal parts", dim, n);
  }
  return std::vector<int64_t>(outputs, dim / n);
}

Status infer_split(InferContext& ctx) {
  RATEL_RETURN_IF_ERROR(expect_inputs(ctx, 1, 2));
  if (ctx.num_outputs() < 1) return invalid_argument("expects at least 1 output");
  const Shape& in = ctx.input_shape(0);
  RATEL_ASSIGN_OR_RETURN(const int64_t axis_attr, ctx.attrs().get_int("axis", 0));
  RATEL_ASSIGN_OR_RETURN(const int axis, normalize_axis(axis_attr, ctx.input_rank(0)));
  std::vector<int64_t> split;
  bool has_split = false;
  if (ctx.opset() < 13) {
    if (ctx.num_inputs() > 1) {
      return invalid_argument("split is an attribute before opset 13, not an input (model opset {})",
                              ctx.opset());
    }
    has_split = ctx.attrs().has("split");
    RATEL_ASSIGN_OR_RETURN(split, ctx.attrs().get_ints("split"));
  } else {
    if (ctx.attrs().has("split")) {
      return invalid_argument("split is an input from opset 13, not an attribute (model opset {})",
                              ctx.opset());
    }
    has_split = ctx.has_input(1);
    if (has_split) {
      RATEL_ASSIGN_OR_RETURN(split, ctx.input_ints(1));
    }
  }
  RATEL_ASSIGN_OR_RETURN(const auto sizes, split_sizes(ctx.attrs(), ctx.opset(), ctx.num_outputs(),
                                                      has_split ? &split : nullptr,
                                                      in[static_cast<size_t>(axis)]));
  for (size_t i = 0; i < sizes.size(); ++i) {
    Shape out = in;
    out[static_cast<size_t>(axis)] = sizes[i];
    ctx.set_output(i, ctx.input_dtype(0), std::move(out));
  }
  return Status::Ok();
}

// Each input row (everything before the axis) is cut into consecutive pieces, one per output.
Status compute_split(KernelContext& ctx) {
  const Tensor& in = ctx.in(0);
  RATEL_ASSIGN_OR_RETURN(const int axis, normalize_axis(*ctx.attrs().get_int("axis", 0), in.rank()));
  const int64_t dim = in.dim(axis);
  std::vector<int64_t> split;
  bool has_split = false;
  if (ctx.opset() < 13) {
    has_split = ctx.attrs().has("split");
    split = *ctx.attrs().get_ints("split");
  } else if (ctx.has_input(1)) {
    has_split = true;
    split = ctx.input_ints(1);
  }
  RATEL_ASSIGN_OR_RETURN(const auto sizes, split_sizes(ctx.attrs(), ctx.opset(), ctx.outputs.size(),
                                                      has_split ? &split : nullptr, dim));
  const size_t width = dtype_size(in.dtype());
  const auto inner = static_cast<size_t>(dims_product(in.shape(), axis + 1, in.rank()));
  const int64_t outer = dims_product(in.shape(), 0, axis);
  const size_t row = static_cast<size_t>(dim) * inner * width;
  const auto* src = static_cast<const std::byte*>(in.raw());
  size_t offset = 0;  // bytes into each input row where output k's piece starts
  for (size_t k = 0; k < sizes.size(); ++k) {
    const size_t piece = static_cast<size_t>(sizes[k]) * inner * width;
    if (Tensor* out = ctx.outputs[k]) {  // omitted optional outputs are skipped
      auto* dst = static_cast<std::byte*>(out->mutable_raw());
      for (int64_t o = 0; o < outer; ++o) {
        copy_bytes(dst + static_cast<size_t>(o) * piece, src + static_cast<size_t>(o) * row + offset, piece);
      }
    }
    offset += piece;
  }
  return Status::Ok();
}

// ---- Expand ----------------------------------------------------------------------------------

Status infer_expand(InferContext& ctx) {
  RATEL_RETURN_IF_ERROR(require_opset(ctx.opset(), 8, "Expand"));
  RATEL_RETURN_IF_ERROR(expect_inputs(ctx, 2, 2));
  RATEL_ASSIGN_OR_RETURN(const std::vector<int64_t> shape, ctx.input_ints(1));
  if (ctx.input_rank(1) != 1) {
    return invalid_argument("the shape input must be 1-D, got shape {}", shape_str(ctx.input_shape(1)));
  }
  for (int64_t d : shape) {
    if (d < 0) return invalid_argument("shape {} has a negative dimension", shape_str(shape));
  }
  // Bidirectional: a 1 in `shape` keeps the input's dimension, as numpy broadcasting does.
  RATEL_ASSIGN_OR_RETURN(Shape out, broadcast_shapes(ctx.input_shape(0), shape));
  ctx.set_output(0, ctx.input_dtype(0), std::move(out));
  return Status::Ok();
}

Status compute_expand(KernelContext& ctx) {
  const Tensor& in = ctx.in(0);
  Tensor& out = ctx.out(0);
  return copy_strided(in, out, out.shape(), 0, broadcast_strides(in.shape(), out.shape()));
}

// ---- Tile ------------------------------------------------------------------------------------

Status infer_tile(InferContext& ctx) {
  RATEL_RETURN_IF_ERROR(expect_inputs(ctx, 2, 2));
  RATEL_ASSIGN_OR_RETURN(const std::vector<int64_t> repeats, ctx.input_ints(1));
  const Shape& in = ctx.input_shape(0);
  if (ctx.input_rank(1) != 1 || repeats.size() != in.size()) {
    return invalid_argument("repeats must be 1-D with one entry per input dimension ({}), got shape {}",
                            in.size(), shape_str(ctx.input_shape(1)));
  }
  Shape out(in.size());
  for (size_t d = 0; d < in.size(); ++d) {
    if (repeats[d] < 0) return invalid_argument("repeats {} has a negative entry", shape_str(repeats));
    if (in[d] != 0 && repeats[d] > kMaxDim / in[d]) {
      return out_of_range("tiling {} by {} gives a dimension that is too large", shape_str(in),
                          shape_str(repeats));
    }
    out[d] = in[d] * repeats[d];
  }
  ctx.set_output(0, ctx.input_dtype(0), std::move(out));
  return Status::Ok();
}

// Output dimension d of size r*n indexes as (copy c, position j) = divmod(i, n), which is exactly
// the row-major layout of a 2*rank index space [r_0, n_0, r_1, n_1, ...] where the copy index
// has stride 0: Tile is a strided copy.
Status compute_tile(KernelContext& ctx) {
  const Tensor& in = ctx.in(0);
  Tensor& out = ctx.out(0);
  if (out.numel() == 0) return Status::Ok();
  const std::vector<int64_t> in_strides = contiguous_strides(in.shape());
  Shape space;
  std::vector<int64_t> strides;
  for (int d = 0; d < in.rank(); ++d) {
    space.push_back(out.dim(d) / in.dim(d));  // in.dim(d) > 0 since out is not empty
    strides.push_back(0);
    space.push_back(in.dim(d));
    strides.push_back(in_strides[static_cast<size_t>(d)]);
  }
  return copy_strided(in, out, space, 0, strides);
}

}  // namespace

void register_data_movement_ops(OpRegistry& r) {
  r.add({"", "Transpose", infer_transpose, compute_transpose});
  r.add({"", "Concat", infer_concat, compute_concat});
  r.add({"", "Split", infer_split, compute_split});
  r.add({"", "Expand", infer_expand, compute_expand});
  r.add({"", "Tile", infer_tile, compute_tile});
  register_indexing_ops(r);
}

}  // namespace ratel::ops
