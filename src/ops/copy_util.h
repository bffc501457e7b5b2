// Element copying for data-movement ops (Transpose, Slice, Concat, Gather, ...).
//
// These ops never look at values, so they move elements as opaque words of the dtype's width
// (1, 2, 4 or 8 bytes): one instantiation per width serves all of Ratel's dtypes, and copying
// through std::memcpy with a compile-time size is exact (NaN payloads, -0.0) and free of
// strict-aliasing questions while compiling to a single load/store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace ratel::ops {

// Calls f(std::integral_constant<size_t, W>{}) for the element width W of `dtype`.
template <typename F>
Status dispatch_width(DType dtype, F&& f) {
  switch (dtype_size(dtype)) {
    case 1: return f(std::integral_constant<size_t, 1>{});
    case 2: return f(std::integral_constant<size_t, 2>{});
    case 4: return f(std::integral_constant<size_t, 4>{});
    case 8: return f(std::integral_constant<size_t, 8>{});
    default: break;
  }
  return unsupported("element type {} cannot be copied", dtype_name(dtype));
}

// memcpy that accepts n == 0 with any pointers (memcpy itself requires valid pointers).
inline void copy_bytes(void* dst, const void* src, size_t n) {
  if (n != 0) std::memcpy(dst, src, n);
}

// Copies all of `in`'s bytes into `out` (same element count and dtype): Identity, Reshape...
inline void copy_all(const Tensor& in, Tensor& out) {
  RATEL_ASSERT(in.nbytes() == out.nbytes());
  copy_bytes(out.mutable_raw(), in.raw(), in.nbytes());
}

// Visits the elements of a row-major index space `shape` in order, calling fn(i, offset) with i
// the flat index and offset = base + sum_d index_d * strides[d]. Strides may be zero
// (broadcast) or negative (reversed slices); offsets are kept incrementally.
template <typename Fn>
void for_each_strided(const Shape& shape, const std::vector<int64_t>& strides, int64_t base,
                      Fn&& fn) {
  RATEL_ASSERT(strides.size() == shape.size());
  const int64_t total = numel(shape);
  const size_t rank = shape.size();
  std::vector<int64_t> idx(rank, 0);
  int64_t offset = base;
  for (int64_t i = 0; i < total; ++i) {
    fn(i, offset);
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < shape[d]) {
        offset += strides[d];
        break;
      }
      offset -= strides[d] * (shape[d] - 1);
      idx[d] = 0;
    }
  }
}

// out[i] = in[base + sum_d index_d(i) * in_strides[d]], where index(i) runs over `space`
// (row-major, numel(space) == out.numel()). Transpose, Slice, Expand and Tile are all this
// with different strides. The caller guarantees every offset lies inside `in`.
inline Status copy_strided(const Tensor& in, Tensor& out, const Shape& space, int64_t base,
                           const std::vector<int64_t>& in_strides) {
  RATEL_ASSERT(numel(space) == out.numel() && in.dtype() == out.dtype());
  if (out.numel() == 0) return Status::Ok();
  const auto* src = static_cast<const std::byte*>(in.raw());
  auto* dst = static_cast<std::byte*>(out.mutable_raw());
  return dispatch_width(in.dtype(), [&](auto width) -> Status {
    constexpr size_t W = decltype(width)::value;
    for_each_strided(space, in_strides, base, [&](int64_t i, int64_t off) {
      std::memcpy(dst + static_cast<size_t>(i) * W, src + static_cast<size_t>(off) * W, W);
    });
    return Status::Ok();
  });
}

// Writes the one-element pattern `value` (dtype_size(dtype) bytes) into every element of `out`.
inline Status fill_with(Tensor& out, const void* value) {
  if (out.numel() == 0) return Status::Ok();
  auto* dst = static_cast<std::byte*>(out.mutable_raw());
  return dispatch_width(out.dtype(), [&](auto width) -> Status {
    constexpr size_t W = decltype(width)::value;
    for (int64_t i = 0; i < out.numel(); ++i) std::memcpy(dst + static_cast<size_t>(i) * W, value, W);
    return Status::Ok();
  });
}

}  // namespace ratel::ops
