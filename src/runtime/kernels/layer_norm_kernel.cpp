// ONNX LayerNormalization (f32, normalized over trailing axes that Scale and B cover whole, Y
// only) and ratel.SkipLayerNorm on kernels::layernorm_rows. Both may write over their X input.
#include "kernels/layernorm.h"
#include "ops/op_util.h"
#include "runtime/kernels/fast_kernels.h"

namespace ratel::runtime {

namespace {

class LayerNormKernel : public Kernel {
 public:
  LayerNormKernel(size_t row, float epsilon, bool skip, cpu::Isa isa)
      : row_(row), epsilon_(epsilon), skip_(skip), isa_(isa) {}

  Status run(const ExecContext& ctx, std::span<const Tensor* const> in,
             std::span<Tensor* const> out) const override {
    // LayerNormalization: X, Scale, B?; SkipLayerNorm: X, Skip, Gamma, Beta.
    const size_t g = skip_ ? 2 : 1;
    const Tensor* beta = in.size() > g + 1 ? in[g + 1] : nullptr;
    const size_t rows = static_cast<size_t>(ctx.rows_to_compute(in[0]->numel() / static_cast<int64_t>(row_)));
    kernels::layernorm_rows(rows, row_, in[0]->data<float>(), skip_ ? in[1]->data<float>() : nullptr,
                            in[g]->data<float>(), beta ? beta->data<float>() : nullptr, epsilon_,
                            out[0]->mutable_data<float>(), ctx.pool, isa_);
    return Status::Ok();
  }
  int in_place_input(int output) const override { return output == 0 ? 0 : -1; }
  const char* implementation() const override { return "f32 layernorm"; }

 private:
  size_t row_;
  float epsilon_;
  bool skip_;
  cpu::Isa isa_;
};

bool f32_static(const ir::Value* v) {
  if (!v || !v->has_shape || v->dtype != DType::kF32) return false;
  for (int64_t d : v->shape) {
    if (d < 0) return false;
  }
  return true;
}

// `p` right-aligned on `x` is 1 before `axis` and equals x from `axis` on: one value per element
// of a row, laid out like the row.
bool covers_row(const ir::Value* p, const Shape& x, int axis) {
  if (!f32_static(p) || p->shape.size() > x.size()) return false;
  const size_t lead = x.size() - p->shape.size();
  for (size_t i = 0; i < p->shape.size(); ++i) {
    const size_t pos = lead + i;
    if (static_cast<int>(pos) < axis ? p->shape[i] != 1 : p->shape[i] != x[pos]) return false;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<Kernel>> make_layer_norm_kernel(const ir::Node& node) {
  const bool onnx = node.domain.empty() && node.op_type == "LayerNormalization";
  const bool skip = node.domain == "ratel" && node.op_type == "SkipLayerNorm";
  if (!onnx && !skip) return std::unique_ptr<Kernel>();
  if (!node.has_output(0) || node.has_output(1) || node.has_output(2)) {
    return std::unique_ptr<Kernel>();  // Mean / InvStdDev requested: the reference computes them
  }
  const ir::Value* x = node.inputs.empty() ? nullptr : node.inputs[0];
  if (!f32_static(x) || x->shape.empty() || numel(x->shape) == 0) return std::unique_ptr<Kernel>();
  const int rank = static_cast<int>(x->shape.size());
  int axis = rank - 1;
  if (onnx) {
    RATEL_ASSIGN_OR_RETURN(const int64_t a, node.attrs.get_int("axis", -1));
    if (a < -rank || a >= rank) return std::unique_ptr<Kernel>();
    axis = static_cast<int>(a < 0 ? a + rank : a);
  }
  const int64_t row = ops::dims_product(x->shape, axis, rank);
  if (row <= 0) return std::unique_ptr<Kernel>();
  // Parameters must cover a whole row (no broadcasting inside it).
  const size_t first_param = skip ? 2 : 1;
  const size_t last_param = skip ? 3 : 2;
  for (size_t i = first_param; i <= last_param; ++i) {
    const bool required = skip || i == first_param;
    if (!node.has_input(i)) {
      if (required) return std::unique_ptr<Kernel>();
      continue;
    }
    if (!covers_row(node.inputs[i], x->shape, axis)) return std::unique_ptr<Kernel>();
  }
  if (skip) {
    const ir::Value* s = node.has_input(1) ? node.inputs[1] : nullptr;
    if (!f32_static(s) || s->shape != x->shape) return std::unique_ptr<Kernel>();
  }
  RATEL_ASSIGN_OR_RETURN(const float epsilon, node.attrs.get_float("epsilon", 1e-5f));
  if (!(epsilon >= 0)) return std::unique_ptr<Kernel>();
  return std::unique_ptr<Kernel>(
      new LayerNormKernel(static_cast<size_t>(row), epsilon, skip, cpu::active_isa()));
}

}  // namespace ratel::runtime
