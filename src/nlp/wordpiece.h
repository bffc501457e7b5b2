// BERT's WordpieceTokenizer: greedy longest-match-first split of one word into vocab pieces,
// continuation pieces spelled "##piece"; a word with an unmatched remainder, or longer than
// max_input_chars_per_word code points, becomes the single unknown token.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "nlp/vocab.h"

namespace ratel::nlp {

class WordpieceTokenizer {
 public:
  // tokenization.py's default; HuggingFace's BertWordPieceTokenizer uses 100.
  static constexpr int kDefaultMaxInputCharsPerWord = 200;

  WordpieceTokenizer(std::shared_ptr<const Vocab> vocab, int32_t unk_id,
                     int max_input_chars_per_word = kDefaultMaxInputCharsPerWord);

  // Appends the ids of `word` (one basic token: valid UTF-8 without whitespace). The search
  // never tries a piece longer than the longest vocab entry, so it costs O(word length x
  // longest entry) hash probes at worst and usually one probe per piece; it allocates nothing.
  void tokenize_word(std::string_view word, std::vector<int32_t>* ids) const;

  const Vocab& vocab() const { return *vocab_; }
  int32_t unk_id() const { return unk_id_; }

 private:
  std::shared_ptr<const Vocab> vocab_;
  int32_t unk_id_;
  size_t max_input_chars_per_word_;
};

}  // namespace ratel::nlp
