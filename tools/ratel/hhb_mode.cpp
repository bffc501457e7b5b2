// `ratel` without a subcommand: HHB's command line. The seed tutorial's
//   hhb --model-file m.onnx --input-name "a;b;c" --input-shape '1 384;1 384;1 384'
//       --output-name "x;y" --board c920 --quantization-scheme float16
//       --postprocess save_and_top5 -D --without-preprocess
// is accepted as `ratel ...` with the same flags. Every HHB flag is recognized; the ones Ratel
// does not implement are an error or a warning naming them, never silently ignored.
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/ranges.h>

#include "commands.h"
#include "core/parse.h"
#include "deploy/deploy.h"

namespace ratel::cli {

namespace {

constexpr const char* kGroup = "HHB-compatible deploy (when no subcommand is given)";
constexpr const char* kMissing = "HHB options Ratel does not implement yet (an error if given)";

// HHB's single-dash multi-letter options, which CLI11 would read as bundles of short flags.
constexpr std::pair<const char*, const char*> kShortForms[] = {
    {"-in", "--input-name"}, {"-is", "--input-shape"}, {"-on", "--output-name"},
    {"-cd", "--calibrate-dataset"}, {"-sd", "--simulate-data"},
};

const char* const kHhbSchemes[] = {"int4_asym_w_sym", "uint8_asym", "int8_asym", "int8_sym", "int8_original",
                                   "int8_asym_w_sym", "int16_sym", "float16", "float16_w_int8", "bfloat16",
                                   "float32"};

std::vector<std::string> split_items(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const std::string& v : values) {
    for (std::string& item : split_list(v, ';')) out.push_back(std::move(item));
  }
  return out;
}

// The scheme the bundle holds, with a warning for float16; an error for anything else.
Result<std::string> resolve_scheme(const HhbOptions& o, std::vector<std::string>* warnings) {
  const std::string& s = o.scheme;
  if (s.empty() || s == "float32") return std::string("float32");
  if (o.no_quantize) return invalid_argument("--no-quantize and --quantization-scheme {} contradict each other", s);
  if (s == "float16") {
    warnings->push_back(
        "--quantization-scheme float16 is not implemented yet: the bundle keeps float32 weights and ratel_runtime "
        "computes in float32, so outputs match the float32 model, not HHB's float16 results (the bundle records "
        "float16 as requested)");
    return std::string("float32");
  }
  for (const char* known : kHhbSchemes) {
    if (s == known) {
      return unsupported("--quantization-scheme {} is not implemented yet: Ratel runs float32 (and float16 as "
                         "float32, with a warning); use --quantization-scheme float32", s);
    }
  }
  return invalid_argument("unknown --quantization-scheme '{}'; HHB's schemes are {}", s, fmt::join(kHhbSchemes, ", "));
}

// Runs a program with this process's stdout/stderr; returns its exit status.
int run_program(const std::vector<std::string>& argv) {
  const pid_t pid = fork();
  if (pid < 0) return report(io_error("cannot start '{}': {}", argv[0], std::strerror(errno)));
  if (pid == 0) {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    std::fprintf(stderr, "ratel: error: cannot run '%s': %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace

Result<std::vector<std::string>> hhb_arguments(int argc, char** argv, const CLI::App& app) {
  std::vector<std::string> args(argv, argv + argc);
  bool subcommand = false;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    subcommand |= argc > 1 && sub->get_name() == argv[1];
  }
  if (subcommand) return args;
  for (size_t i = 1; i < args.size(); ++i) {
    for (const auto& [short_form, long_form] : kShortForms) {
      if (args[i] == short_form) args[i] = long_form;
    }
    const std::string& a = args[i];
    std::string config;
    if (a == "--config-file" && i + 1 < args.size()) config = args[i + 1];
    if (a.rfind("--config-file=", 0) == 0) config = a.substr(14);
    const bool yaml = config.size() > 5 && (config.ends_with(".yaml") || config.ends_with(".yml"));
    if (yaml) {
      return unsupported("--config-file {}: HHB's YAML configuration files are not read; Ratel reads the TOML "
                         "file that `ratel --generate-config` writes (same option names)", config);
    }
  }
  return args;
}

std::shared_ptr<HhbOptions> add_hhb_options(CLI::App& app) {
  auto o = std::make_shared<HhbOptions>();
  auto add = [&](const std::string& names, auto& target, const std::string& help) {
    return app.add_option(names, target, help)->group(kGroup);
  };
  add("-f,--model-file", o->model_files, "The ONNX model (HHB accepts several files for other frameworks)");
  add("--model-format", o->model_format, "Input format: onnx (the only one Ratel reads)");
  add("--input-name", o->input_names, "-in: input names, ';'-separated, in the order ratel_runtime binds them");
  add("--input-shape", o->input_shapes, "-is: one shape per input name, dims separated by spaces: '1 384;1 384'");
  add("--output-name", o->output_names, "-on: outputs to keep, ';'-separated (default: the model's outputs)");
  add("--board", o->board, "x86_64 (= HHB's x86_ref, this host); c906, c908, c920, c920v2: bundle only (-E/-Q) "
                           "until Ratel's riscv64 runtime exists; th1520 (NPU), anole, e907, rvm: not supported")
      ->capture_default_str();
  add("--quantization-scheme", o->scheme, "float32 (default); float16 runs as float32 with a warning; the others "
                                          "(int8_asym, ...) are not implemented yet");
  add("--calibrate-dataset", o->calibrate_dataset, "-cd: calibration data (unused: nothing is quantized yet)");
  app.add_flag("--channel-quantization", o->channel_quantization, "Per-channel weights (unused: nothing is quantized)")
      ->group(kGroup);
  app.add_flag("--no-quantize", o->no_quantize, "Keep float32 (Ratel's only scheme today)")->group(kGroup);
  add("--postprocess", o->postprocess, "What ratel_runtime does with outputs: top5, save or save_and_top5")
      ->capture_default_str();
  app.add_flag("--without-preprocess", o->without_preprocess,
               "Inputs are raw tensors (Ratel's runtime has no image preprocessing; this is always the case)")
      ->group(kGroup);
  add("-o,--output", o->output, "Output folder")->capture_default_str();
  app.add_flag("-E", o->stage_import, "Stage: import and optimize, write the bundle (model.rbm)")->group(kGroup);
  app.add_flag("-Q", o->stage_quantize, "Stage: quantize (float32 only today: as -E, the scheme recorded)")
      ->group(kGroup);
  app.add_flag("-C", o->stage_codegen, "Stage: -Q plus model.c, the runtime's sources and a Makefile")->group(kGroup);
  app.add_flag("-D", o->stage_deploy, "Stage: -C plus the built ratel_runtime")->group(kGroup);
  app.add_flag("--simulate,-S", o->simulate, "Stage: -D, then run ratel_runtime on this host on --simulate-data")
      ->group(kGroup);
  add("--simulate-data", o->simulate_data, "-sd: input files for --simulate (';'-separated, or one .txt list)");
  app.add_flag("--generate-config", o->generate_config, "Write these options as TOML to OUTPUT/ratel.toml and stop")
      ->group(kGroup);
  app.set_config("--config-file", "", "Read options from a TOML file (what --generate-config writes)")->group(kGroup);
  app.add_flag("-v,--verbose", o->verbose, "Verbosity: -v prints how long each step took")->group(kGroup);
  app.add_option("-j,--jobs", o->jobs, "Parallel jobs for make (Ratel)")->group(kGroup)->capture_default_str();
  app.add_flag("--with-makefile", o->with_makefile, "Accepted: Ratel always writes a Makefile")->group(kGroup);
  app.add_flag("--save-temps", o->save_temps, "Accepted, no effect: Ratel keeps no temporary files")->group(kGroup);
  const char* const fuse[] = {"--fuse-conv-relu", "--fuse-reshape-dense", "--fuse-clip", "--fuse-zp2bias"};
  for (size_t i = 0; i < 4; ++i) {
    app.add_flag(fuse[i], o->fuse_flags[i], "Accepted, no effect: Ratel's optimizer always runs its fusions (layer "
                                            "norm, GELU, dense, attention)")
        ->group(kGroup);
  }
  // Recognized so that using one is a clear error, not "unknown option".
  for (const char* opt : {"--calibrate-mode", "--quantization-loss-algorithm", "--quantization-loss-threshold",
                          "--hybrid-quantization-scheme", "--hybrid-layer-name", "-m,--data-mean", "-s,--data-scale",
                          "-r,--data-resize", "--pixel-format", "--model-save", "--memory-type", "--indicator",
                          "--output-type"}) {
    app.add_option(std::string(opt), "not implemented")->group(kMissing)->expected(0, 1)->allow_extra_args(false);
  }
  const char* const missing[] = {"--auto-hybrid-quantization", "--dump-quantization-loss", "--dynamic-shape"};
  for (size_t i = 0; i < 3; ++i) app.add_flag(missing[i], o->missing_flags[i], "not implemented")->group(kMissing);
  return o;
}

int run_hhb(const HhbOptions& o, const CLI::App& app) {
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_group() == kMissing && opt->count() > 0) {
      const std::string name = opt->get_name();
      const bool preprocess = name.find("data-") != std::string::npos || name == "--pixel-format";
      return report(unsupported("{} is not implemented in Ratel yet{}", name,
                                preprocess ? ": Ratel's runtime takes raw tensors (as HHB with --without-preprocess)"
                                           : name.find("quant") != std::string::npos || name == "--calibrate-mode"
                                                 ? ": Ratel runs float32 only"
                                                 : ""));
    }
  }
  if (o.generate_config) {
    std::error_code ec;
    std::filesystem::create_directories(o.output, ec);
    const std::string path = o.output + "/ratel.toml";
    // The options given (defaults left out, so the not-implemented ones stay unset), minus this one.
    std::istringstream given(app.config_to_str(/*default_also=*/false, /*write_description=*/true));
    std::ofstream f(path);
    f << "# ratel options (HHB-compatible mode); run them with: ratel --config-file " << path << "\n";
    for (std::string line; std::getline(given, line);) {
      if (line.rfind("generate-config", 0) != 0) f << line << "\n";
    }
    if (!f) return report(io_error("cannot write '{}'", path));
    fmt::print("ratel: wrote {} (read it back with --config-file {})\n", path, path);
    return 0;
  }
  if (o.model_files.empty()) {
    return report(invalid_argument("no model: give -f/--model-file MODEL.onnx and a stage (-E, -Q, -C, -D), or a "
                                   "subcommand (ratel compile MODEL -o DIR); `ratel --help` explains both"));
  }
  if (o.model_files.size() > 1) {
    return report(unsupported("{} model files given: Ratel reads one ONNX file (HHB's extra files are for other "
                              "frameworks)", o.model_files.size()));
  }
  if (!o.model_format.empty() && o.model_format != "onnx") {
    return report(unsupported("--model-format {}: Ratel reads ONNX models only", o.model_format));
  }
  const int stages = o.stage_import + o.stage_quantize + o.stage_codegen + o.stage_deploy + o.simulate;
  if (stages != 1) {
    return report(invalid_argument("choose one stage: -E (import), -Q (quantize), -C (generate code), -D (build "
                                   "the runtime) or --simulate/-S (build and run here); {} given", stages));
  }
  deploy::DeployOptions d;
  d.model = o.model_files[0];
  d.output_dir = o.output;
  d.board = o.board;
  d.make_jobs = o.jobs;
  d.stage = o.stage_import     ? deploy::Stage::kImport
            : o.stage_quantize ? deploy::Stage::kQuantize
            : o.stage_codegen  ? deploy::Stage::kCodegen
                               : deploy::Stage::kDeploy;
  if (Status s = deploy::check_board(d.board, d.stage); !s.ok()) return report(s);

  std::vector<std::string> warnings;
  auto scheme = resolve_scheme(o, &warnings);
  if (!scheme.ok()) return report(scheme.status());
  d.scheme = *scheme;
  d.requested_scheme = o.scheme;
  if (!o.calibrate_dataset.empty()) {
    warnings.push_back("--calibrate-dataset " + o.calibrate_dataset + " is not used: " + d.scheme +
                       " needs no calibration");
  }
  if (o.channel_quantization) warnings.push_back("--channel-quantization has no effect: nothing is quantized");
  if (o.save_temps) warnings.push_back("--save-temps has no effect: Ratel keeps no temporary files");
  for (const char* flag : {"--fuse-conv-relu", "--fuse-reshape-dense", "--fuse-clip", "--fuse-zp2bias"}) {
    if (app.count(flag) > 0) {
      warnings.push_back(std::string(flag) + " has no effect: Ratel always runs its own fusions");
    }
  }
  if (!o.without_preprocess && d.stage >= deploy::Stage::kCodegen) {
    warnings.push_back("ratel_runtime has no image preprocessing: it takes raw .bin/.npy tensors, as HHB's runtime "
                       "built --without-preprocess");
  }

  const std::vector<std::string> names = split_items(o.input_names);
  std::vector<Shape> shapes;
  for (const std::string& item : split_items(o.input_shapes)) {
    auto s = parse_shape(item);
    if (!s.ok()) return report(s.status().with_context(fmt::format("--input-shape '{}'", item)));
    shapes.push_back(std::move(s).value());
  }
  if (!shapes.empty() && shapes.size() != names.size()) {
    return report(invalid_argument("{} input names and {} input shapes: --input-shape needs one shape per "
                                   "--input-name, ';'-separated", names.size(), shapes.size()));
  }
  d.input_names = names;
  for (size_t i = 0; i < shapes.size(); ++i) d.input_shapes[names[i]] = shapes[i];
  d.output_names = split_items(o.output_names);
  auto post = parse_postprocess(o.postprocess);
  if (!post.ok()) return report(post.status());
  std::tie(d.top5, d.save) = *post;
  std::vector<std::string> data = split_items(o.simulate_data);
  if (o.simulate && data.empty()) {
    return report(invalid_argument("--simulate needs input files: --simulate-data/-sd 'IN0.bin;IN1.bin;...' or one "
                                   ".txt list"));
  }
  for (const std::string& w : warnings) std::fprintf(stderr, "ratel: warning: %s\n", w.c_str());
  const int rc = run_deploy_and_report(d, o.verbose);
  if (rc != 0 || !o.simulate) return rc;
  std::vector<std::string> argv{(std::filesystem::path(o.output) / "ratel_runtime").string(),
                                (std::filesystem::path(o.output) / d.bundle_name).string()};
  argv.insert(argv.end(), data.begin(), data.end());
  std::fflush(stdout);
  return run_program(argv);
}

}  // namespace ratel::cli
