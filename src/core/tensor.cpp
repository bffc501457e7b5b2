#include "core/tensor.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

namespace ratel {

namespace {
std::atomic<size_t> g_allocation_limit{0};  // 0: not set yet, use physical memory
// Bytes held by owned Storage buffers (rounded sizes), process-wide: what the limit caps.
std::atomic<size_t> g_allocated_bytes{0};

// "512 bytes", "1.5 KiB", "4.0 MiB", "2.0 GiB".
std::string mib(size_t bytes) {
  const double b = static_cast<double>(bytes);
  if (bytes < 1024) return fmt::format("{} bytes", bytes);
  if (bytes < (size_t{1} << 20)) return fmt::format("{:.1f} KiB", b / 1024.0);
  if (bytes < (size_t{1} << 30)) return fmt::format("{:.1f} MiB", b / 1048576.0);
  return fmt::format("{:.1f} GiB", b / 1073741824.0);
}
}  // namespace

size_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return size_t{1} << 40;
  return static_cast<size_t>(pages) * static_cast<size_t>(page_size);
}

void set_allocation_limit(size_t bytes) { g_allocation_limit = bytes; }

size_t allocation_limit() {
  const size_t limit = g_allocation_limit.load();
  return limit ? limit : physical_memory_bytes();
}

size_t allocated_bytes() { return g_allocated_bytes.load(); }

Result<int64_t> checked_numel(const Shape& shape) {
  if (shape.size() > static_cast<size_t>(kMaxRank)) {
    return out_of_range("rank {} exceeds the maximum of {}", shape.size(), kMaxRank);
  }
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return invalid_argument("negative dimension {} in shape {}", d, shape_str(shape));
    if (d > kMaxDim) return out_of_range("dimension {} in shape {} is too large", d, shape_str(shape));
    if (d != 0 && n > kMaxDim / d) {
      return out_of_range("shape {} has too many elements", shape_str(shape));
    }
    n *= d;
  }
  return n;
}

int64_t numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::vector<int64_t> contiguous_strides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

Result<std::shared_ptr<Storage>> Storage::allocate(size_t bytes) {
  const size_t limit = allocation_limit();
  if (bytes > limit) {
    return out_of_range("allocation of {} bytes ({}) exceeds the memory limit of {}", bytes, mib(bytes),
                        mib(limit));
  }
  // Round up so aligned_alloc's size is a multiple of the alignment; never allocate 0 bytes.
  // (No overflow: bytes <= limit <= physical memory.)
  size_t rounded = (bytes + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment;
  if (rounded == 0) rounded = kTensorAlignment;
  // Charge with a compare-and-swap: concurrent allocations cannot both slip under the limit,
  // and the total never exceeds it, even for a moment.
  size_t in_use = g_allocated_bytes.load();
  do {
    if (rounded > limit - std::min(in_use, limit)) {
      return out_of_range("allocation of {} bytes ({}) exceeds the memory limit of {}: {} already in use",
                          bytes, mib(bytes), mib(limit), mib(in_use));
    }
  } while (!g_allocated_bytes.compare_exchange_weak(in_use, in_use + rounded));
  void* p = std::aligned_alloc(kTensorAlignment, rounded);
  if (!p) {
    g_allocated_bytes.fetch_sub(rounded);
    return out_of_range("out of memory allocating {} bytes ({})", bytes, mib(bytes));
  }
  std::memset(p, 0, rounded);
  std::shared_ptr<Storage> s(new Storage());
  s->data_ = static_cast<std::byte*>(p);
  s->size_ = bytes;
  s->charged_ = rounded;
  s->owned_ = true;
  return s;
}

std::shared_ptr<Storage> Storage::borrow(void* data, size_t bytes, std::shared_ptr<void> keepalive,
                                         bool writable) {
  std::shared_ptr<Storage> s(new Storage());
  s->data_ = static_cast<std::byte*>(data);
  s->size_ = bytes;
  s->owned_ = false;
  s->writable_ = writable;
  s->keepalive_ = std::move(keepalive);
  return s;
}

Storage::~Storage() {
  if (owned_) {
    std::free(data_);
    g_allocated_bytes.fetch_sub(charged_);
  }
}

Result<Tensor> Tensor::allocate(DType dtype, Shape shape) {
  RATEL_ASSIGN_OR_RETURN(int64_t n, checked_numel(shape));
  const size_t elem = dtype_size(dtype);
  if (elem == 0) return invalid_argument("cannot allocate a tensor of undefined type");
  if (static_cast<uint64_t>(n) > SIZE_MAX / elem) {
    return out_of_range("tensor of shape {} is too large", shape_str(shape));
  }
  RATEL_ASSIGN_OR_RETURN(auto storage, Storage::allocate(static_cast<size_t>(n) * elem));
  return view(dtype, std::move(shape), std::move(storage), 0);
}

Tensor Tensor::view(DType dtype, Shape shape, std::shared_ptr<Storage> storage,
                    size_t byte_offset) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.storage_ = std::move(storage);
  t.offset_ = byte_offset;
  RATEL_ASSERT(t.offset_ + t.nbytes() <= t.storage_->size());
  return t;
}

