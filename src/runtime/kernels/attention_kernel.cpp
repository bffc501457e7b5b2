// ratel.Attention on kernels::attention: dimensions, scale and the mask's broadcast strides are
// fixed when the model is prepared; each thread's workspace (packed K_h^T and V_h, a block of
// scores) comes from the session (workspace_bytes), so run() does not allocate.
#include <cmath>

#include "kernels/attention.h"
#include "ops/op_util.h"
#include "runtime/kernels/fast_kernels.h"

namespace ratel::runtime {

namespace {

class AttentionKernel : public Kernel {
 public:
  AttentionKernel(const kernels::AttentionParams& dims, bool packed, cpu::Isa isa)
      : dims_(dims), packed_(packed), isa_(isa) {}

  Status run(const ExecContext& ctx, std::span<const Tensor* const> in,
             std::span<Tensor* const> out) const override {
    kernels::AttentionParams p = dims_;
    // Trimmed runs (batch 1): queries and keys past the active rows are padding; the mask gives
    // those keys zero weight, so dropping them changes no computed row.
    if (p.batch == 1) p.seq = static_cast<size_t>(ctx.rows_to_compute(static_cast<int64_t>(p.seq)));
    const size_t hidden = p.heads * p.head_size;
    const float* q = in[0]->data<float>();
    if (packed_) {
      p.q = q;
      p.k = q + hidden;
      p.v = q + 2 * hidden;
      p.ldq = p.ldk = p.ldv = 3 * hidden;
    } else {
      p.q = q;
      p.k = in[1]->data<float>();
      p.v = in[2]->data<float>();
      p.ldq = p.ldk = p.ldv = hidden;
    }
    p.mask = in.size() > 3 && in[3] ? in[3]->data<float>() : nullptr;
    p.out = out[0]->mutable_data<float>();
    p.ldo = hidden;
    const int threads = ctx.pool ? ctx.pool->num_threads() : 1;
    if (ctx.workspace == nullptr || ctx.workspace_size < workspace_bytes(threads)) {
      return internal_error("attention needs {} bytes of workspace, the session gave {}",
                            workspace_bytes(threads), ctx.workspace_size);
    }
    kernels::attention(p, static_cast<float*>(ctx.workspace), ctx.pool, isa_);
    return Status::Ok();
  }

  size_t workspace_bytes(int threads) const override {
    return kernels::attention_workspace_size(dims_.seq, dims_.head_size, isa_) * sizeof(float) *
           static_cast<size_t>(threads);
  }
  const char* implementation() const override { return "f32 attention (packed gemm + softmax)"; }

 private:
  kernels::AttentionParams dims_;  // dimensions, scale, mask strides; pointers set per run
  bool packed_;
  cpu::Isa isa_;
};

bool static_shape(const ir::Value* v) {
  if (!v || !v->has_shape) return false;
  for (int64_t d : v->shape) {
    if (d < 0) return false;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<Kernel>> make_attention_kernel(const ir::Node& node) {
  if (node.domain != "ratel" || node.op_type != "Attention") return std::unique_ptr<Kernel>();
  const ir::Value* q = node.inputs.empty() ? nullptr : node.inputs[0];
  if (!static_shape(q) || q->dtype != DType::kF32 || q->shape.size() != 3 || !node.has_output(0)) {
    return std::unique_ptr<Kernel>();
  }
  RATEL_ASSIGN_OR_RETURN(const int64_t heads, node.attrs.get_int("num_heads", 0));
  RATEL_ASSIGN_OR_RETURN(const int64_t packed, node.attrs.get_int("packed", 0));
  const int64_t batch = q->shape[0], seq = q->shape[1];
  const int64_t hidden = packed ? q->shape[2] / 3 : q->shape[2];
  if (heads <= 0 || hidden <= 0 || hidden % heads != 0 || batch <= 0 || seq <= 0 ||
      (packed && q->shape[2] % 3 != 0)) {
    return std::unique_ptr<Kernel>();  // the reference kernel reports the error
  }
  const Shape qkv{batch, seq, hidden};
  if (!packed) {
    for (size_t i = 1; i < 3; ++i) {
      const ir::Value* t = node.has_input(i) ? node.inputs[i] : nullptr;
      if (!static_shape(t) || t->dtype != DType::kF32 || t->shape != qkv) return std::unique_ptr<Kernel>();
    }
  }
  kernels::AttentionParams dims;
  dims.batch = static_cast<size_t>(batch);
  dims.seq = static_cast<size_t>(seq);
  dims.heads = static_cast<size_t>(heads);
  dims.head_size = static_cast<size_t>(hidden / heads);
  RATEL_ASSIGN_OR_RETURN(dims.scale, node.attrs.get_float(
                                         "scale", 1.0f / std::sqrt(static_cast<float>(dims.head_size))));
  if (node.has_input(3)) {
    const ir::Value* mask = node.inputs[3];
    const Shape full{batch, heads, seq, seq};
    if (!static_shape(mask) || mask->dtype != DType::kF32 || mask->shape.size() > 4) {
      return std::unique_ptr<Kernel>();
    }
    auto b = ops::broadcast_shapes(mask->shape, full);
    if (!b.ok() || *b != full) return std::unique_ptr<Kernel>();
    const std::vector<int64_t> strides = ops::broadcast_strides(mask->shape, full);
    for (size_t i = 0; i < 4; ++i) dims.mask_strides[i] = strides[i];
  }
  return std::unique_ptr<Kernel>(new AttentionKernel(dims, packed != 0, cpu::active_isa()));
}

}  // namespace ratel::runtime
