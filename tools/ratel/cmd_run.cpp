// `ratel run MODEL --input NAME=FILE ...`: run a model on .npy/.bin inputs, print and save outputs.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "commands.h"
#include "memory_option.h"
#include "quant_option.h"
#include "core/dtype.h"
#include "core/file.h"
#include "io/npy.h"
#include "quant/quantization_loss.h"
#include "runtime/model.h"
#include "runtime/profile.h"

namespace ratel::cli {

namespace {

struct RunOptions {
  std::string model;
  std::vector<std::string> inputs;
  std::vector<std::string> shapes;
  std::string output_dir;
  int print = 8;
  bool no_optimize = false;
  bool no_fuse = false;
  QuantOptions quant;
  bool reference = false;
  bool stats = false;
  int threads = 1;
  int repeat = 1;
  std::string profile;  // --profile FILE.json
  bool dump_quantization_loss = false;
  bool allow_nonfinite = false;
  std::string max_memory;  // --max-memory
};

struct InputSpec {
  std::string name;
  std::string path;
  DType bin_dtype = DType::kUndefined;  // for .bin: ":f32" suffix, else the model's type
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Result<InputSpec> parse_input(const std::string& item) {
  InputSpec spec;
  const size_t eq = item.find('=');
  if (eq == std::string::npos || eq == 0) {
    return invalid_argument("--input '{}' must look like NAME=FILE.npy or NAME=FILE.bin[:TYPE]", item);
  }
  spec.name = item.substr(0, eq);
  spec.path = item.substr(eq + 1);
  const size_t colon = spec.path.rfind(':');
  if (colon != std::string::npos && ends_with(spec.path.substr(0, colon), ".bin")) {
    const std::string type = spec.path.substr(colon + 1);
    if (!parse_dtype(type, &spec.bin_dtype)) {
      return invalid_argument("--input '{}': unknown element type '{}' (use f32, i32, i64, ...)", item, type);
    }
    spec.path = spec.path.substr(0, colon);
  }
  return spec;
}

// Shape of an .npy file without reading its data twice: we simply read it (inputs are small).
Result<Tensor> load_input(const InputSpec& spec, const ir::Value* declared) {
  if (ends_with(spec.path, ".npy")) return io::read_npy(spec.path);
  if (!ends_with(spec.path, ".bin")) {
    return invalid_argument("input file '{}' must end in .npy or .bin", spec.path);
  }
  if (!declared->has_shape) {
    return invalid_argument("input '{}' from raw '{}' needs a shape: add --shape {}=DIMS", spec.name,
                            spec.path, spec.name);
  }
  for (int64_t d : declared->shape) {
    if (d < 0) {
      return invalid_argument("input '{}' from raw '{}' has a dynamic shape: add --shape {}=DIMS",
                              spec.name, spec.path, spec.name);
    }
  }
  const DType dtype = spec.bin_dtype != DType::kUndefined ? spec.bin_dtype : declared->dtype;
  return io::read_raw(spec.path, dtype, declared->shape);
}

// NaN and infinity counts of a floating-point tensor, and the first such element.
struct NonFinite {
  int64_t nan = 0, inf = 0, first = -1;
  int64_t total() const { return nan + inf; }
  std::string describe() const {
    std::string parts;
    if (nan) parts += fmt::format("{} NaN", nan);
    if (inf) parts += fmt::format("{}{} infinite", nan ? " and " : "", inf);
    return fmt::format("{} value{} (the first at element {})", parts, total() == 1 ? "" : "s", first);
  }
};

NonFinite count_non_finite(const Tensor& t) {
  NonFinite r;
  if (!dtype_is_float(t.dtype())) return r;
  for (int64_t i = 0; i < t.numel(); ++i) {
    const double v = t.get_as_double(i);
    if (std::isfinite(v)) continue;
    if (r.first < 0) r.first = i;
    ++(std::isnan(v) ? r.nan : r.inf);
  }
  return r;
}

void print_output(const std::string& name, const Tensor& t, int count) {
  fmt::print("{}: {} {}\n", name, dtype_name(t.dtype()), shape_str(t.shape()));
  const int64_t n = t.numel();
  if (n == 0) return;
  double mn = INFINITY, mx = -INFINITY, sum = 0, sq = 0;
  int64_t nonfinite = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double v = t.get_as_double(i);
    if (!std::isfinite(v)) {
      ++nonfinite;
      continue;
    }
    mn = std::min(mn, v);
    mx = std::max(mx, v);
    sum += v;
    sq += v * v;
  }
  const double finite = static_cast<double>(n - nonfinite);
  if (finite > 0) {
    const double mean = sum / finite;
    fmt::print("  min {:.6f}  max {:.6f}  mean {:.6f}  std {:.6f}\n", mn, mx, mean,
               std::sqrt(std::max(0.0, sq / finite - mean * mean)));
  }
  if (nonfinite) fmt::print("  WARNING: {} values are NaN or infinite\n", nonfinite);
  std::string first;
  for (int64_t i = 0; i < std::min<int64_t>(n, count); ++i) {
    first += fmt::format("{}{:.6g}", i ? ", " : "", t.get_as_double(i));
  }
  if (count > 0) fmt::print("  first values: [{}{}]\n", first, n > count ? ", ..." : "");
}

// Integer schemes: the dense layers' input ranges, measured on the float32 model over the
// samples of --calibrate-dataset.
Result<passes::ActivationRanges> calibrate(const RunOptions& o, const runtime::LoadOptions& load) {
  return calibrate_model(o.quant, [&] { return runtime::Model::load_onnx(o.model, load); }, o.threads);
}

// The float32 model on the same inputs, compared value by value with the quantized session.
int dump_quantization_loss(const RunOptions& o, const runtime::LoadOptions& quantized_load,
                           const std::vector<std::pair<size_t, Tensor>>& inputs, runtime::Session& quantized) {
  runtime::LoadOptions load;
  load.input_shapes = quantized_load.input_shapes;
  load.optimize = quantized_load.optimize;
  load.fuse = quantized_load.fuse;
  auto model = runtime::Model::load_onnx(o.model, load);
  if (!model.ok()) return report(model.status().with_context("the float32 model"));
  runtime::SessionOptions so;
  so.threads = o.threads;
  auto reference = runtime::Session::create(*model, so);
  if (!reference.ok()) return report(reference.status());
  for (const auto& [index, t] : inputs) {
    if (Status s = (*reference)->set_input(index, t); !s.ok()) return report(s);
  }
  auto losses = quant::compare_activations(**reference, quantized);
  if (!losses.ok()) return report(losses.status());
  fmt::print("{}", quant::format_quantization_loss(*losses));
  if (!o.output_dir.empty()) {
    ::mkdir(o.output_dir.c_str(), 0755);
    const std::string path = o.output_dir + "/quantization_loss.csv";
    if (Status s = write_text_file(path, quant::quantization_loss_csv(*losses)); !s.ok()) return report(s);
    fmt::print("quantization loss: every value in execution order in {}\n", path);
  }
  return 0;
}

int run_run(const RunOptions& o) {
  if (Status s = apply_max_memory(o.max_memory); !s.ok()) return report(s);
  auto shapes = parse_named_shapes(o.shapes);
  if (!shapes.ok()) return report(shapes.status());
  std::vector<InputSpec> specs;
  for (const std::string& item : o.inputs) {
    auto s = parse_input(item);
    if (!s.ok()) return report(s.status());
    specs.push_back(std::move(s).value());
  }
  // .npy inputs fix the model's dynamic dimensions by their own shapes.
  std::vector<Tensor> npy(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    if (!ends_with(specs[i].path, ".npy")) continue;
    auto t = io::read_npy(specs[i].path);
    if (!t.ok()) return report(t.status());
    npy[i] = std::move(t).value();
    if (!shapes->count(specs[i].name)) (*shapes)[specs[i].name] = npy[i].shape();
  }
  runtime::LoadOptions load;
  load.input_shapes = *shapes;
  load.optimize = !o.no_optimize;
  load.fuse = !o.no_fuse;
  const auto t0 = std::chrono::steady_clock::now();
  if (Status s = check_quant_options(o.quant); !s.ok()) return report(s);
  if (o.dump_quantization_loss && (o.quant.scheme == "float32" || o.reference)) {
    return report(invalid_argument("--dump-quantization-loss compares a quantized model with the float32 one: give "
                                   "--quantization-scheme (and the fast executor, not --reference)"));
  }
  if (is_integer_scheme(o.quant)) {
    auto ranges = calibrate(o, load);
    if (!ranges.ok()) return report(ranges.status());
    load.activation_ranges = std::move(ranges).value();
  }
  apply_quant_options(o.quant, &load);
  auto model = runtime::Model::load_onnx(o.model, load);
  if (!model.ok()) return report(model.status());
  for (const std::string& w : (*model)->warnings()) std::fprintf(stderr, "ratel: warning: %s\n", w.c_str());
  runtime::SessionOptions session_options;
  session_options.threads = o.threads;
  session_options.executor = o.reference ? runtime::ExecutorKind::kReference : runtime::ExecutorKind::kFast;
  auto session = runtime::Session::create(*model, session_options);
  if (!session.ok()) return report(session.status());
  const auto t1 = std::chrono::steady_clock::now();

  std::vector<bool> given((*model)->inputs().size(), false);
  std::vector<std::pair<size_t, Tensor>> bound;  // for the float32 model of --dump-quantization-loss
  for (size_t i = 0; i < specs.size(); ++i) {
    auto index = (*model)->input_index(specs[i].name);
    if (!index.ok()) return report(index.status());
    Tensor t = npy[i];
    if (!t.defined()) {
      auto loaded = load_input(specs[i], (*model)->inputs()[*index]);
      if (!loaded.ok()) return report(loaded.status());
      t = std::move(loaded).value();
    }
    if (Status s = (*session)->set_input(*index, t); !s.ok()) return report(s);
    bound.emplace_back(*index, t);
    // NaN/Inf inputs are legal (some models take them) but rarely meant: say so.
    if (const NonFinite nf = count_non_finite(t); nf.total() > 0) {
      std::fprintf(stderr, "ratel: warning: input '%s' (%s) holds %s\n", specs[i].name.c_str(),
                   specs[i].path.c_str(), nf.describe().c_str());
    }
    given[*index] = true;
  }
  for (size_t i = 0; i < given.size(); ++i) {
    if (!given[i]) {
      const ir::Value* v = (*model)->inputs()[i];
      return report(invalid_argument("no value for input '{}' ({} {}): add --input {}=FILE.npy",
                                     v->name, dtype_name(v->dtype), shape_str(v->shape), v->name));
    }
  }
  using ms = std::chrono::duration<double, std::milli>;
  std::vector<double> times;
  std::vector<runtime::ProfiledRun> profiled;
  if (!o.profile.empty()) {
    if (Status s = (*session)->set_profiling(true); !s.ok()) return report(s);
  }
  for (int r = 0; r < std::max(1, o.repeat); ++r) {
    const auto t2 = std::chrono::steady_clock::now();
    if (Status s = (*session)->run(); !s.ok()) return report(s);
    times.push_back(ms(std::chrono::steady_clock::now() - t2).count());
    if (!o.profile.empty()) profiled.push_back((*session)->profile());
  }
  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  fmt::print("loaded in {:.1f} ms; run {:.2f} ms{} ({} executor, {} thread{})\n", ms(t1 - t0).count(),
             sorted[sorted.size() / 2], times.size() > 1 ? fmt::format(" median of {}, first {:.2f} ms", times.size(), times[0]) : "",
             o.reference ? "reference" : "fast", o.threads, o.threads == 1 ? "" : "s");
  if (o.stats) {
    const runtime::PlanStats st = (*session)->stats();
    fmt::print("stats: peak activation memory {:.2f} MiB (unplanned {:.2f} MiB), weights {:.2f} MiB, "
               "{} fast steps, {} reference steps, {} aliased values\n",
               st.arena_bytes / 1048576.0, st.unplanned_bytes / 1048576.0, st.weight_bytes / 1048576.0,
               st.fast_steps, st.reference_steps, st.aliased_values);
    if (!st.reference_ops.empty()) {
      std::string ops;
      for (const auto& [op, count] : st.reference_ops) ops += fmt::format("{}{} x{}", ops.empty() ? "" : ", ", op, count);
      fmt::print("stats: on reference kernels: {}\n", ops);
    }
  }
  if (!o.profile.empty()) {
    if (Status s = write_text_file(o.profile, runtime::chrome_trace_json(profiled)); !s.ok()) return report(s);
    fmt::print("{}profile: wrote {} (open it in https://ui.perfetto.dev or chrome://tracing)\n",
               runtime::profile_table(profiled), o.profile);
  }
  if (o.dump_quantization_loss) {
    if (int rc = dump_quantization_loss(o, load, bound, **session); rc != 0) return rc;
  }
  const auto& outputs = (*session)->outputs();
  for (size_t i = 0; i < outputs.size(); ++i) {
    print_output((*model)->outputs()[i]->name, outputs[i], o.print);
  }
  if (!o.output_dir.empty()) {
    ::mkdir(o.output_dir.c_str(), 0755);
    for (size_t i = 0; i < outputs.size(); ++i) {
      const std::string path = o.output_dir + "/" + (*model)->outputs()[i]->name + ".npy";
      if (Status s = io::write_npy(path, outputs[i]); !s.ok()) return report(s);
      fmt::print("saved {}\n", path);
    }
  }
  // Non-finite outputs are printed and saved (to debug them) but the run fails: a script must
  // not take NaN for a result. --allow-nonfinite makes it a warning.
  for (size_t i = 0; i < outputs.size(); ++i) {
    const NonFinite nf = count_non_finite(outputs[i]);
    if (nf.total() == 0) continue;
    const std::string what = fmt::format("output '{}' holds {}", (*model)->outputs()[i]->name, nf.describe());
    if (o.allow_nonfinite) {
      std::fprintf(stderr, "ratel: warning: %s\n", what.c_str());
    } else {
      return report(out_of_range("{}; check the inputs and weights (--allow-nonfinite accepts it)", what));
    }
  }
  return 0;
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Run a model on inputs from .npy or raw .bin files");
  cmd->add_option("model", o->model, "Model file (.onnx)")->required();
  cmd->add_option("--input,-i", o->inputs,
                  "NAME=FILE.npy, or NAME=FILE.bin[:TYPE] for raw little-endian data of the model's "
                  "input type (or TYPE: f32, i32, i64...; HHB writes ids as f32); repeatable");
  cmd->add_option("--shape", o->shapes, "Fix an input's shape, NAME=DIMS; repeatable");
  cmd->add_option("--output-dir,-o", o->output_dir, "Save each output as OUTPUT_NAME.npy here");
  cmd->add_flag("--no-optimize", o->no_optimize, "Run the graph as imported (no folding, no fusion)");
  cmd->add_flag("--no-fuse", o->no_fuse, "Optimize with cleanups only (keep ONNX ops, no fused ops)");
  add_quant_options(cmd, &o->quant, /*squad_calibration=*/false);
  cmd->add_option("--threads,-t", o->threads, "Worker threads (results are identical for a given count)")
      ->capture_default_str();
  cmd->add_flag("--reference", o->reference, "Use the portable reference kernels (slow; the correctness oracle)");
  cmd->add_flag("--stats", o->stats, "Print memory use (peak activations, weights) and kernel counts");
  cmd->add_option("--repeat", o->repeat, "Run N times and report the median time")->capture_default_str();
  cmd->add_flag("--dump-quantization-loss", o->dump_quantization_loss,
                "With --quantization-scheme: run the float32 model on the same inputs and print, per activation, "
                "cosine similarity, MSE and max error of the quantized one (the most damaged first, then the "
                "outputs); with --output-dir, all of them in DIR/quantization_loss.csv");
  cmd->add_option("--profile", o->profile,
                  "Time every kernel step: write a Chrome trace to FILE.json (Perfetto, chrome://tracing) and "
                  "print time per op and the slowest nodes (with --repeat N, runs 2..N; run 1 is warm-up)");
  cmd->add_option("--print", o->print, "How many leading values of each output to print")
      ->capture_default_str();
  cmd->add_flag("--allow-nonfinite", o->allow_nonfinite,
                "Exit with success even when an output holds NaN or infinity (default: an error, after "
                "printing and saving the outputs)");
  add_max_memory_option(cmd, &o->max_memory);
  cmd->callback([o] {
    const int rc = run_run(*o);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace ratel::cli
