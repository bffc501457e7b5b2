// Generators: ops whose output is made from attributes and shape-like inputs rather than read
// from a data tensor (Constant, ConstantOfShape, Range, OneHot, EyeLike, Trilu).
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "ops/copy_util.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ratel::ops {

namespace {

// ---- Constant --------------------------------------------------------------------------------

// The Constant's value from whichever one of its value attributes is set.
Result<Tensor> constant_value(const ir::Attributes& attrs, int opset) {
  for (const char* name : {"sparse_value", "value_string", "value_strings"}) {
    if (attrs.has(name)) {
      return unsupported("Constant with attribute '{}' is not supported (Ratel has no sparse or "
                         "string tensors)",
                         name);
    }
  }
  int present = 0;
  for (const char* name : {"value", "value_float", "value_floats", "value_int", "value_ints"}) {
    if (!attrs.has(name)) continue;
    ++present;
    if (std::strcmp(name, "value") != 0) {
      RATEL_RETURN_IF_ERROR(require_opset(opset, 12, fmt::format("Constant attribute '{}'", name)));
    }
  }
  if (present != 1) {
    return invalid_argument("Constant needs exactly one value attribute, got {}", present);
  }
  if (attrs.has("value")) return attrs.get_tensor("value");
  if (attrs.has("value_float")) {
    RATEL_ASSIGN_OR_RETURN(const float v, attrs.get_float("value_float", 0.0f));
    return Tensor::scalar<float>(v);
  }
  if (attrs.has("value_int")) {
    RATEL_ASSIGN_OR_RETURN(const int64_t v, attrs.get_int("value_int", 0));
    return Tensor::scalar<int64_t>(v);
  }
  if (attrs.has("value_floats")) {
    RATEL_ASSIGN_OR_RETURN(const std::vector<float> v, attrs.get_floats("value_floats"));
    return Tensor::from_vector<float>(v, {static_cast<int64_t>(v.size())});
  }
  RATEL_ASSIGN_OR_RETURN(const std::vector<int64_t> v, attrs.get_ints("value_ints"));
  return Tensor::from_vector<int64_t>(v, {static_cast<int64_t>(v.size())});
}

Status infer_constant(InferContext& ctx) {
  if (ctx.num_inputs() != 0) return invalid_argument("expects no inputs, got {}", ctx.num_inputs());
  RATEL_ASSIGN_OR_RETURN(const Tensor value, constant_value(ctx.attrs(), ctx.opset()));
  ctx.set_output(0, value.dtype(), value.shape());
  return Status::Ok();
}

Status compute_constant(KernelContext& ctx) {
  RATEL_ASSIGN_OR_RETURN(const Tensor value, constant_value(ctx.attrs(), ctx.opset()));
  copy_all(value, ctx.out(0));
  return Status::Ok();
}

// ---- ConstantOfShape -------------------------------------------------------------------------

// The fill value: the one-element `value` attribute, float 0 when absent.
Result<Tensor> fill_value(const ir::Attributes& attrs) {
  if (!attrs.has("value")) return Tensor::from_vector<float>({0.0f}, {1});
  RATEL_ASSIGN_OR_RETURN(Tensor value, attrs.get_tensor("value"));
  if (value.numel() != 1) {
    return invalid_argument("the value attribute must hold one element, it has shape {}",
                            shape_str(value.shape()));
  }
  return value;
}

Status infer_constant_of_shape(InferContext& ctx) {
  RATEL_RETURN_IF_ERROR(require_opset(ctx.opset(), 9, "ConstantOfShape"));
  if (ctx.num_inputs() != 1 || !ctx.has_input(0)) return invalid_argument("expects 1 input (shape)");
  RATEL_ASSIGN_OR_RETURN(const std::vector<int64_t> shape, ctx.input_ints(0));
  if (ctx.input_rank(0) != 1) {
    return invalid_argument("the shape input must be 1-D, got shape {}", shape_str(ctx.input_shape(0)));
  }
  for (int64_t d : shape) {
    if (d < 0) return invalid_argument("shape {} has a negative dimension", shape_str(shape));
  }
  RATEL_ASSIGN_OR_RETURN(const Tensor value, fill_value(ctx.attrs()));
  ctx.set_output(0, value.dtype(), shape);
  return Status::Ok();
}

Status compute_constant_of_shape(KernelContext& ctx) {
  RATEL_ASSIGN_OR_RETURN(const Tensor value, fill_value(ctx.attrs()));
  return fill_with(ctx.out(0), value.raw());
}

// ---- Range -----------------------------------------------------------------------------------

bool range_dtype(DType t) {
  return t == DType::kF32 || t == DType::kF64 || t == DType::kI16 || t == DType::kI32 ||
         t == DType::kI64;
}

// Integer element count max(ceil((limit - start) / delta), 0), exact over the whole int64 range:
// the distance and the step are taken as unsigned magnitudes (INT64_MAX - INT64_MIN does not
// fit in int64 but does in uint64).
Result<int64_t> integer_range_count(int64_t start, int64_t limit, int64_t delta) {
  if (limit == start || (limit > start) != (delta > 0)) return int64_t{0};
  const auto magnitude = [](int64_t from, int64_t to) {  // |to - from|, modular arithmetic
    return to > from ? static_cast<uint64_t>(to) - static_cast<uint64_t>(from)
                     : static_cast<uint64_t>(from) - static_cast<uint64_t>(to);
  };
  const uint64_t count = (magnitude(start, limit) - 1) / magnitude(0, delta) + 1;
  if (count > static_cast<uint64_t>(kMaxDim)) {
    return out_of_range("Range from {} to {} by {} has too many elements ({})", start, limit, delta, count);
  }
  return static_cast<int64_t>(count);
}

// Element count max(ceil((limit - start) / delta), 0) for Range's scalar inputs. For floats the
// difference is taken in the input type and the division in double, as ONNX Runtime does and
// ONNX's reference evaluator agrees (e.g. 0 to 0.3f by 0.1f has 4 elements; all-float32
// arithmetic would round the quotient to exactly 3 and give 3).
Result<int64_t> range_count(const Tensor& start, const Tensor& limit, const Tensor& delta) {
  if (dtype_is_integer(start.dtype())) {
    const int64_t d = delta.get_as_int64(0);
    if (d == 0) return invalid_argument("Range delta is 0");
    return integer_range_count(start.get_as_int64(0), limit.get_as_int64(0), d);
  }
  double diff = 0;
  if (start.dtype() == DType::kF32) {
    diff = static_cast<double>(limit.data<float>()[0] - start.data<float>()[0]);
  } else {
    diff = limit.data<double>()[0] - start.data<double>()[0];
  }
  const double d = delta.get_as_double(0);
  if (d == 0) return invalid_argument("Range delta is 0");
  const double count = std::ceil(diff / d);
  if (std::isnan(count) || count > static_cast<double>(kMaxDim)) {
    return out_of_range("Range from {} to {} by {} has too many elements", start.get_as_double(0),
                        limit.get_as_double(0), delta.get_as_double(0));
  }
  return count > 0 ? static_cast<int64_t>(count) : int64_t{0};
}

Status infer_range(InferContext& ctx) {
  RATEL_RETURN_IF_ERROR(require_opset(ctx.opset(), 11, "Range"));
  if (ctx.num_inputs() != 3) return invalid_argument("expects 3 inputs (start, limit, delta)");
  const char* names[] = {"start", "limit", "delta"};
  for (size_t i = 0; i < 3; ++i) {
    if (!ctx.has_input(i)) return invalid_argument("input {} ({}) is missing", i, names[i]);
    if (ctx.input_dtype(i) != ctx.input_dtype(0)) {
      return invalid_argument("start, limit and delta must have one type, got {}, {}, {}",
                              dtype_name(ctx.input_dtype(0)), dtype_name(ctx.input_dtype(1)),
                              dtype_name(ctx.input_dtype(2)));
    }
    if (numel(ctx.input_shape(i)) != 1) {
      return invalid_argument("{} must be a scalar, got shape {}", names[i], shape_str(ctx.input_shape(i)));
    }
    if (!ctx.input_constant(i)) {
      return unsupported("Range's {} must be known at compile time to fix the output length "
                         "(dynamic shapes are not supported)",
                         names[i]);
    }
  }
  const DType dtype = ctx.input_dtype(0);
  if (!range_dtype(dtype)) {
    return unsupported("Range takes float, double, int16, int32 or int64, got {}", dtype_name(dtype));
  }
  RATEL_ASSIGN_OR_RETURN(const int64_t count, range_count(*ctx.input_constant(0), *ctx.input_constant(1),
                                                          *ctx.input_constant(2)));
  ctx.set_output(0, dtype, {count});
  return Status::Ok();
}

// output[i] = start + i * delta as the specification writes it: integers exactly, floats in
// double rounded once to the output type (no error accumulates along the range; this is also
// what ONNX's reference evaluator computes).
Status compute_range(KernelContext& ctx) {
  Tensor& out = ctx.out(0);
  return dispatch<NumericTypes>(out.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double> ||
                  std::is_same_v<T, int16_t> || std::is_same_v<T, int32_t> ||
                  std::is_same_v<T, int64_t>) {
      const T start = ctx.in(0).data<T>()[0];
      const T delta = ctx.in(2).data<T>()[0];
      T* po = out.mutable_data<T>();
      for (int64_t i = 0; i < out.numel(); ++i) {
        if constexpr (std::is_integral_v<T>) {
          // Every value lies between start and limit, but i * delta alone may not fit in int64
          // (INT64_MIN to INT64_MAX by INT64_MAX): compute modulo 2^64, where the exact,
          // representable result comes out right.
          const uint64_t v = static_cast<uint64_t>(static_cast<int64_t>(start)) +
                             static_cast<uint64_t>(i) * static_cast<uint64_t>(static_cast<int64_t>(delta));
          po[i] = static_cast<T>(static_cast<int64_t>(v));
        } else {
          po[i] = static_cast<T>(static_cast<double>(start) +
                                 static_cast<double>(i) * static_cast<double>(delta));
        }
      }
      return Status::Ok();
    } else {
      return unsupported("Range does not take {}", dtype_name(out.dtype()));
    }
  });
}

