// Tokenizer throughput: all SQuAD v1.1 dev contexts (2,067) and questions (10,570) through the
// BERT tokenizer on one thread. Prints MB/s of UTF-8 input and WordPiece tokens/s (best and
// median of --repeat passes); optionally writes every text's ids for comparison with another
// tokenizer (bench/tokenizer/compare_hf.py).
//
//   ratel_tokenizer_bench [--squad dev.json] [--vocab vocab.txt] [--repeat 10]
//                         [--max-chars-per-word 200] [--cased] [--ids-out ids.txt] [--json]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/file.h"
#include "nlp/bert_tokenizer.h"
#include "nlp/squad_json.h"

namespace {

using ratel::nlp::BertTokenizer;

struct Args {
  std::string squad, vocab, ids_out;
  int repeat = 10;
  int max_chars_per_word = ratel::nlp::WordpieceTokenizer::kDefaultMaxInputCharsPerWord;
  bool cased = false;
  bool json = false;
};

// RATEL_ASSETS may name shared/ or shared/data/.
std::string default_asset(const char* relative) {
  const char* env = std::getenv("RATEL_ASSETS");
  const std::string root = env != nullptr && *env != '\0' ? env : RATEL_DEFAULT_ASSETS;
  const std::string under_data = root + "/data/" + relative;
  return std::filesystem::exists(under_data) ? under_data : root + "/" + relative;
}

bool parse_args(int argc, char** argv, Args* args) {
  args->squad = default_asset("squad/dev-v1.1.reconstructed.json");
  args->vocab = default_asset("vocab/bert-base-uncased-vocab.txt");
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (flag == "--cased") {
      args->cased = true;
    } else if (flag == "--json") {
      args->json = true;
    } else if ((flag == "--squad" || flag == "--vocab" || flag == "--ids-out" ||
                flag == "--repeat" || flag == "--max-chars-per-word") &&
               (v = value()) != nullptr) {
      if (flag == "--squad") args->squad = v;
      if (flag == "--vocab") args->vocab = v;
      if (flag == "--ids-out") args->ids_out = v;
      if (flag == "--repeat") args->repeat = std::max(1, std::atoi(v));
      if (flag == "--max-chars-per-word") args->max_chars_per_word = std::atoi(v);
    } else {
      std::fprintf(stderr, "unknown or incomplete argument: %s\n", flag.c_str());
      return false;
    }
  }
  return true;
}

int run(const Args& args) {
  ratel::nlp::TokenizerOptions options;
  options.do_lower_case = !args.cased;
  options.max_input_chars_per_word = args.max_chars_per_word;
  auto tokenizer = BertTokenizer::load(args.vocab, options);
  if (!tokenizer.ok()) {
    std::fprintf(stderr, "error: %s\n", tokenizer.status().message().c_str());
    return 1;
  }
  auto dataset = ratel::nlp::read_squad_file(args.squad);
  if (!dataset.ok()) {
    std::fprintf(stderr, "error: %s\n", dataset.status().message().c_str());
    return 1;
  }
  // Contexts first, then questions, each in file order.
  std::vector<std::string> texts;
  for (const auto& p : dataset->paragraphs) texts.push_back(p.context);
  const size_t num_contexts = texts.size();
  for (const auto& p : dataset->paragraphs) {
    for (const auto& q : p.questions) texts.push_back(q.question);
  }
  size_t bytes = 0;
  for (const auto& t : texts) bytes += t.size();

  std::vector<int32_t> ids;
  ids.reserve(1 << 16);
  std::vector<double> seconds;
  size_t tokens = 0;
  for (int r = 0; r < args.repeat; ++r) {
    tokens = 0;
    const auto begin = std::chrono::steady_clock::now();
    for (const auto& t : texts) {
      ids.clear();
      const ratel::Status status = tokenizer->encode(t, &ids);
      if (!status.ok()) {
        std::fprintf(stderr, "error: %s\n", status.message().c_str());
        return 1;
      }
      tokens += ids.size();
    }
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count());
  }
  std::sort(seconds.begin(), seconds.end());
  const double best = seconds.front();
  const double median = seconds[seconds.size() / 2];

  if (!args.ids_out.empty()) {
    std::string out;
    for (const auto& t : texts) {
      ids.clear();
      (void)tokenizer->encode(t, &ids);
      for (size_t i = 0; i < ids.size(); ++i) {
        if (i > 0) out += ' ';
        out += std::to_string(ids[i]);
      }
      out += '\n';
    }
    const ratel::Status status = ratel::write_text_file(args.ids_out, out);
    if (!status.ok()) {
      std::fprintf(stderr, "error: %s\n", status.message().c_str());
      return 1;
    }
  }
  if (args.json) {
    std::printf(
        "{\"texts\": %zu, \"contexts\": %zu, \"bytes\": %zu, \"tokens\": %zu, \"repeat\": %d, "
        "\"best_s\": %.6f, \"median_s\": %.6f}\n",
        texts.size(), num_contexts, bytes, tokens, args.repeat, best, median);
  } else {
    std::printf("texts: %zu (%zu contexts, %zu questions), %.2f MB, %zu tokens\n", texts.size(),
                num_contexts, texts.size() - num_contexts, bytes / 1e6, tokens);
    std::printf("best of %d: %.2f ms  %.1f MB/s  %.2f M tokens/s\n", args.repeat, best * 1e3,
                bytes / best / 1e6, tokens / best / 1e6);
    std::printf("median:     %.2f ms  %.1f MB/s  %.2f M tokens/s\n", median * 1e3,
                bytes / median / 1e6, tokens / median / 1e6);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parse_args(argc, argv, &args)) return 2;
  return run(args);
}
