#include "nlp/qa.h"

namespace ratel::nlp {

Result<QaFeatures> make_features(const BertTokenizer& tokenizer, std::string_view question,
                                 std::string_view context, const FeatureOptions& options) {
  QaFeatures qa;
  qa.example.qas_id = "0";
  qa.example.question_text = std::string(question);
  RATEL_ASSIGN_OR_RETURN(qa.example.context, split_context(context));
  if (qa.example.context->words.empty()) return invalid_argument("the context is empty");
  std::vector<SquadExample> examples{qa.example};
  RATEL_ASSIGN_OR_RETURN(qa.features, convert_examples_to_features(examples, tokenizer, options));
  if (qa.features.empty()) return invalid_argument("the context has no tokens");
  return qa;
}

Result<Prediction> extract_answer(const BertTokenizer& tokenizer, const QaFeatures& qa,
                                  std::span<const RawResult> results,
                                  const AnswerOptions& options) {
  if (results.size() != qa.features.size()) {
    return invalid_argument("{} windows but {} model results", qa.features.size(), results.size());
  }
  std::vector<const InputFeature*> features;
  std::vector<const RawResult*> result_ptrs;
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].unique_id != qa.features[i].unique_id) {
      return invalid_argument("result {} is for feature {}, expected {}", i, results[i].unique_id,
                              qa.features[i].unique_id);
    }
    features.push_back(&qa.features[i]);
    result_ptrs.push_back(&results[i]);
  }
  return predict_answer(qa.example, features, result_ptrs, tokenizer, options);
}

}  // namespace ratel::nlp
