#include "nlp/bert_tokenizer.h"

namespace ratel::nlp {
namespace {

class WordpieceSink : public TokenSink {
 public:
  WordpieceSink(const WordpieceTokenizer& wordpiece, std::vector<int32_t>* ids)
      : wordpiece_(wordpiece), ids_(ids) {}
  void on_token(std::string_view token) override { wordpiece_.tokenize_word(token, ids_); }

 private:
  const WordpieceTokenizer& wordpiece_;
  std::vector<int32_t>* ids_;
};

}  // namespace

Result<BertTokenizer> BertTokenizer::load(const std::string& vocab_path,
                                          const TokenizerOptions& options) {
  RATEL_ASSIGN_OR_RETURN(auto vocab, Vocab::load(vocab_path));
  return create(std::move(vocab), options);
}

Result<BertTokenizer> BertTokenizer::create(std::shared_ptr<const Vocab> vocab,
                                            const TokenizerOptions& options) {
  if (!vocab) return invalid_argument("BertTokenizer: no vocab");
  const int32_t unk_id = vocab->find(options.unk_token);
  if (unk_id < 0) return not_found("vocab has no unknown token '{}'", options.unk_token);
  if (options.max_input_chars_per_word < 1) {
    return invalid_argument("max_input_chars_per_word must be positive, got {}",
                            options.max_input_chars_per_word);
  }
  WordpieceTokenizer wordpiece(vocab, unk_id, options.max_input_chars_per_word);
  return BertTokenizer(std::move(vocab), BasicTokenizer(options.do_lower_case),
                       std::move(wordpiece));
}

Status BertTokenizer::encode(std::string_view text, std::vector<int32_t>* ids) const {
  const size_t size_before = ids->size();
  WordpieceSink sink(wordpiece_, ids);
  Status status = basic_.tokenize(text, sink);
  if (!status.ok()) ids->resize(size_before);  // all or nothing
  return status;
}

Result<std::vector<std::string>> BertTokenizer::tokenize(std::string_view text) const {
  std::vector<int32_t> ids;
  RATEL_RETURN_IF_ERROR(encode(text, &ids));
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) tokens.emplace_back(vocab().token(id));
  return tokens;
}

Result<int32_t> BertTokenizer::required_id(std::string_view token) const {
  const int32_t id = vocab().find(token);
  if (id < 0) return not_found("vocab has no '{}' token", token);
  return id;
}

}  // namespace ratel::nlp
