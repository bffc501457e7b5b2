// QKV merge: the three projections that feed an attention become one GEMM.
//
//   q = ratel.Dense(x, Wq, bq)   k = ratel.Dense(x, Wk, bk)   v = ratel.Dense(x, Wv, bv)
//   y = ratel.Attention(q, k, v, mask)
// ->
//   qkv = ratel.Dense(x, [Wq | Wk | Wv], [bq | bk | bv])          (N = 3H: one pass over x)
//   y   = ratel.Attention(qkv, -, -, mask; packed = 1)
//
// Only when the three Dense nodes read the same x, have no activation and no residual, all have
// (or all lack) a bias, and are read by nothing but this attention.
#include "passes/passes.h"
#include "passes/pattern.h"

namespace ratel::passes {

namespace {

bool plain_dense(const ir::Node* n, const ir::Value* x) {
  return n && n->domain == "ratel" && n->op_type == "Dense" && n->inputs[0] == x &&
         n->inputs[1]->is_constant() && !n->has_input(3) &&
         *n->attrs.get_string("activation", "none") == "none";
}

// Columns of the three [K, H] matrices (or [H] vectors) side by side.
Tensor concat_columns(const std::vector<const Tensor*>& parts) {
  const bool vector = parts[0]->rank() == 1;
  const int64_t rows = vector ? 1 : parts[0]->dim(0);
  const int64_t h = parts[0]->shape().back();
  std::vector<float> out(static_cast<size_t>(rows * 3 * h));
  for (int64_t r = 0; r < rows; ++r) {
    for (size_t p = 0; p < 3; ++p) {
      const float* src = parts[p]->data<float>() + r * h;
      std::copy(src, src + h, out.begin() + static_cast<ptrdiff_t>(r * 3 * h + static_cast<int64_t>(p) * h));
    }
  }
  return vector ? Tensor::from_vector<float>(out, {3 * h}) : Tensor::from_vector<float>(out, {rows, 3 * h});
}

class QkvMerge : public Pass {
 public:
  const char* name() const override { return "qkv-merge"; }
  const char* summary() const override {
    return "three Dense projections feeding one ratel.Attention -> one Dense of width 3H (packed QKV)";
  }

  Result<int> run(ir::Graph& graph) override {
    int merged = 0;
    bool changed = true;
    while (changed) {
      changed = false;
      UseCounts uses(graph);
      for (const auto& node : graph.nodes()) {
        ir::Node* att = node.get();
        if (att->domain != "ratel" || att->op_type != "Attention" || *att->attrs.get_int("packed", 0) != 0) continue;
        ir::Node* dq = att->inputs[0]->producer;
        if (!dq || dq->domain != "ratel" || dq->op_type != "Dense") continue;
        ir::Value* x = dq->inputs[0];
        ir::Node* dk = att->inputs[1]->producer;
        ir::Node* dv = att->inputs[2]->producer;
        if (!plain_dense(dq, x) || !plain_dense(dk, x) || !plain_dense(dv, x)) continue;
        if (dq == dk || dk == dv || dq == dv) continue;
        const bool biased = dq->has_input(2);
        if (dk->has_input(2) != biased || dv->has_input(2) != biased) continue;
        bool single = true;
        for (int i = 0; i < 3; ++i) single = single && uses.single_use(att->inputs[static_cast<size_t>(i)]);
        if (!single || dq->inputs[1]->shape != dk->inputs[1]->shape || dq->inputs[1]->shape != dv->inputs[1]->shape) {
          continue;
        }
        ir::Value* w = add_constant(graph, dq->inputs[1]->name + "_qkv",
                                    concat_columns({&dq->inputs[1]->constant, &dk->inputs[1]->constant,
                                                    &dv->inputs[1]->constant}));
        ir::Value* b = biased ? add_constant(graph, dq->inputs[2]->name + "_qkv",
                                             concat_columns({&dq->inputs[2]->constant, &dk->inputs[2]->constant,
                                                             &dv->inputs[2]->constant}))
                              : nullptr;
        ir::Value* qkv = graph.add_value(graph.unique_name(att->name + "_qkv"));
        ir::Node* dense = graph.add_node("Dense", graph.unique_name(dq->name + "_qkv"), {x, w, b, nullptr}, {qkv});
        dense->domain = "ratel";
        dense->attrs.set("activation", std::string("none"));
        att->inputs[0] = qkv;
        att->inputs[1] = nullptr;
        att->inputs[2] = nullptr;
        att->attrs.set("packed", int64_t{1});
        graph.remove_nodes({dq, dk, dv});
        ++merged;
        changed = true;
        break;
      }
    }
    return merged;
  }
};

}  // namespace

std::unique_ptr<Pass> make_qkv_merge() { return std::make_unique<QkvMerge>(); }

}  // namespace ratel::passes
