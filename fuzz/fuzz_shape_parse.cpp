// libFuzzer target: the user-facing strings the CLI parses: shape lists ("1 384;1 384"), one
// shape ("[1, 384]"), memory sizes (--max-memory "1.5G").
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)ratel::parse_shape_list(text);
  (void)ratel::parse_shape(text);
  (void)ratel::parse_byte_size(text);
  return 0;
}
