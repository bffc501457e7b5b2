// run_squad.py's get_final_text: maps a prediction made on normalized WordPiece text back onto
// the original words, so "steve smith's" comes out as the context spelled it ("Steve Smith's")
// and a prediction of part of a word ("1895" in "(1895-1943)") keeps only that part.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "nlp/basic_tokenizer.h"

namespace ratel::nlp {

// `pred_text`: the de-tokenized prediction ("##" joined); `orig_text`: the original words it
// spans joined by single spaces. Returns the matching slice of orig_text, or orig_text itself
// whenever the Python heuristic gives up (prediction not found, or the two texts do not align
// character for character once spaces are removed). Positions are code points, as in Python.
std::string get_final_text(std::string_view pred_text, std::string_view orig_text,
                           const BasicTokenizer& tokenizer);

// The same, with where the result lies in orig_text: code points [begin, end).
struct FinalText {
  std::string text;
  int32_t begin = 0;
  int32_t end = 0;
};
FinalText get_final_text_span(std::string_view pred_text, std::string_view orig_text,
                              const BasicTokenizer& tokenizer);

}  // namespace ratel::nlp
