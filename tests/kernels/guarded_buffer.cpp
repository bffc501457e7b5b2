#include "guarded_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace ratel::testing {
namespace {
constexpr std::byte kCanary{0xA5};
}  // namespace

GuardedBuffer::GuardedBuffer(size_t count, size_t alignment) : count_(count) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t bytes = count * sizeof(float);
  const size_t data_pages = (bytes + alignment + page - 1) / page;
  map_bytes_ = (data_pages + 1) * page;
  void* map = mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) std::abort();  // a test environment problem, not a kernel bug
  map_ = static_cast<std::byte*>(map);
  std::byte* guard = map_ + data_pages * page;
  if (mprotect(guard, page, PROT_NONE) != 0) std::abort();
  const uintptr_t end = reinterpret_cast<uintptr_t>(guard);
  const uintptr_t begin = (end - bytes) / alignment * alignment;
  data_ = reinterpret_cast<float*>(begin);
  slack_begin_ = reinterpret_cast<std::byte*>(begin + bytes);
  slack_end_ = guard;
  std::memset(slack_begin_, static_cast<int>(kCanary), static_cast<size_t>(slack_end_ - slack_begin_));
  // Poison the contents: a kernel that reads before writing sees NaNs, not zeros.
  for (size_t i = 0; i < count; ++i) data_[i] = std::nanf("");
}

GuardedBuffer::~GuardedBuffer() { munmap(map_, map_bytes_); }

bool GuardedBuffer::canary_intact() const {
  for (const std::byte* p = slack_begin_; p < slack_end_; ++p) {
    if (*p != kCanary) return false;
  }
  return true;
}

void GuardedBuffer::fill_random(std::mt19937& rng, float lo, float hi, bool integers) {
  if (integers) {
    std::uniform_int_distribution<int> dist(static_cast<int>(lo), static_cast<int>(hi));
    for (size_t i = 0; i < count_; ++i) data_[i] = static_cast<float>(dist(rng));
  } else {
    std::uniform_real_distribution<float> dist(lo, hi);
    for (size_t i = 0; i < count_; ++i) data_[i] = dist(rng);
  }
}

void GuardedBuffer::fill(float value) {
  for (size_t i = 0; i < count_; ++i) data_[i] = value;
}

}  // namespace ratel::testing
