// Shape and Tensor: a typed, shaped view of a reference-counted byte buffer.
//
// Buffers are 64-byte aligned (one cache line, one AVX-512 register). A tensor either owns its
// memory or views memory kept alive by someone else (an mmap-ed weight file).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"

namespace ratel {

inline constexpr size_t kTensorAlignment = 64;
// Dimensions above this are refused outright: no real model has them, hostile files do.
inline constexpr int64_t kMaxDim = int64_t{1} << 40;
inline constexpr int kMaxRank = 16;

using Shape = std::vector<int64_t>;

// Product of dims, or an error if any dim is negative or the product overflows kMaxDim.
Result<int64_t> checked_numel(const Shape& shape);
// Product of dims; the caller guarantees the shape was validated.
int64_t numel(const Shape& shape);
// "[1, 384]"
std::string shape_str(const Shape& shape);
// Row-major strides in elements.
std::vector<int64_t> contiguous_strides(const Shape& shape);

// The most tensor memory the process may hold at once: the sum of every live owned Storage
// (weights, packed copies, activation arenas, folded constants, inputs). Defaults to physical
// memory; `ratel --max-memory` sets it. An allocation that would exceed it fails with an error
// (callers add the tensor's name), never an OOM kill. Weights viewed in place from a mapped
// external-data file are not counted (the kernel can drop those pages), but a single such
// tensor larger than the limit is refused too.
void set_allocation_limit(size_t bytes);
size_t allocation_limit();
// Bytes currently held by owned Storage buffers, process-wide.
size_t allocated_bytes();
size_t physical_memory_bytes();

// Memory behind a tensor. Owning (aligned heap) or borrowed (kept alive by `keepalive`).
class Storage {
 public:
  static Result<std::shared_ptr<Storage>> allocate(size_t bytes);
  static std::shared_ptr<Storage> borrow(void* data, size_t bytes, std::shared_ptr<void> keepalive,
                                         bool writable);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  std::byte* data() { return data_; }
  const std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  bool writable() const { return writable_; }

 private:
  Storage() = default;
  std::byte* data_ = nullptr;
  size_t size_ = 0;
  size_t charged_ = 0;  // owned: bytes counted in allocated_bytes()
  bool owned_ = false;
  bool writable_ = true;
  std::shared_ptr<void> keepalive_;
};

class Tensor {
 public:
  Tensor() = default;

  // Zero-initialized tensor. Fails on invalid shape or if it exceeds the allocation limit.
  static Result<Tensor> allocate(DType dtype, Shape shape);
  // Views `storage` starting at `byte_offset`; the caller checked the bounds.
  static Tensor view(DType dtype, Shape shape, std::shared_ptr<Storage> storage,
                     size_t byte_offset = 0);
  // Builds a tensor from values (tests, constants).
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, Shape shape);
  template <typename T>
  static Tensor scalar(T value) { return from_vector<T>({value}, {}); }

  bool defined() const { return storage_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const { return shape_[static_cast<size_t>(i)]; }
  int64_t numel() const { return ratel::numel(shape_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }

  const void* raw() const { return storage_->data() + offset_; }
  void* mutable_raw() {
    RATEL_ASSERT(storage_->writable());
    return storage_->data() + offset_;
  }
  template <typename T>
  const T* data() const {
    RATEL_ASSERT(DTypeOf<T>::value == dtype_);
    return reinterpret_cast<const T*>(raw());
  }
  template <typename T>
  T* mutable_data() {
    RATEL_ASSERT(DTypeOf<T>::value == dtype_);
    return reinterpret_cast<T*>(mutable_raw());
  }
  template <typename T>
  std::vector<T> to_vector() const {
    const T* p = data<T>();
    return std::vector<T>(p, p + numel());
  }

  // Same bytes, new shape (element count must match).
  Tensor reshaped(Shape shape) const;
  // Deep copy into fresh owned memory.
  Result<Tensor> clone() const;
  const std::shared_ptr<Storage>& storage() const { return storage_; }

  // Reads element i as double / int64 whatever the dtype (slow; for shape values and printing).
  double get_as_double(int64_t i) const;
  int64_t get_as_int64(int64_t i) const;

 private:
  DType dtype_ = DType::kUndefined;
  Shape shape_;
  std::shared_ptr<Storage> storage_;
  size_t offset_ = 0;
};

template <typename T>
Tensor Tensor::from_vector(const std::vector<T>& values, Shape shape) {
  auto t = Tensor::allocate(DTypeOf<T>::value, std::move(shape));
  RATEL_ASSERT(t.ok() && static_cast<size_t>(t->numel()) == values.size());
  T* p = t->template mutable_data<T>();
  for (size_t i = 0; i < values.size(); ++i) p[i] = values[i];
  return std::move(t).value();
}

}  // namespace ratel
