// ratel: import, inspect and run transformer models on CPUs.
#include <cstdio>

#include "commands.h"
#include "core/parse.h"

namespace ratel::cli {

int report(const Status& status) {
  std::fprintf(stderr, "ratel: error: %s\n", status.message().c_str());
  return status.code() == StatusCode::kInternal ? 3 : 1;
}

Result<std::map<std::string, Shape>> parse_named_shapes(const std::vector<std::string>& items) {
  std::map<std::string, Shape> shapes;
  for (const std::string& item : items) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return invalid_argument("--shape '{}' must look like NAME=DIMS, e.g. input_ids=1,384", item);
    }
    auto s = parse_shape(item.substr(eq + 1));
    if (!s.ok()) return s.status().with_context(fmt::format("--shape '{}'", item));
    shapes[item.substr(0, eq)] = std::move(s).value();
  }
  return shapes;
}

}  // namespace ratel::cli

int main(int argc, char** argv) {
  CLI::App app{
      "Ratel: import, inspect, run and deploy transformer models (ONNX) on CPUs.\n"
      "Two ways to use it:\n"
      "  1. Subcommands:\n"
      "    ratel inspect model.onnx\n"
      "    ratel run model.onnx --input input_ids=ids.npy --input input_mask=mask.npy "
      "--input segment_ids=seg.npy\n"
      "    ratel qa --model model.onnx --context-file ctx.txt --question \"Who won?\"\n"
      "    ratel compile model.onnx -o out          (bundle + generated C + built ratel_runtime)\n"
      "    ratel bundle out/model.rbm               (what a bundle holds, load times)\n"
      "    ratel ops\n"
      "  2. HHB's command line (no subcommand): the same flags as T-Head's hhb, e.g.\n"
      "    ratel --model-file model.onnx --input-name \"input_ids;input_mask;segment_ids\" \\\n"
      "          --input-shape '1 384;1 384;1 384' --output-name \"output_start_logits;output_end_logits\" \\\n"
      "          --board x86_64 --quantization-scheme float32 --postprocess save_and_top5 -D --without-preprocess\n"
      "    writes ratel_out/ (model.rbm, model.c, main.c, io.c/h, process.c/h, Makefile, ratel_runtime); run it with\n"
      "    ratel_out/ratel_runtime ratel_out/model.rbm input_ids.bin input_mask.bin segment_ids.bin\n"
      "    With --board c920 (the seed's board; also c906, c908, c920v2, th1520) ratel_runtime is a static riscv64\n"
      "    executable to copy to the board (here: qemu-riscv64 -cpu rv64,v=false ratel_out/ratel_runtime ...)."};
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", "ratel 0.1.0");
  auto hhb = ratel::cli::add_hhb_options(app);
  ratel::cli::add_inspect_command(app);
  ratel::cli::add_run_command(app);
  ratel::cli::add_qa_command(app);
  ratel::cli::add_ops_command(app);
  ratel::cli::add_compile_command(app);
  ratel::cli::add_bundle_command(app);
  auto args = ratel::cli::hhb_arguments(argc, argv, app);
  if (!args.ok()) return ratel::cli::report(args.status());
  std::vector<const char*> cargs;
  for (const std::string& a : *args) cargs.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(cargs.size()), cargs.data());
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (app.get_subcommands().empty()) return ratel::cli::run_hhb(*hhb, app);
  return 0;
}
