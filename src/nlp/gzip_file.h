// Reads a whole file that may be gzip-compressed (the MLPerf SQuAD references are .jsonl.gz).
#pragma once

#include <string>

#include "core/status.h"

namespace ratel::nlp {

// The file's bytes, decompressed when it starts with the gzip magic number. Errors name the
// path (missing file, truncated or corrupt stream).
Result<std::string> read_maybe_gzipped_file(const std::string& path);

}  // namespace ratel::nlp
