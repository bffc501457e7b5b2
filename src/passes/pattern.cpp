#include "passes/pattern.h"

#include <algorithm>
#include <cmath>

namespace ratel::passes {

UseCounts::UseCounts(const ir::Graph& graph)
    : counts_(graph.num_value_slots(), 0),
      is_output_(graph.num_value_slots(), false),
      consumers_(graph.num_value_slots()) {
  for (const auto& n : graph.nodes()) {
    for (ir::Value* in : n->inputs) {
      if (!in) continue;
      ++counts_[static_cast<size_t>(in->id)];
      auto& list = consumers_[static_cast<size_t>(in->id)];
      if (list.empty() || list.back() != n.get()) list.push_back(n.get());
    }
  }
  for (const ir::Value* out : graph.outputs()) {
    ++counts_[static_cast<size_t>(out->id)];
    is_output_[static_cast<size_t>(out->id)] = true;
  }
}

ir::Node* producer_if(const ir::Value* v, std::string_view op) {
  if (!v || !v->producer) return nullptr;
  ir::Node* p = v->producer;
  return p->domain.empty() && p->op_type == op ? p : nullptr;
}

ir::Node* single_consumer_if(const UseCounts& uses, const ir::Value* v, std::string_view op) {
  if (!uses.single_use(v)) return nullptr;
  ir::Node* c = uses.consumers(v).front();
  return c->domain.empty() && c->op_type == op ? c : nullptr;
}

std::optional<double> constant_scalar(const ir::Value* v) {
  if (!v || !v->is_constant() || v->constant.numel() != 1) return std::nullopt;
  if (!dtype_is_float(v->dtype) && !dtype_is_integer(v->dtype)) return std::nullopt;
  return v->constant.get_as_double(0);
}

bool constant_equals(const ir::Value* v, double x, double tolerance) {
  if (!v || !v->is_constant() || v->constant.numel() == 0) return false;
  for (int64_t i = 0; i < v->constant.numel(); ++i) {
    if (std::fabs(v->constant.get_as_double(i) - x) > tolerance) return false;
  }
  return true;
}

ir::Value* other_input(const ir::Node* n, const ir::Value* v) {
  if (n->inputs.size() != 2) return nullptr;
  if (n->inputs[0] == v) return n->inputs[1];
  if (n->inputs[1] == v) return n->inputs[0];
  return nullptr;
}

bool replace_all_uses(ir::Graph& graph, ir::Value* from, ir::Value* to) {
  const auto& outs = graph.outputs();
  const bool from_is_output = std::find(outs.begin(), outs.end(), from) != outs.end();
  if (from_is_output) {
    const auto& ins = graph.inputs();
    const bool to_is_boundary = to->is_initializer ||
                                std::find(ins.begin(), ins.end(), to) != ins.end() ||
                                std::find(outs.begin(), outs.end(), to) != outs.end();
    if (to_is_boundary) return false;
    const std::string name = from->name;
    graph.rename_value(from, graph.unique_name(name + "_replaced"));
    graph.rename_value(to, name);
  }
  for (const auto& n : graph.nodes()) {
    for (ir::Value*& in : n->inputs) {
      if (in == from) in = to;
    }
  }
  for (ir::Value*& out : graph.outputs()) {
    if (out == from) out = to;
  }
  return true;
}

}  // namespace ratel::passes
