#include "runtime/execution_plan.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "ops/op.h"
#include "runtime/kernels/reference_kernel.h"
#include "runtime/memory_planner.h"

namespace ratel::runtime {

namespace {

// Ops whose output is their first input's bytes with another shape.
bool is_view_op(const ir::Node& n) {
  if (!n.domain.empty() || n.inputs.empty() || !n.inputs[0] || !n.has_output(0)) return false;
  const std::string& op = n.op_type;
  const bool reshape_like = op == "Reshape" || op == "Flatten" || op == "Squeeze" ||
                            op == "Unsqueeze" || op == "Identity";
  return reshape_like && n.inputs[0]->dtype == n.outputs[0]->dtype &&
         numel(n.inputs[0]->shape) == numel(n.outputs[0]->shape);
}

size_t value_bytes(const ir::Value* v) {
  return static_cast<size_t>(numel(v->shape)) * dtype_size(v->dtype);
}

}  // namespace

Result<std::shared_ptr<const ExecutionPlan>> ExecutionPlan::build(const ir::Graph& graph,
                                                                  const ReleaseFn& release) {
  auto plan = std::shared_ptr<ExecutionPlan>(new ExecutionPlan());
  plan->graph_ = &graph;
  plan->slots_.resize(graph.num_value_slots());
  for (size_t i = 0; i < graph.inputs().size(); ++i) {
    plan->slots_[static_cast<size_t>(graph.inputs()[i]->id)] = {Home::kInput, i};
  }
  for (const auto& v : graph.values()) {
    if (v->is_constant()) {
      plan->slots_[static_cast<size_t>(v->id)] = {Home::kConstant, 0};
      plan->stats_.weight_bytes += v->constant.nbytes();
    }
  }

  // Readers left per constant, and whether all readers so far kept their own copy.
  std::vector<int> readers_left(graph.num_value_slots(), 0);
  std::vector<bool> all_copied(graph.num_value_slots(), true);
  for (const auto& n : graph.nodes()) {
    for (const ir::Value* in : n->inputs) {
      if (in && in->is_constant()) ++readers_left[static_cast<size_t>(in->id)];
    }
  }
  std::unordered_set<const ir::Value*> outputs_set(graph.outputs().begin(), graph.outputs().end());

  // Steps: every node with a non-constant output, with its fast kernel or the reference one.
  for (const auto& n : graph.nodes()) {
    bool all_constant = true;
    for (const ir::Value* out : n->outputs) all_constant = all_constant && (!out || out->is_constant());
    if (all_constant) continue;
    if (is_view_op(*n)) {  // no kernel: the step aliases or copies its input (see below)
      plan->steps_.push_back({n.get(), nullptr});
      for (const ir::Value* in : n->inputs) {
        if (in && in->is_constant()) {
          all_copied[static_cast<size_t>(in->id)] = false;
          --readers_left[static_cast<size_t>(in->id)];
        }
      }
      continue;
    }
    RATEL_ASSIGN_OR_RETURN(std::unique_ptr<Kernel> kernel, make_fast_kernel(*n));
    if (kernel) {
      ++plan->stats_.fast_steps;
    } else {
      const ops::OpSpec* spec = ops::OpRegistry::instance().find(n->domain, n->op_type);
      if (!spec) return unsupported("{} has no kernel", n->describe());
      kernel = std::make_unique<ReferenceKernel>(*n, *spec);
      ++plan->stats_.reference_steps;
      ++plan->stats_.reference_ops[n->domain.empty() ? n->op_type : n->domain + "." + n->op_type];
    }
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      const ir::Value* in = n->inputs[i];
      if (!in || !in->is_constant()) continue;
      const size_t id = static_cast<size_t>(in->id);
      all_copied[id] = all_copied[id] && kernel->keeps_own_copy_of_input(i);
      if (--readers_left[id] == 0 && all_copied[id] && release && !outputs_set.count(in)) release(*in);
    }
    plan->steps_.push_back({n.get(), std::move(kernel)});
  }

