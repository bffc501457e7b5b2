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

bool only_used_within(const UseCounts& uses, const std::vector<ir::Node*>& nodes,
                      const ir::Value* result) {
  for (const ir::Node* n : nodes) {
    for (const ir::Value* out : n->outputs) {
      if (!out || out == result) continue;
      if (uses.is_graph_output(out)) return false;
      for (const ir::Node* c : uses.consumers(out)) {
        if (std::find(nodes.begin(), nodes.end(), c) == nodes.end()) return false;
      }
    }
  }
  return true;
}

ir::Node* replace_with_node(ir::Graph& graph, const std::vector<ir::Node*>& nodes,
                            const std::string& domain, const std::string& op_type,
                            std::vector<ir::Value*> inputs, ir::Value* result) {
  const std::string name = result->producer ? result->producer->name + "_fused" : op_type;
  ir::Node* fused = graph.add_node(op_type, graph.unique_name(name), std::move(inputs), {result});
  fused->domain = domain;
  graph.remove_nodes(nodes);
  return fused;
}

ir::Value* add_constant(ir::Graph& graph, const std::string& name_hint, Tensor t) {
  ir::Value* v = graph.add_value(graph.unique_name(name_hint));
  v->dtype = t.dtype();
  v->shape = t.shape();
  v->has_shape = true;
  v->constant = std::move(t);
  v->is_initializer = true;
  return v;
}

std::optional<int> single_reduce_axis_keepdims(const ir::Node& n) {
  if (!n.has_input(0)) return std::nullopt;
  const int rank = static_cast<int>(n.inputs[0]->shape.size());
  auto keepdims = n.attrs.get_int("keepdims", 1);
  if (!keepdims.ok() || *keepdims != 1) return std::nullopt;
  std::vector<int64_t> axes;
  if (n.has_input(1)) {
    const ir::Value* a = n.inputs[1];
    if (!a->is_constant()) return std::nullopt;
    for (int64_t i = 0; i < a->constant.numel(); ++i) axes.push_back(a->constant.get_as_int64(i));
  } else {
    auto attr = n.attrs.get_ints("axes");
    if (!attr.ok()) return std::nullopt;
    axes = *attr;
  }
  if (axes.size() != 1 || axes[0] < -rank || axes[0] >= rank) return std::nullopt;
  return static_cast<int>(axes[0] < 0 ? axes[0] + rank : axes[0]);
}

}  // namespace ratel::passes
