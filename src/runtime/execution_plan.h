// The fast execution path: a model compiled once into a plan (a kernel per node, weights packed,
// every activation placed in one arena by the memory planner), run by any number of sessions,
// each with its own arena and thread pool.
//
// Reshape-like nodes (Reshape, Flatten, Squeeze, Unsqueeze, Identity) cost nothing: their output
// is the input's buffer with a new shape. Kernels that can write over a dead input do so.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <memory>
#include <span>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "cpu/thread_pool.h"
#include "ir/graph.h"
#include "runtime/kernel.h"

namespace ratel::runtime {

struct PlanStats {
  size_t arena_bytes = 0;        // peak activation memory of one session
  size_t unplanned_bytes = 0;    // what one buffer per activation would take
  size_t weight_bytes = 0;       // constants, including packed copies
  int fast_steps = 0;            // nodes run by fast kernels
  int reference_steps = 0;       // nodes left to reference kernels
  std::map<std::string, int> reference_ops;  // which ops those were ("Add", "ratel.Dense")
  int aliased_values = 0;        // outputs that share their input's buffer
};

class ExecutionPlan {
 public:
  // `graph` must be inferred (and should be optimized) and must outlive the plan.
  // `release` (optional) is called for each constant as soon as every kernel reading it has made
  // its own copy, so the caller can free the original while the next weights are packed.
  using ReleaseFn = std::function<void(const ir::Value&)>;
  static Result<std::shared_ptr<const ExecutionPlan>> build(const ir::Graph& graph,
                                                          const ReleaseFn& release = nullptr);

  const PlanStats& stats() const { return stats_; }

  // Where a value's bytes live at run time.
  enum class Home : uint8_t { kNone, kConstant, kInput, kArena };
  struct Slot {
    Home home = Home::kNone;
    size_t offset = 0;     // kArena: byte offset; kInput: graph input index
  };
  // What a step does: run its kernel, nothing (a view whose output aliases its input), or copy
  // (a view op whose input lives outside the arena, or whose output is a graph output).
  enum class Action : uint8_t { kKernel, kAlias, kCopy };
  struct Step {
    const ir::Node* node;
    std::unique_ptr<Kernel> kernel;
    Action action = Action::kKernel;
  };

  const ir::Graph& graph() const { return *graph_; }
  const std::vector<Step>& steps() const { return steps_; }
  const std::vector<Slot>& slots() const { return slots_; }  // by value id

 private:
  const ir::Graph* graph_ = nullptr;
  std::vector<Step> steps_;
  std::vector<Slot> slots_;
  PlanStats stats_;
};

// One kernel step of a profiled run (PlanExecutor::set_profiling): wall time on the steady clock,
// in nanoseconds from the run's start.
struct StepTime {
  const ir::Node* node = nullptr;
  const char* implementation = "";  // Kernel::implementation(): "f32 gemm 14x32 avx512", ...
  int64_t start_ns = 0, end_ns = 0;
};

// One session's state for a plan: the arena, a tensor view per value, the thread pool.
class PlanExecutor {
 public:
  static Result<std::unique_ptr<PlanExecutor>> create(std::shared_ptr<const ExecutionPlan> plan,
                                                      int threads);
  // inputs: one per graph input with the inferred dtype/shape. Outputs are views into the arena,
  // valid until the next run.
  Status run(std::span<const Tensor> inputs, std::vector<Tensor>* outputs);
  int threads() const { return pool_ ? pool_->num_threads() : 1; }
  // See ExecContext::active_rows. 0 computes every row.
  void set_active_rows(int64_t seq_len, int64_t rows) {
    seq_len_ = seq_len;
    active_rows_ = rows;
  }
  // Called before each kernel step with its node and inputs (calibration, debugging); empty:
  // none. Costs nothing when unset.
  void set_observer(StepObserver observer) { observer_ = std::move(observer); }
  // Times every kernel step of the following runs (two clock reads per step); profile() holds
  // the last run's steps in execution order. Off by default.
  void set_profiling(bool on) {
    profiling_ = on;
    profile_.clear();
  }
  const std::vector<StepTime>& profile() const { return profile_; }

 private:
  StepObserver observer_;
  bool profiling_ = false;
  std::vector<StepTime> profile_;
  int64_t seq_len_ = 0;
  int64_t active_rows_ = 0;
  std::shared_ptr<const ExecutionPlan> plan_;
  std::shared_ptr<Storage> arena_;
  std::shared_ptr<Storage> workspace_;  // scratch shared by the steps (Kernel::workspace_bytes)
  std::vector<Tensor> values_;  // by value id
  std::unique_ptr<cpu::ThreadPool> pool_;
  // Per step, pointers into values_ (stable: values_ is never resized after creation).
  std::vector<std::vector<const Tensor*>> step_inputs_;
  std::vector<std::vector<Tensor*>> step_outputs_;
};

}  // namespace ratel::runtime
