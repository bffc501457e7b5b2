// The fallback: runs a node with its portable reference implementation from the op registry.
#pragma once

#include <memory>

#include "ops/op.h"
#include "runtime/kernel.h"

namespace ratel::runtime {

class ReferenceKernel : public Kernel {
 public:
  ReferenceKernel(const ir::Node& node, const ops::OpSpec& spec) : node_(node), spec_(spec) {}
  Status run(const ExecContext& ctx, std::span<const Tensor* const> inputs,
             std::span<Tensor* const> outputs) const override;
  const char* implementation() const override { return "reference"; }

 private:
  const ir::Node& node_;  // owned by the model's graph, which outlives the plan
  const ops::OpSpec& spec_;
};

}  // namespace ratel::runtime
