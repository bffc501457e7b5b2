// BERT's FullTokenizer: BasicTokenizer then WordpieceTokenizer, over one shared vocabulary.
//
//   RATEL_ASSIGN_OR_RETURN(auto tokenizer, BertTokenizer::load("vocab.txt"));
//   std::vector<int32_t> ids;
//   RATEL_RETURN_IF_ERROR(tokenizer.encode("Which NFL team won?", &ids));
//
// A BertTokenizer is immutable and cheap to copy (the vocab is shared); it may be used from
// several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "nlp/basic_tokenizer.h"
#include "nlp/vocab.h"
#include "nlp/wordpiece.h"

namespace ratel::nlp {

struct TokenizerOptions {
  bool do_lower_case = true;  // uncased models; false keeps case and accents
  int max_input_chars_per_word = WordpieceTokenizer::kDefaultMaxInputCharsPerWord;
  std::string unk_token = "[UNK]";
};

class BertTokenizer {
 public:
  static Result<BertTokenizer> load(const std::string& vocab_path,
                                    const TokenizerOptions& options = {});
  // Fails when the vocab lacks options.unk_token.
  static Result<BertTokenizer> create(std::shared_ptr<const Vocab> vocab,
                                      const TokenizerOptions& options = {});

  // Appends the WordPiece ids of `text` (UTF-8) to *ids. No special tokens are added. On
  // error (invalid UTF-8, naming the byte offset) *ids is left as it was.
  Status encode(std::string_view text, std::vector<int32_t>* ids) const;
  // The WordPiece tokens as strings (convenience for tests and tools; allocates per token).
  Result<std::vector<std::string>> tokenize(std::string_view text) const;

  const Vocab& vocab() const { return wordpiece_.vocab(); }
  const std::shared_ptr<const Vocab>& shared_vocab() const { return vocab_; }
  const BasicTokenizer& basic() const { return basic_; }
  const WordpieceTokenizer& wordpiece() const { return wordpiece_; }
  bool do_lower_case() const { return basic_.do_lower_case(); }
  // Id of a token that must exist ("[CLS]", "[SEP]"), or an error naming it.
  Result<int32_t> required_id(std::string_view token) const;

 private:
  BertTokenizer(std::shared_ptr<const Vocab> vocab, BasicTokenizer basic, WordpieceTokenizer wp)
      : vocab_(std::move(vocab)), basic_(basic), wordpiece_(std::move(wp)) {}
  std::shared_ptr<const Vocab> vocab_;
  BasicTokenizer basic_;
  WordpieceTokenizer wordpiece_;
};

}  // namespace ratel::nlp
