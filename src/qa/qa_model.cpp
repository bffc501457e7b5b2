#include "qa/qa_model.h"

#include <atomic>
#include <cmath>
#include <mutex>
#include <thread>

namespace ratel::qa {

namespace {

std::string names_of(const std::vector<ir::Value*>& values) {
  std::string s;
  for (const ir::Value* v : values) {
    s += fmt::format("{}{} ({} {})", s.empty() ? "" : ", ", v->name, dtype_name(v->dtype), shape_str(v->shape));
  }
  return s;
}

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

}  // namespace

Result<QaModel> QaModel::load(const std::string& path, const QaModelOptions& options) {
  QaModel m;
  RATEL_ASSIGN_OR_RETURN(m.model_, runtime::Model::load_onnx(path, options.load));
  const auto& inputs = m.model_->inputs();
  const std::string what = fmt::format("'{}' is not a BERT QA model: it has inputs {}", path, names_of(inputs));
  if (inputs.size() != 3) return invalid_argument("{}; expected input_ids, input_mask, segment_ids", what);
  int found[3] = {-1, -1, -1};
  for (size_t i = 0; i < 3; ++i) {
    const std::string& n = inputs[i]->name;
    if (contains(n, "input_ids")) found[0] = static_cast<int>(i);
    else if (contains(n, "mask")) found[1] = static_cast<int>(i);
    else if (contains(n, "segment") || contains(n, "token_type")) found[2] = static_cast<int>(i);
  }
  for (size_t k = 0; k < 3; ++k) {
    if (found[k] < 0) {
      return invalid_argument("{}; expected inputs named input_ids, input_mask (attention_mask) and segment_ids (token_type_ids)", what);
    }
    const ir::Value* v = inputs[static_cast<size_t>(found[k])];
    if (!dtype_is_integer(v->dtype) || v->shape.size() != 2 || v->shape[0] != 1) {
      return invalid_argument("{}; input '{}' must be an integer tensor [1, L]", what, v->name);
    }
  }
  m.ids_ = static_cast<size_t>(found[0]);
  m.mask_ = static_cast<size_t>(found[1]);
  m.segments_ = static_cast<size_t>(found[2]);
  m.seq_len_ = static_cast<int>(inputs[m.ids_]->shape[1]);

  const auto& outputs = m.model_->outputs();
  const Shape logits{1, m.seq_len_};
  if (outputs.size() == 1 && outputs[0]->shape == Shape{1, m.seq_len_, 2}) {
    m.end_ = -1;
  } else if (outputs.size() == 2 && outputs[0]->shape == logits && outputs[1]->shape == logits) {
    const bool swapped = contains(outputs[0]->name, "end") && contains(outputs[1]->name, "start");
    m.start_ = swapped ? 1 : 0;
    m.end_ = swapped ? 0 : 1;
  } else {
    return invalid_argument("'{}' is not a BERT QA model: expected start and end logits [1, {}], it has outputs {}",
                            path, m.seq_len_, names_of(outputs));
  }
  for (const ir::Value* o : outputs) {
    if (o->dtype != DType::kF32) return invalid_argument("'{}': output '{}' must be f32", path, o->name);
  }
  RATEL_ASSIGN_OR_RETURN(auto session, runtime::Session::create(m.model_, options.session));
  m.session_ = std::move(session);
  m.session_options_ = options.session;
  m.trim_padding_ = options.trim_padding && options.session.executor == runtime::ExecutorKind::kFast;
  return m;
}

Result<nlp::RawResult> QaModel::run(const nlp::InputFeature& f) { return run_on(*session_, f); }

Result<std::vector<nlp::RawResult>> QaModel::run_all(std::span<const nlp::InputFeature> features,
                                                     int workers,
                                                     const std::function<void(size_t)>& on_done,
                                                     size_t* failed_window) {
  std::vector<nlp::RawResult> results(features.size());
  const size_t n_workers = std::min(features.size(), static_cast<size_t>(std::max(workers, 1)));
  if (n_workers <= 1) {
    for (size_t i = 0; i < features.size(); ++i) {
      Result<nlp::RawResult> r = run_on(*session_, features[i]);
      if (!r.ok()) {
        if (failed_window) *failed_window = i;
        return r.status();
      }
      results[i] = std::move(r).value();
      if (on_done) on_done(i);
    }
    return results;
  }
  runtime::SessionOptions one_thread = session_options_;
  one_thread.threads = 1;
  while (worker_sessions_.size() < n_workers) {
    RATEL_ASSIGN_OR_RETURN(auto s, runtime::Session::create(model_, one_thread));
    worker_sessions_.push_back(std::move(s));
  }
  // Windows are handed out one at a time (their lengths differ after trimming); which worker
  // runs a window does not change its result.
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;  // guards first_error and on_done
  Status first_error;
  size_t first_error_window = SIZE_MAX;
  auto work = [&](runtime::Session& session) {
    for (size_t i = next++; i < features.size() && !failed.load(); i = next++) {
      Result<nlp::RawResult> r = run_on(session, features[i]);
      std::lock_guard<std::mutex> lock(mu);
      if (!r.ok()) {
        if (i < first_error_window) {
          first_error = r.status();
          first_error_window = i;
        }
        failed = true;
        return;
      }
      results[i] = std::move(r).value();
      if (on_done) on_done(i);
    }
  };
  std::vector<std::thread> threads;
  for (size_t w = 1; w < n_workers; ++w) threads.emplace_back(work, std::ref(*worker_sessions_[w]));
  work(*worker_sessions_[0]);
  for (auto& t : threads) t.join();
  if (failed) {
    if (failed_window) *failed_window = first_error_window;
    return first_error;
  }
  return results;
}

Result<nlp::RawResult> QaModel::run_on(runtime::Session& session, const nlp::InputFeature& f) const {
  const int64_t n = static_cast<int64_t>(f.input_ids.size());
  if (n != seq_len_) {
    return invalid_argument("feature has {} tokens, the model takes {}", n, seq_len_);
  }
  RATEL_RETURN_IF_ERROR(session.set_input(ids_, Tensor::from_vector<int32_t>(f.input_ids, {1, n})));
  RATEL_RETURN_IF_ERROR(session.set_input(mask_, Tensor::from_vector<int32_t>(f.input_mask, {1, n})));
  RATEL_RETURN_IF_ERROR(session.set_input(segments_, Tensor::from_vector<int32_t>(f.segment_ids, {1, n})));
  // The real tokens are the leading input_mask ones; trim only when the mask has that shape.
  int64_t real = 0;
  while (real < n && f.input_mask[static_cast<size_t>(real)] != 0) ++real;
  bool leading = real > 0;
  for (int64_t i = real; leading && i < n; ++i) leading = f.input_mask[static_cast<size_t>(i)] == 0;
  const int64_t active = trim_padding_ && leading ? real : 0;
  RATEL_RETURN_IF_ERROR(session.set_active_rows(active));
  RATEL_RETURN_IF_ERROR(session.run());
  nlp::RawResult r;
  r.unique_id = f.unique_id;
  const auto& outs = session.outputs();
  if (end_ < 0) {
    const float* p = outs[0].data<float>();
    for (int64_t i = 0; i < n; ++i) {
      r.start_logits.push_back(p[2 * i]);
      r.end_logits.push_back(p[2 * i + 1]);
    }
  } else {
    r.start_logits = outs[static_cast<size_t>(start_)].to_vector<float>();
    r.end_logits = outs[static_cast<size_t>(end_)].to_vector<float>();
  }
  const int64_t computed = active > 0 ? active : n;
  // Padding positions were not computed: give them a logit no real position can lose to (finite,
  // so start + end sums stay finite); answer extraction also rejects them as outside the context.
  constexpr float kPadding = -1e30f;
  for (int64_t i = computed; i < n; ++i) {
    r.start_logits[static_cast<size_t>(i)] = kPadding;
    r.end_logits[static_cast<size_t>(i)] = kPadding;
  }
  for (int64_t i = 0; i < computed; ++i) {
    if (!std::isfinite(r.start_logits[static_cast<size_t>(i)]) || !std::isfinite(r.end_logits[static_cast<size_t>(i)])) {
      return out_of_range("the model produced a non-finite logit at position {} (NaN/Inf in weights or inputs?)", i);
    }
  }
  return r;
}

}  // namespace ratel::qa