// ---- OneHot ----------------------------------------------------------------------------------

// Number of classes from OneHot's depth input (any numeric type; floats are truncated).
Result<int64_t> onehot_depth(const Tensor& depth) {
  if (depth.numel() != 1 || depth.dtype() == DType::kBool) {
    return invalid_argument("depth must be a numeric scalar, got {} {}", dtype_name(depth.dtype()),
                            shape_str(depth.shape()));
  }
  const double v = std::trunc(depth.get_as_double(0));
  if (!(v >= 1 && v <= static_cast<double>(kMaxDim))) {
    return invalid_argument("depth {} is not a positive number of classes", depth.get_as_double(0));
  }
  return static_cast<int64_t>(v);
}

Status infer_onehot(InferContext& ctx) {
  RATEL_RETURN_IF_ERROR(require_opset(ctx.opset(), 9, "OneHot"));
  if (ctx.num_inputs() != 3 || !ctx.has_input(0) || !ctx.has_input(1) || !ctx.has_input(2)) {
    return invalid_argument("expects 3 inputs (indices, depth, values)");
  }
  const DType index_type = ctx.input_dtype(0);
  if (!dtype_is_float(index_type) && !dtype_is_integer(index_type)) {
    return invalid_argument("indices must be numeric, got {}", dtype_name(index_type));
  }
  const Tensor* depth_value = ctx.input_constant(1);
  if (!depth_value) {
    return unsupported("OneHot's depth must be known at compile time (dynamic shapes are not supported)");
  }
  RATEL_ASSIGN_OR_RETURN(const int64_t depth, onehot_depth(*depth_value));
  if (ctx.input_shape(2) != Shape{2}) {
    return invalid_argument("values must be [off_value, on_value] of shape [2], got shape {}",
                            shape_str(ctx.input_shape(2)));
  }
  const Shape& indices = ctx.input_shape(0);
  RATEL_ASSIGN_OR_RETURN(const int64_t axis_attr, ctx.attrs().get_int("axis", -1));
  // The new axis indexes the output, whose rank is one more than the indices'.
  RATEL_ASSIGN_OR_RETURN(const int axis, normalize_axis(axis_attr, ctx.input_rank(0) + 1));
  Shape out = indices;
  out.insert(out.begin() + axis, depth);
  ctx.set_output(0, ctx.input_dtype(2), std::move(out));
  return Status::Ok();
}

