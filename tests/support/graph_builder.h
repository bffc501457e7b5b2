// Builds small graphs in tests: inputs, constants, single-output nodes, outputs.
#pragma once

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace ratel::testing {

class GraphBuilder {
 public:
  explicit GraphBuilder(int opset = 13) : g_(std::make_unique<ir::Graph>()) { g_->opsets[""] = opset; }

  ir::Value* input(const std::string& name, DType dtype, Shape shape) {
    ir::Value* v = g_->add_value(name);
    v->dtype = dtype;
    v->shape = std::move(shape);
    v->has_shape = true;
    g_->inputs().push_back(v);
    return v;
  }
  ir::Value* constant(Tensor t) {
    ir::Value* v = g_->add_value("");
    v->dtype = t.dtype();
    v->shape = t.shape();
    v->has_shape = true;
    v->constant = std::move(t);
    v->is_initializer = true;
    return v;
  }
  ir::Value* scalar(float x) { return constant(Tensor::scalar<float>(x)); }
  ir::Value* ints(std::vector<int64_t> v) {
    const int64_t n = static_cast<int64_t>(v.size());
    return constant(Tensor::from_vector<int64_t>(v, {n}));
  }
  // Random f32 constant, uniform in [-scale, scale], fixed seed per builder.
  ir::Value* random(Shape shape, float scale = 0.5f) {
    std::uniform_real_distribution<float> u(-scale, scale);
    std::vector<float> data(static_cast<size_t>(numel(shape)));
    for (float& x : data) x = u(rng_);
    return constant(Tensor::from_vector<float>(data, std::move(shape)));
  }
  ir::Value* op(const std::string& type, std::vector<ir::Value*> inputs, ir::Attributes attrs = {},
                const std::string& domain = "") {
    ir::Value* out = g_->add_value("");
    ir::Node* n = g_->add_node(type, "", std::move(inputs), {out});
    n->attrs = std::move(attrs);
    n->domain = domain;
    return out;
  }
  void output(ir::Value* v) { g_->outputs().push_back(v); }
  std::unique_ptr<ir::Graph> build() { return std::move(g_); }

  static ir::Attributes attrs(std::initializer_list<std::pair<const std::string, ir::AttrValue>> list) {
    ir::Attributes a;
    for (const auto& [k, v] : list) a.set(k, v);
    return a;
  }

 private:
  std::unique_ptr<ir::Graph> g_;
  std::mt19937 rng_{1234};
};

}  // namespace ratel::testing
