#include "runtime/reference_executor.h"

#include <unordered_set>

namespace ratel::runtime {

Result<ReferenceExecutor> ReferenceExecutor::create(const ir::Graph& graph) {
  ReferenceExecutor ex;
  ex.graph_ = &graph;
  std::vector<int> last_use(graph.num_value_slots(), -1);
  std::unordered_set<const ir::Value*> graph_outputs(graph.outputs().begin(), graph.outputs().end());
  const auto& nodes = graph.nodes();
  for (size_t i = 0; i < nodes.size(); ++i) {
    const ir::Node& n = *nodes[i];
    bool all_constant = true;
    for (const ir::Value* out : n.outputs) {
      if (out && !out->is_constant()) all_constant = false;
    }
    if (all_constant) continue;  // folded by inference: nothing to run
    const ops::OpSpec* spec = ops::OpRegistry::instance().find(n.domain, n.op_type);
    if (!spec) return unsupported("{} has no reference kernel", n.describe());
    for (const ir::Value* in : n.inputs) {
      if (in) last_use[static_cast<size_t>(in->id)] = static_cast<int>(ex.steps_.size());
    }
    ex.steps_.push_back(Step{&n, spec, {}});
  }
  for (const auto& v : graph.values()) {
    const int step = last_use[static_cast<size_t>(v->id)];
    if (step >= 0 && !v->is_constant() && !graph_outputs.count(v.get())) {
      ex.steps_[static_cast<size_t>(step)].release_after.push_back(v->id);
    }
  }
  return ex;
}

Status ReferenceExecutor::run(std::span<const Tensor> inputs, std::vector<Tensor>* outputs) const {
  const ir::Graph& g = *graph_;
  if (inputs.size() != g.inputs().size()) {
    return invalid_argument("the model has {} inputs, {} were given", g.inputs().size(), inputs.size());
  }
  std::vector<Tensor> slots(g.num_value_slots());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const ir::Value* v = g.inputs()[i];
    if (inputs[i].dtype() != v->dtype || inputs[i].shape() != v->shape) {
      return invalid_argument("input '{}' must be {} {}, got {} {}", v->name, dtype_name(v->dtype),
                              shape_str(v->shape), dtype_name(inputs[i].dtype()),
                              shape_str(inputs[i].shape()));
    }
    slots[static_cast<size_t>(v->id)] = inputs[i];
  }
  auto value_of = [&](const ir::Value* v) -> const Tensor* {
    if (v->is_constant()) return &v->constant;
    const Tensor& t = slots[static_cast<size_t>(v->id)];
    return t.defined() ? &t : nullptr;
  };
  for (const Step& step : steps_) {
    const ir::Node& n = *step.node;
    ops::KernelContext ctx{n, {}, {}};
    for (const ir::Value* in : n.inputs) {
      if (!in) {
        ctx.inputs.push_back(nullptr);
        continue;
      }
      const Tensor* t = value_of(in);
      if (!t) return internal_error("{} input '{}' was not computed", n.describe(), in->name);
      ctx.inputs.push_back(t);
    }
    for (const ir::Value* out : n.outputs) {
      if (!out) {
        ctx.outputs.push_back(nullptr);
        continue;
      }
      Tensor& slot = slots[static_cast<size_t>(out->id)];
      RATEL_ASSIGN_OR_RETURN(slot, Tensor::allocate(out->dtype, out->shape));
      ctx.outputs.push_back(&slot);
    }
    RATEL_RETURN_IF_ERROR(step.spec->compute(ctx).with_context(n.describe()));
    for (int id : step.release_after) slots[static_cast<size_t>(id)] = Tensor();
  }
  outputs->clear();
  for (const ir::Value* v : g.outputs()) {
    const Tensor* t = value_of(v);
    if (!t) return internal_error("graph output '{}' was not computed", v->name);
    outputs->push_back(*t);
  }
  return Status::Ok();
}

}  // namespace ratel::runtime
