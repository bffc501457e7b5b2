// `ratel compile MODEL -o DIR`: the native form of the HHB-compatible deploy (`ratel -D`): the
// bundle, model.c, the runtime's sources, a Makefile and the built ratel_runtime in DIR.
#include <filesystem>

#include "commands.h"
#include "core/parse.h"
#include "deploy/deploy.h"
#include "quant_option.h"

namespace ratel::cli {

namespace {

std::string megabytes(size_t bytes) { return fmt::format("{:.1f} MB", static_cast<double>(bytes) / 1e6); }

struct CompileOptions {
  std::string model;
  std::string output = "ratel_out";
  std::vector<std::string> shapes;
  std::vector<std::string> outputs;
  std::string board = "x86_64";
  std::string postprocess = "top5";
  std::string stage = "build";
  int jobs = 2;
  int verbose = 0;
  QuantOptions quant;
};

}  // namespace

Result<std::pair<bool, bool>> parse_postprocess(const std::string& mode) {
  if (mode == "top5") return std::pair{true, false};
  if (mode == "save") return std::pair{false, true};
  if (mode == "save_and_top5") return std::pair{true, true};
  return invalid_argument("--postprocess '{}': expected top5, save or save_and_top5", mode);
}

int run_deploy_and_report(const deploy::DeployOptions& options, int verbose) {
  if (Status s = deploy::check_board(options.board); !s.ok()) return report(s);
  if (const std::string note = deploy::board_note(options.board); !note.empty()) {
    std::fprintf(stderr, "ratel: note: %s\n", note.c_str());
  }
  deploy::DeployOptions o = options;
  o.board = deploy::canonical_board(options.board);
  if (o.stage >= deploy::Stage::kCodegen) {
    auto home = deploy::locate_ratel_home(o.board);
    if (!home.ok()) return report(home.status());
    o.ratel_home = *home;
  }
  auto r = deploy::deploy(o);
  if (!r.ok()) return report(r.status());
  for (const std::string& note : r->notes) std::fprintf(stderr, "ratel: warning: %s\n", note.c_str());
  const std::filesystem::path dir(o.output_dir);
  fmt::print("ratel: wrote {}/ for board {} ({}), inputs in order: {}\n", o.output_dir, o.board, o.scheme,
             r->input_order);
  fmt::print("  {:<14} {:>9}  optimized graph and weights (source {}: {})\n", o.bundle_name,
             megabytes(r->bundle.file_bytes), std::filesystem::path(o.model).filename().string(),
             megabytes(r->source_bytes));
  if (o.stage >= deploy::Stage::kCodegen) {
    fmt::print("  {:<14} {:>9}  the graph as kernel calls: {} fast, {} reference\n", "model.c", "",
               r->fast_calls, r->reference_calls);
    fmt::print("  {:<14} {:>9}  main.c io.c io.h process.c process.h Makefile\n", "sources", "");
  }
  if (o.stage >= deploy::Stage::kDeploy) {
    fmt::print("  {:<14} {:>9}  built against {}/lib/libratel_deploy.a\n", "ratel_runtime", "", o.ratel_home);
    if (deploy::is_riscv_board(o.board)) {
      // A static riscv64 executable: the folder (or ratel_runtime + the bundle) goes to the board.
      fmt::print("run on the board ({}): ./ratel_runtime {} IN0.bin IN1.bin ...   (--loop N, --threads N)\n",
                 o.board, o.bundle_name);
      auto emulator = deploy::board_emulator(o.board);
      if (emulator.ok()) {
        fmt::print("or here, emulated: cd {} && {} {} ./ratel_runtime {} IN0.bin ...\n", o.output_dir,
                   (*emulator)[0], fmt::format("{} {}", (*emulator)[1], (*emulator)[2]), o.bundle_name);
      }
    } else {
      fmt::print("run: cd {} && ./ratel_runtime {} IN0.bin IN1.bin ...   (--loop N, --threads N)\n", o.output_dir,
                 o.bundle_name);
    }
  }
  if (verbose > 0) {
    fmt::print("times: import + optimize {:.0f} ms{}, bundle {:.0f} ms, code {:.0f} ms, make {:.0f} ms\n",
               r->import_ms, r->calibrate_ms > 0 ? fmt::format(", calibrate {:.0f} ms", r->calibrate_ms) : "",
               r->write_ms, r->codegen_ms, r->make_ms);
  }
  return 0;
}

void add_compile_command(CLI::App& app) {
  auto o = std::make_shared<CompileOptions>();
  CLI::App* cmd = app.add_subcommand(
      "compile",
      "Compile a model for deployment: bundle (model.rbm), model.c, the runtime's sources, a Makefile\n"
      "and the built ratel_runtime in one folder (what `ratel -D` does with HHB's flags). Example:\n"
      "  ratel compile model.onnx -o out --postprocess save_and_top5\n"
      "  cd out && ./ratel_runtime model.rbm input_ids.bin input_mask.bin segment_ids.bin\n"
      "Quantized: --quantization-scheme int8_asym --calibrate-dataset DIR (as for ratel run).");
  cmd->add_option("model", o->model, "Model file (.onnx)")->required();
  cmd->add_option("--output,-o", o->output, "Output folder")->capture_default_str();
  cmd->add_option("--shape", o->shapes, "Fix an input's shape, NAME=DIMS; repeatable");
  cmd->add_option("--output-name", o->outputs, "Keep these outputs (any value name), in this order; repeatable");
  cmd->add_option("--board", o->board, "Target: x86_64 (this host), or a riscv64 board (cross-built, static): c906, c920, th1520 "
                  "(scalar), c908, c920v2 (RVV 1.0)")
      ->capture_default_str();
  cmd->add_option("--postprocess", o->postprocess, "What ratel_runtime does with outputs: top5, save or save_and_top5")
      ->capture_default_str();
  cmd->add_option("--stage", o->stage, "Stop after: bundle, code (sources and Makefile) or build")
      ->capture_default_str();
  add_quant_options(cmd, &o->quant, /*squad_calibration=*/false);
  cmd->add_option("-j,--jobs", o->jobs, "Parallel jobs for make")->capture_default_str();
  cmd->add_flag("-v,--verbose", o->verbose, "Print how long each step took");
  cmd->callback([o] {
    deploy::DeployOptions d;
    d.model = o->model;
    d.output_dir = o->output;
    d.board = o->board;
    d.output_names = o->outputs;
    d.make_jobs = o->jobs;
    auto shapes = parse_named_shapes(o->shapes);
    if (!shapes.ok()) throw CLI::RuntimeError(report(shapes.status()));
    d.input_shapes = *shapes;
    auto post = parse_postprocess(o->postprocess);
    if (!post.ok()) throw CLI::RuntimeError(report(post.status()));
    std::tie(d.top5, d.save) = *post;
    if (Status s = check_quant_options(o->quant); !s.ok()) throw CLI::RuntimeError(report(s));
    apply_quant_options(o->quant, &d);
    if (o->stage == "bundle") {
      d.stage = deploy::Stage::kImport;
    } else if (o->stage == "code") {
      d.stage = deploy::Stage::kCodegen;
    } else if (o->stage == "build") {
      d.stage = deploy::Stage::kDeploy;
    } else {
      throw CLI::RuntimeError(report(invalid_argument("--stage '{}': expected bundle, code or build", o->stage)));
    }
    const int rc = run_deploy_and_report(d, o->verbose);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace ratel::cli
