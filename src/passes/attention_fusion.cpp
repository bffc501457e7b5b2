// Attention fusion: multi-head scaled dot-product attention with its head split/merge reshapes
// becomes one ratel.Attention.
//
//   Q  = Transpose(Reshape(q, [B, S, nh, hd]), [0, 2, 1, 3])
//   Kt = Transpose(Reshape(k, [B, S, nh, hd]), [0, 2, 3, 1])                      (PyTorch)
//      | Transpose(Transpose(Reshape(k, ...), [0, 2, 1, 3]), [0, 1, 3, 2])        (TensorFlow)
//   V  = Transpose(Reshape(v, [B, S, nh, hd]), [0, 2, 1, 3])
//   P  = Softmax(Add(Div(MatMul(Q, Kt), c) | Mul(MatMul(Q, Kt), c) | MatMul(Q, Kt), mask?), -1)
//   out = Reshape(Transpose(MatMul(P, V), [0, 2, 1, 3]), [B, S, H] | [B·S, H])
//
// q, k, v are [B, S, H] or [B·S, H] (TensorFlow BERT works on 2-D matrices); 2-D ones are reshaped
// to [B, S, H] in front of the fused op. The mask is any additive f32 tensor broadcastable to
// [B, nh, S, S]; scale = 1/c for Div, c for Mul.
#include "passes/passes.h"
#include "passes/pattern.h"

namespace ratel::passes {

namespace {

bool perm_is(const ir::Node* t, std::vector<int64_t> perm) {
  if (!t || t->op_type != "Transpose") return false;
  auto p = t->attrs.get_ints("perm");
  return p.ok() && *p == perm;
}

// x = Transpose(Reshape(v, [B, S, nh, hd]), perm): returns the Reshape and fills the dims.
ir::Node* head_split(const UseCounts& uses, ir::Value* x, std::vector<int64_t> perm, Shape* bsnh,
                     std::vector<ir::Node*>* nodes) {
  ir::Node* t = producer_if(x, "Transpose");
  if (!perm_is(t, perm) || !uses.single_use(x)) return nullptr;
  ir::Node* r = producer_if(t->inputs[0], "Reshape");
  if (!r || !uses.single_use(t->inputs[0]) || r->outputs[0]->shape.size() != 4) return nullptr;
  const Shape& s = r->outputs[0]->shape;
  if (!bsnh->empty() && *bsnh != s) return nullptr;
  *bsnh = s;
  nodes->insert(nodes->end(), {t, r});
  return r;
}

struct Match {
  std::vector<ir::Node*> nodes;
  ir::Value *q = nullptr, *k = nullptr, *v = nullptr, *mask = nullptr;
  float scale = 1.0f;
  Shape bsnh;  // [B, S, nh, hd]
  ir::Value* out = nullptr;
};

bool match(const UseCounts& uses, ir::Node* softmax, Match* m) {
  ir::Value* logits = softmax->inputs[0];
  if (logits->dtype != DType::kF32 || logits->shape.size() != 4) return false;
  auto axis = softmax->attrs.get_int("axis", softmax->opset >= 13 ? -1 : 1);
  if (!axis.ok() || (*axis != -1 && *axis != 3)) return false;
  m->nodes.push_back(softmax);
  // optional additive mask
  ir::Value* scores = logits;
  if (ir::Node* add = producer_if(logits, "Add"); add && uses.single_use(logits)) {
    for (int side = 0; side < 2; ++side) {
      ir::Value* s = add->inputs[static_cast<size_t>(side)];
      ir::Value* mask = add->inputs[static_cast<size_t>(1 - side)];
      if (s->shape == logits->shape && mask->dtype == DType::kF32 && mask->shape.size() <= 4 &&
          (producer_if(s, "MatMul") || producer_if(s, "Div") || producer_if(s, "Mul"))) {
        m->mask = mask;
        scores = s;
        m->nodes.push_back(add);
        break;
      }
    }
    if (!m->mask) return false;
  }
  // optional scale
  if (ir::Node* d = producer_if(scores, "Div"); d && uses.single_use(scores)) {
    auto c = constant_scalar(d->inputs[1]);
    if (!c || *c == 0) return false;
    m->scale = static_cast<float>(1.0 / *c);
    m->nodes.push_back(d);
    scores = d->inputs[0];
  } else if (ir::Node* mul = producer_if(scores, "Mul"); mul && uses.single_use(scores)) {
    ir::Value* other = constant_scalar(mul->inputs[1]) ? mul->inputs[0] : mul->inputs[1];
    auto c = constant_scalar(other_input(mul, other));
    if (!c) return false;
    m->scale = static_cast<float>(*c);
    m->nodes.push_back(mul);
    scores = other;
  }
  ir::Node* qk = producer_if(scores, "MatMul");
  if (!qk || !uses.single_use(scores)) return false;
  m->nodes.push_back(qk);
  ir::Node* rq = head_split(uses, qk->inputs[0], {0, 2, 1, 3}, &m->bsnh, &m->nodes);
  if (!rq) return false;
  ir::Node* rk = head_split(uses, qk->inputs[1], {0, 2, 3, 1}, &m->bsnh, &m->nodes);
  if (!rk) {  // TensorFlow: Transpose(Transpose(Reshape(k), [0,2,1,3]), [0,1,3,2])
    ir::Node* kt = producer_if(qk->inputs[1], "Transpose");
    if (!perm_is(kt, {0, 1, 3, 2}) || !uses.single_use(qk->inputs[1])) return false;
    m->nodes.push_back(kt);
    rk = head_split(uses, kt->inputs[0], {0, 2, 1, 3}, &m->bsnh, &m->nodes);
    if (!rk) return false;
  }
  // P · V
  ir::Node* pv = single_consumer_if(uses, softmax->outputs[0], "MatMul");
  if (!pv || pv->inputs[0] != softmax->outputs[0]) return false;
  m->nodes.push_back(pv);
  ir::Node* rv = head_split(uses, pv->inputs[1], {0, 2, 1, 3}, &m->bsnh, &m->nodes);
  if (!rv) return false;
  // merge heads back
  ir::Node* t = single_consumer_if(uses, pv->outputs[0], "Transpose");
  if (!perm_is(t, {0, 2, 1, 3})) return false;
  ir::Node* r = single_consumer_if(uses, t->outputs[0], "Reshape");
  if (!r) return false;
  m->nodes.insert(m->nodes.end(), {t, r});
  m->q = rq->inputs[0];
  m->k = rk->inputs[0];
  m->v = rv->inputs[0];
  m->out = r->outputs[0];
  const int64_t hidden = m->bsnh[2] * m->bsnh[3];
  for (const ir::Value* x : {m->q, m->k, m->v, m->out}) {
    if (x->dtype != DType::kF32 || x->shape.empty() || x->shape.back() != hidden ||
        numel(x->shape) != m->bsnh[0] * m->bsnh[1] * hidden) {
      return false;
    }
  }
  return true;
}

// `x` as [B, S, H]: itself, or a new Reshape of it.
ir::Value* as_bsh(ir::Graph& graph, ir::Value* x, const Shape& bsh) {
  if (x->shape == bsh) return x;
  ir::Value* shape = add_constant(graph, x->name + "_bsh_shape", Tensor::from_vector<int64_t>(bsh, {3}));
  ir::Value* y = graph.add_value(graph.unique_name(x->name + "_bsh"));
  graph.add_node("Reshape", graph.unique_name("attention_reshape"), {x, shape}, {y});
  return y;
}

class AttentionFusion : public Pass {
 public:
  const char* name() const override { return "attention-fusion"; }
  const char* summary() const override {
    return "multi-head attention (head split, QKᵀ·scale + mask, Softmax, ·V, head merge) -> ratel.Attention";
  }

