// GELU fusion: the element-wise formulas exporters emit become one ratel.Gelu.
//
// erf form (PyTorch nn.GELU / HF BERT):   0.5 · x · (1 + erf(x / √2))
//   Erf(Div(x, 1.4142) | Mul(x, 0.7071)) -> Add(·, 1) -> a
// tanh form (Google BERT, tf2onnx):       0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
//   Tanh(Mul(Add(x, Mul(Pow(x, 3), 0.044715)), 0.7979)) -> Add(·, 1) -> a
// then one of the three ways to multiply by x and 0.5:
//   Mul(Mul(x, a), 0.5)    Mul(Mul(x, 0.5), a)    Mul(x, Mul(a, 0.5))
// Constants must match to 1e-4 relative; multiplications and additions may have either operand order.
#include <cmath>

#include "passes/passes.h"
#include "passes/pattern.h"

namespace ratel::passes {

namespace {

bool near(const ir::Value* v, double want) {
  auto c = constant_scalar(v);
  return c && std::fabs(*c - want) <= 1e-4 * std::fabs(want);
}

bool is_op(const ir::Node* n, const char* op) { return n && n->domain.empty() && n->op_type == op; }

// If `v` = Mul(x, c) (either order) with c ≈ want, returns x.
ir::Value* mul_by(const ir::Value* v, double want) {
  ir::Node* mul = producer_if(v, "Mul");
  if (!mul) return nullptr;
  if (near(mul->inputs[1], want)) return mul->inputs[0];
  if (near(mul->inputs[0], want)) return mul->inputs[1];
  return nullptr;
}

// erf form: Erf's input is x/√2; returns x and appends the nodes.
ir::Value* erf_argument(ir::Node* erf, std::vector<ir::Node*>* nodes) {
  ir::Value* in = erf->inputs[0];
  if (ir::Node* div = producer_if(in, "Div"); div && near(div->inputs[1], std::sqrt(2.0))) {
    nodes->push_back(div);
    return div->inputs[0];
  }
  if (ir::Value* x = mul_by(in, 1.0 / std::sqrt(2.0))) {
    nodes->push_back(in->producer);
    return x;
  }
  return nullptr;
}

// tanh form: Tanh's input is √(2/π)·(x + 0.044715·x³); returns x and appends the nodes.
ir::Value* tanh_argument(ir::Node* tanh, std::vector<ir::Node*>* nodes) {
  ir::Value* inner = mul_by(tanh->inputs[0], std::sqrt(2.0 / M_PI));
  if (!inner) return nullptr;
  ir::Node* add = producer_if(inner, "Add");
  if (!add) return nullptr;
  for (int side = 0; side < 2; ++side) {
    ir::Value* x = add->inputs[static_cast<size_t>(side)];
    ir::Value* cubic = add->inputs[static_cast<size_t>(1 - side)];
    ir::Value* cube = mul_by(cubic, 0.044715);
    if (!cube) continue;
    ir::Node* pow = producer_if(cube, "Pow");
    const bool pow_form = pow && pow->inputs[0] == x && near(pow->inputs[1], 3.0);
    // x*x*x: Mul(Mul(x, x), x) in either order
    ir::Node* m3 = producer_if(cube, "Mul");
    ir::Node* m2 = nullptr;
    if (m3 && !pow_form) {
      ir::Value* sq = m3->inputs[0] == x ? m3->inputs[1] : m3->inputs[1] == x ? m3->inputs[0] : nullptr;
      m2 = producer_if(sq, "Mul");
      if (!m2 || m2->inputs[0] != x || m2->inputs[1] != x) m2 = nullptr;
    }
    if (!pow_form && !m2) continue;
    nodes->insert(nodes->end(), {tanh->inputs[0]->producer, add, cubic->producer});
    if (pow_form) {
      nodes->push_back(pow);
    } else {
      nodes->insert(nodes->end(), {m3, m2});
    }
    return x;
  }
  return nullptr;
}

// a = 1 + f(x); finds the final value x·a·0.5 and appends the nodes. nullptr if no match.
ir::Value* gelu_output(const UseCounts& uses, ir::Value* x, ir::Value* a, std::vector<ir::Node*>* nodes) {
  if (!uses.single_use(a)) return nullptr;
  ir::Node* m1 = uses.consumers(a).front();
  if (!is_op(m1, "Mul")) return nullptr;
  ir::Value* other = other_input(m1, a);
  if (other == x) {  // Mul(Mul(x, a), 0.5)
    ir::Node* half = single_consumer_if(uses, m1->outputs[0], "Mul");
    if (!half || !near(other_input(half, m1->outputs[0]), 0.5)) return nullptr;
    nodes->insert(nodes->end(), {m1, half});
    return half->outputs[0];
  }
  if (mul_by(other, 0.5) == x && uses.single_use(other)) {  // Mul(Mul(x, 0.5), a)
    nodes->insert(nodes->end(), {m1, other->producer});
    return m1->outputs[0];
  }
  if (near(other, 0.5)) {  // Mul(x, Mul(a, 0.5))
    ir::Node* mx = single_consumer_if(uses, m1->outputs[0], "Mul");
    if (!mx || other_input(mx, m1->outputs[0]) != x) return nullptr;
    nodes->insert(nodes->end(), {m1, mx});
    return mx->outputs[0];
  }
  return nullptr;
}

class GeluFusion : public Pass {
 public:
  const char* name() const override { return "gelu-fusion"; }
  const char* summary() const override {
    return "0.5·x·(1+erf(x/√2)) and the tanh approximation -> ratel.Gelu";
  }

  Result<int> run(ir::Graph& graph) override {
    int fused = 0;
    bool changed = true;
    while (changed) {
      changed = false;
      UseCounts uses(graph);
      for (const auto& node : graph.nodes()) {
        ir::Node* f = node.get();
        const bool erf = is_op(f, "Erf");
        if (!erf && !is_op(f, "Tanh")) continue;
        if (f->inputs[0]->dtype != DType::kF32) continue;
        std::vector<ir::Node*> nodes{f};
        ir::Value* x = erf ? erf_argument(f, &nodes) : tanh_argument(f, &nodes);
        if (!x) continue;
        ir::Node* plus_one = single_consumer_if(uses, f->outputs[0], "Add");
        if (!plus_one || !near(other_input(plus_one, f->outputs[0]), 1.0)) continue;
        nodes.push_back(plus_one);
        ir::Value* result = gelu_output(uses, x, plus_one->outputs[0], &nodes);
        if (!result || result->shape != x->shape || !only_used_within(uses, nodes, result)) continue;
        ir::Node* gelu = replace_with_node(graph, nodes, "ratel", "Gelu", {x}, result);
        gelu->attrs.set("approximate", std::string(erf ? "none" : "tanh"));
        ++fused;
        changed = true;
        break;
      }
    }
    return fused;
  }
};

}  // namespace

std::unique_ptr<Pass> make_gelu_fusion() { return std::make_unique<GeluFusion>(); }

}  // namespace ratel::passes
