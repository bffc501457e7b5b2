// libFuzzer target: arbitrary bytes as a .npy file.
#include <cstddef>
#include <cstdint>

#include "io/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool init = [] {
    ratel::set_allocation_limit(size_t{64} << 20);
    return true;
  }();
  (void)init;
  auto t = ratel::io::parse_npy(reinterpret_cast<const std::byte*>(data), size, "fuzz.npy");
  if (t.ok()) (void)ratel::io::convert_exact(*t, ratel::DType::kI32, "fuzz");
  return 0;
}
