// run_squad.py's convert_examples_to_features: question + context -> fixed-length BERT inputs.
//
// Each example yields one feature per context window ("doc span"):
//   [CLS] question [SEP] context window [SEP] then zero padding to max_seq_length
// Windows of at most max_seq_length - len(question) - 3 tokens start every doc_stride tokens;
// each context token remembers its word (token_to_orig) and whether this window is the one
// where it has the most context on both sides (token_is_max_context).
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "nlp/bert_tokenizer.h"
#include "nlp/squad_json.h"

namespace ratel::nlp {

struct FeatureOptions {
  int max_seq_length = 384;
  int doc_stride = 128;
  int max_query_length = 64;  // longer questions are truncated
  int64_t first_unique_id = 1000000000;
};

struct InputFeature {
  int64_t unique_id = 0;
  int32_t example_index = 0;         // into the examples given to the builder
  int32_t doc_span_index = 0;        // which window of that example
  std::vector<int32_t> input_ids;    // max_seq_length, zero padded
  std::vector<int32_t> input_mask;   // 1 for real tokens, 0 for padding
  std::vector<int32_t> segment_ids;  // 0 for [CLS] question [SEP], 1 for window [SEP], 0 pad
  int32_t num_tokens = 0;            // real tokens, before padding
  int32_t context_start = 0;         // position of the window's first token (question + 2)
  // For positions context_start + i, i < token_to_orig.size(): the context word of the token,
  // and whether this window gives the token its maximal context.
  std::vector<int32_t> token_to_orig;
  std::vector<uint8_t> token_is_max_context;
  // Gold answer positions in this feature when the example has one inside this window (as
  // run_squad.py computes for training); -1 otherwise.
  int32_t start_position = -1;
  int32_t end_position = -1;

  bool is_context_position(int32_t position) const {
    return position >= context_start &&
           position < context_start + static_cast<int32_t>(token_to_orig.size());
  }
  // Word of a context position (requires is_context_position).
  int32_t orig_word(int32_t position) const { return token_to_orig[position - context_start]; }
  bool is_max_context(int32_t position) const {
    return is_context_position(position) && token_is_max_context[position - context_start] != 0;
  }
};

// Checks option consistency (positive sizes, room for at least one context token).
Status validate(const FeatureOptions& options);

// Features for all examples, unique ids counting up from options.first_unique_id. Examples
// that share a context (same SquadContext object) tokenize it once.
Result<std::vector<InputFeature>> convert_examples_to_features(
    const std::vector<SquadExample>& examples, const BertTokenizer& tokenizer,
    const FeatureOptions& options = {});

}  // namespace ratel::nlp
