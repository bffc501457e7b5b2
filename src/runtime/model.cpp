#include "runtime/model.h"

#include "frontend/onnx/onnx_importer.h"
#include "io/npy.h"
#include "ops/shape_inference.h"

namespace ratel::runtime {

namespace {
std::string value_names(const std::vector<ir::Value*>& values) {
  std::string s;
  for (const ir::Value* v : values) s += (s.empty() ? "" : ", ") + v->name;
  return s;
}
}  // namespace

Result<std::shared_ptr<Model>> Model::load_onnx(const std::string& path, const LoadOptions& options) {
  onnx_frontend::ImportOptions import;
  import.input_shapes = options.input_shapes;
  import.output_names = options.output_names;
  RATEL_ASSIGN_OR_RETURN(auto graph, onnx_frontend::import_onnx_file(path, import));
  auto model = from_graph(std::move(graph), options);
  if (!model.ok()) return model.status().with_context(path);
  return model;
}

Result<std::shared_ptr<Model>> Model::from_graph(std::unique_ptr<ir::Graph> graph,
                                                 const LoadOptions& options) {
  RATEL_RETURN_IF_ERROR(ops::infer_shapes(*graph));
  RATEL_RETURN_IF_ERROR(ir::verify(*graph, /*require_types=*/true));
  auto model = std::shared_ptr<Model>(new Model());
  if (options.optimize) {
    passes::OptimizeOptions opt;
    opt.fuse = options.fuse;
    RATEL_RETURN_IF_ERROR(passes::optimize(*graph, opt, &model->pass_report_));
  }
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

Result<std::unique_ptr<Session>> Session::create(std::shared_ptr<const Model> model) {
  RATEL_ASSIGN_OR_RETURN(auto executor, ReferenceExecutor::create(model->graph()));
  std::unique_ptr<Session> s(new Session(std::move(model), std::move(executor)));
  s->inputs_.resize(s->model_->inputs().size());
  return s;
}

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
  return Status::Ok();
}

Status Session::run() {
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (!inputs_[i].defined()) {
      return invalid_argument("input '{}' was not set", model_->inputs()[i]->name);
    }
  }
  return executor_.run(inputs_, &outputs_);
}

}  // namespace ratel::runtime
