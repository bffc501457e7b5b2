#include "core/parse.h"

#include <cctype>
#include <cmath>

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

Result<size_t> parse_byte_size(std::string_view text) {
  std::string_view t = text;
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  size_t i = 0;
  double value = 0;
  bool digits = false;
  while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) {
    value = value * 10 + (t[i++] - '0');
    digits = true;
  }
  if (i < t.size() && t[i] == '.') {
    double scale = 0.1;
    for (++i; i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])); ++i, scale /= 10) {
      value += (t[i] - '0') * scale;
      digits = true;
    }
  }
  if (!digits) {
    return invalid_argument("bad size '{}': expected a number of bytes with an optional unit K, M, G or T (e.g. 2G)",
                            text);
  }
  std::string unit(t.substr(i));
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double multiplier = 0;
  for (const auto& [name, m] : {std::pair{"", 1.0}, {"B", 1.0}, {"K", 0x1p10}, {"M", 0x1p20}, {"G", 0x1p30}, {"T", 0x1p40}}) {
    const std::string n(name);
    if (unit == n || (!n.empty() && n != "B" && (unit == n + "B" || unit == n + "IB"))) multiplier = m;
  }
  if (multiplier == 0) {
    return invalid_argument("bad size '{}': unknown unit '{}' (use K, M, G or T, powers of 1024)", text, t.substr(i));
  }
  const double bytes = std::floor(value * multiplier);
  if (!(bytes >= 1)) return invalid_argument("bad size '{}': must be at least 1 byte", text);
  if (bytes >= 0x1p62) return invalid_argument("bad size '{}': too large", text);
  return static_cast<size_t>(bytes);
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
