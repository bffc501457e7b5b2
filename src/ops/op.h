// The operator registry: for every op Ratel supports, its type/shape inference and its portable
// reference implementation (the correctness oracle every fast kernel is tested against).
//
// Adding an op: write `Status infer_X(InferContext&)` and `Status compute_X(KernelContext&)` in
// the op family's file under src/ops/, and list it in that file's register function. The set of
// ops Ratel claims (`ratel ops`, the ONNX conformance suite) is read from this registry.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "ir/graph.h"

namespace ratel::ops {

// What an op's inference sees: input types, shapes and (when known) constant values.
class InferContext {
 public:
  explicit InferContext(ir::Node& node) : node_(node) {}

  const ir::Node& node() const { return node_; }
  const ir::Attributes& attrs() const { return node_.attrs; }
  int opset() const { return node_.opset; }

  size_t num_inputs() const { return node_.inputs.size(); }
  bool has_input(size_t i) const { return node_.has_input(i); }
  // A missing input (absent or an empty name) reads as undefined with an empty shape, so that a
  // check the op's inference forgot fails with an error instead of reading a null value.
  DType input_dtype(size_t i) const { return has_input(i) ? node_.inputs[i]->dtype : DType::kUndefined; }
  const Shape& input_shape(size_t i) const {
    static const Shape kNone;
    return has_input(i) ? node_.inputs[i]->shape : kNone;
  }
  int input_rank(size_t i) const { return static_cast<int>(input_shape(i).size()); }
  // The input's value if it is known at compile time, else nullptr.
  const Tensor* input_constant(size_t i) const {
    return has_input(i) && node_.inputs[i]->is_constant() ? &node_.inputs[i]->constant : nullptr;
  }
  // An integer input that must be known to fix shapes (Reshape's shape, Slice's starts...).
  // Error if it is dynamic or not an integer tensor.
  Result<std::vector<int64_t>> input_ints(size_t i) const;

  size_t num_outputs() const { return node_.outputs.size(); }
  bool has_output(size_t i) const { return node_.has_output(i); }
  void set_output(size_t i, DType dtype, Shape shape);

 private:
  ir::Node& node_;
};

// What a reference kernel sees: the node (attributes) and real tensors. Outputs are allocated by
// the executor with the inferred dtype and shape; kernels fill them and never reallocate.
struct KernelContext {
  const ir::Node& node;
  std::vector<const Tensor*> inputs;  // nullptr for omitted optional inputs
  std::vector<Tensor*> outputs;       // nullptr for omitted optional outputs

  const ir::Attributes& attrs() const { return node.attrs; }
  int opset() const { return node.opset; }
  bool has_input(size_t i) const { return i < inputs.size() && inputs[i] != nullptr; }
  const Tensor& in(size_t i) const { return *inputs[i]; }
  Tensor& out(size_t i) const { return *outputs[i]; }
  // Integer tensor input as int64 values.
  std::vector<int64_t> input_ints(size_t i) const;
};

using InferFn = Status (*)(InferContext&);
using ComputeFn = Status (*)(KernelContext&);

struct OpSpec {
  std::string_view domain;  // "" for ONNX's default domain
  std::string_view name;
  InferFn infer;
  ComputeFn compute;
  // Inference may evaluate the op on constant inputs (folding shape subgraphs). False for ops
  // whose output must not be precomputed (none today; randomness would be one).
  bool foldable = true;
};

class OpRegistry {
 public:
  static const OpRegistry& instance();
  const OpSpec* find(std::string_view domain, std::string_view name) const;
  // All ops, sorted by domain then name.
  const std::vector<OpSpec>& all() const { return specs_; }
  void add(OpSpec spec) { specs_.push_back(spec); }

 private:
  std::vector<OpSpec> specs_;
};

// Highest default-domain opset version Ratel imports. Ops whose semantics changed in a way Ratel
// does not implement refuse the older versions in their inference (e.g. the pre-opset-7
// `broadcast` attribute), so any older model either imports correctly or fails clearly.
inline constexpr int kMaxOpset = 18;

// Register functions, one per op family file (called once by OpRegistry::instance()).
void register_elementwise_ops(OpRegistry& r);
void register_math_ops(OpRegistry& r);
void register_matmul_ops(OpRegistry& r);
void register_reduce_ops(OpRegistry& r);
void register_normalization_ops(OpRegistry& r);
void register_shape_ops(OpRegistry& r);
void register_data_movement_ops(OpRegistry& r);
void register_generator_ops(OpRegistry& r);
void register_cast_ops(OpRegistry& r);
void register_pool_ops(OpRegistry& r);
void register_fused_ops(OpRegistry& r);  // domain "ratel": produced by fusion passes
void register_quantized_ops(OpRegistry& r);
void register_embedding_ops(OpRegistry& r);   // ratel.QGather: quantized embedding tables  // ratel.QDense: produced by the quantizer (src/quant)

}  // namespace ratel::ops
