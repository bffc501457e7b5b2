// libFuzzer target: arbitrary bytes as a SQuAD JSON file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "nlp/squad_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)ratel::nlp::parse_squad_json(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
  return 0;
}
