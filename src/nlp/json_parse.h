// Internal: exception-free JSON parsing for the nlp library (nlohmann_json), and small typed
// accessors that return errors naming the JSON path instead of throwing type_error.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ratel::nlp {

// Deepest nesting of arrays and objects parse_json accepts.
inline constexpr size_t kMaxJsonDepth = 256;

// Parses `text`; a syntax error becomes "<source>:<line>:<column>: <reason>", and so does
// nesting deeper than kMaxJsonDepth (refused before parsing).
Result<nlohmann::json> parse_json(std::string_view text, std::string_view source);

// Looks up member `key` of object `object` (at JSON path `where`) with the wanted type.
Result<const nlohmann::json*> json_member(const nlohmann::json& object, const char* key,
                                          nlohmann::json::value_t type, std::string_view where);
Result<std::string> json_string(const nlohmann::json& object, const char* key,
                                std::string_view where);
Result<int64_t> json_integer(const nlohmann::json& object, const char* key, std::string_view where);

}  // namespace ratel::nlp
