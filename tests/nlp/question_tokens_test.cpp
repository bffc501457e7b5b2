// All 10,570 SQuAD v1.1 dev questions must tokenize exactly like the reference: basic tokens,
// WordPiece tokens and ids (shared/data/squad/questions/*, from the Core ML BERT demo).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/file.h"
#include "nlp/bert_tokenizer.h"
#include "test_assets.h"

namespace ratel::nlp {
namespace {

nlohmann::json load_json(const std::string& path) {
  auto text = read_text_file(path);
  EXPECT_TRUE(text.ok()) << text.status().message();
  return text.ok() ? nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false)
                   : nlohmann::json();
}

TEST(QuestionTokens, AllDevQuestionsMatchTheReference) {
  RATEL_REQUIRE_ASSET(vocab_path, "vocab/bert-base-uncased-vocab.txt");
  RATEL_REQUIRE_ASSET(tokens_path, "squad/questions/question_tokens.json");
  RATEL_REQUIRE_ASSET(ids_path, "squad/questions/tokenized_questions.json");
  auto tokenizer = BertTokenizer::load(vocab_path);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().message();
  const nlohmann::json questions = load_json(tokens_path);
  const nlohmann::json expected_ids = load_json(ids_path);
  ASSERT_TRUE(questions.is_array());
  ASSERT_TRUE(expected_ids.is_array());
  ASSERT_EQ(questions.size(), 10570u);
  ASSERT_EQ(expected_ids.size(), questions.size());

  size_t mismatches = 0;
  std::vector<int32_t> ids;
  for (size_t i = 0; i < questions.size(); ++i) {
    const auto& q = questions[i];
    const std::string original = q.at("original").get<std::string>();
    auto basic = tokenizer->basic().tokenize(original);
    auto wordpiece = tokenizer->tokenize(original);
    ids.clear();
    const Status status = tokenizer->encode(original, &ids);
    ASSERT_TRUE(basic.ok() && wordpiece.ok() && status.ok()) << "question " << i;
    const bool same = *basic == q.at("basic").get<std::vector<std::string>>() &&
                      *wordpiece == q.at("wordpiece").get<std::vector<std::string>>() &&
                      ids == expected_ids[i].get<std::vector<int32_t>>();
    if (!same && ++mismatches <= 5) ADD_FAILURE() << "question " << i << ": " << original;
  }
  EXPECT_EQ(mismatches, 0u);
}

}  // namespace
}  // namespace ratel::nlp
