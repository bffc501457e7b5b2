#include "ops/shape_inference.h"

#include "ops/op.h"

namespace ratel::ops {

namespace {

Status check_graph_inputs(const ir::Graph& graph) {
  for (const ir::Value* in : graph.inputs()) {
    if (in->dtype == DType::kUndefined) {
      return invalid_argument("graph input '{}' has no element type", in->name);
    }
    if (!in->has_shape) {
      return invalid_argument("graph input '{}' has no shape: give one with --input-shape", in->name);
    }
    for (size_t d = 0; d < in->shape.size(); ++d) {
      if (in->shape[d] < 0) {
        const std::string sym = d < in->dim_params.size() && !in->dim_params[d].empty()
                                    ? " ('" + in->dim_params[d] + "')"
                                    : "";
        return invalid_argument(
            "graph input '{}' has a dynamic dimension {}{}: fix it with --input-shape", in->name, d,
            sym);
      }
    }
    RATEL_RETURN_IF_ERROR(checked_numel(in->shape).status().with_context(
        fmt::format("graph input '{}'", in->name)));
  }
  return Status::Ok();
}

Status check_declared_output(const ir::Value& v) {
  if (v.declared_dtype != DType::kUndefined && v.declared_dtype != v.dtype) {
    return invalid_argument("graph output '{}': the model declares type {}, the graph computes {}",
                            v.name, dtype_name(v.declared_dtype), dtype_name(v.dtype));
  }
  if (v.declared_shape) {
    const Shape& d = *v.declared_shape;
    bool ok = d.size() == v.shape.size();
    for (size_t i = 0; ok && i < d.size(); ++i) ok = d[i] < 0 || d[i] == v.shape[i];
    if (!ok) {
      return invalid_argument(
          "shape conflict at graph output '{}': the model declares {}, the graph computes {} for "
          "these input shapes",
          v.name, shape_str(d), shape_str(v.shape));
    }
  }
  return Status::Ok();
}

bool all_inputs_constant(const ir::Node& node) {
  for (const ir::Value* in : node.inputs) {
    if (in && !in->is_constant()) return false;
  }
  return true;
}

}  // namespace

Status evaluate_constant_node(ir::Node& node) {
  const OpSpec* spec = OpRegistry::instance().find(node.domain, node.op_type);
  if (!spec) return internal_error("{} has no registered op", node.describe());
  KernelContext kctx{node, {}, {}};
  for (const ir::Value* in : node.inputs) kctx.inputs.push_back(in ? &in->constant : nullptr);
  std::vector<Tensor> outs(node.outputs.size());
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    const ir::Value* out = node.outputs[i];
    if (!out) {
      kctx.outputs.push_back(nullptr);
      continue;
    }
    RATEL_ASSIGN_OR_RETURN(outs[i], Tensor::allocate(out->dtype, out->shape));
    kctx.outputs.push_back(&outs[i]);
  }
  RATEL_RETURN_IF_ERROR(spec->compute(kctx).with_context(node.describe()));
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    if (node.outputs[i]) node.outputs[i]->constant = std::move(outs[i]);
  }
  return Status::Ok();
}

Status infer_shapes(ir::Graph& graph, const InferOptions& options) {
  RATEL_RETURN_IF_ERROR(check_graph_inputs(graph));
  const OpRegistry& registry = OpRegistry::instance();
  for (const auto& node_ptr : graph.nodes()) {
    ir::Node& node = *node_ptr;
    const OpSpec* spec = registry.find(node.domain, node.op_type);
    if (!spec) {
      return unsupported("unsupported op '{}'{} at {} (opset {}); `ratel ops` lists the supported ops",
                         node.op_type, node.domain.empty() ? "" : " in domain '" + node.domain + "'",
                         node.describe(), node.opset);
    }
    // Every op Ratel runs needs its first input (only later ones are optional in ONNX).
    if (!node.inputs.empty() && node.inputs[0] == nullptr) {
      return invalid_argument("{}: its first input is missing (an empty name)", node.describe());
    }
    // Every op has outputs (any of them may be omitted with an empty name, Split's first too).
    if (node.outputs.empty()) return invalid_argument("{}: it has no outputs", node.describe());
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const ir::Value* in = node.inputs[i];
      if (in && (in->dtype == DType::kUndefined || !in->has_shape)) {
        return internal_error("{} input '{}' has no type: inference order is broken", node.describe(),
                              in->name);
      }
    }
    for (ir::Value* out : node.outputs) {
      if (!out) continue;
      out->dtype = DType::kUndefined;
      out->has_shape = false;
      out->constant = Tensor();
    }
    InferContext ctx(node);
    RATEL_RETURN_IF_ERROR(spec->infer(ctx).with_context(node.describe()));
    int64_t out_elements = 0;
    for (const ir::Value* out : node.outputs) {
      if (!out) continue;
      if (out->dtype == DType::kUndefined || !out->has_shape) {
        return internal_error("{}: inference left output '{}' untyped", node.describe(), out->name);
      }
      auto n = checked_numel(out->shape);
      if (!n.ok()) {
        return n.status().with_context(fmt::format("{} output '{}'", node.describe(), out->name));
      }
      out_elements += *n;
    }
    // Nodes without inputs (Constant) are always folded: their value is already in memory.
    const bool small = out_elements <= options.max_fold_elements || node.inputs.empty();
    if (spec->foldable && all_inputs_constant(node) && small) {
      RATEL_RETURN_IF_ERROR(evaluate_constant_node(node));
    }
  }
  for (const ir::Value* out : graph.outputs()) {
    RATEL_RETURN_IF_ERROR(check_declared_output(*out));
  }
  return Status::Ok();
}

}  // namespace ratel::ops