Tensor Tensor::reshaped(Shape shape) const {
  RATEL_ASSERT(ratel::numel(shape) == numel());
  return view(dtype_, std::move(shape), storage_, offset_);
}

Result<Tensor> Tensor::clone() const {
  RATEL_ASSIGN_OR_RETURN(Tensor t, allocate(dtype_, shape_));
  if (nbytes()) std::memcpy(t.mutable_raw(), raw(), nbytes());
  return t;
}

double Tensor::get_as_double(int64_t i) const {
  const auto* p = static_cast<const std::byte*>(raw());
  switch (dtype_) {
    case DType::kF32: return reinterpret_cast<const float*>(p)[i];
    case DType::kF64: return reinterpret_cast<const double*>(p)[i];
    case DType::kF16: return half_to_float(reinterpret_cast<const uint16_t*>(p)[i]);
    case DType::kBF16: return bf16_to_float(reinterpret_cast<const uint16_t*>(p)[i]);
    case DType::kI8: return reinterpret_cast<const int8_t*>(p)[i];
    case DType::kU8: return reinterpret_cast<const uint8_t*>(p)[i];
    case DType::kI16: return reinterpret_cast<const int16_t*>(p)[i];
    case DType::kU16: return reinterpret_cast<const uint16_t*>(p)[i];
    case DType::kI32: return reinterpret_cast<const int32_t*>(p)[i];
    case DType::kU32: return reinterpret_cast<const uint32_t*>(p)[i];
    case DType::kI64: return static_cast<double>(reinterpret_cast<const int64_t*>(p)[i]);
    case DType::kU64: return static_cast<double>(reinterpret_cast<const uint64_t*>(p)[i]);
    case DType::kBool: return reinterpret_cast<const uint8_t*>(p)[i] ? 1.0 : 0.0;
    case DType::kUndefined: break;
  }
  return 0.0;
}

int64_t Tensor::get_as_int64(int64_t i) const {
  const auto* p = static_cast<const std::byte*>(raw());
  switch (dtype_) {
    case DType::kI8: return reinterpret_cast<const int8_t*>(p)[i];
    case DType::kU8: return reinterpret_cast<const uint8_t*>(p)[i];
    case DType::kI16: return reinterpret_cast<const int16_t*>(p)[i];
    case DType::kU16: return reinterpret_cast<const uint16_t*>(p)[i];
    case DType::kI32: return reinterpret_cast<const int32_t*>(p)[i];
    case DType::kU32: return reinterpret_cast<const uint32_t*>(p)[i];
    case DType::kI64: return reinterpret_cast<const int64_t*>(p)[i];
    case DType::kU64: return static_cast<int64_t>(reinterpret_cast<const uint64_t*>(p)[i]);
    case DType::kBool: return reinterpret_cast<const uint8_t*>(p)[i] ? 1 : 0;
    default: return static_cast<int64_t>(get_as_double(i));
  }
}

}  // namespace ratel
