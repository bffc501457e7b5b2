#include "core/parse.h"

#include <cctype>

namespace ratel {

std::vector<std::string> split_list(std::string_view text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(sep, start);
    std::string_view item = text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.remove_suffix(1);
    out.emplace_back(item);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

Result<Shape> parse_shape(std::string_view text) {
  std::string_view t = text;
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  if (!t.empty() && (t.front() == '[' || t.front() == '(')) {
    if (t.size() < 2 || (t.back() != ']' && t.back() != ')')) {
      return invalid_argument("bad shape '{}': unbalanced brackets", text);
    }
    t = t.substr(1, t.size() - 2);
  }
  Shape shape;
  size_t i = 0;
  while (i < t.size()) {
    const char c = t[i];
    if (c == ' ' || c == ',' || c == '\t') {
      ++i;
      continue;
    }
    // 'x' separates two dimensions ("1x384") and nothing else
    if (c == 'x' && i > 0 && std::isdigit(static_cast<unsigned char>(t[i - 1])) && i + 1 < t.size() &&
        std::isdigit(static_cast<unsigned char>(t[i + 1]))) {
      ++i;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return invalid_argument("bad shape '{}': '{}' is not a dimension (use non-negative integers "
                              "separated by spaces, e.g. \"1 384\")",
                              text, c);
    }
    int64_t v = 0;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) {
      v = v * 10 + (t[i] - '0');
      if (v > kMaxDim) return invalid_argument("bad shape '{}': dimension too large", text);
      ++i;
    }
    if (i < t.size() && t[i] != ' ' && t[i] != ',' && t[i] != 'x' && t[i] != '\t') {
      return invalid_argument("bad shape '{}': unexpected '{}' after {}", text, t[i], v);
    }
    shape.push_back(v);
    if (shape.size() > static_cast<size_t>(kMaxRank)) {
      return invalid_argument("bad shape '{}': more than {} dimensions", text, kMaxRank);
    }
  }
  if (shape.empty()) return invalid_argument("bad shape '{}': no dimensions", text);
  return shape;
}

Result<std::vector<Shape>> parse_shape_list(std::string_view text) {
  std::vector<Shape> shapes;
  for (const std::string& item : split_list(text, ';')) {
    RATEL_ASSIGN_OR_RETURN(Shape s, parse_shape(item));
    shapes.push_back(std::move(s));
  }
  return shapes;
}

}  // namespace ratel
