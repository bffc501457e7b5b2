// libFuzzer target: arbitrary bytes as text for the BERT tokenizer (uncased and cased), over a
// small built-in vocabulary so the target needs no files; and the same bytes as a vocab.txt
// (Vocab::from_text), tokenizing a fixed sentence and the bytes themselves with it.
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
  // The bytes as a vocabulary file; "[UNK]" is appended so a tokenizer can be made from most.
  auto vocab = ratel::nlp::Vocab::from_text(std::string(text) + "\n[UNK]", "fuzz-vocab.txt");
  if (!vocab.ok()) return 0;
  for (int32_t i = 0; i < (*vocab)->size() && i < 64; ++i) (void)(*vocab)->token(i);
  ratel::nlp::TokenizerOptions o;
  o.max_input_chars_per_word = 1 + static_cast<int>(size % 7);
  auto t = ratel::nlp::BertTokenizer::create(*vocab, o);
  if (!t.ok()) return 0;
  ids.clear();
  (void)t->encode("Which NFL team represented the AFC at Super Bowl 50? Caf\xc3\xa9 \xe4\xb8\xad", &ids);
  ids.clear();
  (void)t->encode(text, &ids);
  return 0;
}
