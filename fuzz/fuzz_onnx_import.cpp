// libFuzzer target: arbitrary bytes as an .onnx model -> import, shape inference, optimization.
// Must never crash, hang or allocate beyond the limit; errors are fine.
#include <cstddef>
#include <cstdint>

#include "frontend/onnx/onnx_importer.h"
#include "ops/shape_inference.h"
#include "passes/pass.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool init = [] {
    ratel::set_allocation_limit(size_t{256} << 20);  // a hostile file must not take more
    return true;
  }();
  (void)init;
  auto graph = ratel::onnx_frontend::import_onnx_bytes(
      std::span(reinterpret_cast<const std::byte*>(data), size), "fuzz.onnx");
  if (!graph.ok()) return 0;
  // Fix any dynamic input dims to small sizes so inference can proceed.
  for (ratel::ir::Value* in : (*graph)->inputs()) {
    for (int64_t& d : in->shape) d = d < 0 ? 2 : d;
    in->has_shape = true;
  }
  if (!ratel::ops::infer_shapes(**graph).ok()) return 0;
  std::vector<ratel::passes::PassReport> report;
  (void)ratel::passes::optimize(**graph, {}, &report);
  return 0;
}