// Fills off_value, then writes on_value where the class equals the index. From opset 11 an index
// in [-depth, -1] counts from the back; other out-of-range indices leave their row all off.
Status compute_onehot(KernelContext& ctx) {
  const Tensor& indices = ctx.in(0);
  const Tensor& values = ctx.in(2);
  Tensor& out = ctx.out(0);
  RATEL_ASSIGN_OR_RETURN(const int64_t depth, onehot_depth(ctx.in(1)));
  RATEL_ASSIGN_OR_RETURN(const int axis,
                         normalize_axis(*ctx.attrs().get_int("axis", -1), indices.rank() + 1));
  const size_t width = dtype_size(out.dtype());
  const auto* off_on = static_cast<const std::byte*>(values.raw());
  RATEL_RETURN_IF_ERROR(fill_with(out, off_on));
  const int64_t inner = dims_product(indices.shape(), axis, indices.rank());
  const int64_t lowest = ctx.opset() >= 11 ? -depth : 0;
  auto* dst = static_cast<std::byte*>(out.mutable_raw());
  for (int64_t i = 0; i < indices.numel(); ++i) {
    // Through double: exact for every index that can be in range (|index| <= depth <= 2^40),
    // and anything else, NaN included, fails the range test.
    const double v = std::trunc(indices.get_as_double(i));
    if (!(v >= static_cast<double>(lowest) && v < static_cast<double>(depth))) continue;
    int64_t cls = static_cast<int64_t>(v);
    if (cls < 0) cls += depth;
    const int64_t o = i / inner, j = i % inner;
    copy_bytes(dst + static_cast<size_t>((o * depth + cls) * inner + j) * width, off_on + width, width);
  }
  return Status::Ok();
}

