// Test buffers that make overruns fail loudly: the array ends right before a PROT_NONE page,
// so a read or write past the end faults at once (a SIGSEGV names the kernel in the test log).
// When the requested alignment leaves a gap between the end and the page, the gap is filled
// with canary bytes that canary_intact() checks (catches writes that stay inside the page).
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>

namespace ratel::testing {

class GuardedBuffer {
 public:
  explicit GuardedBuffer(size_t count, size_t alignment = 64);
  ~GuardedBuffer();
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;

  float* data() { return data_; }
  const float* data() const { return data_; }
  size_t size() const { return count_; }
  std::span<float> span() { return {data_, count_}; }
  float& operator[](size_t i) { return data_[i]; }
  float operator[](size_t i) const { return data_[i]; }

  bool canary_intact() const;

  // Uniform reals in [lo, hi), or integers in [lo, hi] when `integers` (exact in fp32 sums).
  void fill_random(std::mt19937& rng, float lo, float hi, bool integers = false);
  void fill(float value);

 private:
  std::byte* map_ = nullptr;
  size_t map_bytes_ = 0;
  float* data_ = nullptr;
  size_t count_ = 0;
  std::byte* slack_begin_ = nullptr;
  std::byte* slack_end_ = nullptr;
};

}  // namespace ratel::testing
