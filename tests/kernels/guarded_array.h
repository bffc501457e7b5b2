// GuardedBuffer (guarded_buffer.h) for any trivially copyable element type: the quantized and
// half-precision GEMM tests need bytes, shorts and int32. The array ends right before a
// PROT_NONE page; a gap left by the alignment is filled with canary bytes.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>

namespace ratel::testing {

template <typename T>
class GuardedArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  explicit GuardedArray(size_t count, size_t alignment = 64) : count_(count) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t bytes = count * sizeof(T);
    const size_t data_pages = (bytes + alignment + page - 1) / page;
    map_bytes_ = (data_pages + 1) * page;
    void* map = mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) std::abort();
    map_ = static_cast<std::byte*>(map);
    std::byte* guard = map_ + data_pages * page;
    if (mprotect(guard, page, PROT_NONE) != 0) std::abort();
    const uintptr_t end = reinterpret_cast<uintptr_t>(guard);
    const uintptr_t begin = (end - bytes) / alignment * alignment;
    data_ = reinterpret_cast<T*>(begin);
    slack_begin_ = reinterpret_cast<std::byte*>(begin + bytes);
    slack_end_ = guard;
    std::memset(slack_begin_, kCanary, static_cast<size_t>(slack_end_ - slack_begin_));
    std::memset(static_cast<void*>(data_), 0xCD, bytes);  // poison: not zeros
  }
  ~GuardedArray() { munmap(map_, map_bytes_); }
  GuardedArray(const GuardedArray&) = delete;
  GuardedArray& operator=(const GuardedArray&) = delete;

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return count_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

  bool canary_intact() const {
    for (const std::byte* p = slack_begin_; p < slack_end_; ++p) {
      if (*p != std::byte{kCanary}) return false;
    }
    return true;
  }

 private:
  static constexpr int kCanary = 0xA5;
  std::byte* map_ = nullptr;
  size_t map_bytes_ = 0;
  T* data_ = nullptr;
  size_t count_ = 0;
  std::byte* slack_begin_ = nullptr;
  std::byte* slack_end_ = nullptr;
};

}  // namespace ratel::testing
