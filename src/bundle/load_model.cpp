// Bundle -> runtime::Model: decode, infer (no optimization: the bundle holds the optimized
// graph), and check that inference agrees with every dtype and shape the bundle records.
#include "bundle/bundle.h"

namespace ratel::bundle {

Result<LoadedModel> load_model(std::shared_ptr<const Bundle> bundle) {
  RATEL_ASSIGN_OR_RETURN(std::unique_ptr<ir::Graph> graph, bundle->decode_graph());
  struct Recorded {
    std::string name;
    DType dtype;
    Shape shape;
  };
  std::vector<Recorded> recorded;
  for (const auto& v : graph->values()) recorded.push_back({v->name, v->dtype, v->shape});
  runtime::LoadOptions options;
  options.optimize = false;
  auto model = runtime::Model::from_graph(std::move(graph), options);
  if (!model.ok()) return model.status().with_context(bundle->name());
  const ir::Graph& g = (*model)->graph();
  for (const Recorded& r : recorded) {
    const ir::Value* v = g.find_value(r.name);
    if (!v) return internal_error("{}: value '{}' disappeared during inference", bundle->name(), r.name);
    if (v->dtype != r.dtype || v->shape != r.shape) {
      return corrupt("{}: value '{}' is recorded as {} {} but the graph computes {} {}", bundle->name(), r.name,
                     dtype_name(r.dtype), shape_str(r.shape), dtype_name(v->dtype), shape_str(v->shape));
    }
  }
  return LoadedModel{std::move(bundle), std::move(model).value()};
}

Result<LoadedModel> load_model(const std::string& path) {
  RATEL_ASSIGN_OR_RETURN(std::shared_ptr<const Bundle> bundle, Bundle::open(path));
  return load_model(std::move(bundle));
}

}  // namespace ratel::bundle
