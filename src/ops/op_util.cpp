#include "ops/op_util.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ratel::ops {

Result<Shape> broadcast_shapes(const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == db || db == 1) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else {
      return invalid_argument("shapes {} and {} cannot be broadcast together", shape_str(a),
                              shape_str(b));
    }
  }
  return out;
}

std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out) {
  std::vector<int64_t> strides(out.size(), 0);
  const std::vector<int64_t> own = contiguous_strides(in);
  const size_t lead = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) {
    strides[lead + i] = in[i] == 1 ? 0 : own[i];
  }
  return strides;
}

Result<int> normalize_axis(int64_t axis, int rank) {
  if (axis < -rank || axis >= rank) {
    return invalid_argument("axis {} is out of range for rank {}", axis, rank);
  }
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

Result<std::vector<int>> normalize_axes(const std::vector<int64_t>& axes, int rank) {
  std::vector<int> out;
  out.reserve(axes.size());
  for (int64_t a : axes) {
    RATEL_ASSIGN_OR_RETURN(int n, normalize_axis(a, rank));
    if (std::find(out.begin(), out.end(), n) != out.end()) {
      return invalid_argument("axis {} appears more than once", a);
    }
    out.push_back(n);
  }
  return out;
}

int64_t dims_product(const Shape& s, int begin, int end) {
  int64_t p = 1;
  for (int i = begin; i < end; ++i) p *= s[static_cast<size_t>(i)];
  return p;
}

Status require_opset(int opset, int since, std::string_view what) {
  if (opset >= since) return Status::Ok();
  return invalid_argument("{} requires opset {} or later; the model imports opset {}", what, since,
                          opset);
}


namespace {
struct OnnxTypeCode {
  int64_t code;
  const char* name;
  DType dtype;  // kUndefined: Ratel has no such type
};
// TensorProto.DataType, onnx/onnx.proto3 (the numbers are part of the file format).
constexpr OnnxTypeCode kOnnxTypeCodes[] = {
    {1, "FLOAT", DType::kF32},        {2, "UINT8", DType::kU8},
    {3, "INT8", DType::kI8},          {4, "UINT16", DType::kU16},
    {5, "INT16", DType::kI16},        {6, "INT32", DType::kI32},
    {7, "INT64", DType::kI64},        {8, "STRING", DType::kUndefined},
    {9, "BOOL", DType::kBool},        {10, "FLOAT16", DType::kF16},
    {11, "DOUBLE", DType::kF64},      {12, "UINT32", DType::kU32},
    {13, "UINT64", DType::kU64},      {14, "COMPLEX64", DType::kUndefined},
    {15, "COMPLEX128", DType::kUndefined}, {16, "BFLOAT16", DType::kBF16},
    {17, "FLOAT8E4M3FN", DType::kUndefined}, {18, "FLOAT8E4M3FNUZ", DType::kUndefined},
    {19, "FLOAT8E5M2", DType::kUndefined},   {20, "FLOAT8E5M2FNUZ", DType::kUndefined},
    {21, "UINT4", DType::kUndefined},        {22, "INT4", DType::kUndefined},
};
}  // namespace

bool dtype_from_onnx_code(int64_t code, DType* out) {
  for (const OnnxTypeCode& t : kOnnxTypeCodes) {
    if (t.code == code && t.dtype != DType::kUndefined) {
      *out = t.dtype;
      return true;
    }
  }
  return false;
}

std::string onnx_type_code_name(int64_t code) {
  for (const OnnxTypeCode& t : kOnnxTypeCodes) {
    if (t.code == code) return t.name;
  }
  return fmt::format("{} (not an ONNX type)", code);
}

int64_t onnx_type_code_from_name(std::string_view name) {
  for (const OnnxTypeCode& t : kOnnxTypeCodes) {
    if (name == t.name) return t.code;
  }
  return -1;
}

float round_to_odd_float(double d) {
  float f = static_cast<float>(d);  // nearest; exact when d is representable (and for inf, NaN)
  if (std::isnan(d) || static_cast<double>(f) == d) return f;
  // Step back to the truncation toward zero if rounding went away from zero (this also turns an
  // overflow to inf into FLT_MAX), then mark the value inexact with an odd last bit.
  if (std::fabs(static_cast<double>(f)) > std::fabs(d)) f = std::nextafter(f, 0.0f);
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  bits |= 1u;
  std::memcpy(&f, &bits, sizeof bits);
  return f;
}

}  // namespace ratel::ops
