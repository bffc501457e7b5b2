// runtime::Model::load_onnx lives with the ONNX frontend so that the runtime library itself does
// not depend on protobuf (the deployed runtime for riscv64 boards has no ONNX in it).
#include "frontend/onnx/onnx_importer.h"
#include "runtime/model.h"

namespace ratel::runtime {

Result<std::shared_ptr<Model>> Model::load_onnx(const std::string& path, const LoadOptions& options) {
  onnx_frontend::ImportOptions import;
  import.input_shapes = options.input_shapes;
  import.output_names = options.output_names;
  RATEL_ASSIGN_OR_RETURN(auto graph, onnx_frontend::import_onnx_file(path, import));
  auto model = from_graph(std::move(graph), options);
  if (!model.ok()) return model.status().with_context(path);
  return model;
}

}  // namespace ratel::runtime
