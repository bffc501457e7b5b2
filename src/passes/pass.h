// Graph optimization passes: each pass rewrites the graph in place and reports how many changes
// it made. Passes run after import + shape inference; the pass manager re-infers shapes and
// re-verifies the graph after every pass, so a pass only has to keep the graph well-formed and
// may leave new values untyped.
//
// One pass per file. A fusion pass documents the pattern it matches at the top of its file and
// checks, for every node it removes, that no one else uses its outputs (single consumer) and that
// the parameters it folds are constants.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"

namespace ratel::passes {

class Pass {
 public:
  virtual ~Pass() = default;
  virtual const char* name() const = 0;
  // One line on what the pass does, for `ratel inspect --optimized`.
  virtual const char* summary() const = 0;
  // Rewrites `graph`; returns the number of rewrites (0 = nothing to do).
  virtual Result<int> run(ir::Graph& graph) = 0;
};

struct PassReport {
  std::string pass;
  int changes = 0;
  size_t nodes_before = 0;
  size_t nodes_after = 0;
};

struct OptimizeOptions {
  bool fuse = true;  // false: only cleanups (folding, dead code) — the graph keeps ONNX ops
};

// The default pipeline: cleanups, then fusions, then cleanups again.
std::vector<std::unique_ptr<Pass>> default_passes(const OptimizeOptions& options);

// Runs `passes` in order (re-inferring and verifying after each). Fails if a pass breaks the graph.
Status run_passes(ir::Graph& graph, const std::vector<std::unique_ptr<Pass>>& passes,
                  std::vector<PassReport>* report);
Status optimize(ir::Graph& graph, const OptimizeOptions& options, std::vector<PassReport>* report);

}  // namespace ratel::passes
