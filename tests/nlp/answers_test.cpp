// Answer extraction (run_squad.py write_predictions / get_final_text) and the whole
// post-processing on the dev set with gold spans as one-hot logits.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>

#include "nlp/final_text.h"
#include "nlp/qa.h"
#include "nlp/squad_eval.h"
#include "nlp/utf8.h"
#include "test_assets.h"

namespace ratel::nlp {
namespace {

// Expected values from the Python reference (tests/nlp/py/bert_reference.py get_final_text).
TEST(FinalText, AlignsPredictionWithOriginalText) {
  const BasicTokenizer uncased(true), cased(false);
  EXPECT_EQ(get_final_text("steve smith", "Steve Smith's", uncased), "Steve Smith");
  EXPECT_EQ(get_final_text("1895", "(1895-1943).", uncased), "1895");
  EXPECT_EQ(get_final_text("s", "Levi's", uncased), "s");
  EXPECT_EQ(get_final_text("denver broncos", "Denver Broncos", uncased), "Denver Broncos");
  // Gives up and returns the original words: not found, or lengths differ once the combining
  // accent is stripped.
  EXPECT_EQ(get_final_text("zzz", "Abc", uncased), "Abc");
  EXPECT_EQ(get_final_text("abc", "ABC", cased), "ABC");
  EXPECT_EQ(get_final_text("cafe", "cafe\u0301", uncased), "cafe\u0301");
  EXPECT_EQ(get_final_text("\u03C3\u03B1\u03C2", "\u03A3\u0391\u03A3", uncased),
            "\u03A3\u0391\u03A3");
}

Result<BertTokenizer> load_tokenizer() {
  return BertTokenizer::load(testing::asset_path("vocab/bert-base-uncased-vocab.txt"));
}

RawResult one_hot(const InputFeature& f, int32_t start, int32_t end) {
  RawResult r;
  r.unique_id = f.unique_id;
  r.start_logits.assign(f.input_ids.size(), 0.0f);
  r.end_logits.assign(f.input_ids.size(), 0.0f);
  if (start >= 0) r.start_logits[start] = 10.0f;
  if (end >= 0) r.end_logits[end] = 10.0f;
  return r;
}

TEST(Answers, SeedExampleThroughTheQaApi) {
  RATEL_REQUIRE_ASSET(vocab_path, "vocab/bert-base-uncased-vocab.txt");
  RATEL_REQUIRE_ASSET(squad_path, "squad/test1.json");
  auto tokenizer = load_tokenizer();
  ASSERT_TRUE(tokenizer.ok());
  auto dataset = read_squad_file(squad_path);
  ASSERT_TRUE(dataset.ok()) << dataset.status().message();
  const SquadParagraph& paragraph = dataset->paragraphs.at(0);
  auto qa = make_features(*tokenizer, paragraph.questions.at(0).question, paragraph.context);
  ASSERT_TRUE(qa.ok()) << qa.status().message();
  ASSERT_EQ(qa->features.size(), 1u);
  const InputFeature& f = qa->features[0];
  // Point the logits at the tokens "denver" and "broncos" of the context.
  const int32_t denver = tokenizer->vocab().find("denver");
  const int32_t broncos = tokenizer->vocab().find("broncos");
  int32_t start = -1;
  for (int32_t i = f.context_start; i + 1 < f.num_tokens; ++i) {
    if (f.input_ids[i] == denver && f.input_ids[i + 1] == broncos) start = i;
  }
  ASSERT_GE(start, 0);
  std::vector<RawResult> results{one_hot(f, start, start + 1)};
  auto answer = extract_answer(*tokenizer, *qa, results);
  ASSERT_TRUE(answer.ok()) << answer.status().message();
  EXPECT_EQ(answer->text, "Denver Broncos");
  // test1.json's gold answer_start, in code points of the context.
  EXPECT_EQ(answer->nbest[0].char_start, 177);
  EXPECT_EQ(answer->nbest[0].char_end, 177 + 14);
  EXPECT_EQ(answer->nbest.size(), 20u);
  EXPECT_GT(answer->nbest[0].probability, 0.99);
  double total = 0;
  for (const auto& a : answer->nbest) total += a.probability;
  EXPECT_NEAR(total, 1.0, 1e-12);
  // Also spans that end before they start, or run past max_answer_length, are never chosen.
  AnswerOptions short_answers;
  short_answers.max_answer_length = 1;
  auto one_token = extract_answer(*tokenizer, *qa, results, short_answers);
  ASSERT_TRUE(one_token.ok());
  EXPECT_NE(one_token->text, "Denver Broncos");
}

TEST(Answers, RankingAcrossWindowsAndMaxContext) {
  auto vocab = Vocab::from_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nq\nw0\nw1\nw2\nw3\nw4\nw5\n", "v");
  ASSERT_TRUE(vocab.ok());
  auto tokenizer = BertTokenizer::create(*vocab);
  ASSERT_TRUE(tokenizer.ok());
  FeatureOptions options;
  options.max_seq_length = 8;  // 8 - 1 - 3 = 4 context tokens per window
  options.doc_stride = 2;
  options.max_query_length = 1;
  auto qa = make_features(*tokenizer, "q", "W0 W1 W2 W3 W4 W5", options);
  ASSERT_TRUE(qa.ok()) << qa.status().message();
  ASSERT_EQ(qa->features.size(), 2u);  // words 0-3 and 2-5; context starts at position 3
  // Window 0 (words 0-3 at positions 3-6) puts a huge start logit on W3, but W3 has more
  // context in window 1 (1 left, 2 right vs 3 left, 0 right), so that span must be skipped;
  // window 1 (words 2-5) rates "W4 W5" at 5 + 4.
  std::vector<RawResult> results{one_hot(qa->features[0], -1, -1),
                                 one_hot(qa->features[1], -1, -1)};
  results[0].start_logits[6] = 50;
  results[1].start_logits[5] = 5;
  results[1].end_logits[6] = 4;
  auto answer = extract_answer(*tokenizer, *qa, results);
  ASSERT_TRUE(answer.ok()) << answer.status().message();
  EXPECT_EQ(answer->text, "W4 W5");
  EXPECT_EQ(answer->nbest[0].feature_index, 1);
  EXPECT_EQ(answer->nbest[0].start_word, 4);
  EXPECT_EQ(answer->nbest[0].end_word, 5);
  EXPECT_DOUBLE_EQ(answer->nbest[0].start_logit + answer->nbest[0].end_logit, 9.0);

  results[1].end_logits[4] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(extract_answer(*tokenizer, *qa, results).ok());
  results[1].end_logits.resize(3);
  EXPECT_FALSE(extract_answer(*tokenizer, *qa, results).ok());
  results.pop_back();
  EXPECT_FALSE(extract_answer(*tokenizer, *qa, results).ok());
}

TEST(Answers, GoldSpansAsOneHotLogitsScoreNearPerfectOnDev) {
  RATEL_REQUIRE_ASSET(vocab_path, "vocab/bert-base-uncased-vocab.txt");
  RATEL_REQUIRE_ASSET(squad_path, "squad/dev-v1.1.reconstructed.json");
  auto tokenizer = load_tokenizer();
  ASSERT_TRUE(tokenizer.ok());
  auto set = load_squad_eval_set(squad_path, *tokenizer);
  ASSERT_TRUE(set.ok()) << set.status().message();
  std::vector<RawResult> results;
  size_t with_gold = 0;
  for (const InputFeature& f : set->features) {
    results.push_back(one_hot(f, f.start_position, f.end_position));
    with_gold += f.start_position >= 0;
  }
  const auto begin = std::chrono::steady_clock::now();
  auto predictions = write_predictions(set->examples, set->features, results, *tokenizer);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  ASSERT_TRUE(predictions.ok()) << predictions.status().message();
  const SquadScores scores = score_predictions(set->dataset, *predictions);
  // Every n-best answer's char_start/char_end point at its text in the context.
  size_t misplaced = 0;
  for (size_t i = 0; i < predictions->size(); ++i) {
    std::u32string context;
    ASSERT_TRUE(decode_utf8_string(set->examples[i].context->text, &context, "context").ok());
    for (const NbestAnswer& a : (*predictions)[i].nbest) {
      if (a.feature_index < 0) {  // the placeholder when no span qualifies
        EXPECT_EQ(a.text, "empty");
        EXPECT_EQ(a.char_start, -1);
        continue;
      }
      std::string slice;
      encode_utf8_string(
          std::u32string_view(context).substr(a.char_start, a.char_end - a.char_start), &slice);
      if (slice != a.text && ++misplaced <= 5) ADD_FAILURE() << a.text << " vs " << slice;
    }
  }
  EXPECT_EQ(misplaced, 0u);
  std::printf(
      "one-hot gold spans: %zu/%zu features hot, EM %.4f F1 %.4f (post-processing %.3f s)\n",
      with_gold, set->features.size(), scores.exact_match, scores.f1, seconds);
  EXPECT_EQ(scores.total, 10570u);
  EXPECT_EQ(scores.answered, 10570u);
  // The Python reference pipeline (tests/nlp/py/) gives EM 99.33774834437087 and
  // F1 99.42358454519677 on the same input: the misses are gold answers that are not a
  // whole-token span (e.g. part of a hyphenated word) or whose answer_start is -1.
  EXPECT_NEAR(scores.exact_match, 99.33774834437087, 1e-9);
  EXPECT_NEAR(scores.f1, 99.42358454519677, 1e-9);
}

}  // namespace
}  // namespace ratel::nlp
