// The kernel entry points generated model.c calls: thin C wrappers over src/kernels (the same
// kernels, parameters and thread pool as the execution plan's adapters in runtime/kernels, so
// the two paths give bit-identical results), the runtime's own kernel objects for the fast
// kernels without a wrapper (ratel_fast_node: quantized dense layers), and the reference-kernel
// fallback.
#include <algorithm>

#include "deploy/runtime/context.h"
#include "kernels/attention.h"
#include "kernels/layernorm.h"
#include "kernels/softmax.h"
#include "kernels/vunary.h"
#include "ops/op.h"

using ratel::deploy::fail;
using ratel::deploy::ok;

namespace {

// Elements per parallel GELU chunk (as runtime/kernels/gelu_kernel.cpp: elementwise, so the
// chunking never changes the result).
constexpr int64_t kGeluChunk = 16384;

size_t attention_workspace_bytes(const ratel_ctx* c, const ratel_attention_desc* d) {
  return ratel::kernels::attention_workspace_size(d->seq, d->head_size, c->isa) * sizeof(float) *
         static_cast<size_t>(c->threads);
}

// A tensor over the caller's buffer with the dtype and shape the bundle records for `v`.
ratel::Tensor wrap(const ratel::ir::Value* v, const void* p, bool writable) {
  const size_t bytes = static_cast<size_t>(ratel::numel(v->shape)) * ratel::dtype_size(v->dtype);
  return ratel::Tensor::view(v->dtype, v->shape,
                             ratel::Storage::borrow(const_cast<void*>(p), bytes, nullptr, writable));
}

// Views of model.c's buffers for node `n` in `ins` / `outs` (sized to the node's lists); a view
// is rebuilt only when its pointer differs from the last call's.
ratel::Status bind_buffers(const ratel::ir::Node& n, const void* const* inputs, void* const* outputs,
                           std::vector<ratel::Tensor>* ins, std::vector<ratel::Tensor>* outs) {
  using namespace ratel;
  ins->resize(n.inputs.size());
  outs->resize(n.outputs.size());
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (!n.inputs[i]) continue;
    if (!inputs || !inputs[i]) return invalid_argument("{}: input {} is NULL", n.describe(), i);
    Tensor& t = (*ins)[i];
    if (!t.defined() || t.raw() != inputs[i]) t = wrap(n.inputs[i], inputs[i], false);
  }
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    if (!n.outputs[i]) continue;
    if (!outputs || !outputs[i]) return invalid_argument("{}: output {} is NULL", n.describe(), i);
    Tensor& t = (*outs)[i];
    if (!t.defined() || t.raw() != outputs[i]) t = wrap(n.outputs[i], outputs[i], true);
  }
  return Status::Ok();
}

ratel::Status check_node(const ratel_ctx* c, uint32_t node) {
  if (node >= c->nodes.size()) {
    return ratel::invalid_argument("node {} is out of range ({} nodes)", node, c->nodes.size());
  }
  return ratel::Status::Ok();
}

}  // namespace

