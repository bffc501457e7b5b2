// Identity elimination: bypasses nodes that return their input unchanged — Identity, inference
// Dropout, Cast to the same type, Reshape/Flatten/Squeeze/Unsqueeze/Expand to the same shape,
// Transpose with the identity permutation.
#include <numeric>

#include "passes/passes.h"
#include "passes/pattern.h"

namespace ratel::passes {

namespace {

bool is_noop(const ir::Node& n) {
  if (!n.domain.empty() || n.inputs.empty() || !n.inputs[0] || !n.has_output(0)) return false;
  const ir::Value* in = n.inputs[0];
  const ir::Value* out = n.outputs[0];
  if (in->dtype != out->dtype || in->shape != out->shape) return false;
  const std::string& op = n.op_type;
  if (op == "Identity" || op == "Cast" || op == "Reshape" || op == "Flatten" || op == "Squeeze" ||
      op == "Unsqueeze" || op == "Expand") {
    return true;
  }
  if (op == "Dropout") return !n.has_output(1);  // the mask output would still be needed
  if (op == "Transpose") {
    auto perm = n.attrs.get_ints("perm");
    if (!perm.ok()) return false;
    std::vector<int64_t> identity(perm->size());
    std::iota(identity.begin(), identity.end(), 0);
    return *perm == identity || in->shape.size() <= 1;
  }
  return false;
}

class IdentityElimination : public Pass {
 public:
  const char* name() const override { return "identity-elimination"; }
  const char* summary() const override {
    return "bypass Identity, inference Dropout and casts/reshapes/transposes that change nothing";
  }

  Result<int> run(ir::Graph& graph) override {
    std::vector<ir::Node*> removed;
    for (const auto& node : graph.nodes()) {
      if (!is_noop(*node)) continue;
      if (replace_all_uses(graph, node->outputs[0], node->inputs[0])) removed.push_back(node.get());
    }
    graph.remove_nodes(removed);
    return static_cast<int>(removed.size());
  }
};

}  // namespace

std::unique_ptr<Pass> make_identity_elimination() { return std::make_unique<IdentityElimination>(); }

}  // namespace ratel::passes
