// ONNX Softmax (f32) over contiguous rows: from opset 13 one axis whose trailing dimensions are
// all 1 (normally the last); before 13 the input coerced to 2-D at `axis`, which is always rows.
// May write over its input.
#include "kernels/softmax.h"
#include "ops/op_util.h"
#include "runtime/kernels/fast_kernels.h"

namespace ratel::runtime {

namespace {

class SoftmaxKernel : public Kernel {
 public:
  SoftmaxKernel(size_t row, cpu::Isa isa) : row_(row), isa_(isa) {}

  Status run(const ExecContext& ctx, std::span<const Tensor* const> in,
             std::span<Tensor* const> out) const override {
    const size_t rows = static_cast<size_t>(in[0]->numel()) / row_;
    kernels::softmax_rows(rows, row_, in[0]->data<float>(), row_, out[0]->mutable_data<float>(),
                          row_, ctx.pool, isa_);
    return Status::Ok();
  }
  int in_place_input(int output) const override { return output == 0 ? 0 : -1; }
  const char* implementation() const override { return "f32 softmax"; }

 private:
  size_t row_;
  cpu::Isa isa_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_softmax_kernel(const ir::Node& node) {
  if (!node.domain.empty() || node.op_type != "Softmax" || !node.has_output(0)) {
    return std::unique_ptr<Kernel>();
  }
  const ir::Value* x = node.inputs.empty() ? nullptr : node.inputs[0];
  if (!x || !x->has_shape || x->dtype != DType::kF32 || x->shape.empty()) return std::unique_ptr<Kernel>();
  for (int64_t d : x->shape) {
    if (d <= 0) return std::unique_ptr<Kernel>();
  }
  const int rank = static_cast<int>(x->shape.size());
  const bool coerce_2d = node.opset < 13;
  RATEL_ASSIGN_OR_RETURN(const int64_t a, node.attrs.get_int("axis", coerce_2d ? 1 : -1));
  if (a < -rank || a >= rank) return std::unique_ptr<Kernel>();
  const int axis = static_cast<int>(a < 0 ? a + rank : a);
  if (!coerce_2d && ops::dims_product(x->shape, axis + 1, rank) != 1) return std::unique_ptr<Kernel>();
  const int64_t row = ops::dims_product(x->shape, axis, rank);
  return std::unique_ptr<Kernel>(new SoftmaxKernel(static_cast<size_t>(row), cpu::active_isa()));
}

}  // namespace ratel::runtime
