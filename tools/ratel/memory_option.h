// `--max-memory SIZE`, shared by the subcommands that load models or data (run, qa, inspect):
// the most tensor memory Ratel may hold at once (ratel::set_allocation_limit). Default: the
// machine's physical memory. An allocation past it is an error naming the tensor, not an OOM.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "core/parse.h"
#include "core/tensor.h"

namespace ratel::cli {

inline void add_max_memory_option(CLI::App* cmd, std::string* spec) {
  cmd->add_option("--max-memory", *spec,
                  fmt::format("Most tensor memory (weights, packed copies, activations, inputs) to hold at "
                              "once, e.g. 2G or 512M (powers of 1024); more is an error naming the tensor. "
                              "Default: physical memory ({:.1f} GiB)",
                              static_cast<double>(physical_memory_bytes()) / (1 << 30)));
}

// Applies --max-memory (no-op when not given).
inline Status apply_max_memory(const std::string& spec) {
  if (spec.empty()) return Status::Ok();
  auto bytes = parse_byte_size(spec);
  if (!bytes.ok()) return bytes.status().with_context("--max-memory");
  set_allocation_limit(*bytes);
  return Status::Ok();
}

}  // namespace ratel::cli
