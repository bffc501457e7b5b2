// The state behind include/ratel/ratel_kernels.h's ratel_ctx, shared by context.cpp (open,
// inputs, outputs) and entry_points.cpp (the kernel calls model.c makes).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bundle/bundle.h"
#include "core/status.h"
#include "cpu/cpu_features.h"
#include "cpu/thread_pool.h"
#include "kernels/gemm.h"
#include "ratel/ratel_kernels.h"
#include "runtime/kernel.h"
#include "runtime/profile.h"

namespace ratel::deploy {

// A node run by ratel_fast_node: the runtime's fast kernel for it (built by the execution
// plan's factory, runtime::make_fast_kernel; null: none for this node on this CPU, so its
// reference kernel runs) and tensor views over the buffers model.c passes, rebuilt only when a
// pointer changes (model.c passes the same ones every run, so runs do not allocate).
struct FastNode {
  std::unique_ptr<runtime::Kernel> kernel;
  std::vector<Tensor> ins, outs;
  std::vector<const Tensor*> in_ptrs;
  std::vector<Tensor*> out_ptrs;
};

}  // namespace ratel::deploy

struct ratel_ctx {
  ratel::bundle::LoadedModel loaded;
  const ratel_model_desc* desc = nullptr;
  std::vector<ratel::ir::Value*> values;       // by bundle value index
  std::vector<const ratel::ir::Node*> nodes;   // by bundle node index
  std::unique_ptr<ratel::cpu::ThreadPool> pool;  // null: one thread
  int threads = 1;
  ratel::cpu::Isa isa = ratel::cpu::Isa::kGeneric;
  std::shared_ptr<ratel::Storage> arena;
  std::shared_ptr<ratel::Storage> workspace;
  size_t workspace_needed = 0;                  // bytes, grown by ratel_prepare_attention / _fast_node
  std::vector<ratel::Tensor> inputs;            // the model's dtypes and shapes
  std::vector<std::optional<ratel::kernels::PackedGemmB>> packed;  // by value index
  std::vector<std::unique_ptr<ratel::deploy::FastNode>> fast_nodes;  // by node index
  std::vector<std::vector<float>> converted;    // f32 copies of non-f32 outputs
  bool prepared = false;                        // prepare() ran: no more packing
  // ratel_ctx_set_profiling: the runs recorded, the current run's and step's start (steady clock).
  bool profiling = false;
  std::vector<ratel::runtime::ProfiledRun> profile;
  int64_t run_start_ns = 0, step_start_ns = 0;
  std::string profile_table;
};

namespace ratel::deploy {

// Records `s` as this thread's last error and returns its ratel_status.
ratel_status fail(const Status& s);
inline ratel_status ok() { return RATEL_OK; }

}  // namespace ratel::deploy
