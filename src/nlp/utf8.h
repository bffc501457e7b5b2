// Strict UTF-8 decoding and encoding for the text pipeline.
//
// Strict means what Python's "utf-8" codec accepts: no overlong forms, no surrogates, nothing
// above U+10FFFF. Text that fails is rejected with the byte offset of the first bad sequence,
// because a tokenizer that silently guesses would produce ids nobody can reproduce.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ratel::nlp {

inline bool is_utf8_continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

// Decodes the code point starting at text[pos] (which must be < text.size()). On success stores
// it in *code_point and returns its length in bytes (1..4); returns 0 for an invalid sequence.
inline size_t decode_utf8(std::string_view text, size_t pos, char32_t* code_point) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data()) + pos;
  const size_t left = text.size() - pos;
  const unsigned char b0 = s[0];
  if (b0 < 0x80) {
    *code_point = b0;
    return 1;
  }
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (left < 2 || !is_utf8_continuation(s[1])) return 0;
    *code_point = (char32_t(b0 & 0x1F) << 6) | (s[1] & 0x3F);
    return 2;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (left < 3 || !is_utf8_continuation(s[1]) || !is_utf8_continuation(s[2])) return 0;
    const char32_t cp = (char32_t(b0 & 0x0F) << 12) | (char32_t(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;  // overlong or surrogate
    *code_point = cp;
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (left < 4 || !is_utf8_continuation(s[1]) || !is_utf8_continuation(s[2]) ||
        !is_utf8_continuation(s[3])) {
      return 0;
    }
    const char32_t cp = (char32_t(b0 & 0x07) << 18) | (char32_t(s[1] & 0x3F) << 12) |
                        (char32_t(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
    if (cp < 0x10000 || cp > 0x10FFFF) return 0;
    *code_point = cp;
    return 4;
  }
  return 0;  // stray continuation byte, C0/C1 lead, or F5..FF
}

// Appends the UTF-8 form of a valid code point.
inline void append_utf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The error every UTF-8 consumer in the pipeline returns: names what was read and where.
inline Status invalid_utf8_error(std::string_view what, size_t byte_offset, unsigned char byte) {
  return invalid_argument("{}: invalid UTF-8 at byte offset {} (byte 0x{:02X})", what, byte_offset,
                          byte);
}

// Decodes all of `text` into code points (appending to *out), or fails naming the byte offset.
Status decode_utf8_string(std::string_view text, std::u32string* out, std::string_view what);

// Encodes code points as UTF-8 (appending).
void encode_utf8_string(std::u32string_view text, std::string* out);

// Number of code points in valid UTF-8.
inline size_t count_code_points(std::string_view valid_utf8) {
  size_t n = 0;
  for (char c : valid_utf8) n += !is_utf8_continuation(static_cast<unsigned char>(c));
  return n;
}

}  // namespace ratel::nlp
