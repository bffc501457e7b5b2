// Dense fusion: MatMul with a constant weight plus its bias, activation and residual epilogue
// becomes one ratel.Dense, which the packed GEMM computes in a single pass over the output.
//
//   y = MatMul(x, W)            W: constant [K, N]
//     | Gemm(x, W, b)           (tf2onnx's dense layers) alpha = beta = 1, transA = 0; transB = 1
//                               uses Wᵀ, folded into a new constant
//   y = Add(y, b)               b: constant [N] (either operand order)       optional
//   y = ratel.Gelu(y)           (after gelu-fusion)                          optional
//   y = Add(y, r)               r: a run-time tensor of y's shape (residual)  optional
//
// Each step is taken only if the previous result has that single consumer.
#include "passes/passes.h"
#include "passes/pattern.h"

namespace ratel::passes {

namespace {

// A Gemm that is a dense layer: returns its weight as [K, N] (transposed into a new constant when
// transB = 1) and sets *bias to C (or nullptr); nullptr if the Gemm is anything else.
ir::Value* gemm_weight(ir::Graph& graph, const ir::Node& gemm, ir::Value** bias) {
  ir::Value* w = gemm.inputs[1];
  if (!w->is_constant() || w->dtype != DType::kF32 || w->shape.size() != 2) return nullptr;
  auto alpha = gemm.attrs.get_float("alpha", 1.0f);
  auto beta = gemm.attrs.get_float("beta", 1.0f);
  auto trans_a = gemm.attrs.get_int("transA", 0);
  auto trans_b = gemm.attrs.get_int("transB", 0);
  if (!alpha.ok() || !beta.ok() || !trans_a.ok() || !trans_b.ok() || *alpha != 1.0f || *trans_a != 0) {
    return nullptr;
  }
  *bias = gemm.has_input(2) ? gemm.inputs[2] : nullptr;
  if (*bias && *beta != 1.0f) return nullptr;
  if (*trans_b == 0) return w;
  const int64_t n = w->shape[0], k = w->shape[1];
  std::vector<float> t(static_cast<size_t>(k * n));
  const float* src = w->constant.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < k; ++j) t[static_cast<size_t>(j * n + i)] = src[i * k + j];
  }
  return add_constant(graph, w->name + "_t", Tensor::from_vector<float>(t, {k, n}));
}

bool is_bias(const ir::Value* v, int64_t n) {
  if (!v || !v->is_constant() || v->dtype != DType::kF32 || v->shape.empty() || v->shape.back() != n) {
    return false;
  }
  return numel(v->shape) == n;
}

class DenseFusion : public Pass {
 public:
  const char* name() const override { return "dense-fusion"; }
  const char* summary() const override {
    return "MatMul(x, constant W) [+ bias] [GELU] [+ residual] -> ratel.Dense (GEMM with epilogue)";
  }

  Result<int> run(ir::Graph& graph) override {
    int fused = 0;
    bool changed = true;
    while (changed) {
      changed = false;
      UseCounts uses(graph);
      for (const auto& node : graph.nodes()) {
        ir::Node* mm = node.get();
        if (!mm->domain.empty() || (mm->op_type != "MatMul" && mm->op_type != "Gemm")) continue;
        ir::Value* x = mm->inputs[0];
        if (x->dtype != DType::kF32 || x->shape.empty()) continue;
        ir::Value* bias = nullptr;
        ir::Value* w = mm->inputs[1];
        if (mm->op_type == "Gemm") {
          w = gemm_weight(graph, *mm, &bias);
          if (!w || (bias && !is_bias(bias, w->shape[1]))) continue;
        } else if (!w->is_constant() || w->shape.size() != 2) {
          continue;
        }
        const int64_t n = w->shape[1];
        std::vector<ir::Node*> nodes{mm};
        ir::Value* y = mm->outputs[0];
        ir::Value* residual = nullptr;
        std::string activation = "none";
        if (ir::Node* add = single_consumer_if(uses, y, "Add"); !bias && add && is_bias(other_input(add, y), n)) {
          bias = other_input(add, y);
          nodes.push_back(add);
          y = add->outputs[0];
        }
        if (uses.single_use(y)) {
          ir::Node* g = uses.consumers(y).front();
          if (g->domain == "ratel" && g->op_type == "Gelu") {
            activation = *g->attrs.get_string("approximate", "none") == "tanh" ? "gelu_tanh" : "gelu";
            nodes.push_back(g);
            y = g->outputs[0];
          }
        }
        if (ir::Node* add = single_consumer_if(uses, y, "Add")) {
          ir::Value* r = other_input(add, y);
          if (r && r != y && !r->is_constant() && r->shape == y->shape && r->dtype == DType::kF32) {
            residual = r;
            nodes.push_back(add);
            y = add->outputs[0];
          }
        }
        if (y->shape != mm->outputs[0]->shape || !only_used_within(uses, nodes, y)) continue;
        if (bias && bias->shape.size() != 1) {
          bias = add_constant(graph, bias->name + "_flat", bias->constant.reshaped({n}));
        }
        ir::Node* dense = replace_with_node(graph, nodes, "ratel", "Dense", {x, w, bias, residual}, y);
        dense->attrs.set("activation", activation);
        ++fused;
        changed = true;
        break;
      }
    }
    return fused;
  }
};

}  // namespace

std::unique_ptr<Pass> make_dense_fusion() { return std::make_unique<DenseFusion>(); }

}  // namespace ratel::passes
