// SQuAD reading and feature building against run_squad.py: all 10,833 dev features must equal
// the MLPerf reference features field by field.
#include "nlp/features.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>

#include "nlp/gzip_file.h"
#include "test_assets.h"

namespace ratel::nlp {
namespace {

TEST(SquadJson, ReadsParagraphsQuestionsAndAnswers) {
  const char* text = R"({"version": "1.1", "data": [{"title": "T", "paragraphs": [
      {"context": "Alpha beta\u202Fgamma", "qas": [
        {"id": "q1", "question": "What?", "answers": [{"text": "beta", "answer_start": 6}]},
        {"id": "q2", "question": "Unlabeled?"}]}]}]})";
  auto dataset = parse_squad_json(text, "inline.json");
  ASSERT_TRUE(dataset.ok()) << dataset.status().message();
  EXPECT_EQ(dataset->version, "1.1");
  ASSERT_EQ(dataset->paragraphs.size(), 1u);
  EXPECT_EQ(dataset->num_questions(), 2u);
  auto examples = make_squad_examples(*dataset);
  ASSERT_TRUE(examples.ok());
  const SquadExample& q1 = (*examples)[0];
  // U+202F separates words for run_squad.py.
  EXPECT_EQ(q1.doc_tokens(), (std::vector<std::string>{"Alpha", "beta", "gamma"}));
  EXPECT_EQ(q1.start_word, 1);
  EXPECT_EQ(q1.end_word, 1);
  EXPECT_FALSE((*examples)[1].has_gold_span());
}

TEST(SquadJson, SyntaxErrorsNameLineAndColumn) {
  auto bad = parse_squad_json("{\"data\": [\n  {\"paragraphs\": [}\n]}", "bad.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.json:2:19:"), std::string::npos)
      << bad.status().message();
  auto truncated = parse_squad_json("{\"data\": [", "cut.json");
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.status().message().find("cut.json:1:"), std::string::npos)
      << truncated.status().message();
}

TEST(SquadJson, StructureErrorsNameThePath) {
  auto missing = parse_squad_json(R"({"data": [{"paragraphs": [{"context": "x", "qas": [
      {"question": "no id"}]}]}]})",
                                  "m.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("m.json: data[0].paragraphs[0].qas[0]: missing \"id\""),
            std::string::npos)
      << missing.status().message();
  auto wrong_type =
      parse_squad_json(R"({"data": [{"paragraphs": [{"context": 5, "qas": []}]}]})", "t.json");
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_NE(wrong_type.status().message().find("\"context\" must be a string"), std::string::npos)
      << wrong_type.status().message();
  EXPECT_FALSE(parse_squad_json("[]", "a.json").ok());
  EXPECT_FALSE(read_squad_file("/nonexistent/squad.json").ok());
}

TEST(SquadJson, CharToWordFollowsCodePoints) {
  auto context = split_context("  caf\u00E9  au\tlait ");
  ASSERT_TRUE(context.ok());
  EXPECT_EQ((*context)->words, (std::vector<std::string>{"caf\u00E9", "au", "lait"}));
  EXPECT_EQ((*context)->char_to_word,
            (std::vector<int32_t>{-1, -1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2}));
  EXPECT_FALSE(split_context("bad \xC3").ok());
}

TEST(Features, WindowsOverALongContext) {
  auto vocab = Vocab::from_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nq\nw\n", "v");
  ASSERT_TRUE(vocab.ok());
  auto tokenizer = BertTokenizer::create(*vocab);
  ASSERT_TRUE(tokenizer.ok());
  std::string context;
  for (int i = 0; i < 10; ++i) context += "w ";
  SquadDataset dataset;
  dataset.paragraphs.push_back({"", context, {{"id", "q q", {}}}});
  auto examples = make_squad_examples(dataset);
  ASSERT_TRUE(examples.ok());
  FeatureOptions options;
  options.max_seq_length = 10;  // 10 - 2 question tokens - 3 = 5 context tokens a window
  options.doc_stride = 3;
  options.max_query_length = 4;
  auto features = convert_examples_to_features(*examples, *tokenizer, options);
  ASSERT_TRUE(features.ok()) << features.status().message();
  // Windows start at 0, 3, 6 (the last reaches the end: 6..9, 4 tokens).
  ASSERT_EQ(features->size(), 3u);
  const InputFeature& last = features->back();
  EXPECT_EQ(last.unique_id, 1000000002);
  EXPECT_EQ(last.num_tokens, 9);
  EXPECT_EQ(last.input_ids, (std::vector<int32_t>{2, 4, 4, 3, 5, 5, 5, 5, 3, 0}));
  EXPECT_EQ(last.segment_ids, (std::vector<int32_t>{0, 0, 0, 0, 1, 1, 1, 1, 1, 0}));
  EXPECT_EQ(last.input_mask, (std::vector<int32_t>{1, 1, 1, 1, 1, 1, 1, 1, 1, 0}));
  EXPECT_EQ(last.token_to_orig, (std::vector<int32_t>{6, 7, 8, 9}));
  // Token 6 has more context in window 1 (3..7: 3 left, 1 right) than here (0 left); token 7
  // has more here (1 left, 2 right) than in window 1 (0 right); 8 and 9 appear only here.
  EXPECT_EQ(last.token_is_max_context, (std::vector<uint8_t>{0, 1, 1, 1}));
  options.max_seq_length = 6;
  EXPECT_FALSE(convert_examples_to_features(*examples, *tokenizer, options).ok());
}

