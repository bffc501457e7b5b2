// BERT's BasicTokenizer (tokenization.py): clean, isolate CJK ideographs, split on whitespace,
// optionally lower-case and strip accents, split off punctuation.
//
// Behaviour matches the Python reference code point for code point, including what Python
// does implicitly: str.lower() (final sigma, U+0130), str.split() (also splits at U+2028 and
// U+2029), NFD with canonical reordering. The one deliberate difference: invalid UTF-8 is an
// error naming the byte offset (Python's reader would drop the bytes).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ratel::nlp {

// Receives each basic token; the view is valid only during the call. A sink must not call
// back into a BasicTokenizer on the same thread (the scratch buffers are per thread).
class TokenSink {
 public:
  virtual ~TokenSink() = default;
  virtual void on_token(std::string_view token) = 0;
};

class BasicTokenizer {
 public:
  explicit BasicTokenizer(bool do_lower_case = true) : do_lower_case_(do_lower_case) {}

  // Streams the tokens of `text` (UTF-8) to `sink`. Not allocating once warmed up: scratch
  // buffers are per thread. Fails only on invalid UTF-8.
  Status tokenize(std::string_view text, TokenSink& sink) const;
  // Convenience: the tokens as strings.
  Result<std::vector<std::string>> tokenize(std::string_view text) const;

  bool do_lower_case() const { return do_lower_case_; }

 private:
  bool do_lower_case_;
};

}  // namespace ratel::nlp
