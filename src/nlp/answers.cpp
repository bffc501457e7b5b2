#include "nlp/answers.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>
#include <unordered_map>

#include "nlp/final_text.h"
#include "nlp/unicode_props.h"
#include "nlp/utf8.h"

namespace ratel::nlp {
namespace {

struct Candidate {
  int32_t feature;  // index into the example's features
  int32_t start;
  int32_t end;
  double start_logit;
  double end_logit;
};

// _get_best_indexes: positions of the n largest logits, ties broken by position (Python's
// sorted(reverse=True) is stable).
void best_indexes(std::span<const float> logits, int n, std::vector<int32_t>* out) {
  out->resize(logits.size());
  std::iota(out->begin(), out->end(), 0);
  const size_t keep = std::min(out->size(), static_cast<size_t>(std::max(n, 0)));
  std::partial_sort(out->begin(), out->begin() + keep, out->end(), [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  out->resize(keep);
}

// The WordPiece text of positions [start, end]: tokens joined by spaces, "##" glued back, and
// whitespace collapsed, exactly as write_predictions builds tok_text.
std::string detokenize(const InputFeature& feature, int32_t start, int32_t end,
                       const Vocab& vocab) {
  std::string joined;
  for (int32_t i = start; i <= end; ++i) {
    if (i > start) joined += ' ';
    joined += vocab.token(feature.input_ids[i]);
  }
  std::string glued;  // .replace(" ##", "") then .replace("##", "")
  for (size_t i = 0; i < joined.size();) {
    if (joined.compare(i, 3, " ##") == 0) {
      i += 3;
    } else {
      glued += joined[i++];
    }
  }
  std::string no_hashes;
  for (size_t i = 0; i < glued.size();) {
    if (glued.compare(i, 2, "##") == 0) {
      i += 2;
    } else {
      no_hashes += glued[i++];
    }
  }
  // " ".join(text.strip().split()) with Python's whitespace.
  std::string out;
  bool in_word = false;
  for (size_t pos = 0; pos < no_hashes.size();) {
    char32_t cp = 0xFFFD;
    size_t len = decode_utf8(no_hashes, pos, &cp);
    if (len == 0) len = 1;  // vocab entries are valid UTF-8; never taken
    if (is_python_whitespace(cp)) {
      in_word = false;
    } else {
      if (!in_word && !out.empty()) out += ' ';
      out.append(no_hashes, pos, len);
      in_word = true;
    }
    pos += len;
  }
  return out;
}

std::string join_words(const std::vector<std::string>& words, int32_t first, int32_t last) {
  std::string out;
  for (int32_t w = first; w <= last; ++w) {
    if (w > first) out += ' ';
    out += words[w];
  }
  return out;
}

// Context code point of position `offset` of the words [first_word, ...] joined by single
// spaces (offset must fall on a word character, or be one past the last one).
int64_t context_offset(const SquadContext& context, int32_t first_word, int32_t offset) {
  int32_t word = first_word;
  for (;;) {
    const auto length = static_cast<int32_t>(count_code_points(context.words[word]));
    if (offset <= length || word + 1 == static_cast<int32_t>(context.words.size())) break;
    offset -= length + 1;  // the word and the joining space
    ++word;
  }
  return context.word_start[word] + offset;
}

Status check_result(const InputFeature& feature, const RawResult& result) {
  const size_t n = feature.input_ids.size();
  if (result.start_logits.size() != n || result.end_logits.size() != n) {
    return invalid_argument("result {}: expected {} start and end logits, got {} and {}",
                            result.unique_id, n, result.start_logits.size(),
                            result.end_logits.size());
  }
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(result.start_logits[i]) || !std::isfinite(result.end_logits[i])) {
      return invalid_argument("result {}: logit at position {} is not finite", result.unique_id, i);
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Prediction> predict_answer(const SquadExample& example,
                                  std::span<const InputFeature* const> features,
                                  std::span<const RawResult* const> results,
                                  const BertTokenizer& tokenizer, const AnswerOptions& options) {
  if (features.size() != results.size()) {
    return invalid_argument("question {}: {} features but {} results", example.qas_id,
                            features.size(), results.size());
  }
  std::vector<Candidate> candidates;
  std::vector<int32_t> starts, ends;
  for (size_t fi = 0; fi < features.size(); ++fi) {
    const InputFeature& feature = *features[fi];
    const RawResult& result = *results[fi];
    Status status = check_result(feature, result);
    if (!status.ok()) return status.with_context(fmt::format("question {}", example.qas_id));
    best_indexes(result.start_logits, options.n_best_size, &starts);
    best_indexes(result.end_logits, options.n_best_size, &ends);
    for (int32_t s : starts) {
      for (int32_t e : ends) {
        // Positions past the real tokens, in the question, or on [CLS]/[SEP] are not context.
        if (!feature.is_context_position(s) || !feature.is_context_position(e)) continue;
        if (!feature.is_max_context(s)) continue;
        if (e < s || e - s + 1 > options.max_answer_length) continue;
        candidates.push_back(
            {static_cast<int32_t>(fi), s, e, result.start_logits[s], result.end_logits[e]});
      }
    }
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) {
                     return a.start_logit + a.end_logit > b.start_logit + b.end_logit;
                   });

  Prediction prediction;
  prediction.qas_id = example.qas_id;
  for (const Candidate& c : candidates) {
    if (prediction.nbest.size() >= static_cast<size_t>(options.n_best_size)) break;
    const InputFeature& feature = *features[c.feature];
    const int32_t first_word = feature.orig_word(c.start);
    const int32_t last_word = feature.orig_word(c.end);
    FinalText final_text = get_final_text_span(
        detokenize(feature, c.start, c.end, tokenizer.vocab()),
        join_words(example.doc_tokens(), first_word, last_word), tokenizer.basic());
    const bool seen = std::any_of(prediction.nbest.begin(), prediction.nbest.end(),
                                  [&](const NbestAnswer& a) { return a.text == final_text.text; });
    if (seen) continue;
    NbestAnswer answer;
    answer.text = std::move(final_text.text);
    answer.start_logit = c.start_logit;
    answer.end_logit = c.end_logit;
    answer.feature_index = c.feature;
    answer.start_position = c.start;
    answer.end_position = c.end;
    answer.start_word = first_word;
    answer.end_word = last_word;
    answer.char_start = context_offset(*example.context, first_word, final_text.begin);
    answer.char_end = context_offset(*example.context, first_word, final_text.end - 1) + 1;
    prediction.nbest.push_back(std::move(answer));
  }
  if (prediction.nbest.empty()) {  // run_squad's placeholder when nothing qualifies
    NbestAnswer empty;
    empty.text = "empty";
    prediction.nbest.push_back(empty);
  }
  // _compute_softmax over start + end logits.
  double max_score = prediction.nbest[0].start_logit + prediction.nbest[0].end_logit;
  for (const auto& a : prediction.nbest)
    max_score = std::max(max_score, a.start_logit + a.end_logit);
  double total = 0;
  for (auto& a : prediction.nbest) {
    a.probability = std::exp(a.start_logit + a.end_logit - max_score);
    total += a.probability;
  }
  for (auto& a : prediction.nbest) a.probability /= total;
  prediction.text = prediction.nbest[0].text;
  return prediction;
}

Result<std::vector<Prediction>> write_predictions(const std::vector<SquadExample>& examples,
                                                  const std::vector<InputFeature>& features,
                                                  const std::vector<RawResult>& results,
                                                  const BertTokenizer& tokenizer,
                                                  const AnswerOptions& options) {
  std::unordered_map<int64_t, const RawResult*> result_by_id;
  for (const RawResult& r : results) result_by_id[r.unique_id] = &r;
  std::vector<std::vector<const InputFeature*>> features_of(examples.size());
  std::vector<std::vector<const RawResult*>> results_of(examples.size());
  for (const InputFeature& f : features) {
    if (f.example_index < 0 || static_cast<size_t>(f.example_index) >= examples.size()) {
      return invalid_argument("feature {}: example index {} out of range", f.unique_id,
                              f.example_index);
    }
    const auto it = result_by_id.find(f.unique_id);
    if (it == result_by_id.end()) return not_found("no result for feature {}", f.unique_id);
    features_of[f.example_index].push_back(&f);
    results_of[f.example_index].push_back(it->second);
  }
  std::vector<Prediction> predictions;
  predictions.reserve(examples.size());
  for (size_t i = 0; i < examples.size(); ++i) {
    RATEL_ASSIGN_OR_RETURN(Prediction p, predict_answer(examples[i], features_of[i], results_of[i],
                                                        tokenizer, options));
    predictions.push_back(std::move(p));
  }
  return predictions;
}

std::string predictions_to_json(const std::vector<Prediction>& predictions) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const Prediction& p : predictions) out[p.qas_id] = p.text;
  return out.dump(4, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string nbest_to_json(const std::vector<Prediction>& predictions) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const Prediction& p : predictions) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const NbestAnswer& a : p.nbest) {
      list.push_back({{"text", a.text},
                      {"probability", a.probability},
                      {"start_logit", a.start_logit},
                      {"end_logit", a.end_logit}});
    }
    out[p.qas_id] = std::move(list);
  }
  return out.dump(4, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace ratel::nlp
