// Bundle container: header, section table, checksums, metadata. Nothing in a section is
// decoded before the header, the table and that section's checksum have been checked.
#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include "bundle/bundle.h"
#include "bundle/checksum.h"
#include "bundle/stream.h"

namespace ratel::bundle {

namespace {

template <typename T>
T load(std::span<const std::byte> bytes, size_t offset) {
  T v;
  std::memcpy(&v, bytes.data() + offset, sizeof(T));
  return v;
}

const char* kind_name(uint32_t kind) {
  switch (static_cast<SectionKind>(kind)) {
    case SectionKind::kMetadata: return "metadata";
    case SectionKind::kGraph: return "graph";
    case SectionKind::kWeights: return "weights";
  }
  return "unknown";
}

std::string hex(uint64_t v) { return fmt::format("{:#018x}", v); }

}  // namespace

Result<std::shared_ptr<const Bundle>> Bundle::open(const std::string& path) {
  RATEL_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> file, MappedFile::open(path));
#ifdef MADV_POPULATE_READ
  // The checksums read every page anyway: fault them in with one call rather than one fault per
  // page (best effort; older kernels refuse the advice and the pages fault in as read).
  if (file->size() > 0) {
    (void)madvise(const_cast<std::byte*>(file->data()), file->size(), MADV_POPULATE_READ);
  }
#endif
  return parse(file->bytes(), file, path);
}

