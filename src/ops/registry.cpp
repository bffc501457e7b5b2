#include <algorithm>

#include "ops/op.h"

namespace ratel::ops {

namespace {
Result<std::vector<int64_t>> tensor_ints(const Tensor& t) {
  if (!dtype_is_integer(t.dtype())) {
    return invalid_argument("expected an integer tensor, got {}", dtype_name(t.dtype()));
  }
  std::vector<int64_t> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[static_cast<size_t>(i)] = t.get_as_int64(i);
  return v;
}
}  // namespace

Result<std::vector<int64_t>> InferContext::input_ints(size_t i) const {
  if (!has_input(i)) return invalid_argument("input {} is missing", i);
  const Tensor* t = input_constant(i);
  if (!t) {
    return unsupported(
        "input {} ('{}') must be known at compile time to fix shapes; it is computed at run time "
        "(dynamic shapes are not supported: fix the input shapes)",
        i, node_.inputs[i]->name);
  }
  auto r = tensor_ints(*t);
  if (!r.ok()) return r.status().with_context(fmt::format("input {} ('{}')", i, node_.inputs[i]->name));
  return r;
}

void InferContext::set_output(size_t i, DType dtype, Shape shape) {
  if (!node_.has_output(i)) return;  // an omitted optional output (or none at all)
  ir::Value* v = node_.outputs[i];
  v->dtype = dtype;
  v->shape = std::move(shape);
  v->has_shape = true;
}

std::vector<int64_t> KernelContext::input_ints(size_t i) const {
  auto r = tensor_ints(in(i));
  RATEL_ASSERT(r.ok());  // inference already checked the type
  return std::move(r).value();
}

const OpRegistry& OpRegistry::instance() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    register_elementwise_ops(r);
    register_math_ops(r);
    register_matmul_ops(r);
    register_reduce_ops(r);
    register_normalization_ops(r);
    register_shape_ops(r);
    register_data_movement_ops(r);
    register_generator_ops(r);
    register_cast_ops(r);
    register_pool_ops(r);
    register_fused_ops(r);
    register_quantized_ops(r);
    register_embedding_ops(r);
    std::sort(r.specs_.begin(), r.specs_.end(), [](const OpSpec& a, const OpSpec& b) {
      return a.domain != b.domain ? a.domain < b.domain : a.name < b.name;
    });
    return r;
  }();
  return registry;
}

const OpSpec* OpRegistry::find(std::string_view domain, std::string_view name) const {
  // "ai.onnx" is an alias of the default domain.
  if (domain == "ai.onnx") domain = "";
  for (const OpSpec& s : specs_) {
    if (s.domain == domain && s.name == name) return &s;
  }
  return nullptr;
}

}  // namespace ratel::ops
