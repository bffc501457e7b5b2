// The deploy flow behind `ratel compile` and the HHB-compatible `ratel -E/-Q/-C/-D`: import and
// optimize an ONNX model, write the bundle, generate model.c, write the folder's sources and
// Makefile, build ratel_runtime.
//
//   out/model.rbm        the optimized graph and weights (docs/BUNDLE.md)
//   out/model.c          the graph as kernel calls (generated; docs/DEPLOY.md)
//   out/main.c, io.c, io.h, process.c, process.h    the runtime program (fixed sources)
//   out/Makefile         `make` rebuilds ratel_runtime against libratel_deploy.a
//   out/ratel_runtime    the program (stage kDeploy)
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bundle/bundle.h"
#include "core/status.h"
#include "passes/passes.h"
#include "runtime/model.h"

namespace ratel::deploy {

enum class Stage {
  kImport,    // -E: import, optimize, write the bundle
  kQuantize,  // -Q: the same, quantized with `scheme` (the CLI gives -E float32)
  kCodegen,   // -C: + model.c, the runtime's sources and the Makefile
  kDeploy,    // -D: + build ratel_runtime with make
};

struct DeployOptions {
  std::string model;                          // .onnx
  std::vector<std::string> input_names;       // optional; when given, every model input, in the order to bind
  std::map<std::string, Shape> input_shapes;  // by input name
  std::vector<std::string> output_names;      // optional: the outputs to keep, in order
  std::string board = "x86_64";
  // Quantization at import, as runtime::LoadOptions' fields of the same meaning (`ratel run
  // --quantization-scheme` loads the same graph): the scheme the bundle holds (float32, the
  // weight-only float16, bfloat16, float16_w_int8, or an integer scheme), per-channel integer
  // weights, the dense layers an integer scheme keeps float32, and how embedding tables are
  // stored with a scheme.
  std::string scheme = "float32";
  std::string requested_scheme;               // what the user asked for, if different (recorded)
  bool channel_quantization = false;
  std::vector<std::string> float_layers;
  float smooth_quant_alpha = 0.0f;
  int activation_bits = 8;  // integer schemes with u8 activations: 8 or 7 (LoadOptions)
  std::string embedding_quantization = "auto";  // with a scheme: the embedding tables' storage
  // Integer schemes: measures the activation ranges on the float32 model, imported and bound
  // exactly as the bundle's (the CLI runs quant::calibrate on its calibration samples; deploy
  // itself does not depend on the calibration library). Required for them.
  std::function<Result<passes::ActivationRanges>(const std::shared_ptr<runtime::Model>& fp32)> calibrate;
  bool top5 = true;                           // runtime postprocessing
  bool save = false;
  bool without_preprocess = true;             // recorded; Ratel's runtime takes raw tensors only
  std::string output_dir = "ratel_out";
  std::string bundle_name = "model.rbm";
  Stage stage = Stage::kDeploy;
  std::string ratel_home;                     // holds lib/libratel_deploy.a and include/ratel (kCodegen+)
  int make_jobs = 2;
};

struct DeployReport {
  std::vector<std::string> files;       // written, relative to output_dir
  bundle::WriteStats bundle;
  size_t source_bytes = 0;              // the .onnx file
  double import_ms = 0;                 // ONNX import + optimization (+ quantization)
  double calibrate_ms = 0;              // integer schemes: the float32 model on the samples
  double write_ms = 0;                  // bundle
  double codegen_ms = 0;
  double make_ms = 0;
  int fast_calls = 0, reference_calls = 0;
  std::vector<std::string> notes;       // things the user should know (printed as warnings)
  std::string input_order;              // "input_ids, input_mask, segment_ids"
};

// HHB's boards and what Ratel does for each: x86_64 (HHB's x86_ref means the same here) builds
// for this host; the riscv64 CPUs (c906, c920: scalar rv64gc kernels; c908, c920v2: RVV 1.0
// kernels where the CPU proves it has them) are cross-built and statically linked; th1520 runs on
// its C920 cores (board_note says so); anole, e907 and rvm are refused, saying what to use.
Status check_board(const std::string& board);
// The board name recorded in the bundle and model.c: "x86_64" for x86_ref, "c920" for th1520.
std::string canonical_board(const std::string& board);
// What the user should know about a board ("" if nothing): th1520's NPU is not used.
std::string board_note(const std::string& board);
// c906, c908, c920, c920v2 (after canonical_board).
bool is_riscv_board(const std::string& board);
// The command prefix that runs the board's ratel_runtime on this host: none for x86_64;
// qemu-user for riscv64 boards (-cpu rv64,v=false for c906/c920: upstream qemu has no RVV 0.7.1
// and their runtime is scalar; rv64,v=true,vlen=128 for c908/c920v2). Error if qemu is missing.
Result<std::vector<std::string>> board_emulator(const std::string& board);

// Runs the flow up to `options.stage`. Errors name the file, input, output or command at fault.
Result<DeployReport> deploy(const DeployOptions& options);

// The steps after the bundle, for callers that start from a bundle rather than an ONNX file
// (tests): model.c and the fixed sources into options.output_dir, then `make` there.
Status write_runtime_sources(const DeployOptions& options, const bundle::LoadedModel& loaded, DeployReport* report);
Status build_runtime(const std::string& dir, int jobs);

// Where Ratel's runtime archive and headers for `board` are: $RATEL_HOME if set, else the folder
// above the running executable's bin/ (a build tree or an install prefix); for riscv64 boards its
// targets/riscv64/ (the cross-built archive). Error if it lacks lib/libratel_deploy.a,
// include/ratel/ratel_kernels.h or lib/ratel_deploy.mk, saying how to build them.
Result<std::string> locate_ratel_home(const std::string& board = "x86_64");

}  // namespace ratel::deploy
