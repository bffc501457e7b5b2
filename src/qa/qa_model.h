// A BERT extractive-QA model behind Ratel's runtime: finds its three inputs and two outputs by
// name, runs it on SQuAD features and returns logits for answer extraction.
//
//   RATEL_ASSIGN_OR_RETURN(QaModel model, QaModel::load("model.onnx", {}));
//   RATEL_ASSIGN_OR_RETURN(nlp::RawResult r, model.run(feature));
//
// Accepted interfaces: inputs named input_ids / input_mask (or attention_mask) / segment_ids
// (or token_type_ids), each [1, L] of an integer type; outputs start and end logits [1, L]
// (named *start* and *end*, or the first two outputs), or one [1, L, 2] output.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "nlp/answers.h"
#include "nlp/features.h"
#include "runtime/model.h"

namespace ratel::qa {

struct QaModelOptions {
  runtime::SessionOptions session;
  runtime::LoadOptions load;
  // Compute only the real (unpadded) token rows of each window: bit-identical logits at those
  // positions, the others set to -1e30 (answer extraction never picks padding). Fast executor only.
  bool trim_padding = true;
};

class QaModel {
 public:
  static Result<QaModel> load(const std::string& path, const QaModelOptions& options);
  // Sequence length L the model was exported for (features must use it).
  int max_seq_length() const { return seq_len_; }
  Result<nlp::RawResult> run(const nlp::InputFeature& feature);
  // Runs every window, in parallel over `workers` sessions of one thread each when workers > 1
  // (a thread per window beats splitting each window's kernels over the threads: measured on
  // 2 cores with MiniLM, ~10% more questions/s). Every kernel gives the same bits for any
  // thread count, so the logits are identical to run()'s. `on_done(i)` is called for each
  // finished window i, one call at a time, in completion order. Stops at the first error (the
  // lowest failing window index goes to *failed_window when given).
  Result<std::vector<nlp::RawResult>> run_all(std::span<const nlp::InputFeature> features,
                                              int workers,
                                              const std::function<void(size_t)>& on_done = {},
                                              size_t* failed_window = nullptr);
  const runtime::Model& model() const { return *model_; }
  runtime::Session& session() { return *session_; }

 private:
  std::shared_ptr<runtime::Model> model_;
  Result<nlp::RawResult> run_on(runtime::Session& session, const nlp::InputFeature& feature) const;

  std::shared_ptr<runtime::Session> session_;
  runtime::SessionOptions session_options_;
  std::vector<std::shared_ptr<runtime::Session>> worker_sessions_;  // made by run_all
  int seq_len_ = 0;
  size_t ids_ = 0, mask_ = 0, segments_ = 0;  // input indices
  int start_ = 0, end_ = 1;                    // output indices; end_ = -1: one [1, L, 2] output
  bool trim_padding_ = false;
};

}  // namespace ratel::qa
