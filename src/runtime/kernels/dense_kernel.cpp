// ratel.Dense on the packed GEMM: the weight is packed once when the model is prepared, bias,
// GELU and residual run in the GEMM's epilogue.
#include "kernels/gemm.h"
#include "runtime/kernels/fast_kernels.h"

namespace ratel::runtime {

namespace {

class DenseKernel : public Kernel {
 public:
  DenseKernel(kernels::PackedGemmB weight, kernels::Activation activation)
      : weight_(std::move(weight)), activation_(activation) {}

  Status run(const ExecContext& ctx, std::span<const Tensor* const> in,
             std::span<Tensor* const> out) const override {
    const Tensor& x = *in[0];
    const size_t k = weight_.view().k, n = weight_.view().n;
    const size_t m = static_cast<size_t>(ctx.rows_to_compute(x.numel() / static_cast<int64_t>(k)));
    kernels::GemmEpilogue epi;
    epi.bias = in.size() > 2 && in[2] ? in[2]->data<float>() : nullptr;
    epi.activation = activation_;
    if (in.size() > 3 && in[3]) {
      epi.residual = in[3]->data<float>();
      epi.residual_stride = n;
    }
    kernels::gemm_packed(m, x.data<float>(), k, weight_.view(), out[0]->mutable_data<float>(), n, epi,
                         ctx.pool);
    return Status::Ok();
  }
  const char* implementation() const override { return "f32 packed gemm"; }
  bool keeps_own_copy_of_input(size_t i) const override { return i == 1; }  // the packed weight

 private:
  kernels::PackedGemmB weight_;
  kernels::Activation activation_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_dense_kernel(const ir::Node& node) {
  if (node.domain != "ratel" || node.op_type != "Dense") return std::unique_ptr<Kernel>();
  const ir::Value* w = node.inputs[1];
  if (!w->is_constant() || w->dtype != DType::kF32) return std::unique_ptr<Kernel>();
  const std::string act = *node.attrs.get_string("activation", "none");
  kernels::Activation activation = kernels::Activation::kNone;
  if (act == "gelu") {
    activation = kernels::Activation::kGelu;
  } else if (act != "none") {
    return std::unique_ptr<Kernel>();  // tanh GELU: the reference kernel handles it
  }
  const size_t k = static_cast<size_t>(w->shape[0]), n = static_cast<size_t>(w->shape[1]);
  RATEL_ASSIGN_OR_RETURN(auto packed, kernels::PackedGemmB::pack(w->constant.data<float>(), k, n, n));
  return std::unique_ptr<Kernel>(new DenseKernel(std::move(packed), activation));
}

}  // namespace ratel::runtime
