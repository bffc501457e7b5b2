// Read-only memory-mapped files, and small whole-file helpers.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "core/status.h"

namespace ratel {

class MappedFile {
 public:
  // Maps the whole file read-only. Errors name the path and the OS reason.
  static Result<std::shared_ptr<MappedFile>> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<const std::byte> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  std::byte* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

Result<std::string> read_text_file(const std::string& path);
Status write_file(const std::string& path, std::span<const std::byte> bytes);
Status write_text_file(const std::string& path, const std::string& text);

}  // namespace ratel
