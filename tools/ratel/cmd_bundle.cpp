// `ratel bundle FILE.rbm`: what a bundle holds (format version, sections, metadata, graph) after
// validating all of it, and how long loading takes: mapping and checking, decoding and inference,
// and preparing the kernels (weights packed) — optionally next to importing the ONNX source.
#include <algorithm>
#include <chrono>

#include "bundle/bundle.h"
#include "commands.h"

namespace ratel::cli {

namespace {

struct BundleOptions {
  std::string path;
  std::string onnx;
  int repeat = 5;
};

using Clock = std::chrono::steady_clock;
double ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

const char* kind_name(bundle::SectionKind k) {
  switch (k) {
    case bundle::SectionKind::kMetadata: return "metadata";
    case bundle::SectionKind::kGraph: return "graph";
    case bundle::SectionKind::kWeights: return "weights";
  }
  return "unknown";
}

int run_bundle(const BundleOptions& o) {
  const int repeat = std::max(1, o.repeat);
  std::vector<double> open_ms, model_ms, plan_ms;
  bundle::LoadedModel loaded;
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = Clock::now();
    auto b = bundle::Bundle::open(o.path);
    if (!b.ok()) return report(b.status());
    const auto t1 = Clock::now();
    auto m = bundle::load_model(*b);
    if (!m.ok()) return report(m.status());
    const auto t2 = Clock::now();
    auto plan = m->model->plan();
    if (!plan.ok()) return report(plan.status());
    const auto t3 = Clock::now();
    open_ms.push_back(ms(t0, t1));
    model_ms.push_back(ms(t1, t2));
    plan_ms.push_back(ms(t2, t3));
    loaded = std::move(m).value();
  }
  const bundle::Bundle& b = *loaded.bundle;
  const ir::Graph& g = loaded.model->graph();
  fmt::print("{}: Ratel bundle format {}.{}, {} bytes, valid (header, table, every checksum, every field)\n",
             o.path, b.version_major(), b.version_minor(), b.file_size());
  fmt::print("sections:\n");
  for (const auto& s : b.sections()) {
    fmt::print("  {:<9} offset {:>10}  size {:>10}  xxh64 {:#018x}\n", kind_name(s.kind), s.offset, s.size,
               s.checksum);
  }
  fmt::print("metadata:\n");
  for (const auto& [k, v] : b.metadata()) fmt::print("  {} = {}\n", k, v);
  int constants = 0;
  for (const auto& v : g.values()) constants += v->is_constant() && !v->producer;
  fmt::print("graph: {} nodes, {} values ({} constants, {} parameters)\n", g.nodes().size(), g.values().size(),
             constants, g.parameter_count());
  fmt::print("load (median of {}): map + verify {:.1f} ms, decode + infer {:.1f} ms, prepare kernels (pack "
             "weights) {:.1f} ms; total {:.1f} ms\n",
             repeat, median(open_ms), median(model_ms), median(plan_ms),
             median(open_ms) + median(model_ms) + median(plan_ms));
  if (o.onnx.empty()) return 0;
  std::vector<double> import_ms, onnx_plan_ms;
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = Clock::now();
    auto m = runtime::Model::load_onnx(o.onnx);
    if (!m.ok()) return report(m.status());
    const auto t1 = Clock::now();
    auto plan = (*m)->plan();
    if (!plan.ok()) return report(plan.status());
    const auto t2 = Clock::now();
    import_ms.push_back(ms(t0, t1));
    onnx_plan_ms.push_back(ms(t1, t2));
  }
  fmt::print("{} (median of {}): import + infer + optimize {:.1f} ms, prepare kernels {:.1f} ms; total {:.1f} ms\n",
             o.onnx, repeat, median(import_ms), median(onnx_plan_ms), median(import_ms) + median(onnx_plan_ms));
  return 0;
}

}  // namespace

void add_bundle_command(CLI::App& app) {
  auto o = std::make_shared<BundleOptions>();
  CLI::App* cmd = app.add_subcommand(
      "bundle", "Validate a model bundle (.rbm) and show its sections, metadata, graph and load times");
  cmd->add_option("bundle", o->path, "Bundle file (.rbm), as `ratel compile` or `ratel -E` write it")->required();
  cmd->add_option("--compare-onnx", o->onnx, "Also time importing this ONNX model the usual way");
  cmd->add_option("--repeat", o->repeat, "Time each load N times and report the median")->capture_default_str();
  cmd->callback([o] {
    const int rc = run_bundle(*o);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace ratel::cli
