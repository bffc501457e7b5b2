// Test harness: builds a one-node graph around an op, infers it and runs it with the reference
// executor, exactly as a model containing that node would be run.
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"
#include "ir/graph.h"
#include "ops/shape_inference.h"
#include "runtime/reference_executor.h"

namespace ratel::testing {

struct OpCall {
  explicit OpCall(std::string op, int version = 17) : op_type(std::move(op)), opset(version) {}
  std::string op_type;
  int opset = 17;
  std::string domain;  // "" for ONNX; "ratel" for Ratel's own ops (opset 1)
  // Inputs; an undefined Tensor marks an omitted optional input.
  std::vector<Tensor> inputs;
  // Inputs at these positions become graph inputs (run-time values) instead of constants, so
  // that inference cannot see their values. By default every input is a run-time input.
  std::vector<bool> constant_inputs;
  ir::Attributes attrs;
  int num_outputs = 1;
};

// Returns the node's outputs, or the inference/compute error.
inline Result<std::vector<Tensor>> run_op(const OpCall& call) {
  ir::Graph g;
  g.opsets[""] = call.opset;
  if (!call.domain.empty()) g.opsets[call.domain] = 1;
  std::vector<ir::Value*> ins;
  std::vector<Tensor> feeds;
  for (size_t i = 0; i < call.inputs.size(); ++i) {
    if (!call.inputs[i].defined()) {
      ins.push_back(nullptr);
      continue;
    }
    ir::Value* v = g.add_value("in" + std::to_string(i));
    v->dtype = call.inputs[i].dtype();
    v->shape = call.inputs[i].shape();
    v->has_shape = true;
    const bool is_const = i < call.constant_inputs.size() && call.constant_inputs[i];
    if (is_const) {
      v->constant = call.inputs[i];
      v->is_initializer = true;
    } else {
      g.inputs().push_back(v);
      feeds.push_back(call.inputs[i]);
    }
    ins.push_back(v);
  }
  std::vector<ir::Value*> outs;
  for (int i = 0; i < call.num_outputs; ++i) outs.push_back(g.add_value("out" + std::to_string(i)));
  ir::Node* n = g.add_node(call.op_type, "node", ins, outs);
  n->attrs = call.attrs;
  n->domain = call.domain;
  for (ir::Value* o : outs) g.outputs().push_back(o);
  RATEL_RETURN_IF_ERROR(ops::infer_shapes(g));
  RATEL_ASSIGN_OR_RETURN(auto ex, runtime::ReferenceExecutor::create(g));
  std::vector<Tensor> results;
  RATEL_RETURN_IF_ERROR(ex.run(feeds, &results));
  // Copy out: results may alias constants owned by the graph, which dies here.
  for (Tensor& t : results) {
    RATEL_ASSIGN_OR_RETURN(t, t.clone());
  }
  return results;
}

}  // namespace ratel::testing
