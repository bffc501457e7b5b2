// Layer-norm fusion: the decomposed layer norm exporters emit becomes one LayerNormalization
// (ONNX opset 17 semantics, axis = last).
//
// PyTorch form (torch.onnx.export of nn.LayerNorm before opset 17):
//   mean = ReduceMean(x, axes=[-1])      d   = Sub(x, mean)
//   var  = ReduceMean(Pow(d, 2) | Mul(d, d))
//   y    = Div(d, Sqrt(Add(var, eps)))  [* gamma] [+ beta]
//
// TensorFlow form (tf2onnx of tf.nn.moments + tf.nn.batch_normalization):
//   mean = ReduceMean(x)                 var = ReduceMean(Mul(d, d)) with d = Sub(x, mean)
//   rstd = Reciprocal(Sqrt(Add(var, eps)))  (Rsqrt)     s = Mul(rstd, gamma)
//   y    = Add(Mul(x, s), Sub(beta, Mul(mean, s)))
//
// The means may also be GlobalAveragePool of a rank-3 tensor (tf2onnx's spelling of a mean over
// the last axis). gamma and beta must be constants of shape [H] (H = last dim); eps a constant
// scalar.
#include <cmath>

#include "passes/passes.h"
#include "passes/pattern.h"

namespace ratel::passes {

namespace {

struct Match {
  std::vector<ir::Node*> nodes;
  ir::Value* x = nullptr;
  ir::Value* gamma = nullptr;  // nullptr: 1
  ir::Value* beta = nullptr;   // nullptr: 0
  double eps = 0;
  ir::Value* result = nullptr;
};

// A mean over the last axis of its input, keeping dims: ReduceMean(axes=[-1]) or, for rank 3,
// GlobalAveragePool.
bool is_last_axis_mean(const ir::Node* n) {
  if (!n || !n->domain.empty() || !n->has_input(0)) return false;
  const int rank = static_cast<int>(n->inputs[0]->shape.size());
  if (n->op_type == "ReduceMean") return rank > 0 && single_reduce_axis_keepdims(*n) == rank - 1;
  return n->op_type == "GlobalAveragePool" && rank == 3;
}

bool is_last_dim_vector(const ir::Value* v, int64_t h) {
  if (!v || !v->is_constant() || v->dtype != DType::kF32) return false;
  // [H], or [1, ..., 1, H]
  if (v->shape.empty() || v->shape.back() != h) return false;
  for (size_t i = 0; i + 1 < v->shape.size(); ++i) {
    if (v->shape[i] != 1) return false;
  }
  return true;
}

// var = ReduceMean(d*d over the last axis); returns the ReduceMean node.
ir::Node* variance_of(const UseCounts& uses, ir::Value* d, ir::Node** square) {
  for (ir::Node* c : uses.consumers(d)) {
    const bool pow2 = c->op_type == "Pow" && c->inputs[0] == d && constant_equals(c->inputs[1], 2.0);
    const bool mul = c->op_type == "Mul" && c->inputs[0] == d && c->inputs[1] == d;
    if (!(pow2 || mul) || !c->domain.empty()) continue;
    if (!uses.single_use(c->outputs[0])) continue;
    ir::Node* rm = uses.consumers(c->outputs[0]).front();
    if (!is_last_axis_mean(rm)) continue;
    *square = c;
    return rm;
  }
  return nullptr;
}

// sqrt(var + eps): returns the Sqrt node and eps.
ir::Node* std_of(const UseCounts& uses, ir::Node* var_node, double* eps, ir::Node** add_eps) {
  ir::Node* add = single_consumer_if(uses, var_node->outputs[0], "Add");
  if (!add) return nullptr;
  auto e = constant_scalar(other_input(add, var_node->outputs[0]));
  if (!e) return nullptr;
  ir::Node* sq = single_consumer_if(uses, add->outputs[0], "Sqrt");
  if (!sq) return nullptr;
  *eps = *e;
  *add_eps = add;
  return sq;
}

// Optional "* gamma + beta" after the normalized value `n`.
void match_affine(const UseCounts& uses, Match* m, ir::Value* normalized, int64_t h) {
  m->result = normalized;
  ir::Node* mul = single_consumer_if(uses, normalized, "Mul");
  if (!mul || !is_last_dim_vector(other_input(mul, normalized), h)) return;
  m->gamma = other_input(mul, normalized);
  m->nodes.push_back(mul);
  m->result = mul->outputs[0];
  ir::Node* add = single_consumer_if(uses, m->result, "Add");
  if (!add || !is_last_dim_vector(other_input(add, m->result), h)) return;
  m->beta = other_input(add, m->result);
  m->nodes.push_back(add);
  m->result = add->outputs[0];
}

// PyTorch form, anchored at the first ReduceMean.
bool match_pytorch(const UseCounts& uses, ir::Node* mean, Match* m) {
  ir::Value* x = mean->inputs[0];
  const int64_t h = x->shape.back();
  ir::Node* sub = single_consumer_if(uses, mean->outputs[0], "Sub");
  if (!sub || sub->inputs[0] != x || sub->inputs[1] != mean->outputs[0]) return false;
  ir::Value* d = sub->outputs[0];
  ir::Node* square = nullptr;
  ir::Node* var = variance_of(uses, d, &square);
  if (!var) return false;
  double eps = 0;
  ir::Node* add_eps = nullptr;
  ir::Node* sq = std_of(uses, var, &eps, &add_eps);
  if (!sq) return false;
  ir::Node* div = single_consumer_if(uses, sq->outputs[0], "Div");
  if (!div || div->inputs[0] != d || div->inputs[1] != sq->outputs[0]) return false;
  // d is read by exactly the square and the Div
  if (uses.uses(d) != (square->op_type == "Mul" ? 3 : 2)) return false;
  m->x = x;
  m->eps = eps;
  m->nodes = {mean, sub, square, var, add_eps, sq, div};
  match_affine(uses, m, div->outputs[0], h);
  return true;
}

// TensorFlow form, anchored at the first ReduceMean.
bool match_tensorflow(const UseCounts& uses, ir::Node* mean, Match* m) {
  ir::Value* x = mean->inputs[0];
  const int64_t h = x->shape.back();
  ir::Value* mu = mean->outputs[0];
  // mu feeds Sub(x, mu) for the variance and Mul(mu, s) for the shift
  ir::Node* sub = nullptr;
  ir::Node* mul_mean = nullptr;
  for (ir::Node* c : uses.consumers(mu)) {
    if (c->op_type == "Sub" && c->inputs[0] == x && c->inputs[1] == mu) sub = c;
    if (c->op_type == "Mul" && other_input(c, mu)) mul_mean = c;
  }
  if (!sub || !mul_mean || uses.uses(mu) != 2) return false;
  ir::Node* square = nullptr;
  ir::Node* var = variance_of(uses, sub->outputs[0], &square);
  if (!var || uses.uses(sub->outputs[0]) != (square->op_type == "Mul" ? 2 : 1)) return false;
  double eps = 0;
  ir::Node* add_eps = nullptr;
  ir::Node* sq = std_of(uses, var, &eps, &add_eps);
  if (!sq) return false;
  ir::Node* recip = single_consumer_if(uses, sq->outputs[0], "Reciprocal");
  if (!recip) return false;
  // scale = rstd [* gamma]
  ir::Value* scale = recip->outputs[0];
  std::vector<ir::Node*> nodes = {mean, sub, square, var, add_eps, sq, recip};
  ir::Value* gamma = nullptr;
  if (ir::Node* g = single_consumer_if(uses, scale, "Mul");
      g && g != mul_mean && is_last_dim_vector(other_input(g, scale), h)) {
    gamma = other_input(g, scale);
    nodes.push_back(g);
    scale = g->outputs[0];
  }
  // scale is read by Mul(x, scale) and Mul(mu, scale)
  ir::Node* mul_x = nullptr;
  for (ir::Node* c : uses.consumers(scale)) {
    if (c->op_type == "Mul" && other_input(c, scale) == x) mul_x = c;
  }
  if (!mul_x || other_input(mul_mean, mu) != scale || uses.uses(scale) != 2) return false;
  ir::Node* shift = single_consumer_if(uses, mul_mean->outputs[0], "Sub");
  if (!shift || shift->inputs[1] != mul_mean->outputs[0] || !is_last_dim_vector(shift->inputs[0], h)) {
    return false;
  }
  ir::Node* add = single_consumer_if(uses, mul_x->outputs[0], "Add");
  if (!add || other_input(add, mul_x->outputs[0]) != shift->outputs[0]) return false;
  nodes.insert(nodes.end(), {mul_x, mul_mean, shift, add});
  m->x = x;
  m->eps = eps;
  m->gamma = gamma;
  m->beta = shift->inputs[0];
  m->nodes = nodes;
  m->result = add->outputs[0];
  return true;
}

Tensor filled(int64_t h, float value) {
  return Tensor::from_vector<float>(std::vector<float>(static_cast<size_t>(h), value), {h});
}

class LayerNormFusion : public Pass {
 public:
  const char* name() const override { return "layer-norm-fusion"; }
  const char* summary() const override {
    return "ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add (PyTorch) and moments/Rsqrt (TensorFlow) -> LayerNormalization";
  }

