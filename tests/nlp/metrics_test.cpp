// The SQuAD v1.1 metric against the official evaluate-v1.1.py logic: expected values in
// data/metric_expected.json were computed by tests/nlp/py/make_metric_cases.py (CPython).
#include "nlp/metrics.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/file.h"
#include "nlp/squad_eval.h"
#include "test_assets.h"

namespace ratel::nlp {
namespace {

using testing::test_data_path;

TEST(Metrics, NormalizeAnswer) {
  EXPECT_EQ(normalize_answer("The  Denver Broncos!"), "denver broncos");
  EXPECT_EQ(normalize_answer("an apple, a day"), "apple day");
  EXPECT_EQ(normalize_answer("ana a1 theater"), "ana a1 theater");  // no partial words
  EXPECT_EQ(normalize_answer("bad \xFF byte"), "bad \uFFFD byte");
}

TEST(Metrics, F1CountsRepeatedWords) {
  EXPECT_DOUBLE_EQ(f1_score("the cat cat", "cat"), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(f1_score("cat dog", "dog cat"), 1.0);
  EXPECT_EQ(f1_score("a", "the"), 0.0);  // both normalize to nothing: no common words
  EXPECT_TRUE(exact_match_score("a", "the"));
}

TEST(Metrics, CasesMatchTheOfficialScript) {
  auto dataset = read_squad_file(test_data_path("metric_dataset.json"));
  ASSERT_TRUE(dataset.ok()) << dataset.status().message();
  auto predictions = read_predictions_file(test_data_path("metric_predictions.json"));
  ASSERT_TRUE(predictions.ok()) << predictions.status().message();
  auto expected_text = read_text_file(test_data_path("metric_expected.json"));
  ASSERT_TRUE(expected_text.ok());
  const auto expected = nlohmann::json::parse(*expected_text, nullptr, false);
  ASSERT_TRUE(expected.is_object());

  const auto& questions = dataset->paragraphs.at(0).questions;
  const auto& cases = expected.at("cases");
  ASSERT_EQ(cases.size() + 1, questions.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const SquadQuestion& q = questions[i];
    const std::string& prediction = predictions->at(q.id);
    EXPECT_EQ(normalize_answer(prediction), cases[i].at("normalized_prediction").get<std::string>())
        << q.id;
    EXPECT_EQ(max_exact_match_over_ground_truths(prediction, q.answers),
              cases[i].at("exact_match").get<bool>())
        << q.id;
    EXPECT_EQ(max_f1_over_ground_truths(prediction, q.answers), cases[i].at("f1").get<double>())
        << q.id;
  }

  auto scores = evaluate_prediction_file(test_data_path("metric_dataset.json"),
                                         test_data_path("metric_predictions.json"));
  ASSERT_TRUE(scores.ok()) << scores.status().message();
  EXPECT_EQ(scores->total, questions.size());
  EXPECT_EQ(scores->answered, questions.size() - 1);
  // Bit-identical: same operations in the same order as the script.
  EXPECT_EQ(scores->exact_match, expected.at("overall").at("exact_match").get<double>());
  EXPECT_EQ(scores->f1, expected.at("overall").at("f1").get<double>());
}

TEST(Metrics, PredictionFileErrors) {
  EXPECT_FALSE(parse_predictions_json("[\"x\"]", "p.json").ok());
  EXPECT_FALSE(parse_predictions_json("{\"q\": 3}", "p.json").ok());
  auto bad = parse_predictions_json("{\"q\": \"a\",\n}", "p.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("p.json:2:1:"), std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace ratel::nlp
