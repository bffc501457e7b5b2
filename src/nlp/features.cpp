#include "nlp/features.h"

#include <fmt/format.h>

#include <algorithm>

namespace ratel::nlp {
namespace {

struct DocSpan {
  int32_t start;
  int32_t length;
};

// The context as WordPiece ids, with run_squad's maps between words and tokens.
struct TokenizedContext {
  const SquadContext* source = nullptr;
  std::vector<int32_t> ids;
  std::vector<int32_t> tok_to_orig;  // word of each token
  std::vector<int32_t> orig_to_tok;  // first token of each word (words may have no tokens)
};

Status tokenize_context(const SquadContext& context, const BertTokenizer& tokenizer,
                        TokenizedContext* out) {
  out->source = &context;
  out->ids.clear();
  out->tok_to_orig.clear();
  out->orig_to_tok.clear();
  for (size_t w = 0; w < context.words.size(); ++w) {
    out->orig_to_tok.push_back(static_cast<int32_t>(out->ids.size()));
    const size_t before = out->ids.size();
    RATEL_RETURN_IF_ERROR(tokenizer.encode(context.words[w], &out->ids));
    out->tok_to_orig.insert(out->tok_to_orig.end(), out->ids.size() - before,
                            static_cast<int32_t>(w));
  }
  return Status::Ok();
}

// _check_is_max_context. The score uses the same double arithmetic as the Python code so ties
// resolve identically.
bool is_max_context(const std::vector<DocSpan>& spans, size_t current, int32_t position) {
  double best_score = -1.0;
  size_t best_span = 0;
  bool found = false;
  for (size_t i = 0; i < spans.size(); ++i) {
    const int32_t end = spans[i].start + spans[i].length - 1;
    if (position < spans[i].start || position > end) continue;
    const int32_t left = position - spans[i].start;
    const int32_t right = end - position;
    const double score = std::min(left, right) + 0.01 * spans[i].length;
    if (!found || score > best_score) {
      best_score = score;
      best_span = i;
      found = true;
    }
  }
  return found && best_span == current;
}

// _improve_answer_span: the tightest token span whose tokens equal the tokenized answer text
// (so "1895" is found inside "(1895-1943)"). Token ids stand in for the joined strings: vocab
// entries contain no spaces, so equal id sequences are exactly equal joined texts.
Status improve_answer_span(const std::vector<int32_t>& doc_ids, const BertTokenizer& tokenizer,
                           const std::string& answer_text, int32_t* start, int32_t* end) {
  std::vector<int32_t> answer_ids;
  RATEL_RETURN_IF_ERROR(tokenizer.encode(answer_text, &answer_ids));
  const auto n = static_cast<int32_t>(answer_ids.size());
  for (int32_t s = *start; s <= *end; ++s) {
    for (int32_t e = *end; e >= s; --e) {
      if (e - s + 1 != n) continue;
      if (std::equal(answer_ids.begin(), answer_ids.end(), doc_ids.begin() + s)) {
        *start = s;
        *end = e;
        return Status::Ok();
      }
    }
  }
  return Status::Ok();
}

// Gold token span of an example in the whole tokenized context, or false when it has none.
Result<bool> gold_token_span(const SquadExample& example, const TokenizedContext& context,
                             const BertTokenizer& tokenizer, int32_t* start, int32_t* end) {
  if (!example.has_gold_span()) return false;
  const auto num_words = static_cast<int32_t>(example.doc_tokens().size());
  *start = context.orig_to_tok[example.start_word];
  *end = example.end_word < num_words - 1 ? context.orig_to_tok[example.end_word + 1] - 1
                                          : static_cast<int32_t>(context.ids.size()) - 1;
  if (*end < *start) return false;  // the answer's words produced no tokens
  RATEL_RETURN_IF_ERROR(
      improve_answer_span(context.ids, tokenizer, example.answers.front().text, start, end));
  return true;
}

std::vector<DocSpan> make_doc_spans(int32_t num_tokens, int32_t max_tokens_per_span,
                                    int32_t doc_stride) {
  std::vector<DocSpan> spans;
  int32_t start = 0;
  while (start < num_tokens) {
    const int32_t length = std::min(num_tokens - start, max_tokens_per_span);
    spans.push_back({start, length});
    if (start + length == num_tokens) break;
    start += std::min(length, doc_stride);
  }
  return spans;
}

}  // namespace

Status validate(const FeatureOptions& options) {
  if (options.max_query_length < 1 || options.doc_stride < 1) {
    return invalid_argument("max_query_length ({}) and doc_stride ({}) must be positive",
                            options.max_query_length, options.doc_stride);
  }
  // Bounded so that a window (three int32 vectors of this length) cannot take gigabytes, and
  // so that the sums below cannot overflow. BERT models take 512 positions at most.
  constexpr int kMaxSeqLength = 1 << 16;
  if (options.max_seq_length > kMaxSeqLength) {
    return invalid_argument("max_seq_length {} is too large (at most {})", options.max_seq_length,
                            kMaxSeqLength);
  }
  if (static_cast<int64_t>(options.max_seq_length) < static_cast<int64_t>(options.max_query_length) + 4) {
    return invalid_argument(
        "max_seq_length {} leaves no room for context after a {}-token question and 3 special "
        "tokens",
        options.max_seq_length, options.max_query_length);
  }
  return Status::Ok();
}

Result<std::vector<InputFeature>> convert_examples_to_features(
    const std::vector<SquadExample>& examples, const BertTokenizer& tokenizer,
    const FeatureOptions& options) {
  RATEL_RETURN_IF_ERROR(validate(options));
  RATEL_ASSIGN_OR_RETURN(const int32_t cls_id, tokenizer.required_id("[CLS]"));
  RATEL_ASSIGN_OR_RETURN(const int32_t sep_id, tokenizer.required_id("[SEP]"));
  const int32_t max_len = options.max_seq_length;

  std::vector<InputFeature> features;
  TokenizedContext context;
  std::vector<int32_t> query_ids;
  int64_t unique_id = options.first_unique_id;
  for (size_t example_index = 0; example_index < examples.size(); ++example_index) {
    const SquadExample& example = examples[example_index];
    if (!example.context) return invalid_argument("example {} has no context", example.qas_id);
    query_ids.clear();
    Status status = tokenizer.encode(example.question_text, &query_ids);
    if (!status.ok()) return status.with_context(fmt::format("question {}", example.qas_id));
    if (query_ids.size() > static_cast<size_t>(options.max_query_length)) {
      query_ids.resize(options.max_query_length);
    }
    if (context.source != example.context.get()) {
      status = tokenize_context(*example.context, tokenizer, &context);
      if (!status.ok()) return status.with_context(fmt::format("context of {}", example.qas_id));
    }
    int32_t gold_start = -1, gold_end = -1;
    RATEL_ASSIGN_OR_RETURN(const bool has_gold,
                           gold_token_span(example, context, tokenizer, &gold_start, &gold_end));

    const auto query_len = static_cast<int32_t>(query_ids.size());
    const int32_t context_start = query_len + 2;
    const std::vector<DocSpan> spans = make_doc_spans(static_cast<int32_t>(context.ids.size()),
                                                      max_len - query_len - 3, options.doc_stride);
    for (size_t span_index = 0; span_index < spans.size(); ++span_index) {
      const DocSpan span = spans[span_index];
      InputFeature f;
      f.unique_id = unique_id++;
      f.example_index = static_cast<int32_t>(example_index);
      f.doc_span_index = static_cast<int32_t>(span_index);
      f.context_start = context_start;
      f.num_tokens = context_start + span.length + 1;
      f.input_ids.assign(max_len, 0);
      f.input_mask.assign(max_len, 0);
      f.segment_ids.assign(max_len, 0);
      f.input_ids[0] = cls_id;
      std::copy(query_ids.begin(), query_ids.end(), f.input_ids.begin() + 1);
      f.input_ids[query_len + 1] = sep_id;
      f.token_to_orig.resize(span.length);
      f.token_is_max_context.resize(span.length);
      for (int32_t i = 0; i < span.length; ++i) {
        const int32_t token = span.start + i;
        f.input_ids[context_start + i] = context.ids[token];
        f.segment_ids[context_start + i] = 1;
        f.token_to_orig[i] = context.tok_to_orig[token];
        f.token_is_max_context[i] = is_max_context(spans, span_index, token) ? 1 : 0;
      }
      f.input_ids[f.num_tokens - 1] = sep_id;
      f.segment_ids[f.num_tokens - 1] = 1;
      std::fill(f.input_mask.begin(), f.input_mask.begin() + f.num_tokens, 1);
      if (has_gold && gold_start >= span.start && gold_end <= span.start + span.length - 1) {
        f.start_position = gold_start - span.start + context_start;
        f.end_position = gold_end - span.start + context_start;
      }
      features.push_back(std::move(f));
    }
  }
  return features;
}

}  // namespace ratel::nlp