  Result<int> run(ir::Graph& graph) override {
    int fused = 0;
    bool changed = true;
    while (changed) {
      changed = false;
      UseCounts uses(graph);
      for (const auto& node : graph.nodes()) {
        ir::Node* sm = node.get();
        if (sm->op_type != "Softmax" || !sm->domain.empty()) continue;
        Match m;
        if (!match(uses, sm, &m) || !only_used_within(uses, m.nodes, m.out)) continue;
        const Shape bsh{m.bsnh[0], m.bsnh[1], m.bsnh[2] * m.bsnh[3]};
        ir::Value* q = as_bsh(graph, m.q, bsh);
        ir::Value* k = as_bsh(graph, m.k, bsh);
        ir::Value* v = as_bsh(graph, m.v, bsh);
        ir::Value* result = m.out->shape == bsh ? m.out : graph.add_value(graph.unique_name("attention_out"));
        ir::Node* att = replace_with_node(graph, m.nodes, "ratel", "Attention", {q, k, v, m.mask}, result);
        att->attrs.set("num_heads", m.bsnh[2]);
        att->attrs.set("scale", m.scale);
        if (result != m.out) {
          ir::Value* shape = add_constant(graph, "attention_out_shape",
                                          Tensor::from_vector<int64_t>(m.out->shape, {static_cast<int64_t>(m.out->shape.size())}));
          graph.add_node("Reshape", graph.unique_name("attention_reshape"), {result, shape}, {m.out});
        }
        ++fused;
        changed = true;
        break;
      }
    }
    return fused;
  }
};

}  // namespace

std::unique_ptr<Pass> make_attention_fusion() { return std::make_unique<AttentionFusion>(); }

}  // namespace ratel::passes
