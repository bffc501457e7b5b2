// Character classes of Google BERT's tokenization.py, and the few Python `str` behaviours the
// reference code silently relies on (lower(), isspace(), re's \w). All Unicode data comes from
// utf8proc; ASCII is answered inline because it is the hot path.
#pragma once

#include <string>
#include <string_view>

namespace ratel::nlp {

// tokenization._is_whitespace: ' ', \t, \n, \r, or category Zs.
bool is_bert_whitespace(char32_t c);
// tokenization._is_control: category Cc or Cf, except \t, \n, \r (which count as whitespace).
bool is_bert_control(char32_t c);
// tokenization._is_punctuation: the ASCII symbol ranges 33-47, 58-64, 91-96, 123-126 (so "$",
// "^", "`" split even though Unicode calls them symbols) or any P* category.
bool is_bert_punctuation(char32_t c);
// tokenization._is_chinese_char: the CJK Unified Ideograph blocks (not Hangul or kana).
bool is_cjk_ideograph(char32_t c);
// Category Mn: what strip-accents removes after NFD.
bool is_nonspacing_mark(char32_t c);

// Python str.isspace(): what str.split() splits on (bidi class WS, B, S, or category Zs). After
// BERT's cleaning this still splits at U+2028/U+2029, which _is_whitespace does not list.
bool is_python_whitespace(char32_t c);
// Python `re` \w for str patterns: letters, numbers, underscore. Used by the SQuAD metric's \b.
bool is_python_word_char(char32_t c);

// Python str.lower(): the full lower-case mapping, i.e. simple mapping plus U+0130 -> "i\u0307"
// and the context-dependent final sigma. Appends to *out.
void python_lower(std::u32string_view text, std::u32string* out);

// Canonical decomposition (NFD, with canonical reordering) of `text`, appended to *out.
void nfd_decompose(std::u32string_view text, std::u32string* out);

}  // namespace ratel::nlp
