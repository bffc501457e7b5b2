// Ratel model bundles (.rbm): the optimized graph and its constants in one versioned,
// checksummed file that is mapped, not parsed, at load time. What `ratel compile` and the
// HHB-compatible `ratel -D` write and what `ratel_runtime` runs. No protobuf: this library
// builds for the boards.
//
//   write_bundle(graph, metadata, "model.rbm");           // graph: inferred and optimized
//   RATEL_ASSIGN_OR_RETURN(auto loaded, load_model("model.rbm"));
//   auto session = runtime::Session::create(loaded.model);
//
// The format is specified in docs/BUNDLE.md (code form: format.h). Loading validates the
// header, the section table and every checksum before it decodes anything, then every count,
// string length, dtype, dim, index and weight reference while decoding; any failure is one
// error naming the file, the field and its offset.
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bundle/format.h"
#include "core/file.h"
#include "core/status.h"
#include "ir/graph.h"
#include "runtime/model.h"

namespace ratel::bundle {

// Metadata keys Ratel writes (readers must ignore keys they do not know).
namespace meta {
inline constexpr const char* kRatelVersion = "ratel.version";
inline constexpr const char* kSourceModel = "source.model";          // file name as given
inline constexpr const char* kSourceSha256 = "source.sha256";        // of the source file
inline constexpr const char* kSourceBytes = "source.bytes";
inline constexpr const char* kBoard = "board";                       // x86_64, c920, ...
inline constexpr const char* kScheme = "quantization.scheme";        // what the weights hold
inline constexpr const char* kSchemeRequested = "quantization.requested";  // if it differs
inline constexpr const char* kInputs = "inputs";    // "name:i32[1,384];..." in graph order
inline constexpr const char* kOutputs = "outputs";
inline constexpr const char* kWeightsLayout = "weights.layout";      // "raw" (packed at load)
}  // namespace meta

using Metadata = std::map<std::string, std::string>;

// "input_ids:i32[1,384];input_mask:i32[1,384]" for the metadata.
std::string describe_values(const std::vector<ir::Value*>& values);

struct WriteStats {
  size_t file_bytes = 0;
  size_t graph_bytes = 0;
  size_t weight_bytes = 0;  // the weights section, alignment padding included
  size_t constants = 0;     // tensors in the weights section
};

// Writes `graph` (types and shapes inferred, normally optimized) with `metadata`. The file is
// written next to `path` and renamed over it when complete, so a failed write never leaves a
// half bundle behind. Same graph and metadata give the same bytes.
Status write_bundle(const ir::Graph& graph, const Metadata& metadata, const std::string& path,
                    WriteStats* stats = nullptr);
// The same bytes in memory (tests).
Result<std::vector<std::byte>> serialize_bundle(const ir::Graph& graph, const Metadata& metadata);

struct SectionInfo {
  SectionKind kind = SectionKind{0};  // 0: absent
  uint64_t offset = 0;
  uint64_t size = 0;
  uint64_t checksum = 0;
};

class Bundle {
 public:
  // Maps `path` and validates the header, the section table and every section's checksum.
  static Result<std::shared_ptr<const Bundle>> open(const std::string& path);
  // The same over bytes that `keepalive` keeps alive; `name` is used in messages.
  static Result<std::shared_ptr<const Bundle>> parse(std::span<const std::byte> bytes,
                                                     std::shared_ptr<const void> keepalive,
                                                     const std::string& name);

  const std::string& name() const { return name_; }
  uint16_t version_major() const { return major_; }
  uint16_t version_minor() const { return minor_; }
  size_t file_size() const { return bytes_.size(); }
  std::span<const std::byte> bytes() const { return bytes_; }  // the whole mapped file
  const std::vector<SectionInfo>& sections() const { return sections_; }
  const Metadata& metadata() const { return metadata_; }
  // The graph section's checksum: identifies the graph, its memory plan and so the generated
  // model.c that was compiled for it.
  uint64_t graph_checksum() const { return graph_.checksum; }

  // Decodes the graph section. Every value keeps the dtype/shape the bundle records (load_model
  // checks them against inference); constants view the weights section in place (zero copy)
  // and keep this bundle's mapping alive.
  Result<std::unique_ptr<ir::Graph>> decode_graph() const;

 private:
  Bundle() = default;
  Status read_metadata();
  std::string name_;
  std::span<const std::byte> bytes_;
  std::shared_ptr<const void> keepalive_;
  uint16_t major_ = 0, minor_ = 0;
  std::vector<SectionInfo> sections_;
  SectionInfo graph_{}, weights_{}, metadata_section_{};
  Metadata metadata_;
};

struct LoadedModel {
  std::shared_ptr<const Bundle> bundle;
  std::shared_ptr<runtime::Model> model;  // ready for Session::create
};

// Opens a bundle, decodes its graph and wraps it in a Model without optimizing again
// (runtime::Model::from_graph with optimize=false). Inference runs as for any graph, and every
// recorded dtype/shape must equal what it infers (a mismatch is a corrupt bundle).
Result<LoadedModel> load_model(const std::string& path);
Result<LoadedModel> load_model(std::shared_ptr<const Bundle> bundle);

}  // namespace ratel::bundle
