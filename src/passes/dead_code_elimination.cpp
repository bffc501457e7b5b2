// Dead-code elimination: removes nodes none of whose outputs reach a graph output.
#include <unordered_set>

#include "passes/passes.h"

namespace ratel::passes {

namespace {

class DeadCodeElimination : public Pass {
 public:
  const char* name() const override { return "dead-code-elimination"; }
  const char* summary() const override { return "remove nodes whose results are never used"; }

  Result<int> run(ir::Graph& graph) override {
    std::unordered_set<const ir::Value*> live(graph.outputs().begin(), graph.outputs().end());
    std::vector<ir::Node*> dead;
    const auto& nodes = graph.nodes();
    for (size_t i = nodes.size(); i-- > 0;) {  // reverse topological order
      ir::Node* n = nodes[i].get();
      bool used = false;
      for (const ir::Value* out : n->outputs) used = used || (out && live.count(out));
      if (!used) {
        dead.push_back(n);
        continue;
      }
      for (const ir::Value* in : n->inputs) {
        if (in) live.insert(in);
      }
    }
    graph.remove_nodes(dead);
    return static_cast<int>(dead.size());
  }
};

}  // namespace

std::unique_ptr<Pass> make_dead_code_elimination() { return std::make_unique<DeadCodeElimination>(); }

}  // namespace ratel::passes
