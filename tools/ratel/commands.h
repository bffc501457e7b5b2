// Subcommands of the `ratel` command line. Each registers its options on a CLI11 subcommand
// and returns the process exit code when run.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/status.h"
#include "core/tensor.h"
#include "deploy/deploy.h"

namespace ratel::cli {

// Prints "ratel: error: <message>" to stderr and returns the exit code for it.
int report(const Status& status);

// "--shape NAME=DIMS" options into a name -> shape map.
Result<std::map<std::string, Shape>> parse_named_shapes(const std::vector<std::string>& items);

void add_inspect_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_ops_command(CLI::App& app);
void add_qa_command(CLI::App& app);
void add_compile_command(CLI::App& app);
void add_bundle_command(CLI::App& app);

// --postprocess top5 | save | save_and_top5 -> (top5, save).
Result<std::pair<bool, bool>> parse_postprocess(const std::string& mode);
// Runs the deploy flow (after checking the board) and prints what it wrote; the exit code.
int run_deploy_and_report(const deploy::DeployOptions& options, int verbose);

// HHB's command line, for `ratel` without a subcommand (hhb_mode.cpp).
struct HhbOptions {
  std::vector<std::string> model_files;
  std::string model_format;
  std::vector<std::string> input_names, input_shapes, output_names;  // ';'-separated lists
  std::string board = "x86_64";
  std::string scheme;  // empty: float32
  std::string calibrate_dataset;
  bool channel_quantization = false;
  bool no_quantize = false;
  std::string postprocess = "top5";
  bool without_preprocess = false;
  std::string output = "ratel_out";
  bool stage_import = false, stage_quantize = false, stage_codegen = false, stage_deploy = false;
  bool simulate = false;
  std::vector<std::string> simulate_data;
  bool generate_config = false;
  int verbose = 0;
  int jobs = 2;
  bool with_makefile = false, save_temps = false;
  bool fuse_flags[4] = {};     // HHB's --fuse-* switches (no effect)
  bool missing_flags[3] = {};  // HHB flags Ratel does not implement (an error)
};
// Registers HHB's options on the top-level app (recognizing the ones Ratel lacks, so they fail
// clearly).
std::shared_ptr<HhbOptions> add_hhb_options(CLI::App& app);
// argv with HHB's single-dash long options (-in, -is, -on, -cd, -sd) spelled as CLI11 reads them
// (unless argv[1] is a subcommand); an error for HHB's YAML config files.
Result<std::vector<std::string>> hhb_arguments(int argc, char** argv, const CLI::App& app);
// Runs HHB mode after parsing; the exit code.
int run_hhb(const HhbOptions& options, const CLI::App& app);

}  // namespace ratel::cli