  // Buffers: each activation belongs to a buffer; view ops and in-place kernels make their
  // output share the input's buffer. Lifetimes are per buffer.
  const int last_step = static_cast<int>(plan->steps_.size());
  std::unordered_map<int, int> buffer_of;  // value id -> buffer index
  std::vector<BufferRequest> buffers;
  std::vector<int> last_use(graph.num_value_slots(), -1);
  std::unordered_set<const ir::Value*> graph_outputs(graph.outputs().begin(), graph.outputs().end());
  for (size_t s = 0; s < plan->steps_.size(); ++s) {
    for (const ir::Value* in : plan->steps_[s].node->inputs) {
      if (in) last_use[static_cast<size_t>(in->id)] = static_cast<int>(s);
    }
  }
  for (const ir::Value* out : graph.outputs()) last_use[static_cast<size_t>(out->id)] = last_step;
  auto is_arena = [&](const ir::Value* v) {
    return plan->slots_[static_cast<size_t>(v->id)].home == Home::kNone;
  };
  for (size_t s = 0; s < plan->steps_.size(); ++s) {
    Step& step = plan->steps_[s];
    const ir::Node& n = *step.node;
    if (is_view_op(n)) step.action = Action::kCopy;  // until its output finds the input's buffer
    for (size_t o = 0; o < n.outputs.size(); ++o) {
      const ir::Value* out = n.outputs[o];
      if (!out || !is_arena(out)) continue;
      // Share the input's buffer when the input is an arena activation that dies here (view ops
      // may also share with a live input: both read the same bytes). Graph outputs get their
      // own buffers so a view never exposes a buffer that later steps overwrite.
      int share = -1;
      if (o == 0 && is_view_op(n)) share = 0;
      if (share < 0 && step.kernel) share = step.kernel->in_place_input(static_cast<int>(o));
      if (share >= 0 && !graph_outputs.count(out)) {
        const ir::Value* in = n.inputs[static_cast<size_t>(share)];
        const bool view = is_view_op(n) && o == 0;
        auto it = in ? buffer_of.find(in->id) : buffer_of.end();
        // In place only over a buffer nothing reads after this step (through any alias).
        const bool dead_after = it != buffer_of.end() &&
                                buffers[static_cast<size_t>(it->second)].last_step <= static_cast<int>(s);
        if (it != buffer_of.end() && (view || dead_after) && value_bytes(in) == value_bytes(out)) {
          buffer_of[out->id] = it->second;
          if (view) step.action = Action::kAlias;
          BufferRequest& b = buffers[static_cast<size_t>(it->second)];
          b.last_step = std::max(b.last_step, last_use[static_cast<size_t>(out->id)]);
          ++plan->stats_.aliased_values;
          continue;
        }
      }
      buffer_of[out->id] = static_cast<int>(buffers.size());
      buffers.push_back({value_bytes(out), static_cast<int>(s),
                         std::max(static_cast<int>(s), last_use[static_cast<size_t>(out->id)])});
    }
  }
  const MemoryPlan mp = plan_memory(buffers);
  for (const auto& [id, b] : buffer_of) {
    plan->slots_[static_cast<size_t>(id)] = {Home::kArena, mp.offsets[static_cast<size_t>(b)]};
  }
  plan->stats_.arena_bytes = mp.arena_bytes;
  plan->stats_.unplanned_bytes = mp.sum_of_requests;
  return std::shared_ptr<const ExecutionPlan>(plan);
}

