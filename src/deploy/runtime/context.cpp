// ratel_ctx: opening a bundle for a generated model.c, binding inputs, running, reading outputs.
#include <chrono>
#include <cstring>

#include "deploy/runtime/context.h"

#include "core/file.h"
#include "cpu/cpu_features.h"
#include "cpu/riscv_vector.h"
#include "io/npy.h"

using ratel::Status;
using ratel::deploy::fail;
using ratel::deploy::ok;

namespace ratel::deploy {

namespace {
thread_local std::string g_last_error;
}

ratel_status fail(const Status& s) {
  g_last_error = s.message();
  // StatusCode and ratel_status share their numbering (see include/ratel/ratel.h).
  return static_cast<ratel_status>(s.code());
}

}  // namespace ratel::deploy

namespace {

ratel::Status open_context(const char* path, const ratel_model_desc* desc, int threads, ratel_ctx* c) {
  using namespace ratel;
  if (!path || !desc) return invalid_argument("ratel_ctx_open: the bundle path and the model description are required");
  if (desc->abi_version != RATEL_KERNELS_ABI_VERSION) {
    return unsupported("model.c was generated for kernel ABI version {}, this runtime library implements {}: "
                       "generate it again with this Ratel", desc->abi_version, RATEL_KERNELS_ABI_VERSION);
  }
  if (threads < 1 || threads > 1024) return invalid_argument("thread count {} is out of range (1 to 1024)", threads);
  // Before anything asks for the CPU's features (loading packs weights for the kernels chosen).
  cpu::RiscvBoard board = cpu::RiscvBoard::kAny;
  if (desc->board && cpu::parse_riscv_board(desc->board, &board) && !cpu::set_riscv_board_hint(board)) {
    return internal_error("model.c was generated for board {}, but this process chose its riscv64 kernels "
                          "before the board was known: open the context before running anything else", desc->board);
  }
  RATEL_ASSIGN_OR_RETURN(c->loaded, bundle::load_model(path));
  const bundle::Bundle& b = *c->loaded.bundle;
  if (b.graph_checksum() != desc->graph_checksum) {
    return invalid_argument("'{}' is not the bundle this model.c was generated from (graph checksum {:#018x}, "
                            "model.c expects {:#018x} from {}): use the bundle written with it, or generate "
                            "the code again", path, b.graph_checksum(), desc->graph_checksum,
                            desc->source ? desc->source : "?");
  }
  const ir::Graph& g = c->loaded.model->graph();
  for (const auto& v : g.values()) c->values.push_back(v.get());
  for (const auto& n : g.nodes()) c->nodes.push_back(n.get());
  if (desc->num_outputs != g.outputs().size()) {
    return invalid_argument("model.c describes {} outputs, the bundle's graph has {}", desc->num_outputs,
                            g.outputs().size());
  }
  for (size_t i = 0; i < g.outputs().size(); ++i) {
    const ir::Value* v = g.outputs()[i];
    const size_t bytes = static_cast<size_t>(numel(v->shape)) * dtype_size(v->dtype);
    if (desc->output_offsets[i] > desc->arena_bytes || bytes > desc->arena_bytes - desc->output_offsets[i]) {
      return invalid_argument("model.c places output '{}' outside its arena", v->name);
    }
  }
  for (const ir::Value* v : g.inputs()) {
    RATEL_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(v->dtype, v->shape));
    c->inputs.push_back(std::move(t));
  }
  c->converted.resize(g.outputs().size());
  c->packed.resize(c->values.size());
  c->fast_nodes.resize(c->nodes.size());
  c->threads = threads;
  if (threads > 1) c->pool = std::make_unique<cpu::ThreadPool>(threads);
  c->isa = cpu::active_isa();
  RATEL_ASSIGN_OR_RETURN(c->arena, Storage::allocate(desc->arena_bytes));
  c->desc = desc;
  if (desc->prepare) {
    const ratel_status s = desc->prepare(c);
    if (s != RATEL_OK) return Status(static_cast<StatusCode>(s), ratel_ctx_last_error());
  }
  c->prepared = true;
  if (c->workspace_needed > 0) {
    RATEL_ASSIGN_OR_RETURN(c->workspace, Storage::allocate(c->workspace_needed));
  }
  return Status::Ok();
}

