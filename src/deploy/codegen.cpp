#include "deploy/codegen.h"

#include <cmath>
#include <unordered_map>

#include "ops/op_util.h"
#include "runtime/execution_plan.h"
#include "runtime/kernels/reference_kernel.h"

namespace ratel::deploy {

namespace {

using runtime::ExecutionPlan;

// Emits one model.c; holds the maps from graph objects to bundle numbers.
class Writer {
 public:
  Writer(const bundle::LoadedModel& loaded, const ExecutionPlan& plan) : loaded_(loaded), plan_(plan) {
    const ir::Graph& g = loaded.model->graph();
    for (size_t i = 0; i < g.values().size(); ++i) value_index_[g.values()[i].get()] = i;
    for (size_t i = 0; i < g.nodes().size(); ++i) node_index_[g.nodes()[i].get()] = i;
  }

  Status step(const ExecutionPlan::Step& s, GeneratedModel* out);
  std::string prepare_body() const { return prepare_; }
  std::string run_body() const { return run_; }
  std::string statics() const { return statics_; }
  Result<std::string> output_offsets() const;

 private:
  // A C expression for the bytes of `v` (void* typed), or an error for a value with no home.
  Result<std::string> ptr(const ir::Value* v) const;
  Result<std::string> fptr(const ir::Value* v, bool is_const) const {
    RATEL_ASSIGN_OR_RETURN(std::string p, ptr(v));
    return fmt::format("({}float*){}", is_const ? "const " : "", p);
  }
  Status emit_fast(const ir::Node& n, bool* handled);
  // The node's input and output pointers as C initializer lists ("NULL" for omitted ones).
  Result<std::pair<std::string, std::string>> pointer_lists(const ir::Node& n) const;
  // `entry(c, node, in, out)`: ratel_node or ratel_fast_node.
  Status emit_node_call(const ir::Node& n, const char* entry, const std::string& comment);
  void call(const std::string& code) { run_ += "  RATEL_TRY(" + code + ");\n"; }

