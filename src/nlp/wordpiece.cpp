#include "nlp/wordpiece.h"

#include <algorithm>
#include <array>

#include "nlp/utf8.h"

namespace ratel::nlp {
namespace {

// Prefix hashes are kept on the stack for pieces up to this many bytes; vocabularies with
// longer entries fall back to hashing each candidate separately.
constexpr size_t kMaxHashedPrefix = 64;

// Longest vocab entry starting at word[start], or 0 when there is none. Only candidates that
// end on a character boundary are tried, so lengths compare like the Python character loop.
size_t longest_match(const TokenTable& table, std::string_view word, size_t start, int32_t* id) {
  const size_t limit = std::min(word.size() - start, table.max_key_bytes());
  const auto* bytes = reinterpret_cast<const unsigned char*>(word.data());
  auto on_boundary = [&](size_t len) {
    return start + len == word.size() || !is_utf8_continuation(bytes[start + len]);
  };
  if (limit <= kMaxHashedPrefix) {
    std::array<uint64_t, kMaxHashedPrefix + 1> prefix_hash;
    prefix_hash[0] = fnv1a_init();
    for (size_t k = 1; k <= limit; ++k) {
      prefix_hash[k] = fnv1a_step(prefix_hash[k - 1], bytes[start + k - 1]);
    }
    for (size_t len = limit; len > 0; --len) {
      if (!on_boundary(len)) continue;
      *id = table.find(prefix_hash[len], word.substr(start, len));
      if (*id >= 0) return len;
    }
    return 0;
  }
  for (size_t len = limit; len > 0; --len) {
    if (!on_boundary(len)) continue;
    *id = table.find(word.substr(start, len));
    if (*id >= 0) return len;
  }
  return 0;
}

}  // namespace

WordpieceTokenizer::WordpieceTokenizer(std::shared_ptr<const Vocab> vocab, int32_t unk_id,
                                       int max_input_chars_per_word)
    : vocab_(std::move(vocab)),
      unk_id_(unk_id),
      max_input_chars_per_word_(static_cast<size_t>(std::max(0, max_input_chars_per_word))) {}

void WordpieceTokenizer::tokenize_word(std::string_view word, std::vector<int32_t>* ids) const {
  if (word.empty()) return;
  // Byte length bounds the character count, so most words skip the count.
  if (word.size() > max_input_chars_per_word_ &&
      count_code_points(word) > max_input_chars_per_word_) {
    ids->push_back(unk_id_);
    return;
  }
  const size_t rollback = ids->size();
  const TokenTable* table = &vocab_->word_table();
  size_t start = 0;
  while (start < word.size()) {
    int32_t id = -1;
    const size_t len = longest_match(*table, word, start, &id);
    if (len == 0) {  // a remainder no piece matches: the whole word is unknown
      ids->resize(rollback);
      ids->push_back(unk_id_);
      return;
    }
    ids->push_back(id);
    start += len;
    table = &vocab_->continuation_table();
  }
}

}  // namespace ratel::nlp
