#include "nlp/gzip_file.h"

#include <zlib.h>

#include <cstring>

#include "core/file.h"

namespace ratel::nlp {

Result<std::string> read_maybe_gzipped_file(const std::string& path) {
  RATEL_ASSIGN_OR_RETURN(auto file, MappedFile::open(path));
  const auto* data = reinterpret_cast<const unsigned char*>(file->data());
  const size_t size = file->size();
  if (size == 0) return std::string();
  if (size < 2 || data[0] != 0x1F || data[1] != 0x8B) {
    return std::string(reinterpret_cast<const char*>(data), size);
  }
  if (size > UINT32_MAX) return out_of_range("{}: compressed file over 4 GiB", path);
  z_stream stream;
  std::memset(&stream, 0, sizeof(stream));
  // 16 + MAX_WBITS: expect a gzip header; concatenated members are handled by the reset below.
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) {
    return internal_error("{}: inflateInit2 failed", path);
  }
  std::string out;
  out.reserve(size * 4);
  stream.next_in = const_cast<unsigned char*>(data);
  stream.avail_in = static_cast<uInt>(size);
  int rc = Z_OK;
  char buffer[1 << 16];
  for (;;) {
    stream.next_out = reinterpret_cast<unsigned char*>(buffer);
    stream.avail_out = sizeof(buffer);
    rc = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer, sizeof(buffer) - stream.avail_out);
    if (rc == Z_STREAM_END) {
      if (stream.avail_in == 0) break;
      if (inflateReset(&stream) == Z_OK) continue;  // another gzip member follows
      rc = Z_DATA_ERROR;
      break;
    }
    if (rc != Z_OK) break;
  }
  const std::string reason = stream.msg != nullptr ? stream.msg : "unexpected end of stream";
  inflateEnd(&stream);
  if (rc != Z_STREAM_END) return corrupt("{}: corrupt or truncated gzip data ({})", path, reason);
  return out;
}

}  // namespace ratel::nlp
