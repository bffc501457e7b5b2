#include "nlp/unicode_props.h"

#include <utf8proc.h>

#include <array>

#include "core/status.h"

namespace ratel::nlp {
namespace {

utf8proc_category_t category(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

bool in_range(char32_t c, char32_t lo, char32_t hi) { return c >= lo && c <= hi; }

// Python's Cased property = Lu/Ll/Lt plus Other_Lowercase/Other_Uppercase. Letters with a case
// mapping cover all of it except these code points, which utf8proc has no property for
// (checked against CPython 3.11 over every assigned code point).
bool is_cased(char32_t c) {
  switch (category(c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
      return true;
    default:
      break;
  }
  const auto cp = static_cast<utf8proc_int32_t>(c);
  if (utf8proc_tolower(cp) != cp || utf8proc_toupper(cp) != cp || utf8proc_totitle(cp) != cp) {
    return true;
  }
  return c == 0xAA || c == 0xBA || in_range(c, 0x1F130, 0x1F149) || in_range(c, 0x1F150, 0x1F169) ||
         in_range(c, 0x1F170, 0x1F189);
}

// Python's Case_Ignorable = Mn, Me, Cf, Lm, Sk, plus Word_Break MidLetter / MidNumLet /
// Single_Quote (listed: utf8proc has no word-break data).
bool is_case_ignorable(char32_t c) {
  switch (category(c)) {
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_SK:
      return true;
    default:
      break;
  }
  static constexpr std::array<char32_t, 17> kWordBreakMid = {
      0x27,   0x2E,   0x3A,   0xB7,   0x387,  0x55F,  0x5F4,  0x2018, 0x2019,
      0x2024, 0x2027, 0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A};
  for (char32_t m : kWordBreakMid) {
    if (c == m) return true;
  }
  return false;
}

// CPython's handle_capital_sigma: U+03A3 lowers to final sigma when a cased letter precedes it
// and none follows (skipping case-ignorable characters both ways).
bool is_final_sigma(std::u32string_view text, size_t i) {
  size_t j = i;
  while (j > 0 && is_case_ignorable(text[j - 1])) --j;
  if (j == 0 || !is_cased(text[j - 1])) return false;
  for (size_t k = i + 1; k < text.size(); ++k) {
    if (!is_case_ignorable(text[k])) return !is_cased(text[k]);
  }
  return true;
}

}  // namespace

bool is_bert_whitespace(char32_t c) {
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return true;
  if (c < 0x80) return false;
  return category(c) == UTF8PROC_CATEGORY_ZS;
}

bool is_bert_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  if (c < 0x80) return c < 0x20 || c == 0x7F;
  const auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF;
}

bool is_bert_punctuation(char32_t c) {
  if (in_range(c, 33, 47) || in_range(c, 58, 64) || in_range(c, 91, 96) || in_range(c, 123, 126)) {
    return true;
  }
  if (c < 0x80) return false;
  const auto cat = category(c);
  return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

bool is_cjk_ideograph(char32_t c) {
  return in_range(c, 0x4E00, 0x9FFF) || in_range(c, 0x3400, 0x4DBF) ||
         in_range(c, 0x20000, 0x2A6DF) || in_range(c, 0x2A700, 0x2B73F) ||
         in_range(c, 0x2B740, 0x2B81F) || in_range(c, 0x2B820, 0x2CEAF) ||
         in_range(c, 0xF900, 0xFAFF) || in_range(c, 0x2F800, 0x2FA1F);
}

bool is_nonspacing_mark(char32_t c) { return c >= 0x80 && category(c) == UTF8PROC_CATEGORY_MN; }

bool is_python_whitespace(char32_t c) {
  if (c < 0x80) return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
  const utf8proc_property_t* p = utf8proc_get_property(static_cast<utf8proc_int32_t>(c));
  return p->category == UTF8PROC_CATEGORY_ZS || p->bidi_class == UTF8PROC_BIDI_CLASS_WS ||
         p->bidi_class == UTF8PROC_BIDI_CLASS_B || p->bidi_class == UTF8PROC_BIDI_CLASS_S;
}

bool is_python_word_char(char32_t c) {
  if (c < 0x80) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }
  const auto cat = category(c);
  return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
         (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

void python_lower(std::u32string_view text, std::u32string* out) {
  for (size_t i = 0; i < text.size(); ++i) {
    const char32_t c = text[i];
    if (c < 0x80) {
      out->push_back((c >= 'A' && c <= 'Z') ? c + 32 : c);
    } else if (c == 0x130) {  // the one unconditional multi-character lower-case mapping
      out->push_back(U'i');
      out->push_back(0x307);
    } else if (c == 0x3A3) {
      out->push_back(is_final_sigma(text, i) ? 0x3C2 : 0x3C3);
    } else {
      out->push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
    }
  }
}

void nfd_decompose(std::u32string_view text, std::u32string* out) {
  const size_t base = out->size();
  for (char32_t c : text) {
    if (c < 0x80) {
      out->push_back(c);
      continue;
    }
    // No canonical decomposition is longer than 4 code points; Hangul syllables give 3.
    utf8proc_int32_t buf[8];
    int last_boundclass = 0;
    const utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buf, 8,
                                                       UTF8PROC_DECOMPOSE, &last_boundclass);
    RATEL_ASSERT(n > 0 && n <= 8);
    if (n <= 0 || n > 8) {  // cannot happen for valid code points; keep the character
      out->push_back(c);
      continue;
    }
    for (utf8proc_ssize_t k = 0; k < n; ++k) out->push_back(static_cast<char32_t>(buf[k]));
  }
  // Canonical ordering: a stable sort of each run of non-starters by combining class, which
  // is what Python's unicodedata.normalize("NFD") does after decomposing.
  auto ccc = [](char32_t c) {
    return c < 0x300 ? 0 : utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class;
  };
  for (size_t i = base + 1; i < out->size(); ++i) {
    const char32_t c = (*out)[i];
    const auto cls = ccc(c);
    if (cls == 0) continue;
    size_t j = i;
    while (j > base && ccc((*out)[j - 1]) > cls) {
      (*out)[j] = (*out)[j - 1];
      --j;
    }
    (*out)[j] = c;
  }
}

}  // namespace ratel::nlp
