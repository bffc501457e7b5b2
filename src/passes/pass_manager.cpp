#include "ops/shape_inference.h"
#include "passes/passes.h"

namespace ratel::passes {

std::vector<std::unique_ptr<Pass>> default_passes(const OptimizeOptions& options) {
  std::vector<std::unique_ptr<Pass>> p;
  p.push_back(make_constant_folding());
  p.push_back(make_identity_elimination());
  p.push_back(make_dead_code_elimination());
  if (options.fuse) {
    p.push_back(make_layer_norm_fusion());
    p.push_back(make_gelu_fusion());
    p.push_back(make_dense_fusion());
    p.push_back(make_attention_fusion());
    p.push_back(make_qkv_merge());
    p.push_back(make_dead_code_elimination());
  }
  return p;
}

Status run_passes(ir::Graph& graph, const std::vector<std::unique_ptr<Pass>>& passes,
                  std::vector<PassReport>* report) {
  for (const auto& pass : passes) {
    PassReport r{pass->name(), 0, graph.nodes().size(), 0};
    auto changes = pass->run(graph);
    if (!changes.ok()) return changes.status().with_context(fmt::format("pass {}", pass->name()));
    r.changes = *changes;
    if (r.changes > 0) {
      // Passes may create untyped values and leave nodes out of order; restore both.
      RATEL_RETURN_IF_ERROR(graph.topo_sort().with_context(fmt::format("after pass {}", pass->name())));
      RATEL_RETURN_IF_ERROR(ops::infer_shapes(graph).with_context(fmt::format("after pass {}", pass->name())));
      RATEL_RETURN_IF_ERROR(ir::verify(graph, true).with_context(fmt::format("after pass {}", pass->name())));
    }
    r.nodes_after = graph.nodes().size();
    if (report) report->push_back(r);
  }
  return Status::Ok();
}

Status optimize(ir::Graph& graph, const OptimizeOptions& options, std::vector<PassReport>* report) {
  return run_passes(graph, default_passes(options), report);
}

}  // namespace ratel::passes