// An integer array member of a reference line, zero-padded to `pad_to` (0: no padding); an
// empty vector with a test failure when it is missing.
std::vector<int32_t> int_array(simdjson::dom::element object, const char* key, size_t pad_to) {
  std::vector<int32_t> values;
  simdjson::dom::array array;
  if (object[key].get(array) != simdjson::SUCCESS) {
    ADD_FAILURE() << "reference feature has no array " << key;
    return values;
  }
  for (simdjson::dom::element v : array) {
    int64_t x = 0;
    if (v.get(x) != simdjson::SUCCESS) ADD_FAILURE() << key << " holds a non-integer";
    values.push_back(static_cast<int32_t>(x));
  }
  if (values.size() < pad_to) values.resize(pad_to, 0);
  return values;
}

std::vector<std::string_view> string_array(simdjson::dom::element object, const char* key) {
  std::vector<std::string_view> values;
  simdjson::dom::array array;
  if (object[key].get(array) != simdjson::SUCCESS) {
    ADD_FAILURE() << "reference feature has no array " << key;
    return values;
  }
  for (simdjson::dom::element v : array) {
    std::string_view x;
    if (v.get(x) != simdjson::SUCCESS) ADD_FAILURE() << key << " holds a non-string";
    values.push_back(x);
  }
  return values;
}

TEST(Features, AllDevFeaturesMatchTheMlperfReference) {
  RATEL_REQUIRE_ASSET(vocab_path, "vocab/bert-base-uncased-vocab.txt");
  RATEL_REQUIRE_ASSET(squad_path, "squad/dev-v1.1.reconstructed.json");
  RATEL_REQUIRE_ASSET(reference_path, "squad/mlperf/eval_features.jsonl.gz");
  auto tokenizer = BertTokenizer::load(vocab_path);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().message();
  auto examples = read_squad_examples(squad_path);
  ASSERT_TRUE(examples.ok()) << examples.status().message();
  ASSERT_EQ(examples->size(), 10570u);

  const auto begin = std::chrono::steady_clock::now();
  auto features = convert_examples_to_features(*examples, *tokenizer);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  ASSERT_TRUE(features.ok()) << features.status().message();
  std::printf("built %zu features in %.3f s\n", features->size(), seconds);

  auto reference_text = read_maybe_gzipped_file(reference_path);
  ASSERT_TRUE(reference_text.ok()) << reference_text.status().message();
  // simdjson here: 48 MB of JSON lines parse in well under a second even in sanitizer builds.
  const simdjson::padded_string padded(*reference_text);
  simdjson::dom::parser parser;
  simdjson::dom::document_stream stream;
  ASSERT_EQ(parser.parse_many(padded).get(stream), simdjson::SUCCESS);
  size_t index = 0, mismatches = 0;
  for (auto line : stream) {
    simdjson::dom::element ref;
    ASSERT_EQ(line.get(ref), simdjson::SUCCESS) << "reference line " << index + 1;
    ASSERT_LT(index, features->size());
    const InputFeature& f = (*features)[index++];
    int64_t length = 0, unique_id = 0;
    std::string_view qas_id;
    ASSERT_EQ(ref["length"].get(length), simdjson::SUCCESS);
    ASSERT_EQ(ref["unique_ids"].get(unique_id), simdjson::SUCCESS);
    ASSERT_EQ(ref["qas_id"].get(qas_id), simdjson::SUCCESS);
    std::vector<int32_t> mask(384, 0);
    std::fill(mask.begin(), mask.begin() + length, 1);
    std::vector<std::string_view> tokens;
    for (int32_t i = 0; i < f.num_tokens; ++i)
      tokens.push_back(tokenizer->vocab().token(f.input_ids[i]));
    // input_ids, segment_ids and tokens are trimmed to "length" in the file.
    const bool same =
        f.unique_id == unique_id && (*examples)[f.example_index].qas_id == qas_id &&
        f.num_tokens == length && f.input_ids == int_array(ref, "input_ids", 384) &&
        f.segment_ids == int_array(ref, "segment_ids", 384) && f.input_mask == mask &&
        tokens == string_array(ref, "tokens") &&
        f.token_to_orig == int_array(ref, "token_to_orig_map", 0) &&
        std::vector<int32_t>(f.token_is_max_context.begin(), f.token_is_max_context.end()) ==
            int_array(ref, "token_is_max_context", 0);
    if (!same && ++mismatches <= 5) ADD_FAILURE() << "feature " << index - 1 << " differs";
  }
  EXPECT_EQ(index, features->size());
  EXPECT_EQ(features->size(), 10833u);
  EXPECT_EQ(mismatches, 0u);
}

}  // namespace
}  // namespace ratel::nlp
