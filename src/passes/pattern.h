// Small helpers for matching graph patterns in fusion passes.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "ir/graph.h"

namespace ratel::passes {

// Use counts of every value (node inputs + graph outputs), by value id.
class UseCounts {
 public:
  explicit UseCounts(const ir::Graph& graph);
  int uses(const ir::Value* v) const { return counts_[static_cast<size_t>(v->id)]; }
  // True if `v` is read exactly once and is not a graph output.
  bool single_use(const ir::Value* v) const { return uses(v) == 1 && !is_graph_output(v); }
  bool is_graph_output(const ir::Value* v) const { return is_output_[static_cast<size_t>(v->id)]; }
  // Nodes that read `v`.
  const std::vector<ir::Node*>& consumers(const ir::Value* v) const {
    return consumers_[static_cast<size_t>(v->id)];
  }

 private:
  std::vector<int> counts_;
  std::vector<bool> is_output_;
  std::vector<std::vector<ir::Node*>> consumers_;
};

// The node producing `v` if it has op type `op` (default domain), else nullptr.
ir::Node* producer_if(const ir::Value* v, std::string_view op);
// The single consumer of `v` if it has op type `op`, else nullptr.
ir::Node* single_consumer_if(const UseCounts& uses, const ir::Value* v, std::string_view op);

// Value of a constant scalar (or one-element tensor) as double.
std::optional<double> constant_scalar(const ir::Value* v);
// True if `v` is a constant whose every element equals `x`.
bool constant_equals(const ir::Value* v, double x, double tolerance = 0.0);

// For a binary node `n` with one input `v`, the other input.
ir::Value* other_input(const ir::Node* n, const ir::Value* v);

// Makes all readers of `from` read `to` instead. If `from` is a graph output, `to` takes over its
// name (users bind outputs by name); that is impossible when `to` is itself a graph input,
// output or initializer, and then nothing changes and false is returned.
bool replace_all_uses(ir::Graph& graph, ir::Value* from, ir::Value* to);

// True if every output of `nodes` other than `result` is read only by nodes in `nodes` (and is
// not a graph output): replacing the group by one node producing `result` loses nothing.
bool only_used_within(const UseCounts& uses, const std::vector<ir::Node*>& nodes,
                      const ir::Value* result);

// Replaces the group `nodes` by one new node that computes `result` (an existing value, so its
// readers need no rewiring). The new node is appended; the pass manager re-sorts the graph.
ir::Node* replace_with_node(ir::Graph& graph, const std::vector<ir::Node*>& nodes,
                            const std::string& domain, const std::string& op_type,
                            std::vector<ir::Value*> inputs, ir::Value* result);

// Adds a constant (initializer) value holding `t`.
ir::Value* add_constant(ir::Graph& graph, const std::string& name_hint, Tensor t);

// The single reduction axis of a ReduceMean/ReduceSum node (attribute or, from opset 18, constant
// input), normalized to [0, rank); nullopt if it reduces several axes or keepdims is 0.
std::optional<int> single_reduce_axis_keepdims(const ir::Node& n);

}  // namespace ratel::passes
