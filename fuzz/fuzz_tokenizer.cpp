// libFuzzer target: arbitrary bytes as text for the BERT tokenizer (uncased and cased), over a
// small built-in vocabulary so the target needs no files.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "nlp/bert_tokenizer.h"

namespace {
const char kVocab[] =
    "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\nnfl\nteam\n##s\n##ing\nsuper\nbowl\n50\n?\n.\n,\na\n##a\n"
    "\xc3\xa9\n\xe4\xb8\xad\n##\xc3\xa9\nden\n##ver\nbroncos\n";

const ratel::nlp::BertTokenizer& tokenizer(bool lower) {
  static const auto vocab = ratel::nlp::Vocab::from_text(kVocab, "fuzz-vocab");
  static const auto uncased = ratel::nlp::BertTokenizer::create(*vocab, {});
  static const auto cased = ratel::nlp::BertTokenizer::create(*vocab, {false});
  return lower ? *uncased : *cased;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<int32_t> ids;
  for (bool lower : {true, false}) {
    ids.clear();
    (void)tokenizer(lower).encode(text, &ids);
  }
  return 0;
}