  const bundle::LoadedModel& loaded_;
  const ExecutionPlan& plan_;
  std::unordered_map<const ir::Value*, size_t> value_index_;
  std::unordered_map<const ir::Node*, size_t> node_index_;
  std::string prepare_, run_, statics_;
  int attention_count_ = 0;
};

std::string dims_str(const Shape& s) {
  std::string r;
  for (int64_t d : s) {
    if (!r.empty()) r += 'x';
    r += std::to_string(d);
  }
  return r.empty() ? "scalar" : r;
}

// The inside of a C string literal holding `s`.
std::string c_string_body(const std::string& s) {
  std::string r;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') r += '\\';
    if (static_cast<unsigned char>(ch) < 0x20) {
      r += fmt::format("\\{:03o}", static_cast<unsigned char>(ch));
      continue;
    }
    r += ch;
  }
  return r;
}

// C comments must not end early on a name holding "*/".
std::string comment_safe(std::string s) {
  for (size_t at = s.find("*/"); at != std::string::npos; at = s.find("*/")) s.replace(at, 2, "*_/");
  return s;
}

Result<std::string> Writer::ptr(const ir::Value* v) const {
  const ExecutionPlan::Slot& slot = plan_.slots()[static_cast<size_t>(v->id)];
  switch (slot.home) {
    case ExecutionPlan::Home::kArena: return fmt::format("(a + {})", slot.offset);
    case ExecutionPlan::Home::kInput: return fmt::format("ratel_input(c, {})", slot.offset);
    case ExecutionPlan::Home::kConstant: return fmt::format("ratel_const(c, {})", value_index_.at(v));
    case ExecutionPlan::Home::kNone: break;
  }
  return internal_error("value '{}' has no place in the execution plan", v->name);
}

Result<std::pair<std::string, std::string>> Writer::pointer_lists(const ir::Node& n) const {
  std::string ins, outs;
  for (const ir::Value* v : n.inputs) {
    std::string p = "NULL";
    if (v) {
      RATEL_ASSIGN_OR_RETURN(p, ptr(v));
    }
    if (!ins.empty()) ins += ", ";
    ins += p;
  }
  for (const ir::Value* v : n.outputs) {
    std::string p = "NULL";
    if (v) {
      RATEL_ASSIGN_OR_RETURN(p, ptr(v));
    }
    if (!outs.empty()) outs += ", ";
    outs += p;
  }
  if (ins.empty()) ins = "NULL";
  return std::pair{ins, outs};
}

Status Writer::emit_node_call(const ir::Node& n, const char* entry, const std::string& comment) {
  RATEL_ASSIGN_OR_RETURN(auto lists, pointer_lists(n));
  run_ += fmt::format("  {{ /* {} */\n    const void* in[] = {{{}}};\n    void* out[] = {{{}}};\n"
                      "    RATEL_TRY({}(c, {}, in, out));\n  }}\n",
                      comment, lists.first, lists.second, entry, node_index_.at(&n));
  return Status::Ok();
}

Status Writer::emit_fast(const ir::Node& n, bool* handled) {
  *handled = true;
  const ir::Value* x = n.inputs[0];
  auto opt = [&](size_t i, bool is_const = true) -> Result<std::string> {
    if (!n.has_input(i)) return std::string("NULL");
    return fptr(n.inputs[i], is_const);
  };
  if (n.domain == "ratel" && n.op_type == "Dense") {
    const ir::Value* w = n.inputs[1];
    const int64_t k = w->shape[0], cols = w->shape[1];
    const int64_t m = numel(x->shape) / k;
    RATEL_ASSIGN_OR_RETURN(const std::string act, n.attrs.get_string("activation", "none"));
    RATEL_ASSIGN_OR_RETURN(std::string xp, fptr(x, true));
    RATEL_ASSIGN_OR_RETURN(std::string bias, opt(2));
    RATEL_ASSIGN_OR_RETURN(std::string residual, opt(3));
    RATEL_ASSIGN_OR_RETURN(std::string y, fptr(n.outputs[0], false));
    prepare_ += fmt::format("  RATEL_TRY(ratel_prepare_dense(c, {})); /* '{}' {}x{} */\n", value_index_.at(w),
                            comment_safe(w->name), k, cols);
    call(fmt::format("ratel_dense_f32(c, {}, {}, {}, {}, {}, {}, {})", value_index_.at(w), m, xp, bias, residual,
                     act == "gelu" ? "RATEL_ACT_GELU" : "RATEL_ACT_NONE", y));
    return Status::Ok();
  }
  if (n.domain == "ratel" && n.op_type == "Attention") {
    RATEL_ASSIGN_OR_RETURN(const int64_t heads, n.attrs.get_int("num_heads", 0));
    RATEL_ASSIGN_OR_RETURN(const int64_t packed, n.attrs.get_int("packed", 0));
    const int64_t batch = x->shape[0], seq = x->shape[1];
    const int64_t hidden = packed ? x->shape[2] / 3 : x->shape[2];
    const int64_t head_size = hidden / heads;
    RATEL_ASSIGN_OR_RETURN(const float scale,
                           n.attrs.get_float("scale", 1.0f / std::sqrt(static_cast<float>(head_size))));
    std::vector<int64_t> strides{0, 0, 0, 0};
    if (n.has_input(3)) strides = ops::broadcast_strides(n.inputs[3]->shape, {batch, heads, seq, seq});
    const std::string name = fmt::format("attention_{}", attention_count_++);
    statics_ += fmt::format(
        "static const ratel_attention_desc {} = {{.batch = {}, .seq = {}, .heads = {}, .head_size = {}, "
        ".ld_qkv = {}, .scale = {}, .mask_strides = {{{}, {}, {}, {}}}}};\n",
        name, batch, seq, heads, head_size, packed ? 3 * hidden : hidden, c_float_literal(scale), strides[0],
        strides[1], strides[2], strides[3]);
    prepare_ += fmt::format("  RATEL_TRY(ratel_prepare_attention(c, &{}));\n", name);
    RATEL_ASSIGN_OR_RETURN(std::string q, fptr(x, true));
    std::string k, v;
    if (packed) {
      k = fmt::format("{} + {}", q, hidden);
      v = fmt::format("{} + {}", q, 2 * hidden);
    } else {
      RATEL_ASSIGN_OR_RETURN(k, fptr(n.inputs[1], true));
      RATEL_ASSIGN_OR_RETURN(v, fptr(n.inputs[2], true));
    }
    RATEL_ASSIGN_OR_RETURN(std::string mask, opt(3));
    RATEL_ASSIGN_OR_RETURN(std::string out, fptr(n.outputs[0], false));
    call(fmt::format("ratel_attention_f32(c, &{}, {}, {}, {}, {}, {})", name, q, k, v, mask, out));
    return Status::Ok();
  }
  const bool onnx_ln = n.domain.empty() && n.op_type == "LayerNormalization";
  const bool skip_ln = n.domain == "ratel" && n.op_type == "SkipLayerNorm";
  if (onnx_ln || skip_ln) {
    const int rank = static_cast<int>(x->shape.size());
    int axis = rank - 1;
    if (onnx_ln) {
      RATEL_ASSIGN_OR_RETURN(const int64_t a, n.attrs.get_int("axis", -1));
      axis = static_cast<int>(a < 0 ? a + rank : a);
    }
    const int64_t row = ops::dims_product(x->shape, axis, rank);
    RATEL_ASSIGN_OR_RETURN(const float eps, n.attrs.get_float("epsilon", 1e-5f));
    const size_t g = skip_ln ? 2 : 1;
    RATEL_ASSIGN_OR_RETURN(std::string xp, fptr(x, true));
    RATEL_ASSIGN_OR_RETURN(std::string skip, skip_ln ? opt(1) : Result<std::string>(std::string("NULL")));
    RATEL_ASSIGN_OR_RETURN(std::string gamma, opt(g));
    RATEL_ASSIGN_OR_RETURN(std::string beta, opt(g + 1));
    RATEL_ASSIGN_OR_RETURN(std::string y, fptr(n.outputs[0], false));
    call(fmt::format("ratel_layernorm_f32(c, {}, {}, {}, {}, {}, {}, {}, {})", numel(x->shape) / row, row, xp, skip,
                     gamma, beta, c_float_literal(eps), y));
    return Status::Ok();
  }
  if (n.domain == "ratel" && n.op_type == "Gelu") {
    RATEL_ASSIGN_OR_RETURN(std::string xp, fptr(x, true));
    RATEL_ASSIGN_OR_RETURN(std::string y, fptr(n.outputs[0], false));
    call(fmt::format("ratel_gelu_f32(c, {}, {}, {})", numel(x->shape), xp, y));
    return Status::Ok();
  }
  if (n.domain.empty() && n.op_type == "Softmax") {
    const int rank = static_cast<int>(x->shape.size());
    const bool coerce_2d = n.opset < 13;
    RATEL_ASSIGN_OR_RETURN(const int64_t a, n.attrs.get_int("axis", coerce_2d ? 1 : -1));
    const int axis = static_cast<int>(a < 0 ? a + rank : a);
    const int64_t row = ops::dims_product(x->shape, axis, rank);
    RATEL_ASSIGN_OR_RETURN(std::string xp, fptr(x, true));
    RATEL_ASSIGN_OR_RETURN(std::string y, fptr(n.outputs[0], false));
    call(fmt::format("ratel_softmax_f32(c, {}, {}, {}, {})", numel(x->shape) / row, row, xp, y));
    return Status::Ok();
  }
  *handled = false;
  return Status::Ok();
}

Status Writer::step(const ExecutionPlan::Step& s, GeneratedModel* out) {
  const ir::Node& n = *s.node;
  std::string outs;
  for (const ir::Value* v : n.outputs) {
    if (v) outs += fmt::format("{}'{}' {} {}", outs.empty() ? "" : ", ", comment_safe(v->name), dtype_name(v->dtype),
                               dims_str(v->shape));
  }
  run_ += fmt::format("  /* {}: {} -> {} */\n", node_index_.at(&n), comment_safe(n.describe()), outs);
  switch (s.action) {
    case ExecutionPlan::Action::kAlias:
      run_ += "  /* a view: the output shares its input's bytes, nothing to do */\n";
      return Status::Ok();
    case ExecutionPlan::Action::kCopy: {
      RATEL_ASSIGN_OR_RETURN(std::string src, ptr(n.inputs[0]));
      RATEL_ASSIGN_OR_RETURN(std::string dst, ptr(n.outputs[0]));
      const size_t bytes = static_cast<size_t>(numel(n.inputs[0]->shape)) * dtype_size(n.inputs[0]->dtype);
      run_ += fmt::format("  memcpy({}, {}, {}); /* a view that needs its own buffer */\n", dst, src, bytes);
      return Status::Ok();
    }
    case ExecutionPlan::Action::kKernel: break;
  }
  // Every kernel step is bracketed for `ratel_runtime --profile` (a branch each when it is off).
  const size_t index = node_index_.at(&n);
  run_ += fmt::format("  ratel_step_begin(c, {});\n", index);
  const bool reference = dynamic_cast<const runtime::ReferenceKernel*>(s.kernel.get()) != nullptr;
  auto end_step = [&] {
    run_ += fmt::format("  ratel_step_end(c, {}, \"{}\");\n", index,
                        reference ? std::string("reference") : c_string_body(s.kernel->implementation()));
    return Status::Ok();
  };
  if (reference) {
    ++out->reference_calls;
    RATEL_RETURN_IF_ERROR(emit_node_call(n, "ratel_node", "reference kernel"));
    return end_step();
  }
  bool handled = false;
  RATEL_RETURN_IF_ERROR(emit_fast(n, &handled).with_context(n.describe()));
  ++out->fast_calls;
  if (handled) return end_step();
  // A fast kernel with no entry point of its own (ratel.QDense): the runtime's kernel object for
  // the node, built by the same factory as the execution plan's, prepared once per context.
  prepare_ += fmt::format("  RATEL_TRY(ratel_prepare_fast_node(c, {})); /* {} */\n", index, comment_safe(n.describe()));
  RATEL_RETURN_IF_ERROR(emit_node_call(n, "ratel_fast_node",
                                       fmt::format("the runtime's fast kernel ({} on the host that generated this)",
                                                   comment_safe(s.kernel->implementation()))));
  return end_step();
}

Result<std::string> Writer::output_offsets() const {
  std::string list;
  for (const ir::Value* v : loaded_.model->outputs()) {
    const ExecutionPlan::Slot& slot = plan_.slots()[static_cast<size_t>(v->id)];
    if (slot.home != ExecutionPlan::Home::kArena) {
      return unsupported("graph output '{}' is a constant or a graph input: code generation needs outputs that the "
                         "graph computes", v->name);
    }
    list += fmt::format("{}{}", list.empty() ? "" : ", ", slot.offset);
  }
  return list;
}

}  // namespace

