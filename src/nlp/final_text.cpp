#include "nlp/final_text.h"

#include <vector>

#include "nlp/utf8.h"

namespace ratel::nlp {
namespace {

// _strip_spaces: the text without ' ', and for each kept character its original position.
void strip_spaces(std::u32string_view text, std::u32string* stripped,
                  std::vector<int32_t>* stripped_to_original) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == U' ') continue;
    stripped->push_back(text[i]);
    stripped_to_original->push_back(static_cast<int32_t>(i));
  }
}

}  // namespace

std::string get_final_text(std::string_view pred_text, std::string_view orig_text,
                           const BasicTokenizer& tokenizer) {
  return get_final_text_span(pred_text, orig_text, tokenizer).text;
}

FinalText get_final_text_span(std::string_view pred_text, std::string_view orig_text,
                              const BasicTokenizer& tokenizer) {
  const FinalText fallback{std::string(orig_text), 0,
                           static_cast<int32_t>(count_code_points(orig_text))};
  auto tokens = tokenizer.tokenize(orig_text);
  std::u32string tok, pred, orig;
  if (!tokens.ok()) return fallback;
  std::string joined;
  for (size_t i = 0; i < tokens->size(); ++i) {
    if (i > 0) joined += ' ';
    joined += (*tokens)[i];
  }
  if (!decode_utf8_string(joined, &tok, "tokens").ok() ||
      !decode_utf8_string(pred_text, &pred, "prediction").ok() ||
      !decode_utf8_string(orig_text, &orig, "original text").ok()) {
    return fallback;
  }

  const size_t start = tok.find(pred);
  if (start == std::u32string::npos || pred.empty()) return fallback;
  const size_t end = start + pred.size() - 1;

  std::u32string orig_ns, tok_ns;
  std::vector<int32_t> orig_ns_to_s, tok_ns_to_s;
  strip_spaces(orig, &orig_ns, &orig_ns_to_s);
  strip_spaces(tok, &tok_ns, &tok_ns_to_s);
  if (orig_ns.size() != tok_ns.size()) return fallback;

  // tok_s_to_ns: position in tok_text -> position without spaces (-1 at spaces).
  std::vector<int32_t> tok_s_to_ns(tok.size(), -1);
  for (size_t ns = 0; ns < tok_ns_to_s.size(); ++ns)
    tok_s_to_ns[tok_ns_to_s[ns]] = static_cast<int32_t>(ns);
  const int32_t ns_start = tok_s_to_ns[start];
  const int32_t ns_end = tok_s_to_ns[end];
  if (ns_start < 0 || ns_end < 0) return fallback;
  const int32_t orig_start = orig_ns_to_s[ns_start];
  const int32_t orig_end = orig_ns_to_s[ns_end];
  FinalText out{std::string(), orig_start, orig_end + 1};
  encode_utf8_string(std::u32string_view(orig).substr(orig_start, orig_end - orig_start + 1),
                     &out.text);
  return out;
}

}  // namespace ratel::nlp
