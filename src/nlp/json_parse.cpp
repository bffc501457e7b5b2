#include "nlp/json_parse.h"

#include <algorithm>

#include <fmt/format.h>

namespace ratel::nlp {
namespace {

using json = nlohmann::json;

// A SAX handler that accepts everything and remembers the first syntax error; used to locate
// an error after the non-throwing DOM parse reported one.
class ErrorLocator : public nlohmann::json_sax<json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& ex) override {
    position_ = position;
    last_token_ = last_token;
    reason_ = ex.what();
    return false;
  }

  size_t position() const { return position_; }
  const std::string& last_token() const { return last_token_; }
  // nlohmann's message without its "[json.exception...] parse error at line L, column C: "
  // prefix (we compute the location ourselves, in bytes of the original text).
  std::string reason() const {
    const size_t colon = reason_.find(": ", reason_.find("parse error"));
    return colon == std::string::npos ? reason_ : reason_.substr(colon + 2);
  }

 private:
  size_t position_ = 0;
  std::string last_token_;
  std::string reason_;
};

const char* type_name(json::value_t type) {
  switch (type) {
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number";
    case json::value_t::boolean:
      return "a boolean";
    default:
      return "null";
  }
}

bool has_type(const json& value, json::value_t type) {
  if (type == json::value_t::number_integer) return value.is_number_integer();
  return value.type() == type;
}

// "line:column" (1-based, column in bytes) of byte `offset` of `text`.
std::string location_of(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  const size_t line =
      1 + static_cast<size_t>(std::count(text.begin(), text.begin() + offset, '\n'));
  size_t line_begin = 0;
  if (offset > 0) {
    const size_t newline = text.rfind('\n', offset - 1);
    if (newline != std::string_view::npos) line_begin = newline + 1;
  }
  return fmt::format("{}:{}", line, offset - line_begin + 1);
}

// Offset of the first '[' or '{' that opens level kMaxJsonDepth + 1 (outside strings), or npos.
// nlohmann parses any depth without recursion, but each level costs ~100 bytes of heap: a 20 MB
// file of brackets would take 1 GB. No SQuAD or predictions file nests more than a few levels.
size_t too_deep_at(std::string_view text) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::string_view::npos;
}

}  // namespace

Result<json> parse_json(std::string_view text, std::string_view source) {
  if (const size_t deep = too_deep_at(text); deep != std::string_view::npos) {
    return invalid_argument("{}:{}: invalid JSON: nested deeper than {} levels", source,
                            location_of(text, deep), kMaxJsonDepth);
  }
  json value = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!value.is_discarded()) return value;
  ErrorLocator locator;
  json::sax_parse(text.begin(), text.end(), &locator);
  // nlohmann reports the number of bytes read; the offending byte is the last one read.
  const size_t offset = std::min(text.size(), locator.position() > 0 ? locator.position() - 1 : 0);
  return invalid_argument("{}:{}: invalid JSON: {}", source, location_of(text, offset), locator.reason());
}

Result<const json*> json_member(const json& object, const char* key, json::value_t type,
                                std::string_view where) {
  if (!object.is_object()) return invalid_argument("{}: expected an object", where);
  const auto it = object.find(key);
  if (it == object.end()) return invalid_argument("{}: missing \"{}\"", where, key);
  if (!has_type(*it, type)) {
    return invalid_argument("{}: \"{}\" must be {}, got {}", where, key, type_name(type),
                            type_name(it->type()));
  }
  return &*it;
}

Result<std::string> json_string(const json& object, const char* key, std::string_view where) {
  RATEL_ASSIGN_OR_RETURN(const json* value, json_member(object, key, json::value_t::string, where));
  return value->get_ref<const std::string&>();
}

Result<int64_t> json_integer(const json& object, const char* key, std::string_view where) {
  RATEL_ASSIGN_OR_RETURN(const json* value,
                         json_member(object, key, json::value_t::number_integer, where));
  if (value->is_number_unsigned() && value->get<uint64_t>() > uint64_t(INT64_MAX)) {
    return out_of_range("{}: \"{}\" is too large", where, key);
  }
  return value->get<int64_t>();
}

}  // namespace ratel::nlp
