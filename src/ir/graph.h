// Ratel's graph IR: nodes (operators) connected by values (tensors), static shapes.
//
// The graph owns its nodes and values. A value has at most one producer (a node, or none for graph
// inputs and constants). Nodes are kept in topological order; passes that insert nodes call
// Graph::topo_sort() before handing the graph on. Types and shapes are filled by infer_shapes().
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace ratel::ir {

struct Node;

struct Value {
  int id = -1;  // unique, < Graph::num_value_slots(); never reused, so arrays can be indexed by it
  std::string name;
  DType dtype = DType::kUndefined;
  Shape shape;
  bool has_shape = false;     // shape is known (possibly rank 0)
  // Symbolic dimension names as declared by the model (graph inputs/outputs), "" where numeric.
  std::vector<std::string> dim_params;
  // Known value: an initializer, or a constant found by inference. Undefined tensor otherwise.
  Tensor constant;
  bool is_initializer = false;  // came from the model's weights
  // The constant's data was freed after every kernel reading it made its own (packed) copy: the
  // value is still a constant, but only those kernels can run. See LoadOptions.
  bool data_released = false;
  // Type and shape the model file declares for a graph output (checked against inference).
  DType declared_dtype = DType::kUndefined;
  std::optional<Shape> declared_shape;  // -1 where the declaration is symbolic or absent
  Node* producer = nullptr;

  bool is_constant() const { return constant.defined() || data_released; }
};

using AttrValue = std::variant<int64_t, float, std::string, std::vector<int64_t>,
                               std::vector<float>, std::vector<std::string>, Tensor>;

// Node attributes, by name.
class Attributes {
 public:
  void set(const std::string& name, AttrValue v) { attrs_[name] = std::move(v); }
  bool has(const std::string& name) const { return attrs_.count(name) != 0; }
  const AttrValue* find(const std::string& name) const {
    auto it = attrs_.find(name);
    return it == attrs_.end() ? nullptr : &it->second;
  }
  const std::map<std::string, AttrValue>& all() const { return attrs_; }

  // Typed getters: the default when absent, an error when present with another type.
  Result<int64_t> get_int(const std::string& name, int64_t dflt) const;
  Result<float> get_float(const std::string& name, float dflt) const;
  Result<std::string> get_string(const std::string& name, const std::string& dflt) const;
  Result<std::vector<int64_t>> get_ints(const std::string& name,
                                        std::vector<int64_t> dflt = {}) const;
  Result<std::vector<float>> get_floats(const std::string& name, std::vector<float> dflt = {}) const;
  Result<Tensor> get_tensor(const std::string& name) const;

 private:
  std::map<std::string, AttrValue> attrs_;
};

struct Node {
  int id = -1;
  std::string name;
  std::string op_type;
  std::string domain;  // "" for the default ONNX domain
  int opset = 0;       // opset version of `domain` the model was written for
  std::vector<Value*> inputs;   // nullptr marks an omitted optional input
  std::vector<Value*> outputs;  // nullptr marks an omitted optional output
  Attributes attrs;

  bool has_input(size_t i) const { return i < inputs.size() && inputs[i] != nullptr; }
  bool has_output(size_t i) const { return i < outputs.size() && outputs[i] != nullptr; }
  // "node 'Add_12' (Add)" for messages.
  std::string describe() const;
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // Creates a value; the name must be unique (or empty: a fresh name is made).
  Value* add_value(const std::string& name);
  Value* find_value(const std::string& name) const;
  // Gives `v` a new name (which must be unused).
  void rename_value(Value* v, const std::string& name);
  // Creates a node at the end of the node list.
  Node* add_node(const std::string& op_type, const std::string& name,
                 std::vector<Value*> inputs, std::vector<Value*> outputs);
  // Removes nodes flagged by `dead` (their outputs must be unused) and unused values.
  void remove_nodes(const std::vector<Node*>& dead);
  // Drops values no node, input or output refers to.
  void remove_unused_values();

  const std::vector<std::unique_ptr<Node>>& nodes() const { return nodes_; }
  const std::vector<std::unique_ptr<Value>>& values() const { return values_; }
  size_t num_value_slots() const { return value_slots_; }

  std::vector<Value*>& inputs() { return inputs_; }
  const std::vector<Value*>& inputs() const { return inputs_; }
  std::vector<Value*>& outputs() { return outputs_; }
  const std::vector<Value*>& outputs() const { return outputs_; }

  // Model-level metadata kept for messages and export.
  std::string name;
  std::map<std::string, int> opsets;  // domain -> version
  std::string producer;

  // Orders nodes so every node comes after the producers of its inputs. Fails on a cycle,
  // naming a node on it.
  Status topo_sort();
  // Consumers of every value, by value id.
  std::vector<std::vector<Node*>> consumers() const;
  // A name not used by any value yet, starting with `prefix`.
  std::string unique_name(const std::string& prefix);

  int64_t parameter_count() const;  // elements in initializers
  size_t parameter_bytes() const;

 private:
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<Value>> values_;
  std::unordered_map<std::string, Value*> by_name_;
  std::vector<Value*> inputs_;
  std::vector<Value*> outputs_;
  size_t value_slots_ = 0;  // ids handed out so far (ids are never reused)
  int next_node_id_ = 0;
  int name_counter_ = 0;
};

// Structural checks: single producer, topological order, every input defined before use,
// outputs produced, and (when `require_types`) every value typed and shaped.
Status verify(const Graph& graph, bool require_types);

}  // namespace ratel::ir
