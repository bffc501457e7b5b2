// Constant folding: evaluates every node whose inputs are all known at compile time and replaces
// it by its result. Shape inference already evaluates small constant subgraphs (shape
// arithmetic); this pass also folds large ones (e.g. a Transpose of a weight) and removes the
// folded nodes, so the runtime never executes them.
#include "ops/op.h"
#include "ops/shape_inference.h"
#include "passes/passes.h"

namespace ratel::passes {

namespace {

// Results larger than this stay as run-time nodes: folding would bloat the model.
constexpr size_t kMaxFoldedBytes = size_t{1} << 30;

class ConstantFolding : public Pass {
 public:
  const char* name() const override { return "constant-folding"; }
  const char* summary() const override {
    return "evaluate nodes whose inputs are all constants; shape subgraphs become constants";
  }

  Result<int> run(ir::Graph& graph) override {
    std::vector<ir::Node*> folded;
    for (const auto& node : graph.nodes()) {
      ir::Node& n = *node;
      const ops::OpSpec* spec = ops::OpRegistry::instance().find(n.domain, n.op_type);
      if (!spec || !spec->foldable) continue;
      bool inputs_known = true;
      for (const ir::Value* in : n.inputs) inputs_known = inputs_known && (!in || in->is_constant());
      if (!inputs_known) continue;
      bool outputs_known = true;
      size_t bytes = 0;
      for (const ir::Value* out : n.outputs) {
        if (!out) continue;
        outputs_known = outputs_known && out->is_constant();
        bytes += static_cast<size_t>(numel(out->shape)) * dtype_size(out->dtype);
      }
      if (!outputs_known) {
        if (bytes > kMaxFoldedBytes) continue;
        RATEL_RETURN_IF_ERROR(ops::evaluate_constant_node(n));
      }
      folded.push_back(&n);
    }
    for (ir::Node* n : folded) {
      for (ir::Value* out : n->outputs) {
        if (out) out->is_initializer = true;  // now part of the model's weights
      }
    }
    graph.remove_nodes(folded);
    return static_cast<int>(folded.size());
  }
};

}  // namespace

std::unique_ptr<Pass> make_constant_folding() { return std::make_unique<ConstantFolding>(); }

}  // namespace ratel::passes
