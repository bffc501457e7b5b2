// The reference executor: runs an inferred graph node by node with the portable reference
// kernels. Slow and obviously correct; the oracle the fast runtime is tested against.
#pragma once

#include <span>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "ir/graph.h"
#include "ops/op.h"

namespace ratel::runtime {

class ReferenceExecutor {
 public:
  // `graph` must have passed infer_shapes() and must outlive the executor.
  static Result<ReferenceExecutor> create(const ir::Graph& graph);

  // inputs: one tensor per graph input, in graph order, with the inferred dtype and shape.
  // outputs: filled with one tensor per graph output.
  Status run(std::span<const Tensor> inputs, std::vector<Tensor>* outputs) const;

 private:
  struct Step {
    const ir::Node* node;
    const ops::OpSpec* spec;
    std::vector<int> release_after;  // value ids whose last use is this step
  };
  const ir::Graph* graph_ = nullptr;
  std::vector<Step> steps_;
};

}  // namespace ratel::runtime