extern "C" {

ratel_status ratel_prepare_dense(ratel_ctx* c, uint32_t weight) {
  using namespace ratel;
  if (c->prepared) return fail(invalid_argument("ratel_prepare_dense is for model.c's prepare() only"));
  if (weight >= c->values.size()) return fail(invalid_argument("dense weight: value {} is out of range", weight));
  const ir::Value* w = c->values[weight];
  if (!w->constant.defined() || w->dtype != DType::kF32 || w->shape.size() != 2) {
    return fail(invalid_argument("dense weight '{}' must be a constant f32 matrix", w->name));
  }
  if (c->packed[weight]) return ok();  // shared by several nodes
  const size_t k = static_cast<size_t>(w->shape[0]), n = static_cast<size_t>(w->shape[1]);
  auto packed = kernels::PackedGemmB::pack(w->constant.data<float>(), k, n, n, c->isa);
  if (!packed.ok()) return fail(packed.status().with_context(fmt::format("packing '{}'", w->name)));
  c->packed[weight] = std::move(packed).value();
  return ok();
}

ratel_status ratel_dense_f32(ratel_ctx* c, uint32_t weight, size_t m, const float* x, const float* bias,
                             const float* residual, ratel_activation act, float* y) {
  using namespace ratel;
  if (weight >= c->packed.size() || !c->packed[weight]) {
    return fail(invalid_argument("dense: weight {} was not prepared (ratel_prepare_dense)", weight));
  }
  const kernels::PackedBView& w = c->packed[weight]->view();
  kernels::GemmEpilogue epi;
  epi.bias = bias;
  epi.activation = act == RATEL_ACT_GELU ? kernels::Activation::kGelu : kernels::Activation::kNone;
  if (residual) {
    epi.residual = residual;
    epi.residual_stride = w.n;
  }
  kernels::gemm_packed(m, x, w.k, w, y, w.n, epi, c->pool.get());
  return ok();
}

ratel_status ratel_prepare_attention(ratel_ctx* c, const ratel_attention_desc* d) {
  if (c->prepared) return fail(ratel::invalid_argument("ratel_prepare_attention is for model.c's prepare() only"));
  c->workspace_needed = std::max(c->workspace_needed, attention_workspace_bytes(c, d));
  return ok();
}

ratel_status ratel_attention_f32(ratel_ctx* c, const ratel_attention_desc* d, const float* q, const float* k,
                                 const float* v, const float* mask, float* out) {
  using namespace ratel;
  const size_t need = attention_workspace_bytes(c, d);
  if (!c->workspace || c->workspace->size() < need) {
    return fail(
        invalid_argument("attention needs {} bytes of workspace: call ratel_prepare_attention in prepare()", need));
  }
  kernels::AttentionParams p;
  p.batch = d->batch;
  p.seq = d->seq;
  p.heads = d->heads;
  p.head_size = d->head_size;
  p.q = q;
  p.k = k;
  p.v = v;
  p.ldq = p.ldk = p.ldv = d->ld_qkv;
  p.out = out;
  p.ldo = d->heads * d->head_size;
  p.mask = mask;
  for (int i = 0; i < 4; ++i) p.mask_strides[i] = d->mask_strides[i];
  p.scale = d->scale;
  kernels::attention(p, reinterpret_cast<float*>(c->workspace->data()), c->pool.get(), c->isa);
  return ok();
}

ratel_status ratel_layernorm_f32(ratel_ctx* c, size_t rows, size_t row, const float* x, const float* skip,
                                 const float* gamma, const float* beta, float epsilon, float* y) {
  ratel::kernels::layernorm_rows(rows, row, x, skip, gamma, beta, epsilon, y, c->pool.get(), c->isa);
  return ok();
}

ratel_status ratel_gelu_f32(ratel_ctx* c, size_t n, const float* x, float* y) {
  const ratel::kernels::UnaryKernelFn fn = ratel::kernels::vgelu_kernel(c->isa);
  const int64_t total = static_cast<int64_t>(n);
  ratel::cpu::parallel_for(c->pool.get(), (total + kGeluChunk - 1) / kGeluChunk, [&](int64_t begin, int64_t end, int) {
    const int64_t stop = std::min(total, end * kGeluChunk);
    fn(static_cast<size_t>(stop - begin * kGeluChunk), x + begin * kGeluChunk, y + begin * kGeluChunk);
  });
  return ok();
}

ratel_status ratel_softmax_f32(ratel_ctx* c, size_t rows, size_t row, const float* x, float* y) {
  ratel::kernels::softmax_rows(rows, row, x, row, y, row, c->pool.get(), c->isa);
  return ok();
}

ratel_status ratel_node(ratel_ctx* c, uint32_t node, const void* const* inputs, void* const* outputs) {
  using namespace ratel;
  if (Status s = check_node(c, node); !s.ok()) return fail(s);
  const ir::Node& n = *c->nodes[node];
  const ops::OpSpec* spec = ops::OpRegistry::instance().find(n.domain, n.op_type);
  if (!spec) return fail(unsupported("{} has no reference kernel", n.describe()));
  std::vector<Tensor> ins, outs;
  if (Status s = bind_buffers(n, inputs, outputs, &ins, &outs); !s.ok()) return fail(s);
  ops::KernelContext kctx{n, {}, {}};
  for (size_t i = 0; i < n.inputs.size(); ++i) kctx.inputs.push_back(n.inputs[i] ? &ins[i] : nullptr);
  for (size_t i = 0; i < n.outputs.size(); ++i) kctx.outputs.push_back(n.outputs[i] ? &outs[i] : nullptr);
  const Status s = spec->compute(kctx);
  return s.ok() ? ok() : fail(s.with_context(n.describe()));
}

ratel_status ratel_prepare_fast_node(ratel_ctx* c, uint32_t node) {
  using namespace ratel;
  if (c->prepared) return fail(invalid_argument("ratel_prepare_fast_node is for model.c's prepare() only"));
  if (Status s = check_node(c, node); !s.ok()) return fail(s);
  if (c->fast_nodes[node]) return ok();
  const ir::Node& n = *c->nodes[node];
  auto f = std::make_unique<deploy::FastNode>();
  // The execution plan's own factory: the same kernel, packed the same way, as `ratel run`.
  auto kernel = runtime::make_fast_kernel(n);
  if (!kernel.ok()) return fail(kernel.status().with_context(n.describe()));
  f->kernel = std::move(kernel).value();
  if (f->kernel) {
    f->ins.resize(n.inputs.size());
    f->outs.resize(n.outputs.size());
    for (size_t i = 0; i < n.inputs.size(); ++i) f->in_ptrs.push_back(n.inputs[i] ? &f->ins[i] : nullptr);
    for (size_t i = 0; i < n.outputs.size(); ++i) f->out_ptrs.push_back(n.outputs[i] ? &f->outs[i] : nullptr);
    c->workspace_needed = std::max(c->workspace_needed, f->kernel->workspace_bytes(c->threads));
  }
  c->fast_nodes[node] = std::move(f);
  return ok();
}

ratel_status ratel_fast_node(ratel_ctx* c, uint32_t node, const void* const* inputs, void* const* outputs) {
  using namespace ratel;
  if (Status s = check_node(c, node); !s.ok()) return fail(s);
  deploy::FastNode* f = c->fast_nodes[node].get();
  if (!f) {
    return fail(invalid_argument("{}: not prepared (ratel_prepare_fast_node in prepare())", c->nodes[node]->describe()));
  }
  if (!f->kernel) return ratel_node(c, node, inputs, outputs);  // no fast kernel for it here
  const ir::Node& n = *c->nodes[node];
  if (Status s = bind_buffers(n, inputs, outputs, &f->ins, &f->outs); !s.ok()) return fail(s);
  const runtime::ExecContext ctx{c->pool.get(), c->workspace ? c->workspace->data() : nullptr,
                                 c->workspace ? c->workspace->size() : 0, 0, 0};
  const Status s = f->kernel->run(ctx, f->in_ptrs, f->out_ptrs);
  return s.ok() ? ok() : fail(s.with_context(n.describe()));
}

}  // extern "C"
