// SQuAD v1.1 files, and run_squad.py's read_squad_examples.
//
// A dataset is read as written (paragraphs, questions, gold answers); examples are the
// per-question view the feature builder uses, with the context split into words on
// whitespace exactly as run_squad.py does (" ", \t, \r, \n, U+202F).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ratel::nlp {

struct SquadAnswer {
  std::string text;
  int64_t answer_start = -1;  // in code points of the context; -1 when unknown
};

struct SquadQuestion {
  std::string id;
  std::string question;
  std::vector<SquadAnswer> answers;  // empty for unlabeled input
};

struct SquadParagraph {
  std::string title;  // the article's
  std::string context;
  std::vector<SquadQuestion> questions;
};

struct SquadDataset {
  std::string version;
  std::vector<SquadParagraph> paragraphs;  // in file order, articles flattened
  size_t num_questions() const;
};

// Parses SQuAD JSON text; `source` names it in errors. Malformed JSON fails with
// "<source>:<line>:<column>: ...", a wrong structure with the JSON path
// ("data[3].paragraphs[0].qas[2]: missing \"id\""). Answers are optional.
Result<SquadDataset> parse_squad_json(std::string_view text, std::string_view source);
Result<SquadDataset> read_squad_file(const std::string& path);

// A paragraph's context split into words, shared by all its questions.
struct SquadContext {
  std::string text;
  std::vector<std::string> words;  // run_squad's doc_tokens
  // Word index of every code point of `text` (whitespace maps to the word before it, -1
  // before the first word): run_squad's char_to_word_offset.
  std::vector<int32_t> char_to_word;
  // Code point offset of each word's first character in `text`.
  std::vector<int32_t> word_start;
};

// Splits on run_squad.py's whitespace. Fails on invalid UTF-8.
Result<std::shared_ptr<const SquadContext>> split_context(std::string_view context);

struct SquadExample {
  std::string qas_id;
  std::string question_text;
  std::shared_ptr<const SquadContext> context;
  std::vector<SquadAnswer> answers;
  // The first answer located in words the way run_squad.py does for training: -1 when there
  // is no answer, its offset is invalid, or the words there do not contain its text.
  int32_t start_word = -1;
  int32_t end_word = -1;

  const std::vector<std::string>& doc_tokens() const { return context->words; }
  bool has_gold_span() const { return start_word >= 0; }
};

// One example per question, in dataset order.
Result<std::vector<SquadExample>> make_squad_examples(const SquadDataset& dataset);
// read_squad_file + make_squad_examples.
Result<std::vector<SquadExample>> read_squad_examples(const std::string& path);

}  // namespace ratel::nlp