std::string c_float_literal(float f) {
  if (std::isnan(f)) return "NAN";
  if (std::isinf(f)) return f > 0 ? "INFINITY" : "-INFINITY";
  std::string s = fmt::format("{}", f);  // shortest text that reads back as the same float
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s + "f";
}

Result<GeneratedModel> generate_model_c(const bundle::LoadedModel& loaded, const std::string& source_name,
                                        const std::string& board) {
  RATEL_ASSIGN_OR_RETURN(auto plan, loaded.model->plan());
  Writer w(loaded, *plan);
  GeneratedModel out;
  for (const auto& s : plan->steps()) RATEL_RETURN_IF_ERROR(w.step(s, &out));
  RATEL_ASSIGN_OR_RETURN(const std::string offsets, w.output_offsets());
  out.arena_bytes = plan->stats().arena_bytes;
  const ir::Graph& g = loaded.model->graph();
  const auto& meta = loaded.bundle->metadata();
  auto meta_or = [&](const char* key) {
    auto it = meta.find(key);
    return it == meta.end() ? std::string("?") : it->second;
  };
  std::string& src = out.source;
  src += fmt::format(
      "/* model.c: generated by ratel {} from {} (sha256 {}) for board {}.\n"
      " *\n"
      " * The optimized graph ({} nodes, {} steps) as a straight sequence of calls into Ratel's kernels\n"
      " * (include/ratel/ratel_kernels.h). Every activation lives at a fixed byte offset in one arena of\n"
      " * {} bytes, laid out by Ratel's liveness memory planner (one buffer per value would take {}).\n"
      " * Numbers in calls are the bundle's value and node indices: this file belongs to the bundle\n"
      " * whose graph checksum is below. {} steps call fast kernels, {} the reference kernel.\n"
      " * Do not edit: regenerate with `ratel compile` or `ratel -C`.\n"
      " */\n"
      "#include <math.h>\n#include <string.h>\n\n#include \"ratel/ratel_kernels.h\"\n\n"
      "#define RATEL_TRY(call)                \\\n  do {{                                 \\\n"
      "    ratel_status status_ = (call);     \\\n    if (status_ != RATEL_OK) return status_; \\\n  }} while (0)\n\n",
      meta_or(bundle::meta::kRatelVersion), comment_safe(source_name), meta_or(bundle::meta::kSourceSha256),
      comment_safe(board), g.nodes().size(), plan->steps().size(), plan->stats().arena_bytes,
      plan->stats().unplanned_bytes, out.fast_calls, out.reference_calls);
  src += w.statics();
  if (!w.statics().empty()) src += "\n";
  src += "/* Once per context: pack the dense weights for this CPU, prepare the other fast kernels, size the\n"
         " * scratch memory. */\n";
  src += "static ratel_status prepare(ratel_ctx* c) {\n" + w.prepare_body() + "  (void)c;\n  return RATEL_OK;\n}\n\n";
  src += "static ratel_status run(ratel_ctx* c) {\n  char* a = ratel_arena(c);\n  (void)a;\n" + w.run_body() +
         "  return RATEL_OK;\n}\n\n";
  src += fmt::format("static const size_t output_offsets[] = {{{}}};\n\n", offsets);
  src += fmt::format(
      "const ratel_model_desc ratel_generated_model = {{\n    .abi_version = RATEL_KERNELS_ABI_VERSION,\n"
      "    .source = \"{}\",\n    .board = \"{}\",\n    .graph_checksum = {:#018x}ull,\n    .arena_bytes = {},\n    .num_outputs = {},\n"
      "    .output_offsets = output_offsets,\n    .prepare = prepare,\n    .run = run,\n}};\n",
      c_string_body(source_name), c_string_body(board), loaded.bundle->graph_checksum(),
      plan->stats().arena_bytes, g.outputs().size());
  return out;
}

}  // namespace ratel::deploy
