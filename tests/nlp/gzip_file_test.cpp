// Reading the gzip-compressed MLPerf references, and failing cleanly on damaged files.
#include "nlp/gzip_file.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <filesystem>

#include "core/file.h"
#include "nlp/squad_json.h"
#include "test_assets.h"

namespace ratel::nlp {
namespace {

TEST(GzipFile, GroundTruthHasOneLinePerDevQuestionInOrder) {
  RATEL_REQUIRE_ASSET(truth_path, "squad/mlperf/groundtruth.jsonl.gz");
  RATEL_REQUIRE_ASSET(squad_path, "squad/dev-v1.1.reconstructed.json");
  auto text = read_maybe_gzipped_file(truth_path);
  ASSERT_TRUE(text.ok()) << text.status().message();
  auto examples = read_squad_examples(squad_path);
  ASSERT_TRUE(examples.ok());
  const simdjson::padded_string padded(*text);
  simdjson::dom::parser parser;
  simdjson::dom::document_stream stream;
  ASSERT_EQ(parser.parse_many(padded).get(stream), simdjson::SUCCESS);
  size_t line = 0;
  for (auto doc : stream) {
    std::string_view qas_id;
    ASSERT_EQ(doc["qas_id"].get(qas_id), simdjson::SUCCESS) << "line " << line + 1;
    ASSERT_LT(line, examples->size());
    EXPECT_EQ(qas_id, (*examples)[line].qas_id) << "line " << line + 1;
    ++line;
  }
  EXPECT_EQ(line, 10570u);
}

TEST(GzipFile, TruncatedOrPlainFiles) {
  RATEL_REQUIRE_ASSET(truth_path, "squad/mlperf/groundtruth.jsonl.gz");
  auto whole = read_text_file(truth_path);
  ASSERT_TRUE(whole.ok());
  const std::string dir = ::testing::TempDir();
  const std::string truncated_path = dir + "/ratel_truncated.jsonl.gz";
  ASSERT_TRUE(write_text_file(truncated_path, whole->substr(0, 5000)).ok());
  auto truncated = read_maybe_gzipped_file(truncated_path);
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(truncated.status().message().find(truncated_path), std::string::npos);

  const std::string plain_path = dir + "/ratel_plain.txt";
  ASSERT_TRUE(write_text_file(plain_path, "not compressed\n").ok());
  auto plain = read_maybe_gzipped_file(plain_path);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, "not compressed\n");
  std::filesystem::remove(truncated_path);
  std::filesystem::remove(plain_path);
  EXPECT_FALSE(read_maybe_gzipped_file(dir + "/ratel_missing.gz").ok());
}

}  // namespace
}  // namespace ratel::nlp
