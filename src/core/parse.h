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
// A memory size: a number with an optional binary unit, "4096", "512K", "1.5G", "2GiB", "8GB"
// (K/M/G/T are powers of 1024; a trailing "B" or "iB" is allowed). Must be positive.
Result<size_t> parse_byte_size(std::string_view text);
// Splits on `sep`, trimming spaces; empty items are kept (so "a;;b" is an error for callers).
std::vector<std::string> split_list(std::string_view text, char sep);

}  // namespace ratel
