// A loaded model (imported, shape-inferred graph) and sessions that run it.
//
// Load once, run many: a Model is immutable after loading and may be shared by several
// Sessions (one per thread); a Session holds the inputs and outputs of its runs.
#pragma once

#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "ir/graph.h"
#include "passes/pass.h"
#include "passes/passes.h"
#include "runtime/execution_plan.h"
#include "runtime/reference_executor.h"

namespace ratel::runtime {

struct LoadOptions {
  std::map<std::string, Shape> input_shapes;  // fix symbolic input dims, by input name
  std::vector<std::string> output_names;      // default: the model's outputs
  bool optimize = true;                       // run the graph optimizer (passes/)
  bool fuse = true;                           // ... including fusions (false: cleanups only)
  // Free each weight once the fast kernels have packed their own copy (halves the memory of a
  // loaded model). The reference executor and graph export then need the weights reloaded:
  // keep them with false.
  bool release_packed_weights = true;
  // HHB's --quantization-scheme: "" or "float32" keeps f32; the weight-only schemes float16,
  // bfloat16 and float16_w_int8 rewrite every fused dense layer (passes/weight_quantization.cpp);
  // the integer schemes int8_asym, int8_asym_w_sym, int8_sym, uint8_asym and int16_sym rewrite
  // those whose input has a range in activation_ranges (passes/integer_quantization.cpp; the
  // ranges come from quant::calibrate on the float32 model loaded with the same options). Needs
  // optimize and fuse.
  std::string quantization_scheme;
  bool channel_quantization = true;  // int8 weights: one scale per output column
  passes::ActivationRanges activation_ranges;
  // Integer schemes: dense layers to keep float32 (patterns, see passes::dense_layer_matches).
  std::vector<std::string> float_layers;
  // Integer schemes: SmoothQuant's alpha in (0, 1] (passes::make_integer_quantization), 0 for none.
  // Needs per-channel extremes in activation_ranges (quant::calibrate measures them).
  float smooth_quant_alpha = 0.0f;
  // Integer schemes with u8 activations: 8 ([0, 255]) or 7 ([0, 127]; see make_integer_quantization).
  int activation_bits = 8;
  // With any scheme but float32, large embedding tables (passes/embedding_quantization.cpp):
  // "auto" (fp16; bf16 with bfloat16), "int8" (blocks of 32), "float16", "bfloat16", "float32".
  std::string embedding_quantization = "auto";
};

enum class ExecutorKind { kFast, kReference };

struct SessionOptions {
  int threads = 1;
  // kFast: the execution plan (fast kernels, planned memory). kReference: the portable reference
  // kernels one node at a time (the correctness oracle; slow).
  ExecutorKind executor = ExecutorKind::kFast;
};

class Model {
 public:
  // Imports an .onnx file and infers every shape. Errors name the file, node or tensor.
  // (Defined in the ONNX frontend library, ratel_onnx: the runtime does not depend on protobuf.)
  static Result<std::shared_ptr<Model>> load_onnx(const std::string& path,
                                                  const LoadOptions& options = {});
  // Wraps an already-imported graph (tests, passes), inferring its shapes and optimizing it.
  static Result<std::shared_ptr<Model>> from_graph(std::unique_ptr<ir::Graph> graph,
                                                   const LoadOptions& options = {});

  const ir::Graph& graph() const { return *graph_; }
  const std::vector<ir::Value*>& inputs() const { return graph_->inputs(); }
  const std::vector<ir::Value*>& outputs() const { return graph_->outputs(); }
  // Index of the input named `name`, or an error listing the model's inputs.
  Result<size_t> input_index(const std::string& name) const;
  Result<size_t> output_index(const std::string& name) const;
  // What each optimization pass did while loading (empty if optimization was off).
  const std::vector<passes::PassReport>& pass_report() const { return pass_report_; }
  // Problems found while loading that do not stop the model from running, one line each (for
  // now: weights holding infinities, which some exporters use for masking). Weights holding
  // NaN are an error at load.
  const std::vector<std::string>& warnings() const { return warnings_; }
  // The compiled plan for the fast executor (built on first use, shared by sessions).
  Result<std::shared_ptr<const ExecutionPlan>> plan() const;

 private:
  // For graph inputs that index a constant table (token ids -> embeddings, possibly through
  // Cast/Reshape/Unsqueeze): the table's size, so bad ids are reported by input and position
  // when they are set rather than deep inside the graph. 0: not an index.
  bool release_packed_weights_ = true;
  mutable bool weights_released_ = false;  // guarded by plan_mutex_
  // A reference session reads the original weights: once one exists, the plan keeps them
  // (guarded by plan_mutex_).
  mutable bool reference_in_use_ = false;
  std::vector<int64_t> index_limits_;
  std::vector<std::string> index_tables_;
  std::unique_ptr<ir::Graph> graph_;
  std::vector<passes::PassReport> pass_report_;
  std::vector<std::string> warnings_;
  mutable std::mutex plan_mutex_;
  mutable std::shared_ptr<const ExecutionPlan> plan_;
  friend class Session;
};

class Session {
 public:
  static Result<std::unique_ptr<Session>> create(std::shared_ptr<const Model> model,
                                                 const SessionOptions& options = {});

  // Binds an input by name or position. The tensor is converted to the model's element type
  // when that loses nothing (int64 ids for an int32 model, integer-valued float32 ids as HHB
  // writes them); its shape must equal the model's.
  Status set_input(const std::string& name, const Tensor& value);
  Status set_input(size_t index, const Tensor& value);
  Status run();
  // Padding trimming for token models ([1, S] inputs, batch 1): only the first `rows` token
  // positions are real (the rest are padding that the attention mask hides), so fast kernels
  // compute just those rows. Outputs at the other positions are then undefined: callers must
  // ignore them (QA answer extraction does). Results at the computed positions are
  // bit-identical to a full run. 0 restores full runs.
  Status set_active_rows(int64_t rows);
  const std::vector<Tensor>& outputs() const { return outputs_; }
  // Calls `observer` before every kernel of the following runs (quant/calibration.h); an empty
  // one removes it. Fast executor only.
  Status set_observer(StepObserver observer);
  // Times every kernel step of the following runs; profile() is the last run's (fast executor
  // only: the reference executor has no steps to time).
  Status set_profiling(bool on);
  const std::vector<StepTime>& profile() const;
  const Model& model() const { return *model_; }
  // Peak activation memory and kernel counts (fast executor only; zeros for the reference one).
  PlanStats stats() const;

 private:
  explicit Session(std::shared_ptr<const Model> model) : model_(std::move(model)) {}
  std::shared_ptr<const Model> model_;
  std::unique_ptr<ReferenceExecutor> reference_;
  std::unique_ptr<PlanExecutor> fast_;
  std::shared_ptr<const ExecutionPlan> plan_;
  std::vector<Tensor> inputs_;
  std::vector<Tensor> outputs_;
};

}  // namespace ratel::runtime
