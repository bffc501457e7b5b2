// libFuzzer target: the user-facing shape strings ("1 384;1 384").
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)ratel::parse_shape_list(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
