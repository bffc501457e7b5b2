// Parsing of user-facing strings: shapes ("1 384", "1,384", "1x384") and lists of them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace ratel {

// One shape: non-negative integers separated by spaces, commas or 'x', optionally in brackets.
Result<Shape> parse_shape(std::string_view text);
// Several shapes separated by ';' (HHB's --input-shape "1 384;1 384").
Result<std::vector<Shape>> parse_shape_list(std::string_view text);
// Splits on `sep`, trimming spaces; empty items are kept (so "a;;b" is an error for callers).
std::vector<std::string> split_list(std::string_view text, char sep);

}  // namespace ratel
