#include "deploy/deploy.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>

#include <fmt/ranges.h>

#include "bundle/checksum.h"
#include "deploy/codegen.h"
#include "deploy/templates.h"
#include "frontend/onnx/onnx_importer.h"

namespace ratel::deploy {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

std::string describe_input(const ir::Value* v) {
  return fmt::format("{} {}", dtype_name(v->dtype), shape_str(v->shape));
}

std::string list_inputs(const ir::Graph& g) {
  std::string s;
  for (const ir::Value* v : g.inputs()) {
    s += fmt::format("{}{} ({})", s.empty() ? "" : ", ", v->name, describe_input(v));
  }
  return s;
}

// Checks --input-name / --input-shape against the imported graph (declared shapes, -1 where
// symbolic), fixes the given shapes and puts the inputs in the order the names give.
Status bind_inputs(ir::Graph& g, const DeployOptions& o) {
  // Names first: a wrong name is reported as such, not as a shape for an unknown input.
  if (!o.input_names.empty()) {
    std::vector<ir::Value*> ordered;
    std::set<std::string> seen;
    for (const std::string& name : o.input_names) {
      ir::Value* v = g.find_value(name);
      if (!v || std::find(g.inputs().begin(), g.inputs().end(), v) == g.inputs().end()) {
        return not_found("the model has no input '{}'; its inputs are: {}", name, list_inputs(g));
      }
      if (!seen.insert(name).second) return invalid_argument("input '{}' is named twice", name);
      ordered.push_back(v);
    }
    for (const ir::Value* v : g.inputs()) {
      if (!seen.count(v->name)) {
        return invalid_argument("the model's input '{}' ({}) is missing from the input names; its inputs are: {}",
                                v->name, describe_input(v), list_inputs(g));
      }
    }
    g.inputs() = std::move(ordered);
  }
  for (const auto& [name, shape] : o.input_shapes) {
    ir::Value* v = g.find_value(name);
    if (!v || std::find(g.inputs().begin(), g.inputs().end(), v) == g.inputs().end()) {
      return not_found("input shape given for '{}', but the model's inputs are: {}", name, list_inputs(g));
    }
    bool fits = !v->has_shape || v->shape.size() == shape.size();
    for (size_t d = 0; fits && v->has_shape && d < shape.size(); ++d) fits = v->shape[d] < 0 || v->shape[d] == shape[d];
    if (!fits) {
      return invalid_argument("input '{}' is given shape {}, the model expects {} (-1: any size)", name,
                              shape_str(shape), describe_input(v));
    }
    RATEL_RETURN_IF_ERROR(checked_numel(shape).status().with_context(fmt::format("input shape for '{}'", name)));
    v->shape = shape;
    v->has_shape = true;
  }
  return Status::Ok();
}

// Runs `argv` (no shell) with its output collected; error with the output's tail on failure.
Status run_command(const std::vector<std::string>& argv, std::string* output) {
  int fds[2];
  if (pipe(fds) != 0) return io_error("cannot create a pipe: {}", std::strerror(errno));
  const pid_t pid = fork();
  if (pid < 0) return io_error("cannot start '{}': {}", argv[0], std::strerror(errno));
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::fprintf(stderr, "cannot run '%s': %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) output->append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  std::string tail = output->size() > 600 ? "..." + output->substr(output->size() - 600) : *output;
  for (char& ch : tail) {
    if (ch == '\n') ch = '|';
  }
  return internal_error("'{}' failed (exit status {}): {}", fmt::join(argv, " "),
                        WIFEXITED(status) ? WEXITSTATUS(status) : -1, tail);
}

std::string substitute(std::string text, const std::map<std::string, std::string>& vars) {
  for (const auto& [key, value] : vars) {
    const std::string token = "@" + key + "@";
    for (size_t at = text.find(token); at != std::string::npos; at = text.find(token, at + value.size())) {
      text.replace(at, token.size(), value);
    }
  }
  return text;
}

}  // namespace

Status write_runtime_sources(const DeployOptions& o, const bundle::LoadedModel& loaded, DeployReport* report) {
  const auto t0 = Clock::now();
  const std::string source = fs::path(o.model).filename().string();
  RATEL_ASSIGN_OR_RETURN(GeneratedModel model, generate_model_c(loaded, source, o.board));
  report->fast_calls = model.fast_calls;
  report->reference_calls = model.reference_calls;
  const std::string postprocess = o.top5 && o.save ? "save_and_top5" : o.save ? "save" : "top5";
  const std::map<std::string, std::string> vars{
      {"POSTPROCESS", postprocess},
      {"TOP5", o.top5 ? "1" : "0"},
      {"SAVE", o.save ? "1" : "0"},
      {"GENERATED_NOTE", fmt::format("Written by ratel {} for {}; the same for every model but for the "
                                     "postprocessing switches below.", RATEL_VERSION, source)},
      {"BOARD", o.board},
      {"VERSION", RATEL_VERSION},
      {"RATEL_HOME", o.ratel_home},
  };
  auto write = [&](const std::string& name, const std::string& text) -> Status {
    RATEL_RETURN_IF_ERROR(write_text_file((fs::path(o.output_dir) / name).string(), text));
    report->files.push_back(name);
    return Status::Ok();
  };
  RATEL_RETURN_IF_ERROR(write("model.c", model.source));
  for (const TemplateFile& f : template_files()) {
    const std::string name = f.name == "Makefile.in" ? "Makefile" : std::string(f.name);
    RATEL_RETURN_IF_ERROR(write(name, substitute(std::string(f.text), vars)));
  }
  report->codegen_ms = ms_since(t0);
  return Status::Ok();
}

Status build_runtime(const std::string& dir, int jobs) {
  std::string output;
  return run_command({"make", "-C", dir, "-j", std::to_string(std::max(1, jobs))}, &output)
      .with_context("building ratel_runtime");
}

Result<std::string> locate_ratel_home(const std::string& board) {
  // riscv64 boards link the cross-built archive kept under the host's home (cmake/riscv_runtime.cmake).
  const bool riscv = is_riscv_board(board);
  const fs::path sub = riscv ? fs::path("targets/riscv64") : fs::path();
  auto complete = [](const fs::path& home) {
    return is_file(home / "lib/libratel_deploy.a") && is_file(home / "lib/ratel_deploy.mk") &&
           is_file(home / "include/ratel/ratel_kernels.h");
  };
  const std::string missing_riscv =
      riscv ? fmt::format(" (the riscv64 runtime archive for board {}: build Ratel with riscv64-linux-gnu-g++ and "
                          "clang-16 installed, e.g. RATEL_WITH_CROSS=1 scripts/install-deps.sh, then scripts/build.sh)",
                          board)
            : std::string();
  const char* env = std::getenv("RATEL_HOME");
  if (env && *env) {
    if (complete(fs::path(env) / sub)) return fs::absolute(fs::path(env) / sub).string();
    return not_found("RATEL_HOME={} does not hold {}lib/libratel_deploy.a, lib/ratel_deploy.mk and "
                     "include/ratel/ratel_kernels.h{}", env, riscv ? "targets/riscv64/" : "", missing_riscv);
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return io_error("cannot find the running executable (/proc/self/exe): {}: set RATEL_HOME", ec.message());
  const fs::path home = exe.parent_path().parent_path() / sub;
  if (complete(home)) return home.string();
  return not_found("cannot find Ratel's runtime archive: {} ({}beside this ratel binary) has no "
                   "lib/libratel_deploy.a, lib/ratel_deploy.mk or include/ratel/ratel_kernels.h{}; build the "
                   "target {}, or set RATEL_HOME to a Ratel build or install",
                   home.string(), riscv ? "targets/riscv64 " : "", missing_riscv,
                   riscv ? "ratel_riscv64_runtime" : "ratel_deploy_archive");
}

Result<DeployReport> deploy(const DeployOptions& o) {
  DeployReport report;
  if (o.stage >= Stage::kCodegen && o.ratel_home.empty()) {
    return invalid_argument("code generation needs the location of Ratel's runtime archive (ratel_home)");
  }
  std::error_code ec;
  report.source_bytes = fs::file_size(o.model, ec);
  if (ec) return not_found("model file '{}': {}", o.model, ec.message());

  auto t0 = Clock::now();
  auto import_graph = [&]() -> Result<std::unique_ptr<ir::Graph>> {
    onnx_frontend::ImportOptions import;
    import.output_names = o.output_names;
    RATEL_ASSIGN_OR_RETURN(auto graph, onnx_frontend::import_onnx_file(o.model, import));
    RATEL_RETURN_IF_ERROR(bind_inputs(*graph, o).with_context(o.model));
    return graph;
  };
  RATEL_ASSIGN_OR_RETURN(auto graph, import_graph());
  for (const ir::Value* v : graph->inputs()) {
    if (!report.input_order.empty()) report.input_order += ", ";
    report.input_order += v->name;
  }
  runtime::LoadOptions load;
  load.quantization_scheme = o.scheme;
  load.channel_quantization = o.channel_quantization;
  load.float_layers = o.float_layers;
  load.smooth_quant_alpha = o.smooth_quant_alpha;
  load.activation_bits = o.activation_bits;
  load.embedding_quantization = o.embedding_quantization;
  if (passes::parse_integer_scheme(o.scheme).ok()) {
    // As `ratel run`: calibrate the float32 model, then import again and quantize with the
    // measured ranges (the ranges are keyed by value name, which the second import repeats).
    if (!o.calibrate) {
      return invalid_argument("--quantization-scheme {} quantizes activations and needs calibration data "
                              "(-cd/--calibrate-dataset)", o.scheme);
    }
    auto fp32 = runtime::Model::from_graph(std::move(graph), runtime::LoadOptions{});
    if (!fp32.ok()) return fp32.status().with_context(o.model);
    // A pattern that selects nothing fails here, not after the calibration runs.
    for (const std::string& pattern : o.float_layers) {
      const auto& nodes = (*fp32)->graph().nodes();
      if (std::none_of(nodes.begin(), nodes.end(), [&](const auto& n) {
            return n->domain == "ratel" && n->op_type == "Dense" && passes::dense_layer_matches(*n, pattern);
          })) {
        return invalid_argument("--hybrid-layer-name '{}' matches no dense layer of {} (ratel inspect --optimized "
                                "--nodes lists them)", pattern, o.model);
      }
    }
    report.import_ms = ms_since(t0);
    const auto tc = Clock::now();
    RATEL_ASSIGN_OR_RETURN(load.activation_ranges, o.calibrate(*fp32));
    report.calibrate_ms = ms_since(tc);
    t0 = Clock::now();
    RATEL_ASSIGN_OR_RETURN(graph, import_graph());
  }
  auto model = runtime::Model::from_graph(std::move(graph), load);
  if (!model.ok()) return model.status().with_context(o.model);
  report.import_ms += ms_since(t0);

  fs::create_directories(o.output_dir, ec);
  if (ec) return io_error("cannot create the output folder '{}': {}", o.output_dir, ec.message());
  const auto t1 = Clock::now();
  RATEL_ASSIGN_OR_RETURN(std::string sha, bundle::sha256_file(o.model));
  bundle::Metadata meta{
      {bundle::meta::kRatelVersion, RATEL_VERSION},
      {bundle::meta::kSourceModel, fs::path(o.model).filename().string()},
      {bundle::meta::kSourceSha256, sha},
      {bundle::meta::kSourceBytes, std::to_string(report.source_bytes)},
      {bundle::meta::kBoard, o.board},
      {bundle::meta::kScheme, o.scheme},
      {bundle::meta::kInputs, bundle::describe_values((*model)->inputs())},
      {bundle::meta::kOutputs, bundle::describe_values((*model)->outputs())},
      {bundle::meta::kWeightsLayout, "raw"},
  };
  if (!o.requested_scheme.empty() && o.requested_scheme != o.scheme) {
    meta[bundle::meta::kSchemeRequested] = o.requested_scheme;
  }
  const std::string bundle_path = (fs::path(o.output_dir) / o.bundle_name).string();
  RATEL_RETURN_IF_ERROR(bundle::write_bundle((*model)->graph(), meta, bundle_path, &report.bundle));
  report.files.push_back(o.bundle_name);
  report.write_ms = ms_since(t1);
  if (o.stage < Stage::kCodegen) return report;

  RATEL_ASSIGN_OR_RETURN(bundle::LoadedModel loaded, bundle::load_model(bundle_path));
  RATEL_RETURN_IF_ERROR(write_runtime_sources(o, loaded, &report));
  if (o.stage < Stage::kDeploy) return report;

  const auto t2 = Clock::now();
  RATEL_RETURN_IF_ERROR(build_runtime(o.output_dir, o.make_jobs));
  report.files.push_back("ratel_runtime");
  report.make_ms = ms_since(t2);
  return report;
}

}  // namespace ratel::deploy