// ---- EyeLike, Trilu --------------------------------------------------------------------------

Result<DType> eyelike_dtype(const ir::Attributes& attrs, DType input) {
  if (!attrs.has("dtype")) return input;
  RATEL_ASSIGN_OR_RETURN(const int64_t code, attrs.get_int("dtype", 0));
  DType dtype = DType::kUndefined;
  if (!dtype_from_onnx_code(code, &dtype)) {
    return unsupported("dtype {} is not supported", onnx_type_code_name(code));
  }
  return dtype;
}

Status infer_eyelike(InferContext& ctx) {
  RATEL_RETURN_IF_ERROR(require_opset(ctx.opset(), 9, "EyeLike"));
  if (ctx.num_inputs() != 1 || !ctx.has_input(0)) return invalid_argument("expects 1 input");
  if (ctx.input_rank(0) != 2) {
    return invalid_argument("the input must be 2-D, got shape {}", shape_str(ctx.input_shape(0)));
  }
  RATEL_ASSIGN_OR_RETURN(const DType dtype, eyelike_dtype(ctx.attrs(), ctx.input_dtype(0)));
  RATEL_RETURN_IF_ERROR(ctx.attrs().get_int("k", 0).status());
  ctx.set_output(0, dtype, ctx.input_shape(0));
  return Status::Ok();
}

