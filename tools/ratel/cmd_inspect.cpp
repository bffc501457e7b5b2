// `ratel inspect MODEL`: inputs, outputs, op histogram, parameters.
#include <algorithm>
#include <map>

#include "commands.h"
#include "memory_option.h"
#include "frontend/onnx/onnx_importer.h"
#include "ops/op.h"
#include "ops/shape_inference.h"
#include "passes/pass.h"

namespace ratel::cli {

namespace {

struct InspectOptions {
  std::string model;
  std::vector<std::string> shapes;
  bool nodes = false;
  bool optimized = false;
  std::string max_memory;  // --max-memory
};

std::string value_type(const ir::Value& v) {
  std::string dims = "[";
  for (size_t i = 0; i < v.shape.size(); ++i) {
    if (i) dims += ", ";
    if (v.shape[i] >= 0) {
      dims += std::to_string(v.shape[i]);
    } else {
      dims += i < v.dim_params.size() && !v.dim_params[i].empty() ? v.dim_params[i] : "?";
    }
  }
  return fmt::format("{} {}", dtype_name(v.dtype), v.has_shape ? dims + "]" : "(unknown shape)");
}

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  return fmt::format("{:.1f} {}", b, units[u]);
}

int report_error(const Status& s) { return report(s); }

int run_inspect(const InspectOptions& o) {
  if (Status s = apply_max_memory(o.max_memory); !s.ok()) return report(s);
  auto shapes = parse_named_shapes(o.shapes);
  if (!shapes.ok()) return report(shapes.status());
  onnx_frontend::ImportOptions import;
  import.input_shapes = *shapes;
  auto imported = onnx_frontend::import_onnx_file(o.model, import);
  if (!imported.ok()) return report(imported.status());
  ir::Graph& g = **imported;

  // Inference needs fixed input shapes; without them the declared shapes are shown.
  const Status inferred = ops::infer_shapes(g);
  std::vector<passes::PassReport> report;
  if (o.optimized) {
    if (!inferred.ok()) return report_error(inferred.with_context("--optimized needs fixed input shapes"));
    const size_t params_before = g.parameter_bytes();
    if (Status s = passes::optimize(g, {}, &report); !s.ok()) return report_error(s);
    fmt::print("optimizer passes (nodes before -> after, rewrites):\n");
    for (const auto& r : report) {
      fmt::print("  {:<24} {:>5} -> {:<5} {:>4} rewrites\n", r.pass, r.nodes_before, r.nodes_after, r.changes);
    }
    fmt::print("  parameters {} -> {} bytes\n", params_before, g.parameter_bytes());
  }

  fmt::print("model:     {}\n", o.model);
  fmt::print("producer:  {}\n", g.producer.empty() ? "(unknown)" : g.producer);
  std::string opsets;
  for (const auto& [domain, version] : g.opsets) {
    opsets += fmt::format("{}{} {}", opsets.empty() ? "" : ", ", domain.empty() ? "ai.onnx" : domain, version);
  }
  fmt::print("opsets:    {}\n", opsets);
  fmt::print("inputs:\n");
  for (const ir::Value* v : g.inputs()) fmt::print("  {:<28} {}\n", v->name, value_type(*v));
  fmt::print("outputs:\n");
  for (const ir::Value* v : g.outputs()) {
    if (inferred.ok()) {
      fmt::print("  {:<28} {}\n", v->name, value_type(*v));
    } else {
      ir::Value declared;
      declared.dtype = v->declared_dtype;
      declared.has_shape = v->declared_shape.has_value();
      if (v->declared_shape) declared.shape = *v->declared_shape;
      fmt::print("  {:<28} {}\n", v->name, value_type(declared));
    }
  }
  size_t initializers = 0;
  for (const auto& v : g.values()) initializers += v->is_initializer ? 1 : 0;
  fmt::print("parameters: {} ({}) in {} initializers\n", g.parameter_count(),
             human_bytes(static_cast<double>(g.parameter_bytes())), initializers);

  std::map<std::string, int> histogram;
  std::map<std::string, int> unsupported_ops;
  for (const auto& n : g.nodes()) {
    const std::string op = n->domain.empty() ? n->op_type : n->domain + "." + n->op_type;
    ++histogram[op];
    if (!ops::OpRegistry::instance().find(n->domain, n->op_type)) ++unsupported_ops[op];
  }
  std::vector<std::pair<std::string, int>> sorted(histogram.begin(), histogram.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  fmt::print("nodes:     {}\n", g.nodes().size());
  fmt::print("op histogram:\n");
  for (const auto& [op, count] : sorted) {
    fmt::print("  {:<28} {:>5}{}\n", op, count, unsupported_ops.count(op) ? "  (unsupported)" : "");
  }
  if (o.nodes) {
    fmt::print("graph:\n");
    for (const auto& n : g.nodes()) {
      std::string ins, outs;
      for (const ir::Value* v : n->inputs) ins += (ins.empty() ? "" : ", ") + (v ? v->name : "<none>");
      for (const ir::Value* v : n->outputs) {
        if (!v) continue;
        outs += (outs.empty() ? "" : ", ") + v->name + (inferred.ok() ? ": " + value_type(*v) : "");
      }
      fmt::print("  {} = {}({})\n", outs, n->op_type, ins);
    }
  }
  if (!inferred.ok()) {
    fmt::print("shapes:    not inferred: {}\n", inferred.message());
    return unsupported_ops.empty() ? 0 : 1;
  }
  return 0;
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto o = std::make_shared<InspectOptions>();
  CLI::App* cmd = app.add_subcommand(
      "inspect", "Show a model's inputs, outputs, op histogram and parameter count");
  cmd->add_option("model", o->model, "Model file (.onnx)")->required();
  cmd->add_option("--shape", o->shapes,
                  "Fix an input's shape, NAME=DIMS (e.g. input_ids=1,384); repeatable");
  cmd->add_flag("--nodes", o->nodes, "Also print every node with its inferred output types");
  cmd->add_flag("--optimized", o->optimized,
                "Run the graph optimizer first; print what each pass changed and the optimized graph");
  add_max_memory_option(cmd, &o->max_memory);
  cmd->callback([o] {
    const int rc = run_inspect(*o);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace ratel::cli
