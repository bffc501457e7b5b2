// libFuzzer target: arbitrary bytes as a SQuAD JSON file (and as a predictions file, which
// `evaluate` reads with the same JSON parser).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "nlp/squad_eval.h"
#include "nlp/squad_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto dataset = ratel::nlp::parse_squad_json(text, "fuzz.json");
  if (dataset.ok()) (void)ratel::nlp::make_squad_examples(*dataset);
  (void)ratel::nlp::parse_predictions_json(text, "fuzz-predictions.json");
  return 0;
}
