// The official SQuAD v1.1 metric (evaluate-v1.1.py), reproduced to the last bit.
//
// normalize_answer: lower-case (Python str.lower), remove ASCII punctuation
// (string.punctuation), replace the words "a", "an", "the" by spaces (regex \b with Unicode
// word characters), collapse whitespace (str.split). EM: normalized strings equal. F1: over
// the multiset of normalized words. Each question takes its best score over gold answers.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "nlp/squad_json.h"

namespace ratel::nlp {

// UTF-8 in and out. Invalid UTF-8 bytes are read as U+FFFD (Python never sees such strings).
std::string normalize_answer(std::string_view text);
bool exact_match_score(std::string_view prediction, std::string_view ground_truth);
double f1_score(std::string_view prediction, std::string_view ground_truth);

// Best score over the gold answers (0 when there are none).
double max_f1_over_ground_truths(std::string_view prediction,
                                 const std::vector<SquadAnswer>& ground_truths);
bool max_exact_match_over_ground_truths(std::string_view prediction,
                                        const std::vector<SquadAnswer>& ground_truths);

struct SquadScores {
  double exact_match = 0;  // percent
  double f1 = 0;           // percent
  size_t total = 0;        // questions in the dataset
  size_t answered = 0;     // questions with a prediction (the others score 0)
};

// evaluate(): every question of `dataset` counts; the sums run in dataset order like the
// script's, so the percentages are bit-identical to its output.
SquadScores evaluate_squad_v11(const SquadDataset& dataset,
                               const std::unordered_map<std::string, std::string>& predictions);

}  // namespace ratel::nlp
