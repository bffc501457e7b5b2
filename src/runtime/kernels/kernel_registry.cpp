#include "runtime/kernels/fast_kernels.h"

namespace ratel::runtime {

Result<std::unique_ptr<Kernel>> make_fast_kernel(const ir::Node& node) {
  static constexpr KernelFactory kFactories[] = {
      make_dense_kernel,
      make_attention_kernel,
      make_layer_norm_kernel,
      make_softmax_kernel,
      make_gelu_kernel,
      make_add_kernel,
      make_qdense_half_kernel,
      make_qdense_int_kernel,
  };
  for (KernelFactory factory : kFactories) {
    RATEL_ASSIGN_OR_RETURN(std::unique_ptr<Kernel> k, factory(node));
    if (k) return k;
  }
  return std::unique_ptr<Kernel>();
}

}  // namespace ratel::runtime
