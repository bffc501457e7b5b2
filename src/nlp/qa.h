// Single-question API for the CLI (`ratel qa --question ... --context ...`):
//
//   RATEL_ASSIGN_OR_RETURN(auto tokenizer, BertTokenizer::load(vocab_path));
//   RATEL_ASSIGN_OR_RETURN(QaFeatures qa, make_features(tokenizer, question, context));
//   std::vector<RawResult> results;
//   for (const InputFeature& f : qa.features) {
//     // feed f.input_ids / f.input_mask / f.segment_ids ([1, max_seq_length] each) to the model
//     results.push_back({f.unique_id, start_logits, end_logits});
//   }
//   RATEL_ASSIGN_OR_RETURN(Prediction answer, extract_answer(tokenizer, qa, results));
//   fmt::print("[Answer]: {}\n", answer.text);
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "nlp/answers.h"
#include "nlp/features.h"
#include "nlp/squad_json.h"

namespace ratel::nlp {

struct QaFeatures {
  SquadExample example;                // qas_id "0"; the context split into words
  std::vector<InputFeature> features;  // one per window, in order (at least one unless the
                                       // context has no tokens)
};

// Tokenizes the question and context and cuts the windows (run_squad.py's pipeline).
// Fails on invalid UTF-8 or an empty context.
Result<QaFeatures> make_features(const BertTokenizer& tokenizer, std::string_view question,
                                 std::string_view context, const FeatureOptions& options = {});

// The answer from the model's logits; results[i] belongs to qa.features[i].
Result<Prediction> extract_answer(const BertTokenizer& tokenizer, const QaFeatures& qa,
                                  std::span<const RawResult> results,
                                  const AnswerOptions& options = {});

}  // namespace ratel::nlp