Result<std::shared_ptr<const Bundle>> Bundle::parse(std::span<const std::byte> bytes,
                                                    std::shared_ptr<const void> keepalive,
                                                    const std::string& name) {
  auto b = std::shared_ptr<Bundle>(new Bundle());
  b->name_ = name;
  b->bytes_ = bytes;
  b->keepalive_ = std::move(keepalive);
  const size_t size = bytes.size();
  if (size >= 40 && std::memcmp(bytes.data(), "Heterogeneous Honey Badger", 26) == 0) {
    return unsupported("{}: this is an HHB model (hhb.bm), not a Ratel bundle; give Ratel the .onnx model",
                       name);
  }
  if (size < kHeaderSize) {
    return corrupt("{}: {} bytes is too short for a bundle header ({} bytes): truncated, or not a Ratel bundle",
                   name, size, kHeaderSize);
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return corrupt("{}: not a Ratel bundle (bad magic at offset 0; a .rbm file starts with \"RATELBM\")", name);
  }
  b->major_ = load<uint16_t>(bytes, header::kVersionMajor);
  b->minor_ = load<uint16_t>(bytes, header::kVersionMinor);
  if (b->major_ != kVersionMajor) {
    return unsupported("{}: bundle format version {}.{}; this Ratel reads version {}.x (write the bundle again "
                       "with this Ratel)", name, b->major_, b->minor_, kVersionMajor);
  }
  auto expect_u32 = [&](size_t at, uint32_t want, const char* field) -> Status {
    const uint32_t got = load<uint32_t>(bytes, at);
    if (got != want) return corrupt("{}: header {} is {}, expected {} (at offset {})", name, field, got, want, at);
    return Status::Ok();
  };
  RATEL_RETURN_IF_ERROR(expect_u32(header::kHeaderSize, kHeaderSize, "header_size"));
  RATEL_RETURN_IF_ERROR(expect_u32(header::kEntrySize, kSectionEntrySize, "section_entry_size"));
  RATEL_RETURN_IF_ERROR(expect_u32(header::kFlags, 0, "flags"));
  RATEL_RETURN_IF_ERROR(expect_u32(header::kReserved, 0, "reserved"));
  RATEL_RETURN_IF_ERROR(expect_u32(header::kReserved + 4, 0, "reserved"));
  RATEL_RETURN_IF_ERROR(expect_u32(header::kReserved + 8, 0, "reserved"));
  const uint64_t file_size = load<uint64_t>(bytes, header::kFileSize);
  if (file_size != size) {
    return corrupt("{}: the header (file_size at offset {}) says {} bytes, the file has {}{}", name,
                   header::kFileSize, file_size, size, size < file_size ? ": truncated" : "");
  }
  if (load<uint64_t>(bytes, header::kTableOffset) != kHeaderSize) {
    return corrupt("{}: header section_table_offset is {}, expected {} (at offset {})", name,
                   load<uint64_t>(bytes, header::kTableOffset), kHeaderSize, header::kTableOffset);
  }
  const uint32_t count = load<uint32_t>(bytes, header::kSectionCount);
  if (count == 0 || count > kMaxSections) {
    return corrupt("{}: header section_count is {}, expected 1 to {} (at offset {})", name, count, kMaxSections,
                   header::kSectionCount);
  }
  const size_t table_end = kHeaderSize + count * kSectionEntrySize;
  if (table_end > size) {
    return corrupt("{}: the section table ({} entries) runs past the end of the file ({} bytes)", name, count,
                   size);
  }
  Xxh64 h;
  h.update(bytes.subspan(0, header::kChecksum));
  h.update(bytes.subspan(kHeaderSize, table_end - kHeaderSize));
  const uint64_t header_sum = load<uint64_t>(bytes, header::kChecksum);
  if (h.digest() != header_sum) {
    return corrupt("{}: header checksum mismatch (stored {} at offset {}, computed {}): the header or the "
                   "section table is damaged", name, hex(header_sum), header::kChecksum, hex(h.digest()));
  }

  size_t previous_end = table_end;
  for (uint32_t i = 0; i < count; ++i) {
    const size_t at = kHeaderSize + i * kSectionEntrySize;
    SectionInfo s;
    const uint32_t kind = load<uint32_t>(bytes, at + entry::kKind);
    s.kind = static_cast<SectionKind>(kind);
    s.offset = load<uint64_t>(bytes, at + entry::kOffset);
    s.size = load<uint64_t>(bytes, at + entry::kSize);
    s.checksum = load<uint64_t>(bytes, at + entry::kChecksum);
    const std::string what = fmt::format("{}: section {} ({}, table entry at offset {})", name, i, kind_name(kind), at);
    if (load<uint32_t>(bytes, at + entry::kFlags) != 0) return corrupt("{}: flags must be 0", what);
    const size_t align = s.kind == SectionKind::kWeights ? kWeightsAlignment : kSectionAlignment;
    if (s.offset % align != 0) return corrupt("{}: offset {} is not a multiple of {}", what, s.offset, align);
    if (s.offset < previous_end) {
      return corrupt("{}: offset {} overlaps the header, the table or the previous section (which ends at {})",
                     what, s.offset, previous_end);
    }
    if (s.offset > size || s.size > size - s.offset) {
      return corrupt("{}: bytes [{}, {}) run past the end of the file ({} bytes)", what, s.offset,
                     s.offset + s.size, size);
    }
    previous_end = static_cast<size_t>(s.offset + s.size);
    const auto data = bytes.subspan(static_cast<size_t>(s.offset), static_cast<size_t>(s.size));
    const uint64_t sum = xxh64(data);
    if (sum != s.checksum) {
      return corrupt("{}: checksum mismatch over bytes [{}, {}) (stored {}, computed {}): the file is damaged",
                     what, s.offset, s.offset + s.size, hex(s.checksum), hex(sum));
    }
    SectionInfo* slot = nullptr;
    switch (s.kind) {
      case SectionKind::kMetadata: slot = &b->metadata_section_; break;
      case SectionKind::kGraph: slot = &b->graph_; break;
      case SectionKind::kWeights: slot = &b->weights_; break;
      default:
        // A newer minor version may add sections this reader does not know: checked, skipped.
        if (b->minor_ <= kVersionMinor) return corrupt("{}: unknown section kind {}", what, kind);
        break;
    }
    if (slot) {
      if (slot->kind == s.kind) return corrupt("{}: a second {} section", what, kind_name(kind));
      *slot = s;
    }
    b->sections_.push_back(s);
  }
  if (b->metadata_section_.kind != SectionKind::kMetadata) return corrupt("{}: no metadata section", name);
  if (b->graph_.kind != SectionKind::kGraph) return corrupt("{}: no graph section", name);
  if (b->weights_.kind != SectionKind::kWeights) return corrupt("{}: no weights section", name);
  RATEL_RETURN_IF_ERROR(b->read_metadata());
  return std::shared_ptr<const Bundle>(b);
}

Status Bundle::read_metadata() {
  const SectionInfo& s = metadata_section_;
  ByteReader r(bytes_.subspan(static_cast<size_t>(s.offset), static_cast<size_t>(s.size)),
               static_cast<size_t>(s.offset), name_ + ": metadata section");
  RATEL_ASSIGN_OR_RETURN(uint32_t n, r.get_count("entry count", 8, 1u << 16));
  for (uint32_t i = 0; i < n; ++i) {
    const size_t at = r.offset();
    RATEL_ASSIGN_OR_RETURN(std::string key, r.get_string("key"));
    RATEL_ASSIGN_OR_RETURN(std::string value, r.get_string("value"));
    if (!metadata_.emplace(std::move(key), std::move(value)).second) {
      return corrupt("{}: metadata key at offset {} appears twice", name_, at);
    }
  }
  if (!r.at_end()) {
    return corrupt("{}: metadata section has {} unread bytes at offset {}", name_, r.remaining(), r.offset());
  }
  return Status::Ok();
}

}  // namespace ratel::bundle
