// ONNX import: .onnx file (protobuf ModelProto, optionally with external data) -> ir::Graph.
//
// The importer only translates; type/shape inference (ops::infer_shapes) runs afterwards.
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"

namespace ratel::onnx_frontend {

struct ImportOptions {
  // Input shapes fixed by the user, by input name. They replace symbolic dims; a numeric dim
  // that the model fixes differently is a shape conflict (error).
  std::map<std::string, Shape> input_shapes;
  // Optional: the graph outputs to keep (any value name); default: the model's outputs.
  std::vector<std::string> output_names;
  // Folder that external data paths are relative to (default: the model file's folder).
  std::string external_data_dir;
};

// Reads and translates a model file. Errors name the file and what is wrong with it.
Result<std::unique_ptr<ir::Graph>> import_onnx_file(const std::string& path,
                                                    const ImportOptions& options = {});

// Same, from bytes in memory (fuzzing, tests). `name` is used in messages.
Result<std::unique_ptr<ir::Graph>> import_onnx_bytes(std::span<const std::byte> bytes,
                                                     const std::string& name,
                                                     const ImportOptions& options = {});

}  // namespace ratel::onnx_frontend
