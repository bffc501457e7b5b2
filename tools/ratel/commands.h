// Subcommands of the `ratel` command line. Each registers its options on a CLI11 subcommand
// and returns the process exit code when run.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/status.h"
#include "core/tensor.h"

namespace ratel::cli {

// Prints "ratel: error: <message>" to stderr and returns the exit code for it.
int report(const Status& status);

// "--shape NAME=DIMS" options into a name -> shape map.
Result<std::map<std::string, Shape>> parse_named_shapes(const std::vector<std::string>& items);

void add_inspect_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_ops_command(CLI::App& app);
void add_qa_command(CLI::App& app);

}  // namespace ratel::cli
