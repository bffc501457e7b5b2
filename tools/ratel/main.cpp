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
      "Ratel: import, inspect and run transformer models (ONNX) on CPUs.\n"
      "Examples:\n"
      "  ratel inspect model.onnx\n"
      "  ratel run model.onnx --input input_ids=ids.npy --input input_mask=mask.npy "
      "--input segment_ids=seg.npy\n"
      "  ratel qa --model model.onnx --context-file ctx.txt --question \"Who won?\"\n"
      "  ratel ops"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "ratel 0.1.0");
  ratel::cli::add_inspect_command(app);
  ratel::cli::add_run_command(app);
  ratel::cli::add_qa_command(app);
  ratel::cli::add_ops_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
