// Fast kernels as the execution plan sees them: a node prepared once at load time (weights
// packed, attributes parsed), then run many times by any number of sessions.
//
// Adding a fast op: write a class deriving from Kernel in src/runtime/kernels/, and a factory
// that returns it for the nodes it handles (or nullptr to leave the node to the reference
// kernel); list the factory in kernel_registry.cpp. Every fast op is tested against the
// reference op it replaces.
#pragma once

#include <functional>
#include <memory>
#include <span>

#include "core/status.h"
#include "core/tensor.h"
#include "cpu/thread_pool.h"
#include "ir/graph.h"

namespace ratel::runtime {

struct ExecContext {
  cpu::ThreadPool* pool = nullptr;  // may be null: run on the calling thread
  // Scratch memory of the running kernel: workspace_bytes(threads) bytes, 64-byte aligned, owned
  // by the session (one run at a time), contents undefined on entry. Null if none was asked for.
  void* workspace = nullptr;
  size_t workspace_size = 0;
  // Padding trimming (Session::set_active_rows): only the first `active_rows` of the model's
  // `seq_len` token rows matter this run. Row-wise kernels whose row count is seq_len compute
  // just those rows; the rest of their output is left undefined. 0: compute everything.
  int64_t seq_len = 0;
  int64_t active_rows = 0;
  // Rows a row-wise kernel computes when it has `rows` rows in total.
  int64_t rows_to_compute(int64_t rows) const {
    return active_rows > 0 && rows == seq_len ? active_rows : rows;
  }
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  // Inputs/outputs in node order (nullptr for omitted ones); outputs are pre-allocated with the
  // inferred shapes. Must be thread-safe: sessions share one Kernel.
  virtual Status run(const ExecContext& ctx, std::span<const Tensor* const> inputs,
                     std::span<Tensor* const> outputs) const = 0;
  // Output i may be written in place over input `in_place_input(i)` (-1: never). The planner
  // uses this only when that input is dead after the node.
  virtual int in_place_input(int /*output*/) const { return -1; }
  // Bytes of scratch memory run() needs with a pool of `threads` threads (e.g. per-thread
  // buffers). A session allocates the largest over its steps once, when it is created, so run()
  // never allocates.
  virtual size_t workspace_bytes(int /*threads*/) const { return 0; }
  // True if the kernel made its own copy of constant input i at preparation (packed weights) and
  // never reads the original: once every reader of a constant says so, its data can be freed.
  virtual bool keeps_own_copy_of_input(size_t /*i*/) const { return false; }
  // A name for profiles: "f32 gemm 14x32 avx512" or "reference".
  virtual const char* implementation() const = 0;
};

// Sees a node's inputs just before its kernel runs (Session::set_observer). Inputs whose row
// count is the sequence length hold only ctx.rows_to_compute(rows) meaningful rows.
using StepObserver =
    std::function<void(const ir::Node& node, std::span<const Tensor* const> inputs, const ExecContext& ctx)>;

// Returns a fast kernel for `node`, or nullptr if there is none for its op/dtypes/attributes.
using KernelFactory = Result<std::unique_ptr<Kernel>> (*)(const ir::Node& node);

// Tries every registered factory in order.
Result<std::unique_ptr<Kernel>> make_fast_kernel(const ir::Node& node);

}  // namespace ratel::runtime
