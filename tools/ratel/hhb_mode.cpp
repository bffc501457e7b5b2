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
#include "quant_option.h"

namespace ratel::cli {

namespace {

constexpr const char* kGroup = "HHB-compatible deploy (when no subcommand is given)";
constexpr const char* kMissing = "HHB options Ratel does not implement yet (an error if given)";

// HHB's single-dash multi-letter options, which CLI11 would read as bundles of short flags.
constexpr std::pair<const char*, const char*> kShortForms[] = {
    {"-in", "--input-name"}, {"-is", "--input-shape"}, {"-on", "--output-name"},
    {"-cd", "--calibrate-dataset"}, {"-sd", "--simulate-data"},
};

// HHB's schemes, and those of them Ratel implements (passes/weight_quantization.cpp,
// passes/integer_quantization.cpp).
const char* const kHhbSchemes[] = {"int4_asym_w_sym", "uint8_asym", "int8_asym", "int8_sym", "int8_original",
                                   "int8_asym_w_sym", "int16_sym", "float16", "float16_w_int8", "bfloat16",
                                   "float32"};
const char* const kRatelSchemes[] = {"float32", "float16", "bfloat16", "float16_w_int8", "int8_asym",
                                     "int8_asym_w_sym", "int8_sym", "uint8_asym", "int16_sym"};

// HHB options that HhbOptions (commands.h) has no field for, filled by the parser of the one
// top-level app.
struct HhbQuantExtras {
  std::string calibrate_mode;
  std::vector<std::string> hybrid_layers;
  std::string hybrid_scheme;
  std::string embedding;  // Ratel's --embedding-quantization (empty: auto)
  std::string smooth_quant;  // Ratel's --smooth-quant (empty: auto)
  int activation_bits = 8;   // Ratel's --activation-bits
};
HhbQuantExtras& quant_extras() {
  static HhbQuantExtras extras;
  return extras;
}

std::vector<std::string> split_items(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const std::string& v : values) {
    for (std::string& item : split_list(v, ';')) out.push_back(std::move(item));
  }
  return out;
}

// The scheme asked for ("float32" when none), or an error for a scheme Ratel lacks.
// No --quantization-scheme: HHB's default for the board where it needs no calibration data
// (c906, c920, th1520: float16), else float32 (HHB's integer defaults, int8_asym for x86_ref and
// int8_asym_w_sym for c908 / c920v2, need -cd: with it they apply, without it a warning says so).
Result<std::string> resolve_scheme(const HhbOptions& o, std::vector<std::string>* warnings) {
  const std::string& s = o.scheme;
  if (s.empty() && !o.no_quantize) {
    const std::string board = deploy::canonical_board(o.board);
    if (board == "c906" || board == "c920") return std::string("float16");
    const std::string integer = board == "x86_64" ? "" : "int8_asym_w_sym";
    if (!integer.empty()) {
      if (!o.calibrate_dataset.empty()) return integer;
      warnings->push_back(fmt::format("no --quantization-scheme: HHB's default for --board {} is {}, which needs "
                                      "-cd/--calibrate-dataset; building float32", o.board, integer));
    }
  }
  if (s.empty() || s == "float32") return std::string("float32");
  if (o.no_quantize) return invalid_argument("--no-quantize and --quantization-scheme {} contradict each other", s);
  for (const char* known : kRatelSchemes) {
    if (s == known) return s;
  }
  for (const char* known : kHhbSchemes) {
    if (s == known) {
      return unsupported("--quantization-scheme {} is not implemented in Ratel; its schemes are {}", s,
                         fmt::join(kRatelSchemes, ", "));
    }
  }
  return invalid_argument("unknown --quantization-scheme '{}'; Ratel's schemes are {}", s,
                          fmt::join(kRatelSchemes, ", "));
}

// -cd: a folder of <input name>.npy files, a .npz or a .txt list (quant/calibration_data.h); the
// rest is refused before any work.
Status check_calibration_folder(const std::string& path) {
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(path, ec);
  const std::string ext = std::filesystem::path(path).extension().string();
  if (std::filesystem::is_directory(st) || (std::filesystem::is_regular_file(st) && (ext == ".npz" || ext == ".txt"))) {
    return Status::Ok();
  }
  const std::string what = "a folder holding <input name>.npy for every model input (N samples stacked, [N, ...]; "
                           "`ratel qa --save-features DIR` writes them), a .npz with those arrays, or a .txt list "
                           "(one sample per line: a .npy or float32 .bin file per input)";
  if (!std::filesystem::exists(st)) return not_found("-cd/--calibrate-dataset {}: no such file or folder; give {}", path, what);
  return invalid_argument("-cd/--calibrate-dataset {}: not a folder, .npz or .txt; give {}", path, what);
}

// The quantization options as `ratel run` takes them, checked for HHB's command line: HHB
// accepts calibration options that the scheme does not use (warnings here), not an integer
// scheme without calibration data.
Result<QuantOptions> quant_options(const HhbOptions& o, const std::string& scheme, std::vector<std::string>* warnings) {
  const HhbQuantExtras& x = quant_extras();
  QuantOptions q;
  q.scheme = scheme;
  q.channel_quantization = o.channel_quantization;
  q.calibrate_dataset = o.calibrate_dataset;
  if (!x.calibrate_mode.empty()) q.calibrate_mode = x.calibrate_mode;
  if (!x.embedding.empty()) q.embedding = x.embedding;
  if (!x.smooth_quant.empty()) q.smooth_quant = x.smooth_quant;
  q.activation_bits = x.activation_bits;
  if (!x.embedding.empty() && scheme == "float32") {
    warnings->push_back("--embedding-quantization " + x.embedding + " has no effect without a quantization scheme");
  }
  for (const std::string& v : x.hybrid_layers) {
    for (std::string& item : split_list(v, ';')) q.hybrid_layers.push_back(std::move(item));
  }
  if (!x.hybrid_scheme.empty() && x.hybrid_scheme != "float32") {
    return unsupported("--hybrid-quantization-scheme {}: Ratel keeps the --hybrid-layer-name layers float32 (give "
                       "float32 or leave it out)", x.hybrid_scheme);
  }
  const bool integer = is_integer_scheme(q);
  if (integer) {
    if (q.calibrate_dataset.empty()) {
      return invalid_argument("--quantization-scheme {} quantizes activations: give calibration samples with "
                              "-cd/--calibrate-dataset DIR (a folder of <input name>.npy files)", scheme);
    }
    RATEL_RETURN_IF_ERROR(check_calibration_folder(q.calibrate_dataset));
    RATEL_RETURN_IF_ERROR(quant::parse_calibrate_mode(q.calibrate_mode).status().with_context("--calibrate-mode"));
    RATEL_RETURN_IF_ERROR(check_quant_options(q));  // --smooth-quant's alpha and mode, --activation-bits
    return q;
  }
  if (!q.hybrid_layers.empty()) {
    return invalid_argument("--hybrid-layer-name is for the integer schemes (int8_asym, ...); '{}' is not one", scheme);
  }
  if (!q.calibrate_dataset.empty()) {
    warnings->push_back("--calibrate-dataset " + q.calibrate_dataset + " is not used: " + scheme +
                        " needs no calibration");
    q.calibrate_dataset.clear();
  }
  if (!x.calibrate_mode.empty()) {
    warnings->push_back("--calibrate-mode " + x.calibrate_mode + " is not used: " + scheme + " needs no calibration");
  }
  RATEL_RETURN_IF_ERROR(check_activation_bits(q));  // 8 is the only value without u8 activations
  if (!x.smooth_quant.empty()) {
    warnings->push_back("--smooth-quant has no effect: " + scheme + " does not quantize activations");
    q.smooth_quant = "auto";
  }
  if (q.channel_quantization && scheme != "float16_w_int8") {
    warnings->push_back("--channel-quantization has no effect: " + scheme + " has no integer weights");
  }
  return q;
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
  add("--board", o->board, "x86_64 (= HHB's x86_ref, this host); riscv64 Linux: c906, c920 (scalar kernels: their "
                           "vector unit is RVV 0.7.1), c908, c920v2 (RVV 1.0 kernels), th1520 (its C920 cores: no NPU "
                           "backend), cross-built and statically linked; anole, e907, rvm: not supported")
      ->capture_default_str();
  add("--quantization-scheme", o->scheme, std::string(kSchemeHelp) +
                                              ". Default: float16 for c906/c920/th1520 (as HHB), else float32 (HHB's integer defaults "
                                              "need -cd); applied from -Q on (-E writes the float32 bundle)");
  add("--calibrate-dataset", o->calibrate_dataset,
      "-cd: calibration samples for the integer schemes: a folder holding <input name>.npy for every model input, "
      "each [N, ...] (N samples; `ratel qa --save-features DIR` writes them), a .npz with those arrays, or a .txt "
      "list (one sample per line: a .npy or float32 .bin file per input)");
  add("--calibrate-mode", quant_extras().calibrate_mode,
      "How the integer schemes choose each activation range: maxmin (default), percentile (99.99%), kl_divergence, "
      "mse");
  app.add_flag("--channel-quantization", o->channel_quantization,
               "Integer weights (integer schemes, float16_w_int8): one scale per output channel (default: per tensor)")
      ->group(kGroup);
  add("--hybrid-layer-name", quant_extras().hybrid_layers,
      "Integer schemes: keep these dense layers float32; a name matches a layer when it is part of its output, "
      "weight or bias name (ratel inspect --optimized --nodes lists them); ';' or ',' separated, repeatable")
      ->delimiter(',');
  add("--hybrid-quantization-scheme", quant_extras().hybrid_scheme,
      "The --hybrid-layer-name layers' scheme: float32 (the only one Ratel implements)");
  add("--smooth-quant", quant_extras().smooth_quant, std::string("Ratel: ") + kSmoothQuantHelp + " (default: auto)");
  add("--activation-bits", quant_extras().activation_bits, std::string("Ratel: ") + kActivationBitsHelp + " (default: 8)");
  add("--embedding-quantization", quant_extras().embedding,
      "Ratel: with a quantization scheme, how the embedding tables are stored: auto (default: float16; bfloat16 "
      "with the bfloat16 scheme), int8 (a scale per 32 elements), float16, bfloat16 or float32 (as ratel run)");
  app.add_flag("--no-quantize", o->no_quantize, "Keep float32 (as --quantization-scheme float32)")->group(kGroup);
  add("--postprocess", o->postprocess, "What ratel_runtime does with outputs: top5, save or save_and_top5")
      ->capture_default_str();
  app.add_flag("--without-preprocess", o->without_preprocess,
               "Inputs are raw tensors (Ratel's runtime has no image preprocessing; this is always the case)")
      ->group(kGroup);
  add("-o,--output", o->output, "Output folder")->capture_default_str();
  app.add_flag("-E", o->stage_import, "Stage: import and optimize, write the bundle (model.rbm)")->group(kGroup);
  app.add_flag("-Q", o->stage_quantize, "Stage: -E, then quantize with --quantization-scheme (the bundle model.rbm)")
      ->group(kGroup);
  app.add_flag("-C", o->stage_codegen, "Stage: -Q plus model.c, the runtime's sources and a Makefile")->group(kGroup);
  app.add_flag("-D", o->stage_deploy, "Stage: -C plus the built ratel_runtime")->group(kGroup);
  app.add_flag("--simulate,-S", o->simulate, "Stage: -D, then run ratel_runtime on this host on --simulate-data (riscv64 boards: under qemu-user)")
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
  for (const char* opt : {"--quantization-loss-algorithm", "--quantization-loss-threshold", "-m,--data-mean",
                          "-s,--data-scale",
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
      const bool quant_loss = name.find("quantization") != std::string::npos;
      return report(unsupported("{} is not implemented in Ratel yet{}", name,
                                preprocess ? ": Ratel's runtime takes raw tensors (as HHB with --without-preprocess)"
                                : quant_loss
                                    ? ": `ratel qa --auto-hybrid-quantization` chooses the layers to keep float32 "
                                      "by SQuAD F1 and prints them as --hybrid-layer-name options for this command"
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
  if (Status s = deploy::check_board(d.board); !s.ok()) return report(s);

  std::vector<std::string> warnings;
  auto resolved = resolve_scheme(o, &warnings);
  if (!resolved.ok()) return report(resolved.status());
  std::string scheme = *resolved;
  if (d.stage == deploy::Stage::kImport && scheme != "float32") {
    // HHB's -E stops before quantization: its output is the float model.
    warnings.push_back("-E stops before quantization: the bundle holds float32 weights (-Q, -C or -D quantize with "
                       "--quantization-scheme " + scheme + ")");
    d.requested_scheme = scheme;
    scheme = "float32";
  }
  auto quant = quant_options(o, scheme, &warnings);
  if (!quant.ok()) return report(quant.status());
  apply_quant_options(*quant, &d);
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
  // A riscv64 runtime runs under qemu: missing qemu is an error before any work.
  auto emulator = deploy::board_emulator(deploy::canonical_board(d.board));
  if (o.simulate && !emulator.ok()) return report(emulator.status());
  for (const std::string& w : warnings) std::fprintf(stderr, "ratel: warning: %s\n", w.c_str());
  const int rc = run_deploy_and_report(d, o.verbose);
  if (rc != 0 || !o.simulate) return rc;
  std::vector<std::string> argv = *emulator;
  if (!argv.empty()) {
    std::fprintf(stderr, "ratel: --simulate: running the riscv64 ratel_runtime under %s -cpu %s (emulated: its "
                 "times say nothing about the board's speed)\n", argv[0].c_str(), argv[2].c_str());
  }
  argv.push_back((std::filesystem::path(o.output) / "ratel_runtime").string());
  argv.push_back((std::filesystem::path(o.output) / d.bundle_name).string());
  argv.insert(argv.end(), data.begin(), data.end());
  std::fflush(stdout);
  return run_program(argv);
}

}  // namespace ratel::cli
