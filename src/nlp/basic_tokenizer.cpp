#include "nlp/basic_tokenizer.h"

#include <array>
#include <cstdint>

#include "nlp/unicode_props.h"
#include "nlp/utf8.h"

namespace ratel::nlp {
namespace {

// What the cleaning + splitting steps do with each ASCII byte.
enum AsciiClass : uint8_t { kDrop, kSpace, kPunct, kWord };

constexpr std::array<uint8_t, 128> make_ascii_classes() {
  std::array<uint8_t, 128> classes{};
  for (int c = 0; c < 128; ++c) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      classes[c] = kSpace;
    } else if (c < 0x20 || c == 0x7F) {
      classes[c] = kDrop;  // NUL and the other C0 controls, DEL
    } else if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
               (c >= 123 && c <= 126)) {
      classes[c] = kPunct;
    } else {
      classes[c] = kWord;
    }
  }
  return classes;
}
constexpr std::array<uint8_t, 128> kAsciiClass = make_ascii_classes();

// Per-thread buffers so tokenizing never allocates in steady state.
struct Scratch {
  std::string token;  // current whitespace-delimited token, cleaned (ASCII already lower-cased)
  std::u32string code_points, lowered, decomposed;
  std::string piece;
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// Splits a token that is all ASCII at punctuation and emits the pieces.
void emit_ascii_token(std::string_view token, TokenSink& sink) {
  size_t start = 0;
  for (size_t i = 0; i < token.size(); ++i) {
    if (kAsciiClass[static_cast<unsigned char>(token[i])] == kPunct) {
      if (i > start) sink.on_token(token.substr(start, i - start));
      sink.on_token(token.substr(i, 1));
      start = i + 1;
    }
  }
  if (start < token.size()) sink.on_token(token.substr(start));
}

// The general path: lower-case and strip accents on code points, then split at punctuation.
void emit_unicode_token(std::string_view token, bool do_lower_case, Scratch& s, TokenSink& sink) {
  s.code_points.clear();
  // The token was assembled from validated UTF-8, so decoding cannot fail here.
  for (size_t pos = 0; pos < token.size();) {
    char32_t cp = 0;
    const size_t len = decode_utf8(token, pos, &cp);
    RATEL_ASSERT(len > 0);
    s.code_points.push_back(cp);
    pos += len;
  }
  const std::u32string* chars = &s.code_points;
  if (do_lower_case) {
    s.lowered.clear();
    python_lower(s.code_points, &s.lowered);
    s.decomposed.clear();
    nfd_decompose(s.lowered, &s.decomposed);
    size_t kept = 0;
    for (char32_t c : s.decomposed) {
      if (!is_nonspacing_mark(c)) s.decomposed[kept++] = c;
    }
    s.decomposed.resize(kept);
    chars = &s.decomposed;
  }
  s.piece.clear();
  for (char32_t c : *chars) {
    if (is_bert_punctuation(c)) {
      if (!s.piece.empty()) sink.on_token(s.piece);
      s.piece.clear();
      append_utf8(c, &s.piece);
      sink.on_token(s.piece);
      s.piece.clear();
    } else {
      append_utf8(c, &s.piece);
    }
  }
  if (!s.piece.empty()) sink.on_token(s.piece);
}

class VectorSink : public TokenSink {
 public:
  explicit VectorSink(std::vector<std::string>* out) : out_(out) {}
  void on_token(std::string_view token) override { out_->emplace_back(token); }

 private:
  std::vector<std::string>* out_;
};

}  // namespace

Status BasicTokenizer::tokenize(std::string_view text, TokenSink& sink) const {
  Scratch& s = scratch();
  s.token.clear();
  bool token_is_ascii = true;
  auto flush = [&] {
    if (s.token.empty()) return;
    if (token_is_ascii) {
      emit_ascii_token(s.token, sink);
    } else {
      emit_unicode_token(s.token, do_lower_case_, s, sink);
    }
    s.token.clear();
    token_is_ascii = true;
  };

  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  size_t pos = 0;
  while (pos < text.size()) {
    const unsigned char b = bytes[pos];
    if (b < 0x80) {
      switch (kAsciiClass[b]) {
        case kDrop:
          break;
        case kSpace:
          flush();
          break;
        default:
          s.token.push_back(do_lower_case_ && b >= 'A' && b <= 'Z' ? static_cast<char>(b + 32)
                                                                   : static_cast<char>(b));
      }
      ++pos;
      continue;
    }
    char32_t cp;
    const size_t len = decode_utf8(text, pos, &cp);
    if (len == 0) return invalid_utf8_error("tokenizer input", pos, b);
    if (cp == 0xFFFD || is_bert_control(cp)) {
      // _clean_text drops these; the neighbours join into one token.
    } else if (is_bert_whitespace(cp) || is_python_whitespace(cp)) {
      flush();
    } else if (is_cjk_ideograph(cp)) {
      flush();
      s.token.append(text.substr(pos, len));
      token_is_ascii = false;
      flush();
    } else {
      s.token.append(text.substr(pos, len));
      token_is_ascii = false;
    }
    pos += len;
  }
  flush();
  return Status::Ok();
}

Result<std::vector<std::string>> BasicTokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> tokens;
  VectorSink sink(&tokens);
  RATEL_RETURN_IF_ERROR(tokenize(text, sink));
  return tokens;
}

}  // namespace ratel::nlp
