#include "nlp/utf8.h"

namespace ratel::nlp {

Status decode_utf8_string(std::string_view text, std::u32string* out, std::string_view what) {
  out->reserve(out->size() + text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp;
    const size_t len = decode_utf8(text, pos, &cp);
    if (len == 0) return invalid_utf8_error(what, pos, static_cast<unsigned char>(text[pos]));
    out->push_back(cp);
    pos += len;
  }
  return Status::Ok();
}

void encode_utf8_string(std::u32string_view text, std::string* out) {
  for (char32_t c : text) append_utf8(c, out);
}

}  // namespace ratel::nlp