ratel::Status value_info(const ratel::ir::Value* v, ratel_value_info* info) {
  if (!info) return ratel::invalid_argument("ratel_value_info pointer is NULL");
  info->name = v->name.c_str();
  info->dtype = static_cast<ratel_dtype>(v->dtype);
  info->rank = v->shape.size();
  info->dims = v->shape.data();
  info->numel = static_cast<size_t>(ratel::numel(v->shape));
  return ratel::Status::Ok();
}

}  // namespace

extern "C" {

const char* ratel_ctx_last_error(void) { return ratel::deploy::g_last_error.c_str(); }

const char* ratel_kernel_isa(void) {
  static const std::string text = [] {
    const ratel::cpu::CpuFeatures& f = ratel::cpu::cpu_features();
    std::string s(ratel::cpu::isa_name(ratel::cpu::active_isa()));
    if (f.rvv) s += " (VLEN " + std::to_string(f.rvv_vlen_bits) + ")";
    if (!f.rvv_reason.empty()) s += ": " + f.rvv_reason;
    return s;
  }();
  return text.c_str();
}

ratel_status ratel_ctx_open(const char* bundle_path, const ratel_model_desc* model, int threads, ratel_ctx** out) {
  if (!out) return fail(ratel::invalid_argument("ratel_ctx_open: out is NULL"));
  *out = nullptr;
  auto c = std::make_unique<ratel_ctx>();
  if (Status s = open_context(bundle_path, model, threads, c.get()); !s.ok()) return fail(s);
  *out = c.release();
  return ok();
}

void ratel_ctx_close(ratel_ctx* c) { delete c; }

size_t ratel_ctx_num_inputs(const ratel_ctx* c) { return c->inputs.size(); }
size_t ratel_ctx_num_outputs(const ratel_ctx* c) { return c->loaded.model->outputs().size(); }

ratel_status ratel_ctx_input_info(const ratel_ctx* c, size_t i, ratel_value_info* info) {
  if (i >= c->inputs.size()) {
    return fail(ratel::invalid_argument("input index {} is out of range ({} inputs)", i, c->inputs.size()));
  }
  Status s = value_info(c->loaded.model->inputs()[i], info);
  return s.ok() ? ok() : fail(s);
}

ratel_status ratel_ctx_output_info(const ratel_ctx* c, size_t i, ratel_value_info* info) {
  const auto& outs = c->loaded.model->outputs();
  if (i >= outs.size()) {
    return fail(ratel::invalid_argument("output index {} is out of range ({} outputs)", i, outs.size()));
  }
  Status s = value_info(outs[i], info);
  return s.ok() ? ok() : fail(s);
}

const char* ratel_ctx_metadata(const ratel_ctx* c, const char* key) {
  const auto& m = c->loaded.bundle->metadata();
  auto it = key ? m.find(key) : m.end();
  return it == m.end() ? nullptr : it->second.c_str();
}

ratel_status ratel_ctx_set_input(ratel_ctx* c, size_t i, ratel_dtype dtype, const int64_t* dims, size_t rank,
                                 const void* data, size_t nbytes) {
  using namespace ratel;
  if (i >= c->inputs.size()) {
    return fail(invalid_argument("input index {} is out of range ({} inputs)", i, c->inputs.size()));
  }
  const ir::Value* v = c->loaded.model->inputs()[i];
  if (static_cast<int>(dtype) < 1 || static_cast<int>(dtype) > static_cast<int>(DType::kBool)) {
    return fail(invalid_argument("input '{}': unknown dtype code {}", v->name, static_cast<int>(dtype)));
  }
  if (!dims && rank > 0) return fail(invalid_argument("input '{}': dims is NULL", v->name));
  const Shape shape(dims, dims + rank);
  if (shape != v->shape) {
    return fail(
        invalid_argument("input '{}' must have shape {}, got {}", v->name, shape_str(v->shape), shape_str(shape)));
  }
  const DType from = static_cast<DType>(dtype);
  const size_t expect = static_cast<size_t>(numel(shape)) * dtype_size(from);
  if (nbytes != expect || (!data && nbytes > 0)) {
    return fail(invalid_argument("input '{}': {} bytes of {} data, {} {} needs {}", v->name, nbytes, dtype_name(from),
                                 dtype_name(from), shape_str(shape), expect));
  }
  auto storage = Storage::borrow(const_cast<void*>(data), nbytes, nullptr, /*writable=*/false);
  const Tensor given = Tensor::view(from, shape, storage);
  auto converted = io::convert_exact(given, v->dtype, fmt::format("input '{}'", v->name));
  if (!converted.ok()) return fail(converted.status());
  std::memcpy(c->inputs[i].mutable_raw(), converted->raw(), c->inputs[i].nbytes());
  return ok();
}

const void* ratel_ctx_input_data(const ratel_ctx* c, size_t i) {
  return i < c->inputs.size() ? c->inputs[i].raw() : nullptr;
}

namespace {
int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

ratel_status ratel_ctx_run(ratel_ctx* c) {
  if (c->profiling) {
    c->profile.emplace_back();
    c->run_start_ns = steady_ns();
  }
  return c->desc->run(c);
}

ratel_status ratel_ctx_set_profiling(ratel_ctx* c, int on) {
  c->profiling = on != 0;
  return RATEL_OK;
}

const char* ratel_ctx_write_profile(ratel_ctx* c, const char* trace_path) {
  using namespace ratel;
  if (!trace_path) {
    fail(invalid_argument("ratel_ctx_write_profile: no path"));
    return nullptr;
  }
  if (Status s = write_text_file(trace_path, runtime::chrome_trace_json(c->profile)); !s.ok()) {
    fail(s);
    return nullptr;
  }
  c->profile_table = runtime::profile_table(c->profile);
  return c->profile_table.c_str();
}

void ratel_step_begin(ratel_ctx* c, uint32_t /*node*/) {
  if (c->profiling) c->step_start_ns = steady_ns() - c->run_start_ns;
}

void ratel_step_end(ratel_ctx* c, uint32_t node, const char* kernel) {
  if (!c->profiling || c->profile.empty() || node >= c->nodes.size()) return;
  // ratel_fast_node steps: the kernel this CPU chose, not the generating host's.
  if (node < c->fast_nodes.size() && c->fast_nodes[node] && c->fast_nodes[node]->kernel) {
    kernel = c->fast_nodes[node]->kernel->implementation();
  }
  c->profile.back().push_back({c->nodes[node], kernel ? kernel : "", c->step_start_ns, steady_ns() - c->run_start_ns});
}

ratel_status ratel_ctx_output_f32(ratel_ctx* c, size_t i, const float** data, size_t* count) {
  using namespace ratel;
  const auto& outs = c->loaded.model->outputs();
  if (i >= outs.size()) return fail(invalid_argument("output index {} is out of range ({} outputs)", i, outs.size()));
  if (!data || !count) return fail(invalid_argument("ratel_ctx_output_f32: data and count are required"));
  const ir::Value* v = outs[i];
  std::byte* p = c->arena->data() + c->desc->output_offsets[i];
  *count = static_cast<size_t>(numel(v->shape));
  if (v->dtype == DType::kF32) {
    *data = reinterpret_cast<const float*>(p);
    return ok();
  }
  auto storage = Storage::borrow(p, *count * dtype_size(v->dtype), nullptr, false);
  const Tensor t = Tensor::view(v->dtype, v->shape, storage);
  auto& buf = c->converted[i];
  buf.resize(*count);
  for (size_t k = 0; k < *count; ++k) buf[k] = static_cast<float>(t.get_as_double(static_cast<int64_t>(k)));
  *data = buf.data();
  return ok();
}

char* ratel_arena(ratel_ctx* c) { return reinterpret_cast<char*>(c->arena->data()); }

void* ratel_input(ratel_ctx* c, uint32_t input) {
  return input < c->inputs.size() ? c->inputs[input].mutable_raw() : nullptr;
}

const void* ratel_const(ratel_ctx* c, uint32_t value) {
  if (value >= c->values.size() || !c->values[value]->constant.defined()) return nullptr;
  return c->values[value]->constant.raw();
}

}  // extern "C"
