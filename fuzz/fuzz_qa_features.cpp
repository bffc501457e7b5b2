// libFuzzer target: the text side of `ratel qa --squad FILE` from arbitrary bytes — SQuAD JSON,
// examples (context split, answer location), features (tokenization, windows, max-context),
// answer extraction from synthetic logits, both predictions files and EM/F1 scoring.
// The first 5 bytes choose the window and answer options, the rest is the JSON text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "nlp/answers.h"
#include "nlp/features.h"
#include "nlp/squad_eval.h"
#include "nlp/squad_json.h"

namespace {

// [PAD] [UNK] [CLS] [SEP], punctuation, a few words, every ASCII letter and digit alone and as
// a continuation piece (so most ASCII words tokenize into pieces rather than [UNK]), and some
// non-ASCII entries.
std::string make_vocab() {
  std::string v = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\nnfl\nteam\nsuper\nbowl\n50\ndenver\nbroncos\n"
                  "?\n.\n,\n(\n)\n-\n\"\n'\n\xc3\xa9\n\xe4\xb8\xad\n##\xc3\xa9\n";
  for (char c = 'a'; c <= 'z'; ++c) v += std::string(1, c) + "\n##" + std::string(1, c) + "\n";
  for (char c = '0'; c <= '9'; ++c) v += std::string(1, c) + "\n##" + std::string(1, c) + "\n";
  return v;
}

const ratel::nlp::BertTokenizer& tokenizer() {
  static const auto vocab = ratel::nlp::Vocab::from_text(make_vocab(), "fuzz-vocab");
  static const auto t = ratel::nlp::BertTokenizer::create(*vocab, {});
  return *t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 5) return 0;
  ratel::nlp::FeatureOptions fo;
  fo.max_query_length = 1 + data[1] % 16;
  fo.max_seq_length = fo.max_query_length + 4 + data[0] % 60;
  fo.doc_stride = 1 + data[2] % 40;
  ratel::nlp::AnswerOptions ao;
  ao.n_best_size = 1 + data[3] % 20;
  ao.max_answer_length = 1 + data[4] % 30;
  const std::string_view json(reinterpret_cast<const char*>(data) + 5, size - 5);

  auto dataset = ratel::nlp::parse_squad_json(json, "fuzz.json");
  if (!dataset.ok()) return 0;
  auto examples = ratel::nlp::make_squad_examples(*dataset);
  if (!examples.ok()) return 0;
  auto features = ratel::nlp::convert_examples_to_features(*examples, tokenizer(), fo);
  if (!features.ok() || features->size() > 20000) return 0;

  // Logits that vary with position and window, with ties, so every ranking path is taken.
  std::vector<ratel::nlp::RawResult> results;
  for (const auto& f : *features) {
    ratel::nlp::RawResult r;
    r.unique_id = f.unique_id;
    for (size_t i = 0; i < f.input_ids.size(); ++i) {
      const auto h = static_cast<uint32_t>(i * 2654435761u + static_cast<uint32_t>(f.unique_id) * 40503u);
      r.start_logits.push_back(static_cast<float>(h % 7) - 3.0f);
      r.end_logits.push_back(static_cast<float>((h >> 8) % 5) - 2.0f);
    }
    results.push_back(std::move(r));
  }
  auto predictions = ratel::nlp::write_predictions(*examples, *features, results, tokenizer(), ao);
  if (!predictions.ok()) return 0;
  (void)ratel::nlp::predictions_to_json(*predictions);
  (void)ratel::nlp::nbest_to_json(*predictions);
  (void)ratel::nlp::score_predictions(*dataset, *predictions);
  return 0;
}
