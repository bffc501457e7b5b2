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
  bool single_use(const ir::Value* v) const { return uses(v) == 1 && !is_output_[static_cast<size_t>(v->id)]; }
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

}  // namespace ratel::passes
