#include "runtime/kernels/reference_kernel.h"

namespace ratel::runtime {

Status ReferenceKernel::run(const ExecContext& /*ctx*/, std::span<const Tensor* const> inputs,
                            std::span<Tensor* const> outputs) const {
  ops::KernelContext kctx{node_, {inputs.begin(), inputs.end()}, {outputs.begin(), outputs.end()}};
  return spec_.compute(kctx);
}

}  // namespace ratel::runtime
