#include "runtime/model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "io/npy.h"
#include "ops/shape_inference.h"
#include "passes/passes.h"

namespace ratel::runtime {

namespace {
std::string value_names(const std::vector<ir::Value*>& values) {
  std::string s;
  for (const ir::Value* v : values) s += (s.empty() ? "" : ", ") + v->name;
  return s;
}
// Follows each integer graph input through value-preserving ops to a Gather that uses it as
// indices into a constant table.
void find_index_inputs(const ir::Graph& g, std::vector<int64_t>* limits, std::vector<std::string>* tables) {
  limits->assign(g.inputs().size(), 0);
  tables->assign(g.inputs().size(), "");
  const auto consumers = g.consumers();
  for (size_t i = 0; i < g.inputs().size(); ++i) {
    const ir::Value* v = g.inputs()[i];
    if (!dtype_is_integer(v->dtype)) continue;
    std::vector<const ir::Value*> frontier{v};
    while (!frontier.empty()) {
      const ir::Value* cur = frontier.back();
      frontier.pop_back();
      for (const ir::Node* n : consumers[static_cast<size_t>(cur->id)]) {
        const std::string& op = n->op_type;
        const bool qgather = n->domain == "ratel" && op == "QGather";  // a quantized table, axis 0
        if (!n->domain.empty() && !qgather) continue;
        if ((op == "Gather" || qgather) && n->inputs.size() > 1 && n->inputs[1] == cur && n->inputs[0]->is_constant()) {
          auto axis = n->attrs.get_int("axis", 0);
          const auto& table = n->inputs[0]->shape;
          if (!axis.ok() || table.empty()) continue;
          const int64_t a = *axis < 0 ? *axis + static_cast<int64_t>(table.size()) : *axis;
          if (a < 0 || a >= static_cast<int64_t>(table.size())) continue;
          const int64_t limit = table[static_cast<size_t>(a)];
          if ((*limits)[i] == 0 || limit < (*limits)[i]) {
            (*limits)[i] = limit;
            (*tables)[i] = n->inputs[0]->name;
          }
        } else if ((op == "Cast" || op == "Reshape" || op == "Squeeze" || op == "Unsqueeze" || op == "Flatten" ||
                    op == "Identity") && n->inputs[0] == cur && dtype_is_integer(n->outputs[0]->dtype)) {
          frontier.push_back(n->outputs[0]);
        }
      }
    }
  }
}

// NaN and infinity counts of a floating-point tensor (zeros for other types).
struct NonFinite {
  int64_t nan = 0, inf = 0;
  int64_t first_nan = -1, first_inf = -1;
};

NonFinite count_non_finite(const Tensor& t) {
  NonFinite r;
  if (!t.defined() || !dtype_is_float(t.dtype())) return r;
  const int64_t n = t.numel();
  auto note = [&](int64_t i, bool is_nan, bool is_inf) {
    if (is_nan && r.nan++ == 0) r.first_nan = i;
    if (is_inf && r.inf++ == 0) r.first_inf = i;
  };
  const auto* p = static_cast<const std::byte*>(t.raw());
  switch (t.dtype()) {
    case DType::kF32:
      for (int64_t i = 0; i < n; ++i) {
        uint32_t b;
        std::memcpy(&b, p + 4 * i, 4);
        if ((b & 0x7f800000u) == 0x7f800000u) note(i, (b & 0x7fffffu) != 0, (b & 0x7fffffu) == 0);
      }
      break;
    case DType::kF64:
      for (int64_t i = 0; i < n; ++i) {
        double v;
        std::memcpy(&v, p + 8 * i, 8);
        if (!std::isfinite(v)) note(i, std::isnan(v), std::isinf(v));
      }
      break;
    case DType::kF16:
    case DType::kBF16: {
      const bool f16 = t.dtype() == DType::kF16;
      const uint16_t exp = f16 ? 0x7c00 : 0x7f80, man = f16 ? 0x03ff : 0x007f;
      for (int64_t i = 0; i < n; ++i) {
        uint16_t b;
        std::memcpy(&b, p + 2 * i, 2);
        if ((b & exp) == exp) note(i, (b & man) != 0, (b & man) == 0);
      }
      break;
    }
    default: break;
  }
  return r;
}

// Weights (initializers and Constant nodes' values) holding NaN are an error naming the tensor:
// a NaN weight turns every answer into NaN. Infinities are legal (exporters write -inf masks)
// and become warnings.
Status check_weights(const ir::Graph& g, std::vector<std::string>* warnings) {
  auto check = [&](const Tensor& t, const std::string& what) -> Status {
    const NonFinite nf = count_non_finite(t);
    if (nf.nan > 0) {
      return corrupt("{} holds NaN ({} of its {} values, the first at element {}): the weights are damaged",
                     what, nf.nan, t.numel(), nf.first_nan);
    }
    if (nf.inf > 0) {
      warnings->push_back(fmt::format("{} holds {} infinite value{} (the first at element {})", what, nf.inf,
                                      nf.inf == 1 ? "" : "s", nf.first_inf));
    }
    return Status::Ok();
  };
  for (const auto& v : g.values()) {
    if (v->is_initializer && v->constant.defined()) {
      RATEL_RETURN_IF_ERROR(check(v->constant, fmt::format("initializer '{}'", v->name)));
    }
  }
  for (const auto& n : g.nodes()) {
    if (n->op_type != "Constant" || !n->domain.empty()) continue;
    if (const ir::AttrValue* a = n->attrs.find("value"); a && std::holds_alternative<Tensor>(*a)) {
      RATEL_RETURN_IF_ERROR(check(std::get<Tensor>(*a), fmt::format("the value of {}", n->describe())));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<Model>> Model::from_graph(std::unique_ptr<ir::Graph> graph,
                                                 const LoadOptions& options) {
  std::vector<std::string> warnings;
  RATEL_RETURN_IF_ERROR(check_weights(*graph, &warnings));
  RATEL_RETURN_IF_ERROR(ops::infer_shapes(*graph));
  RATEL_RETURN_IF_ERROR(ir::verify(*graph, /*require_types=*/true));
  auto model = std::shared_ptr<Model>(new Model());
  if (options.optimize) {
    passes::OptimizeOptions opt;
    opt.fuse = options.fuse;
    RATEL_RETURN_IF_ERROR(passes::optimize(*graph, opt, &model->pass_report_));
  }
  if (!options.quantization_scheme.empty() && options.quantization_scheme != "float32") {
    if (!options.optimize || !options.fuse) {
      return invalid_argument("quantization scheme '{}' needs the optimizer's fusions (not --no-fuse / --no-optimize)",
                              options.quantization_scheme);
    }
    std::vector<std::unique_ptr<passes::Pass>> quantize;
    if (auto integer = passes::parse_integer_scheme(options.quantization_scheme); integer.ok()) {
      if (options.activation_ranges.empty()) {
        return invalid_argument("quantization scheme '{}' quantizes activations and needs calibration data "
                                "(--calibrate-dataset)", options.quantization_scheme);
      }
      for (const std::string& pattern : options.float_layers) {
        const bool found = std::any_of(graph->nodes().begin(), graph->nodes().end(), [&](const auto& n) {
          return n->domain == "ratel" && n->op_type == "Dense" && passes::dense_layer_matches(*n, pattern);
        });
        if (!found) return invalid_argument("--hybrid-layer-name '{}' matches no dense layer", pattern);
      }
      quantize.push_back(passes::make_integer_quantization(*integer, options.channel_quantization,
                                                           options.activation_ranges, options.float_layers,
                                                           options.smooth_quant_alpha,
                                                           options.activation_bits));
    } else {
      RATEL_ASSIGN_OR_RETURN(passes::WeightScheme scheme, passes::parse_weight_scheme(options.quantization_scheme));
      quantize.push_back(passes::make_weight_quantization(scheme, options.channel_quantization));
    }
    // Embedding tables: fp16 by default (bf16 with bfloat16), which costs nothing measurable in
    // answers; int8 (blocks of 32) only when asked, as it does cost some (docs/QUANTIZATION.md).
    const std::string& emb = options.embedding_quantization;
    if (emb == "int8") {
      quantize.push_back(passes::make_embedding_quantization(passes::EmbeddingStorage::kInt8));
    } else if (emb == "float16" || (emb == "auto" && options.quantization_scheme != "bfloat16")) {
      quantize.push_back(passes::make_embedding_quantization(passes::EmbeddingStorage::kFloat16));
    } else if (emb == "auto" || emb == "bfloat16") {
      quantize.push_back(passes::make_embedding_quantization(passes::EmbeddingStorage::kBFloat16));
    } else if (emb != "float32") {
      return invalid_argument("unknown embedding quantization '{}' (auto, int8, float16, bfloat16 or float32)", emb);
    }
    quantize.push_back(passes::make_dead_code_elimination());
    RATEL_RETURN_IF_ERROR(passes::run_passes(*graph, quantize, &model->pass_report_));
  }
  find_index_inputs(*graph, &model->index_limits_, &model->index_tables_);
  model->release_packed_weights_ = options.release_packed_weights;
  model->warnings_ = std::move(warnings);
  model->graph_ = std::move(graph);
  return model;
}

Result<size_t> Model::input_index(const std::string& name) const {
  for (size_t i = 0; i < inputs().size(); ++i) {
    if (inputs()[i]->name == name) return i;
  }
  return not_found("the model has no input '{}'; its inputs are: {}", name, value_names(inputs()));
}

Result<size_t> Model::output_index(const std::string& name) const {
  for (size_t i = 0; i < outputs().size(); ++i) {
    if (outputs()[i]->name == name) return i;
  }
  return not_found("the model has no output '{}'; its outputs are: {}", name, value_names(outputs()));
}

Result<std::shared_ptr<const ExecutionPlan>> Model::plan() const {
  std::lock_guard<std::mutex> lock(plan_mutex_);
  if (!plan_) {
    ExecutionPlan::ReleaseFn release;
    if (release_packed_weights_ && !reference_in_use_) {
      release = [this](const ir::Value& v) {
        ir::Value* mutable_v = graph_->find_value(v.name);
        mutable_v->constant = Tensor();
        mutable_v->data_released = true;
        weights_released_ = true;
      };
    }
    RATEL_ASSIGN_OR_RETURN(plan_, ExecutionPlan::build(*graph_, release));
  }
  return plan_;
}

Result<std::unique_ptr<Session>> Session::create(std::shared_ptr<const Model> model,
                                                 const SessionOptions& options) {
  if (options.threads < 1 || options.threads > 1024) {
    return invalid_argument("thread count {} is out of range (1 to 1024)", options.threads);
  }
  std::unique_ptr<Session> s(new Session(model));
  if (options.executor == ExecutorKind::kReference) {
    {
      std::lock_guard<std::mutex> lock(model->plan_mutex_);
      if (model->weights_released_) {
        return invalid_argument(
            "the reference executor needs the original weights, which this model released after packing "
            "them for the fast executor; load it with release_packed_weights = false");
      }
      // A fast session created later must not free the weights this one reads.
      model->reference_in_use_ = true;
    }
    RATEL_ASSIGN_OR_RETURN(auto executor, ReferenceExecutor::create(model->graph()));
    s->reference_ = std::make_unique<ReferenceExecutor>(std::move(executor));
  } else {
    RATEL_ASSIGN_OR_RETURN(s->plan_, model->plan());
    RATEL_ASSIGN_OR_RETURN(s->fast_, PlanExecutor::create(s->plan_, options.threads));
  }
  s->inputs_.resize(model->inputs().size());
  return s;
}

Status Session::set_active_rows(int64_t rows) {
  if (!fast_) {
    if (rows == 0) return Status::Ok();
    return unsupported("padding trimming needs the fast executor");
  }
  int64_t seq = 0;
  for (const ir::Value* v : model_->inputs()) {
    if (v->shape.size() != 2 || v->shape[0] != 1 || (seq && v->shape[1] != seq)) {
      return unsupported("padding trimming needs [1, S] token inputs; input '{}' is {}", v->name, shape_str(v->shape));
    }
    seq = v->shape[1];
  }
  if (rows < 0 || rows > seq) return invalid_argument("active rows {} outside [0, {}]", rows, seq);
  fast_->set_active_rows(seq, rows);
  return Status::Ok();
}

Status Session::set_observer(StepObserver observer) {
  if (!fast_) return unsupported("observing a run needs the fast executor");
  fast_->set_observer(std::move(observer));
  return Status::Ok();
}

Status Session::set_profiling(bool on) {
  if (!fast_) return unsupported("profiling needs the fast executor (not --reference)");
  fast_->set_profiling(on);
  return Status::Ok();
}

const std::vector<StepTime>& Session::profile() const {
  static const std::vector<StepTime> kNone;
  return fast_ ? fast_->profile() : kNone;
}

PlanStats Session::stats() const { return plan_ ? plan_->stats() : PlanStats{}; }

Status Session::set_input(const std::string& name, const Tensor& value) {
  RATEL_ASSIGN_OR_RETURN(size_t i, model_->input_index(name));
  return set_input(i, value);
}

Status Session::set_input(size_t index, const Tensor& value) {
  if (index >= inputs_.size()) {
    return invalid_argument("input index {} is out of range: the model has {} inputs", index,
                            inputs_.size());
  }
  const ir::Value* v = model_->inputs()[index];
  if (value.shape() != v->shape) {
    return invalid_argument("input '{}' must have shape {}, got {}", v->name, shape_str(v->shape),
                            shape_str(value.shape()));
  }
  RATEL_ASSIGN_OR_RETURN(inputs_[index],
                         io::convert_exact(value, v->dtype, fmt::format("input '{}'", v->name)));
  if (const int64_t limit = model_->index_limits_[index]; limit > 0) {
    const Tensor& t = inputs_[index];
    for (int64_t i = 0; i < t.numel(); ++i) {
      const int64_t id = t.get_as_int64(i);
      if (id < -limit || id >= limit) {
        inputs_[index] = Tensor();
        return out_of_range("input '{}': element {} is {}, outside the {} rows of '{}' it indexes", v->name, i,
                            id, limit, model_->index_tables_[index]);
      }
    }
  }
  return Status::Ok();
}

Status Session::run() {
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (!inputs_[i].defined()) {
      return invalid_argument("input '{}' was not set", model_->inputs()[i]->name);
    }
  }
  if (reference_) return reference_->run(inputs_, &outputs_);
  return fast_->run(inputs_, &outputs_);
}

}  // namespace ratel::runtime
