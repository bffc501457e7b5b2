// run_squad.py's write_predictions (SQuAD v1.1): model logits -> answer text per question.
//
// For each question, every window contributes its n_best_size best start and end positions;
// pairs that lie inside the context, start where that window has maximal context, and are at
// most max_answer_length tokens long become candidates. Candidates are ranked by start + end
// logit across all windows, mapped back to original text (get_final_text), de-duplicated, and
// given softmax probabilities over the n-best list.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "nlp/bert_tokenizer.h"
#include "nlp/features.h"
#include "nlp/squad_json.h"

namespace ratel::nlp {

struct AnswerOptions {
  int n_best_size = 20;
  int max_answer_length = 30;  // in WordPiece tokens
};

// The model's output for one feature (one window).
struct RawResult {
  int64_t unique_id = 0;
  std::vector<float> start_logits;  // one per input position (max_seq_length)
  std::vector<float> end_logits;
};

struct NbestAnswer {
  std::string text;
  double probability = 0;
  double start_logit = 0;
  double end_logit = 0;
  // Where it came from (-1 for the placeholder "empty" answer): the feature (index into the
  // features passed in), its token positions, and the context words they cover.
  int32_t feature_index = -1;
  int32_t start_position = -1;
  int32_t end_position = -1;
  int32_t start_word = -1;
  int32_t end_word = -1;
  // Where `text` lies in the example's context: code points [char_start, char_end), the unit
  // of SQuAD's answer_start (-1 for the placeholder).
  int64_t char_start = -1;
  int64_t char_end = -1;
};

struct Prediction {
  std::string qas_id;
  std::string text;                // the best answer: nbest[0].text
  std::vector<NbestAnswer> nbest;  // best first, never empty
};

// Predictions for one example from its features and their results (parallel spans, in window
// order). Fails when logits are missing, of the wrong length, or not finite.
Result<Prediction> predict_answer(const SquadExample& example,
                                  std::span<const InputFeature* const> features,
                                  std::span<const RawResult* const> results,
                                  const BertTokenizer& tokenizer,
                                  const AnswerOptions& options = {});

// Predictions for all examples, in example order. Results are matched to features by
// unique_id (any order); a feature without a result is an error.
Result<std::vector<Prediction>> write_predictions(const std::vector<SquadExample>& examples,
                                                  const std::vector<InputFeature>& features,
                                                  const std::vector<RawResult>& results,
                                                  const BertTokenizer& tokenizer,
                                                  const AnswerOptions& options = {});

// run_squad.py's files: {"qas_id": "text", ...} and {"qas_id": [{"text", "probability",
// "start_logit", "end_logit"}, ...], ...}, indented by 4 like json.dump(indent=4).
std::string predictions_to_json(const std::vector<Prediction>& predictions);
std::string nbest_to_json(const std::vector<Prediction>& predictions);

}  // namespace ratel::nlp
