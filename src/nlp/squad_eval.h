// Whole-file SQuAD evaluation helpers: a dataset prepared for the model, predictions files,
// and scoring. The flow `ratel qa --squad dev.json` follows:
//
//   RATEL_ASSIGN_OR_RETURN(auto set, load_squad_eval_set("dev.json", tokenizer));
//   std::vector<RawResult> results;  // run the model on every set.features[i]
//   RATEL_ASSIGN_OR_RETURN(auto predictions,
//                          write_predictions(set.examples, set.features, results, tokenizer));
//   SquadScores scores = score_predictions(set.dataset, predictions);  // EM / F1
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "nlp/answers.h"
#include "nlp/features.h"
#include "nlp/metrics.h"
#include "nlp/squad_json.h"

namespace ratel::nlp {

struct SquadEvalSet {
  SquadDataset dataset;                // with gold answers, for scoring
  std::vector<SquadExample> examples;  // one per question
  std::vector<InputFeature> features;  // one per window; example_index points into examples
};

Result<SquadEvalSet> load_squad_eval_set(const std::string& path, const BertTokenizer& tokenizer,
                                         const FeatureOptions& options = {});

// Keeps the questions (examples, their windows, and the gold answers scored) for which
// keep(example index, question id) is true, in file order; returns how many remain.
size_t keep_questions(SquadEvalSet* set, const std::function<bool(size_t, const std::string&)>& keep);

// qas_id -> best answer text.
std::unordered_map<std::string, std::string> predictions_by_id(
    const std::vector<Prediction>& predictions);

SquadScores score_predictions(const SquadDataset& dataset,
                              const std::vector<Prediction>& predictions);

// A predictions file as run_squad.py writes it: {"qas_id": "answer text", ...}.
Result<std::unordered_map<std::string, std::string>> parse_predictions_json(
    std::string_view text, std::string_view source);
Result<std::unordered_map<std::string, std::string>> read_predictions_file(const std::string& path);

// `python evaluate-v1.1.py dataset.json predictions.json`.
Result<SquadScores> evaluate_prediction_file(const std::string& dataset_path,
                                             const std::string& predictions_path);

}  // namespace ratel::nlp
