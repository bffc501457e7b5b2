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

#include <memory>
#include <string>

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
  const runtime::Model& model() const { return *model_; }
  runtime::Session& session() { return *session_; }

 private:
  std::shared_ptr<runtime::Model> model_;
  std::shared_ptr<runtime::Session> session_;
  int seq_len_ = 0;
  size_t ids_ = 0, mask_ = 0, segments_ = 0;  // input indices
  int start_ = 0, end_ = 1;                    // output indices; end_ = -1: one [1, L, 2] output
  bool trim_padding_ = false;
};

}  // namespace ratel::qa