Result<std::unique_ptr<PlanExecutor>> PlanExecutor::create(std::shared_ptr<const ExecutionPlan> plan,
                                                           int threads) {
  auto ex = std::unique_ptr<PlanExecutor>(new PlanExecutor());
  const ir::Graph& g = plan->graph();
  auto arena = Storage::allocate(plan->stats().arena_bytes);
  if (!arena.ok()) return arena.status().with_context("the session's activation memory");
  ex->arena_ = std::move(arena).value();
  if (threads > 1) ex->pool_ = std::make_unique<cpu::ThreadPool>(threads);
  size_t workspace_bytes = 0;
  for (const auto& step : plan->steps()) {
    if (step.action == ExecutionPlan::Action::kKernel) {
      workspace_bytes = std::max(workspace_bytes, step.kernel->workspace_bytes(ex->threads()));
    }
  }
  if (workspace_bytes > 0) {
    auto workspace = Storage::allocate(workspace_bytes);
    if (!workspace.ok()) return workspace.status().with_context("the session's kernel workspace");
    ex->workspace_ = std::move(workspace).value();
  }
  ex->values_.resize(g.num_value_slots());
  for (const auto& v : g.values()) {
    const ExecutionPlan::Slot& slot = plan->slots()[static_cast<size_t>(v->id)];
    if (slot.home == ExecutionPlan::Home::kConstant) {
      ex->values_[static_cast<size_t>(v->id)] = v->constant;
    } else if (slot.home == ExecutionPlan::Home::kArena) {
      ex->values_[static_cast<size_t>(v->id)] = Tensor::view(v->dtype, v->shape, ex->arena_, slot.offset);
    }
  }
  for (const auto& step : plan->steps()) {
    std::vector<const Tensor*> ins;
    std::vector<Tensor*> outs;
    for (const ir::Value* in : step.node->inputs) ins.push_back(in ? &ex->values_[static_cast<size_t>(in->id)] : nullptr);
    for (const ir::Value* out : step.node->outputs) outs.push_back(out ? &ex->values_[static_cast<size_t>(out->id)] : nullptr);
    ex->step_inputs_.push_back(std::move(ins));
    ex->step_outputs_.push_back(std::move(outs));
  }
  ex->plan_ = std::move(plan);
  return ex;
}

Status PlanExecutor::run(std::span<const Tensor> inputs, std::vector<Tensor>* outputs) {
  const ir::Graph& g = plan_->graph();
  if (inputs.size() != g.inputs().size()) {
    return invalid_argument("the model has {} inputs, {} were given", g.inputs().size(), inputs.size());
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const ir::Value* v = g.inputs()[i];
    if (inputs[i].dtype() != v->dtype || inputs[i].shape() != v->shape) {
      return invalid_argument("input '{}' must be {} {}, got {} {}", v->name, dtype_name(v->dtype),
                              shape_str(v->shape), dtype_name(inputs[i].dtype()), shape_str(inputs[i].shape()));
    }
    values_[static_cast<size_t>(v->id)] = inputs[i];
  }
  const ExecContext ctx{pool_.get(), workspace_ ? workspace_->data() : nullptr,
                        workspace_ ? workspace_->size() : 0, seq_len_, active_rows_};
  const auto& steps = plan_->steps();
  using Clock = std::chrono::steady_clock;
  const Clock::time_point run_start = Clock::now();
  auto since_start = [&] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - run_start).count();
  };
  if (profiling_) profile_.clear();
  for (size_t s = 0; s < steps.size(); ++s) {
    switch (steps[s].action) {
      case ExecutionPlan::Action::kAlias:
        break;
      case ExecutionPlan::Action::kCopy: {
        const Tensor& in = *step_inputs_[s][0];
        std::memcpy(step_outputs_[s][0]->mutable_raw(), in.raw(), in.nbytes());
        break;
      }
      case ExecutionPlan::Action::kKernel: {
        if (observer_) observer_(*steps[s].node, step_inputs_[s], ctx);
        const int64_t start = profiling_ ? since_start() : 0;
        RATEL_RETURN_IF_ERROR(steps[s].kernel->run(ctx, step_inputs_[s], step_outputs_[s])
                                  .with_context(steps[s].node->describe()));
        if (profiling_) profile_.push_back({steps[s].node, steps[s].kernel->implementation(), start, since_start()});
        break;
      }
    }
  }
  outputs->clear();
  for (const ir::Value* v : g.outputs()) outputs->push_back(values_[static_cast<size_t>(v->id)]);
  return Status::Ok();
}

}  // namespace ratel::runtime
