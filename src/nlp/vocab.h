// The WordPiece vocabulary: one token a line, id = line number (BERT's load_vocab).
//
// Built once for lookup speed: every token lives in one arena, and two open-addressing hash
// tables map byte strings to ids without allocating. Word-initial lookups use the whole token;
// continuation lookups ("##ing") use the text after "##", so the tokenizer never builds the
// "##" + piece string that tokenization.py does.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ratel::nlp {

// 64-bit FNV-1a, byte at a time, so the tokenizer can hash every prefix of a word in one pass.
inline uint64_t fnv1a_init() { return 0xcbf29ce484222325ull; }
inline uint64_t fnv1a_step(uint64_t h, unsigned char byte) { return (h ^ byte) * 0x100000001b3ull; }
uint64_t fnv1a(std::string_view bytes);

// A read-only string -> id map over the vocabulary arena. The probed array holds only a
// 32-bit hash tag and the id (8 bytes a slot, so the 30k-entry BERT table is 512 KiB and
// mostly cache-resident); key bytes are compared only when the tag matches.
class TokenTable {
 public:
  // keys[i] = (offset, length) of the key for ids[i] in `arena`, which must outlive the table.
  void build(const std::string* arena, const std::vector<std::pair<uint32_t, uint32_t>>& keys,
             const std::vector<int32_t>& ids);
  // `hash` must be fnv1a(key). Returns -1 when absent.
  int32_t find(uint64_t hash, std::string_view key) const;
  int32_t find(std::string_view key) const { return find(fnv1a(key), key); }
  // The longest key in bytes: no longer substring can match, which bounds WordPiece's search.
  size_t max_key_bytes() const { return max_key_bytes_; }

 private:
  struct Slot {
    uint32_t tag = 0;
    int32_t id = -1;  // -1: empty slot
  };
  struct KeyRange {
    uint32_t offset = 0;  // into the arena
    uint32_t length = 0;
  };
  const std::string* arena_ = nullptr;
  std::vector<Slot> slots_;
  std::vector<KeyRange> key_of_id_;  // indexed by id
  uint64_t mask_ = 0;
  size_t max_key_bytes_ = 0;
};

// Immutable once loaded and shared (tables point into the arena, so it never moves).
class Vocab {
 public:
  // Reads a vocab file. Lines are stripped of surrounding ASCII whitespace like load_vocab
  // does; a token listed twice keeps its last id (a Python dict assignment), as BERT does.
  static Result<std::shared_ptr<const Vocab>> load(const std::string& path);
  // Same, from the file's text; `source` names it in errors.
  static Result<std::shared_ptr<const Vocab>> from_text(std::string_view text,
                                                        std::string_view source);

  Vocab(const Vocab&) = delete;
  Vocab& operator=(const Vocab&) = delete;

  int32_t size() const { return static_cast<int32_t>(token_offsets_.size()) - 1; }
  // The token with this id (ids in [0, size())).
  std::string_view token(int32_t id) const {
    RATEL_ASSERT(id >= 0 && id < size());
    return std::string_view(arena_).substr(token_offsets_[id],
                                           token_offsets_[id + 1] - token_offsets_[id]);
  }
  // Id of a whole token, -1 when absent.
  int32_t find(std::string_view token) const { return words_.find(token); }
  // Id of a token in the form used for word-initial WordPiece lookups (every vocab entry).
  const TokenTable& word_table() const { return words_; }
  // Ids of "##x" entries, keyed by "x".
  const TokenTable& continuation_table() const { return continuations_; }

 private:
  Vocab() = default;
  std::string arena_;
  std::vector<uint32_t> token_offsets_{0};
  TokenTable words_;
  TokenTable continuations_;
};

}  // namespace ratel::nlp
