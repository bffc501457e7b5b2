// `ratel ops`: the operators Ratel supports (read from the op registry).
#include "commands.h"
#include "ops/op.h"

namespace ratel::cli {

void add_ops_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("ops", "List the supported operators (ONNX opsets 7 to 18)");
  cmd->callback([] {
    for (const ops::OpSpec& s : ops::OpRegistry::instance().all()) {
      fmt::print("{}{}\n", s.domain.empty() ? "" : std::string(s.domain) + ".", s.name);
    }
  });
}

}  // namespace ratel::cli
