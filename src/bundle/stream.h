// Little-endian byte streams for the bundle's metadata and graph sections.
//
// ByteWriter appends. ByteReader reads from a span with a bound check on every field: a read
// past the end, or a count/length that cannot fit in the bytes left, is an error naming the
// field and its absolute offset in the file, never a crash or a huge allocation.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "bundle/format.h"
#include "core/status.h"

namespace ratel::bundle {

class ByteWriter {
 public:
  template <typename T>
  void put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    put_bytes(&v, sizeof(T));
  }
  void put_string(std::string_view s) {
    put<uint32_t>(static_cast<uint32_t>(s.size()));
    put_bytes(s.data(), s.size());
  }
  void put_bytes(const void* p, size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
  }
  const std::vector<std::byte>& bytes() const { return bytes_; }
  size_t size() const { return bytes_.size(); }

 private:
  std::vector<std::byte> bytes_;
};

class ByteReader {
 public:
  // `base` is the absolute file offset of data[0] (for messages); `where` names the section.
  ByteReader(std::span<const std::byte> data, size_t base, std::string where)
      : data_(data), base_(base), where_(std::move(where)) {}

  size_t offset() const { return base_ + pos_; }  // absolute, for messages
  size_t remaining() const { return data_.size() - pos_; }
  bool at_end() const { return pos_ == data_.size(); }

  template <typename T>
  Result<T> get(std::string_view field) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (remaining() < sizeof(T)) return truncated(field, sizeof(T));
    T v;
    std::memcpy(&v, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  Result<std::string> get_string(std::string_view field) {
    const size_t at = offset();
    RATEL_ASSIGN_OR_RETURN(uint32_t n, get<uint32_t>(field));
    if (n > kMaxStringBytes) {
      return corrupt("{}: {} length {} exceeds the limit of {} bytes (at offset {})", where_, field, n,
                     kMaxStringBytes, at);
    }
    if (n > remaining()) {
      return corrupt("{}: {} length {} runs past the end of the section ({} bytes left, at offset {})",
                     where_, field, n, remaining(), at);
    }
    std::string s(reinterpret_cast<const char*>(data_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  // A count of items that each take at least `min_item_bytes`: refused when the bytes left
  // cannot hold them (so a hostile count never drives an allocation).
  Result<uint32_t> get_count(std::string_view field, size_t min_item_bytes, uint32_t limit) {
    const size_t at = offset();
    RATEL_ASSIGN_OR_RETURN(uint32_t n, get<uint32_t>(field));
    if (n > limit) {
      return corrupt("{}: {} {} exceeds the limit of {} (at offset {})", where_, field, n, limit, at);
    }
    if (min_item_bytes > 0 && n > remaining() / min_item_bytes) {
      return corrupt("{}: {} {} cannot fit in the {} bytes left (at offset {})", where_, field, n,
                     remaining(), at);
    }
    return n;
  }
  // A view of the next n bytes; n must fit in what is left.
  Result<std::span<const std::byte>> get_bytes(std::string_view field, uint64_t n) {
    if (n > remaining()) return truncated(field, n);
    auto s = data_.subspan(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return s;
  }
  const std::string& where() const { return where_; }

 private:
  Status truncated(std::string_view field, uint64_t need) const {
    return corrupt("{}: {} needs {} bytes at offset {}, the section has {} left (truncated?)", where_,
                   field, need, offset(), remaining());
  }
  std::span<const std::byte> data_;
  size_t base_;
  size_t pos_ = 0;
  std::string where_;
};

}  // namespace ratel::bundle
