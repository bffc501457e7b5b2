// ratel.Gelu, erf form (f32), on kernels::vgelu_kernel, split over the pool in fixed chunks
// (elementwise: the result does not depend on the thread count). May write over its input.
#include <algorithm>

#include "kernels/vunary.h"
#include "runtime/kernels/fast_kernels.h"

namespace ratel::runtime {

namespace {

// Elements per parallel chunk: enough to amortize waking a worker (~10 us of GELU work).
constexpr int64_t kChunk = 16384;

class GeluKernel : public Kernel {
 public:
  explicit GeluKernel(cpu::Isa isa) : fn_(kernels::vgelu_kernel(isa)) {}

  Status run(const ExecContext& ctx, std::span<const Tensor* const> in,
             std::span<Tensor* const> out) const override {
    // Trimmed runs: the leading active rows of a [..., seq_len, width] activation.
    const Shape& shape = in[0]->shape();
    const int64_t width = shape.empty() ? 1 : shape.back();
    const int64_t n = width > 0 ? ctx.rows_to_compute(in[0]->numel() / width) * width : 0;
    const float* x = in[0]->data<float>();
    float* y = out[0]->mutable_data<float>();
    cpu::parallel_for(ctx.pool, (n + kChunk - 1) / kChunk, [&](int64_t begin, int64_t end, int) {
      const int64_t stop = std::min(n, end * kChunk);
      fn_(static_cast<size_t>(stop - begin * kChunk), x + begin * kChunk, y + begin * kChunk);
    });
    return Status::Ok();
  }
  int in_place_input(int output) const override { return output == 0 ? 0 : -1; }
  const char* implementation() const override { return "f32 gelu (erf)"; }

 private:
  kernels::UnaryKernelFn fn_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_gelu_kernel(const ir::Node& node) {
  if (node.domain != "ratel" || node.op_type != "Gelu" || !node.has_output(0)) {
    return std::unique_ptr<Kernel>();
  }
  const ir::Value* x = node.inputs.empty() ? nullptr : node.inputs[0];
  if (!x || !x->has_shape || x->dtype != DType::kF32) return std::unique_ptr<Kernel>();
  RATEL_ASSIGN_OR_RETURN(const std::string approximate, node.attrs.get_string("approximate", "none"));
  if (approximate != "none" && approximate != "gelu") return std::unique_ptr<Kernel>();  // tanh form
  return std::unique_ptr<Kernel>(new GeluKernel(cpu::active_isa()));
}

}  // namespace ratel::runtime
