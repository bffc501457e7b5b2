#include "nlp/squad_eval.h"

#include "core/file.h"
#include "nlp/json_parse.h"

#include <unordered_set>

namespace ratel::nlp {

size_t keep_questions(SquadEvalSet* set, const std::function<bool(size_t, const std::string&)>& keep) {
  std::vector<SquadExample> examples;
  std::vector<int32_t> new_index(set->examples.size(), -1);
  std::unordered_set<std::string> kept;
  for (size_t i = 0; i < set->examples.size(); ++i) {
    if (!keep(i, set->examples[i].qas_id)) continue;
    new_index[i] = static_cast<int32_t>(examples.size());
    kept.insert(set->examples[i].qas_id);
    examples.push_back(std::move(set->examples[i]));
  }
  std::vector<InputFeature> features;
  for (auto& f : set->features) {
    const int32_t to = new_index[static_cast<size_t>(f.example_index)];
    if (to < 0) continue;
    f.example_index = to;
    features.push_back(std::move(f));
  }
  set->examples = std::move(examples);
  set->features = std::move(features);
  for (auto& p : set->dataset.paragraphs) {
    std::erase_if(p.questions, [&](const SquadQuestion& q) { return !kept.count(q.id); });
  }
  return set->examples.size();
}

Result<SquadEvalSet> load_squad_eval_set(const std::string& path, const BertTokenizer& tokenizer,
                                         const FeatureOptions& options) {
  SquadEvalSet set;
  RATEL_ASSIGN_OR_RETURN(set.dataset, read_squad_file(path));
  auto examples = make_squad_examples(set.dataset);
  if (!examples.ok()) return examples.status().with_context(path);
  set.examples = std::move(*examples);
  auto features = convert_examples_to_features(set.examples, tokenizer, options);
  if (!features.ok()) return features.status().with_context(path);
  set.features = std::move(*features);
  return set;
}

std::unordered_map<std::string, std::string> predictions_by_id(
    const std::vector<Prediction>& predictions) {
  std::unordered_map<std::string, std::string> by_id;
  for (const Prediction& p : predictions) by_id[p.qas_id] = p.text;
  return by_id;
}

SquadScores score_predictions(const SquadDataset& dataset,
                              const std::vector<Prediction>& predictions) {
  return evaluate_squad_v11(dataset, predictions_by_id(predictions));
}

Result<std::unordered_map<std::string, std::string>> parse_predictions_json(
    std::string_view text, std::string_view source) {
  RATEL_ASSIGN_OR_RETURN(nlohmann::json root, parse_json(text, source));
  if (!root.is_object()) {
    return invalid_argument("{}: predictions must be a JSON object of id -> answer text", source);
  }
  std::unordered_map<std::string, std::string> predictions;
  for (const auto& [id, answer] : root.items()) {
    if (!answer.is_string())
      return invalid_argument("{}: answer of \"{}\" is not a string", source, id);
    predictions[id] = answer.get<std::string>();
  }
  return predictions;
}

Result<std::unordered_map<std::string, std::string>> read_predictions_file(
    const std::string& path) {
  RATEL_ASSIGN_OR_RETURN(std::string text, read_text_file(path));
  return parse_predictions_json(text, path);
}

Result<SquadScores> evaluate_prediction_file(const std::string& dataset_path,
                                             const std::string& predictions_path) {
  RATEL_ASSIGN_OR_RETURN(SquadDataset dataset, read_squad_file(dataset_path));
  RATEL_ASSIGN_OR_RETURN(auto predictions, read_predictions_file(predictions_path));
  return evaluate_squad_v11(dataset, predictions);
}

}  // namespace ratel::nlp