// Ones on the k-th diagonal (out[i][i+k]), zeros elsewhere.
Status compute_eyelike(KernelContext& ctx) {
  Tensor& out = ctx.out(0);
  const int64_t k = *ctx.attrs().get_int("k", 0);
  const int64_t rows = out.dim(0), cols = out.dim(1);
  return dispatch<AllTypes>(out.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    const T zero = Arith<T>::store(static_cast<typename Arith<T>::type>(0));
    const T one = Arith<T>::store(static_cast<typename Arith<T>::type>(1));
    RATEL_RETURN_IF_ERROR(fill_with(out, &zero));
    // A diagonal outside the matrix has no ones; checking first also keeps i + k from overflowing.
    if (k >= cols || k <= -rows) return Status::Ok();
    T* po = out.mutable_data<T>();
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t j = i + k;
      if (j >= 0 && j < cols) po[i * cols + j] = one;
    }
    return Status::Ok();
  });
}

Status infer_trilu(InferContext& ctx) {
  RATEL_RETURN_IF_ERROR(require_opset(ctx.opset(), 14, "Trilu"));
  if (ctx.num_inputs() < 1 || ctx.num_inputs() > 2 || !ctx.has_input(0)) {
    return invalid_argument("expects 1 or 2 inputs (input, k)");
  }
  if (ctx.input_rank(0) < 2) {
    return invalid_argument("the input must have rank 2 or more, got shape {}", shape_str(ctx.input_shape(0)));
  }
  if (ctx.has_input(1) && (ctx.input_dtype(1) != DType::kI64 || numel(ctx.input_shape(1)) != 1)) {
    return invalid_argument("k must be an int64 scalar, got {} {}", dtype_name(ctx.input_dtype(1)),
                            shape_str(ctx.input_shape(1)));
  }
  RATEL_RETURN_IF_ERROR(ctx.attrs().get_int("upper", 1).status());
  ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
  return Status::Ok();
}

// Keeps element (i, j) of every matrix when j - i >= k (upper) or j - i <= k (lower); zeros the
// rest. k may be any int64 (it need not be a compile-time constant: it does not change shapes).
Status compute_trilu(KernelContext& ctx) {
  const Tensor& in = ctx.in(0);
  Tensor& out = ctx.out(0);
  const int64_t k = ctx.has_input(1) ? ctx.in(1).data<int64_t>()[0] : 0;
  const bool upper = *ctx.attrs().get_int("upper", 1) != 0;
  const int64_t rows = in.dim(in.rank() - 2), cols = in.dim(in.rank() - 1);
  const size_t width = dtype_size(in.dtype());
  const auto* src = static_cast<const std::byte*>(in.raw());
  auto* dst = static_cast<std::byte*>(out.mutable_raw());
  for (int64_t e = 0; e < in.numel(); ++e) {
    const int64_t i = (e / cols) % rows, j = e % cols;
    const bool keep = upper ? j - i >= k : j - i <= k;
    const size_t at = static_cast<size_t>(e) * width;
    if (keep) {
      copy_bytes(dst + at, src + at, width);
    } else {
      std::memset(dst + at, 0, width);  // all-zero bytes are zero in every Ratel dtype
    }
  }
  return Status::Ok();
}

}  // namespace

void register_generator_ops(OpRegistry& r) {
  r.add({"", "Constant", infer_constant, compute_constant});
  r.add({"", "ConstantOfShape", infer_constant_of_shape, compute_constant_of_shape});
  r.add({"", "Range", infer_range, compute_range});
  r.add({"", "OneHot", infer_onehot, compute_onehot});
  r.add({"", "EyeLike", infer_eyelike, compute_eyelike});
  r.add({"", "Trilu", infer_trilu, compute_trilu});
}

}  // namespace ratel::ops
