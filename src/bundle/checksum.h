// Hashes used by the bundle: XXH64 to check every section at load time (fast: a 90 MB bundle in
// milliseconds, so verifying the weights costs little next to mapping them) and SHA-256 to
// identify the source model in the metadata (computed once, when the bundle is written).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "core/status.h"

namespace ratel::bundle {

// XXH64 (Yann Collet's xxHash, 64-bit variant), bit-exact with the reference implementation.
class Xxh64 {
 public:
  explicit Xxh64(uint64_t seed = 0);
  void update(std::span<const std::byte> data);
  uint64_t digest() const;

 private:
  uint64_t v_[4];
  uint64_t seed_;
  uint64_t total_ = 0;
  std::byte buf_[32];
  size_t buffered_ = 0;
};

uint64_t xxh64(std::span<const std::byte> data, uint64_t seed = 0);

// SHA-256 (FIPS 180-4).
class Sha256 {
 public:
  Sha256();
  void update(std::span<const std::byte> data);
  std::array<uint8_t, 32> digest();  // finishes the hash; call once

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint64_t total_ = 0;
  uint8_t buf_[64];
  size_t buffered_ = 0;
};

std::string to_hex(std::span<const uint8_t> bytes);
// Lower-case hex SHA-256 of a file's contents (mapped, not read into memory).
Result<std::string> sha256_file(const std::string& path);

}  // namespace ratel::bundle
