#include "nlp/vocab.h"

#include <algorithm>
#include <cstring>

#include "core/file.h"
#include "nlp/utf8.h"

namespace ratel::nlp {

uint64_t fnv1a(std::string_view bytes) {
  uint64_t h = fnv1a_init();
  for (char c : bytes) h = fnv1a_step(h, static_cast<unsigned char>(c));
  return h;
}

namespace {
// FNV's low bits are weak for short keys: mix before taking the slot index. The tag uses the
// high bits, which the slot index does not, so a tag match is close to a key match.
uint64_t slot_index(uint64_t hash, uint64_t mask) {
  return ((hash * 0x9E3779B97F4A7C15ull) >> 20) & mask;
}
uint32_t tag_of(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
}  // namespace

void TokenTable::build(const std::string* arena,
                       const std::vector<std::pair<uint32_t, uint32_t>>& keys,
                       const std::vector<int32_t>& ids) {
  arena_ = arena;
  size_t capacity = 16;
  while (capacity < keys.size() * 2) capacity *= 2;  // load factor <= 0.5: short probe chains
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  max_key_bytes_ = 0;
  int32_t max_id = -1;
  for (int32_t id : ids) max_id = std::max(max_id, id);
  key_of_id_.assign(static_cast<size_t>(max_id + 1), KeyRange{});
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto [offset, length] = keys[i];
    const std::string_view key(arena->data() + offset, length);
    const uint64_t hash = fnv1a(key);
    uint64_t s = slot_index(hash, mask_);
    while (slots_[s].id >= 0) {
      const KeyRange other = key_of_id_[slots_[s].id];
      if (std::string_view(arena->data() + other.offset, other.length) == key) {
        break;  // duplicate key: the later id wins, like the Python dict in load_vocab
      }
      s = (s + 1) & mask_;
    }
    slots_[s] = Slot{tag_of(hash), ids[i]};
    key_of_id_[ids[i]] = KeyRange{offset, length};
    if (length > max_key_bytes_) max_key_bytes_ = length;
  }
}

int32_t TokenTable::find(uint64_t hash, std::string_view key) const {
  if (slots_.empty()) return -1;
  const uint32_t tag = tag_of(hash);
  for (uint64_t s = slot_index(hash, mask_);; s = (s + 1) & mask_) {
    const Slot slot = slots_[s];
    if (slot.id < 0) return -1;
    if (slot.tag != tag) continue;
    const KeyRange range = key_of_id_[slot.id];
    if (range.length == key.size() &&
        std::memcmp(arena_->data() + range.offset, key.data(), key.size()) == 0) {
      return slot.id;
    }
  }
}

Result<std::shared_ptr<const Vocab>> Vocab::load(const std::string& path) {
  RATEL_ASSIGN_OR_RETURN(std::string text, read_text_file(path));
  return from_text(text, path);
}

Result<std::shared_ptr<const Vocab>> Vocab::from_text(std::string_view text,
                                                      std::string_view source) {
  std::shared_ptr<Vocab> vocab(new Vocab());
  std::vector<std::pair<uint32_t, uint32_t>> word_keys, continuation_keys;
  std::vector<int32_t> word_ids, continuation_ids;
  if (text.size() >= (1u << 31)) return out_of_range("{}: vocab file too large", source);
  vocab->arena_.reserve(text.size());

  size_t line_start = 0;
  int32_t id = 0;
  while (line_start < text.size()) {
    size_t line_end = text.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = text.size();
    std::string_view token = text.substr(line_start, line_end - line_start);
    while (!token.empty() && is_ascii_space(token.front())) token.remove_prefix(1);
    while (!token.empty() && is_ascii_space(token.back())) token.remove_suffix(1);
    for (size_t pos = 0; pos < token.size();) {
      char32_t cp;
      const size_t len = decode_utf8(token, pos, &cp);
      if (len == 0) {
        return invalid_argument("{}: line {}: invalid UTF-8 at byte offset {}", source, id + 1,
                                token.data() + pos - text.data());
      }
      pos += len;
    }
    const auto offset = static_cast<uint32_t>(vocab->arena_.size());
    vocab->arena_.append(token);
    vocab->token_offsets_.push_back(static_cast<uint32_t>(vocab->arena_.size()));
    word_keys.emplace_back(offset, static_cast<uint32_t>(token.size()));
    word_ids.push_back(id);
    // "##" alone can only ever match as a whole word: tokenization.py looks up "##" + a
    // non-empty piece for continuations.
    if (token.size() > 2 && token[0] == '#' && token[1] == '#') {
      continuation_keys.emplace_back(offset + 2, static_cast<uint32_t>(token.size() - 2));
      continuation_ids.push_back(id);
    }
    ++id;
    line_start = line_end + 1;
  }
  if (id == 0) return invalid_argument("{}: vocab is empty", source);
  vocab->words_.build(&vocab->arena_, word_keys, word_ids);
  vocab->continuations_.build(&vocab->arena_, continuation_keys, continuation_ids);
  return std::shared_ptr<const Vocab>(std::move(vocab));
}

}  // namespace ratel::nlp