  Result<int> run(ir::Graph& graph) override {
    int fused = 0;
    bool changed = true;
    while (changed) {  // one fusion at a time: each rewrite invalidates the use counts
      changed = false;
      UseCounts uses(graph);
      for (const auto& node : graph.nodes()) {
        ir::Node* mean = node.get();
        if (!is_last_axis_mean(mean)) continue;
        const ir::Value* x = mean->inputs[0];
        if (x->dtype != DType::kF32) continue;
        Match m;
        if (!match_pytorch(uses, mean, &m) && !match_tensorflow(uses, mean, &m)) continue;
        if (!only_used_within(uses, m.nodes, m.result)) continue;
        const int64_t h = x->shape.back();
        auto vector_of = [&](ir::Value* v, float dflt, const char* what) {
          if (!v) return add_constant(graph, std::string("ln_") + what, filled(h, dflt));
          if (v->shape.size() == 1) return v;
          return add_constant(graph, v->name + "_flat", v->constant.reshaped({h}));
        };
        ir::Value* gamma = vector_of(m.gamma, 1.0f, "gamma");
        ir::Value* beta = vector_of(m.beta, 0.0f, "beta");
        ir::Node* ln = replace_with_node(graph, m.nodes, "", "LayerNormalization",
                                         {m.x, gamma, beta}, m.result);
        ln->opset = std::max(ln->opset, 17);  // LayerNormalization exists from opset 17
        ln->attrs.set("axis", int64_t{-1});
        ln->attrs.set("epsilon", static_cast<float>(m.eps));
        ++fused;
        changed = true;
        break;
      }
    }
    return fused;
  }
};

}  // namespace

std::unique_ptr<Pass> make_layer_norm_fusion() { return std::make_unique<LayerNormFusion>(); }

}  // namespace ratel::passes
