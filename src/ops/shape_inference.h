// Type and shape inference over a whole graph, with constant propagation.
//
// Walks the nodes in topological order and asks each op's inference for its output types and
// shapes. When every input of a node is known at compile time (initializers, Shape of a static
// tensor, ...), the node is evaluated with its reference kernel and its outputs become known
// too: this is what turns PyTorch's Shape->Gather->Unsqueeze->Concat->Reshape chains into static
// shapes once the user fixes the input shapes.
#pragma once

#include <cstdint>

#include "core/status.h"
#include "ir/graph.h"

namespace ratel::ops {

struct InferOptions {
  // Evaluate nodes with all-constant inputs when their outputs have at most this many elements
  // (shape arithmetic is tiny; large constant subgraphs are left to the folding pass).
  int64_t max_fold_elements = 1 << 16;
};

// Fills dtype/shape of every node output. Graph inputs must have a dtype and a fully known
// shape. Errors name the node, its op and what went wrong.
Status infer_shapes(ir::Graph& graph, const InferOptions& options = {});

// Evaluates one node on constant inputs with its reference kernel (used by folding).
Status evaluate_constant_node(ir::Node& node);

}  // namespace ratel::ops
