// Hostile text and arrays: a 100 MB tokenizer input, deeply nested SQuAD JSON, .npy headers
// that promise terabytes, hostile user strings.
#include <gtest/gtest.h>

#include <chrono>

#include "core/parse.h"
#include "core/tensor.h"
#include "hardening/hostile_files.h"
#include "io/npy.h"
#include "nlp/bert_tokenizer.h"
#include "nlp/features.h"
#include "nlp/json_parse.h"
#include "nlp/squad_eval.h"
#include "nlp/squad_json.h"

namespace ratel {
namespace {

using namespace ratel::hardening;

#define EXPECT_HAS(haystack, needle) \
  EXPECT_NE((haystack).find(needle), std::string::npos) << "message: " << (haystack)

class MemoryLimit {
 public:
  explicit MemoryLimit(size_t bytes) { set_allocation_limit(bytes); }
  ~MemoryLimit() { set_allocation_limit(0); }
};

nlp::BertTokenizer make_tokenizer() {
  auto vocab = nlp::Vocab::from_text(qa_vocab() + "caf\nna\n##\xc3\xa9\n\xe4\xb8\xad\n(\n)\n-\n,\n\"\n", "test-vocab");
  EXPECT_TRUE(vocab.ok());
  auto t = nlp::BertTokenizer::create(*vocab, {});
  EXPECT_TRUE(t.ok());
  return *t;
}

TEST(HostileTextTest, HundredMegabyteTokenizerInput) {
  const nlp::BertTokenizer tokenizer = make_tokenizer();
  const std::string text = big_text(size_t{100} << 20);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<int32_t> ids;
  ASSERT_TRUE(tokenizer.encode(text, &ids).ok());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  RecordProperty("tokenize_100mb_seconds", std::to_string(s));
  EXPECT_GT(ids.size(), size_t{10} << 20);
  for (int32_t id : ids) ASSERT_TRUE(id >= 0 && id < tokenizer.vocab().size());
  EXPECT_LT(s, 120.0);
  // One 100 MB word: a single [UNK] (longer than max_input_chars_per_word), not a quadratic
  // WordPiece search.
  ids.clear();
  ASSERT_TRUE(tokenizer.encode(std::string(size_t{100} << 20, 'a'), &ids).ok());
  EXPECT_EQ(ids, (std::vector<int32_t>{*tokenizer.required_id("[UNK]")}));
  // Invalid UTF-8 at the very end of 100 MB is found and named by offset.
  std::string bad = text;
  bad += '\xff';
  ids.clear();
  const Status s2 = tokenizer.encode(bad, &ids);
  ASSERT_FALSE(s2.ok());
  EXPECT_HAS(s2.message(), fmt::format("byte offset {}", text.size()));
  EXPECT_TRUE(ids.empty());
}

TEST(HostileTextTest, DeeplyNestedJsonIsRefusedBeforeParsing) {
  for (size_t depth : {size_t{300}, size_t{10} << 20}) {
    const std::string text = nested_squad_json(depth);
    auto r = nlp::parse_squad_json(text, "nested.json");
    ASSERT_FALSE(r.ok());
    EXPECT_HAS(r.status().message(), "nested.json:1:");
    EXPECT_HAS(r.status().message(), "invalid JSON: nested deeper than 256 levels");
  }
  // Brackets inside strings do not count; moderate nesting parses (and fails on structure).
  auto r = nlp::parse_squad_json(R"({"data": [{"paragraphs": [], "title": "[[[[[[[[[[{{{{{{{{\"[[["}]})", "s.json");
  EXPECT_TRUE(r.ok()) << r.status().message();
  r = nlp::parse_squad_json(nested_squad_json(200), "n.json");
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.status().message(), "n.json: data[0].paragraphs[0].qas[0].answers[0]: expected an object");
  // Predictions files go through the same parser.
  auto p = nlp::parse_predictions_json(nested_json(100000), "predictions.json");
  ASSERT_FALSE(p.ok());
  EXPECT_HAS(p.status().message(), "nested deeper than 256 levels");
}

TEST(HostileTextTest, SquadFeaturesFromHostileStructure) {
  const nlp::BertTokenizer tokenizer = make_tokenizer();
  // Answer offsets far outside the context, negative, huge; empty contexts and questions.
  const std::string json = R"({"data":[{"title":"t","paragraphs":[
      {"context":"the team won","qas":[
        {"id":"a","question":"who won?","answers":[{"text":"won","answer_start":9223372036854775807}]},
        {"id":"b","question":"","answers":[{"text":"team","answer_start":-5}]},
        {"id":"c","question":"who","answers":[{"text":"","answer_start":0}]}]},
      {"context":"","qas":[{"id":"d","question":"who?","answers":[]}]},
      {"context":"   \u202f ","qas":[{"id":"e","question":"who?"}]}]}]})";
  auto dataset = nlp::parse_squad_json(json, "h.json");
  ASSERT_TRUE(dataset.ok()) << dataset.status().message();
  auto examples = nlp::make_squad_examples(*dataset);
  ASSERT_TRUE(examples.ok()) << examples.status().message();
  auto features = nlp::convert_examples_to_features(*examples, tokenizer, {});
  ASSERT_TRUE(features.ok()) << features.status().message();
  for (const auto& f : *features) EXPECT_EQ(f.input_ids.size(), 384u);
  // Options that would overflow or allocate without bound are refused.
  nlp::FeatureOptions o;
  o.max_query_length = 2147483647;
  EXPECT_FALSE(nlp::validate(o).ok());
  o = {};
  o.max_seq_length = 2000000000;
  const Status big = nlp::validate(o);
  ASSERT_FALSE(big.ok());
  EXPECT_HAS(big.message(), "max_seq_length 2000000000 is too large");
}

TEST(HostileTextTest, NpyHeadersThatLie) {
  MemoryLimit limit(size_t{16} << 20);
  struct Case {
    std::string shape;
    size_t data;
    std::string expected;
  };
  const Case cases[] = {
      {"(1099511627776, 1099511627776)", 16, "has too many elements"},
      {"(1099511627777,)", 16, "is too large"},
      {"(4194304,)", 16, "shape [4194304] of f32 needs 16777216 bytes of data, the file has 16"},
      {"(1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1)", 4, "rank 18 exceeds the maximum of 16"},
      {"(99999999999999999999,)", 16, "bad shape"},
      {"(-1,)", 16, "bad shape"},
      {"(2, 3", 24, "lacks descr, fortran_order or shape"},
  };
  for (const Case& c : cases) {
    const std::string bytes = lying_npy(c.shape, c.data);
    auto t = io::parse_npy(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size(), "lie.npy");
    ASSERT_FALSE(t.ok()) << c.shape;
    EXPECT_HAS(t.status().message(), "lie.npy");
    EXPECT_HAS(t.status().message(), c.expected);
  }
  // Within the limit, an honest 4 MiB file loads; over it, the limit names the file.
  const std::string honest = lying_npy("(1048576,)", size_t{4} << 20);
  auto t = io::parse_npy(reinterpret_cast<const std::byte*>(honest.data()), honest.size(), "ok.npy");
  EXPECT_TRUE(t.ok()) << t.status().message();
  set_allocation_limit(size_t{1} << 20);
  t = io::parse_npy(reinterpret_cast<const std::byte*>(honest.data()), honest.size(), "big.npy");
  ASSERT_FALSE(t.ok());
  EXPECT_HAS(t.status().message(), "big.npy: allocation of 4194304 bytes (4.0 MiB) exceeds the memory limit of 1.0 MiB");
}

TEST(HostileTextTest, UserStrings) {
  EXPECT_EQ(*parse_byte_size("4096"), 4096u);
  EXPECT_EQ(*parse_byte_size("512K"), 512u << 10);
  EXPECT_EQ(*parse_byte_size("1.5G"), size_t{3} << 29);
  EXPECT_EQ(*parse_byte_size(" 2GiB "), size_t{2} << 30);
  EXPECT_EQ(*parse_byte_size("8gb"), size_t{8} << 30);
  EXPECT_EQ(*parse_byte_size("1T"), size_t{1} << 40);
  for (const char* bad : {"", "G", "-1G", "0", "0.0001", "12Q", "1e9", "99999999999T", "1..5G", "1GG"}) {
    EXPECT_FALSE(parse_byte_size(bad).ok()) << bad;
  }
  // A million-dimension shape string is refused at the rank limit, not parsed to the end.
  std::string many;
  for (int i = 0; i < 1000000; ++i) many += "1 ";
  auto s = parse_shape(many);
  ASSERT_FALSE(s.ok());
  EXPECT_HAS(s.status().message(), "more than 16 dimensions");
}

}  // namespace
}  // namespace ratel
