// libFuzzer target: arbitrary bytes as a .npy file, then the exact conversions `ratel run`
// applies to inputs (to the model's integer or float type).
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
  if (!t.ok()) return 0;
  for (ratel::DType to : {ratel::DType::kI32, ratel::DType::kI64, ratel::DType::kF32, ratel::DType::kBool}) {
    (void)ratel::io::convert_exact(*t, to, "fuzz");
  }
  return 0;
}
