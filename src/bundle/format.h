// The Ratel model bundle (.rbm) on disk: constants shared by the writer and the loader.
// docs/BUNDLE.md is the specification; this header is its code form.
//
//   offset 0      header (64 bytes)
//   offset 64     section table: section_count entries of 32 bytes
//   ...           sections, each starting on a 64-byte boundary, the weights on a 4 KiB one
//
// All integers are little-endian. Every section carries an XXH64 checksum; the header carries
// one over itself and the section table. A loader checks the header, the table (bounds, order,
// overlap, alignment) and every checksum before it decodes a single field of a section.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ratel::bundle {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the bundle reader maps little-endian data directly; big-endian hosts need byte swaps");

inline constexpr char kMagic[8] = {'R', 'A', 'T', 'E', 'L', 'B', 'M', '\x1a'};
// Major: readers refuse any other. Minor: additions a reader may ignore (new metadata keys,
// new section kinds); readers accept any minor of their major.
inline constexpr uint16_t kVersionMajor = 1;
inline constexpr uint16_t kVersionMinor = 0;

inline constexpr size_t kHeaderSize = 64;
inline constexpr size_t kSectionEntrySize = 32;
inline constexpr uint32_t kMaxSections = 64;
inline constexpr size_t kSectionAlignment = 64;
// Weights start on a page so the mapping of the weights section is page-aligned; every tensor
// inside starts on kTensorAlignment (64 bytes: a cache line, an AVX-512 register).
inline constexpr size_t kWeightsAlignment = 4096;

// Header field offsets.
namespace header {
inline constexpr size_t kMagicOffset = 0;          // char[8]
inline constexpr size_t kVersionMajor = 8;         // u16
inline constexpr size_t kVersionMinor = 10;        // u16
inline constexpr size_t kHeaderSize = 12;          // u32, = 64
inline constexpr size_t kFileSize = 16;            // u64, the whole file
inline constexpr size_t kTableOffset = 24;         // u64, = 64
inline constexpr size_t kSectionCount = 32;        // u32, 1..kMaxSections
inline constexpr size_t kEntrySize = 36;           // u32, = 32
inline constexpr size_t kFlags = 40;               // u32, 0 (no flags defined)
inline constexpr size_t kReserved = 44;            // u32 + u64, zero
inline constexpr size_t kChecksum = 56;            // u64: XXH64 of bytes [0, 56) then the table
}  // namespace header

// Section table entry field offsets (relative to the entry).
namespace entry {
inline constexpr size_t kKind = 0;      // u32 SectionKind
inline constexpr size_t kFlags = 4;     // u32, 0
inline constexpr size_t kOffset = 8;    // u64, absolute
inline constexpr size_t kSize = 16;     // u64
inline constexpr size_t kChecksum = 24; // u64, XXH64 of the section's bytes
}  // namespace entry

enum class SectionKind : uint32_t {
  kMetadata = 1,  // key/value strings: source model, board, scheme, versions, names, sha256
  kGraph = 2,     // values, graph inputs/outputs, nodes with attributes
  kWeights = 3,   // raw constant data, 64-byte aligned tensors
};

// Value flags in the graph section.
inline constexpr uint8_t kValueHasShape = 1;
inline constexpr uint8_t kValueConstant = 2;     // data in the weights section
inline constexpr uint8_t kValueInitializer = 4;  // came from the model's weights
inline constexpr uint8_t kValueKnownFlags = 7;

// Attribute kinds (the order of ir::AttrValue's alternatives).
enum class AttrKind : uint8_t {
  kInt = 0,
  kFloat = 1,
  kString = 2,
  kInts = 3,
  kFloats = 4,
  kStrings = 5,
  kTensor = 6,
};

// Limits that no real model reaches and that keep a hostile file from asking for huge memory.
inline constexpr uint32_t kMaxStringBytes = 1u << 20;
inline constexpr uint32_t kMaxValues = 1u << 24;
inline constexpr uint32_t kMaxNodes = 1u << 24;

// Graph section layout (see docs/BUNDLE.md for field meanings):
//   str name, str producer
//   u32 opset_count, {str domain, i64 version}*
//   u32 value_count, {str name, u8 dtype, u8 flags, u16 rank, i64 dims[rank],
//                     [u64 offset, u64 nbytes if constant]}*
//   u32 input_count, u32 value_index*
//   u32 output_count, u32 value_index*
//   u32 node_count, {str name, str op_type, str domain, i32 opset,
//                    u32 n_in, i32 value_index* (-1: omitted), u32 n_out, i32 value_index*,
//                    u32 attr_count, {str name, u8 kind, payload}*}*
//   str = u32 byte length + bytes (UTF-8, no terminator)

}  // namespace ratel::bundle
