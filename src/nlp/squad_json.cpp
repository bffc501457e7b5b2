#include "nlp/squad_json.h"

#include <fmt/format.h>

#include "core/file.h"
#include "nlp/json_parse.h"
#include "nlp/unicode_props.h"
#include "nlp/utf8.h"

namespace ratel::nlp {
namespace {

using json = nlohmann::json;

Status parse_question(const json& qa, const std::string& where, SquadQuestion* out) {
  RATEL_ASSIGN_OR_RETURN(out->id, json_string(qa, "id", where));
  RATEL_ASSIGN_OR_RETURN(out->question, json_string(qa, "question", where));
  const auto answers = qa.find("answers");
  if (answers == qa.end()) return Status::Ok();
  if (!answers->is_array()) return invalid_argument("{}: \"answers\" must be an array", where);
  for (size_t k = 0; k < answers->size(); ++k) {
    const std::string answer_where = fmt::format("{}.answers[{}]", where, k);
    SquadAnswer answer;
    RATEL_ASSIGN_OR_RETURN(answer.text, json_string((*answers)[k], "text", answer_where));
    RATEL_ASSIGN_OR_RETURN(answer.answer_start,
                           json_integer((*answers)[k], "answer_start", answer_where));
    out->answers.push_back(std::move(answer));
  }
  return Status::Ok();
}

Status parse_paragraph(const json& paragraph, const std::string& where, SquadParagraph* out) {
  RATEL_ASSIGN_OR_RETURN(out->context, json_string(paragraph, "context", where));
  RATEL_ASSIGN_OR_RETURN(const json* qas,
                         json_member(paragraph, "qas", json::value_t::array, where));
  out->questions.resize(qas->size());
  for (size_t q = 0; q < qas->size(); ++q) {
    RATEL_RETURN_IF_ERROR(
        parse_question((*qas)[q], fmt::format("{}.qas[{}]", where, q), &out->questions[q]));
  }
  return Status::Ok();
}

bool is_squad_whitespace(char32_t c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0x202F;
}

// run_squad.py's training-time answer location: the words covering the answer's characters,
// kept only if their text contains the (whitespace-normalized) answer text.
void locate_first_answer(SquadExample* example) {
  if (example->answers.empty()) return;
  const SquadAnswer& answer = example->answers.front();
  const SquadContext& context = *example->context;
  const int64_t length = static_cast<int64_t>(count_code_points(answer.text));
  const int64_t first = answer.answer_start;
  const auto num_chars = static_cast<int64_t>(context.char_to_word.size());
  // (Checked before adding: first + length overflows for an answer_start near 2^63.)
  if (length == 0 || first < 0 || first >= num_chars || length > num_chars - first) return;
  const int64_t last = first + length - 1;
  const int32_t start = context.char_to_word[first];
  const int32_t end = context.char_to_word[last];
  if (start < 0 || end < start) return;
  std::string actual;
  for (int32_t w = start; w <= end; ++w) {
    if (w > start) actual += ' ';
    actual += context.words[w];
  }
  // " ".join(whitespace_tokenize(answer)): words split at Python's str.split() whitespace.
  std::string cleaned;
  bool in_word = false;
  const std::string& text = answer.text;
  for (size_t pos = 0; pos < text.size();) {
    char32_t cp;
    const size_t len = decode_utf8(text, pos, &cp);
    if (len == 0) return;  // invalid UTF-8 in the answer: treat it as not found
    if (is_python_whitespace(cp)) {
      in_word = false;
    } else {
      if (!in_word && !cleaned.empty()) cleaned += ' ';
      cleaned.append(text, pos, len);
      in_word = true;
    }
    pos += len;
  }
  if (actual.find(cleaned) == std::string::npos) return;
  example->start_word = start;
  example->end_word = end;
}

}  // namespace

size_t SquadDataset::num_questions() const {
  size_t n = 0;
  for (const auto& p : paragraphs) n += p.questions.size();
  return n;
}

Result<SquadDataset> parse_squad_json(std::string_view text, std::string_view source) {
  RATEL_ASSIGN_OR_RETURN(json root, parse_json(text, source));
  SquadDataset dataset;
  const std::string where(source);
  if (root.is_object() && root.contains("version") && root["version"].is_string()) {
    dataset.version = root["version"].get<std::string>();
  }
  RATEL_ASSIGN_OR_RETURN(const json* data, json_member(root, "data", json::value_t::array, where));
  for (size_t a = 0; a < data->size(); ++a) {
    const std::string article_where = fmt::format("{}: data[{}]", where, a);
    const json& article = (*data)[a];
    RATEL_ASSIGN_OR_RETURN(const json* paragraphs,
                           json_member(article, "paragraphs", json::value_t::array, article_where));
    std::string title;
    if (const auto it = article.find("title"); it != article.end() && it->is_string()) {
      title = it->get<std::string>();
    }
    for (size_t p = 0; p < paragraphs->size(); ++p) {
      SquadParagraph paragraph;
      paragraph.title = title;
      RATEL_RETURN_IF_ERROR(parse_paragraph(
          (*paragraphs)[p], fmt::format("{}.paragraphs[{}]", article_where, p), &paragraph));
      dataset.paragraphs.push_back(std::move(paragraph));
    }
  }
  return dataset;
}

Result<SquadDataset> read_squad_file(const std::string& path) {
  RATEL_ASSIGN_OR_RETURN(std::string text, read_text_file(path));
  return parse_squad_json(text, path);
}

Result<std::shared_ptr<const SquadContext>> split_context(std::string_view text) {
  auto context = std::make_shared<SquadContext>();
  context->text = std::string(text);
  context->char_to_word.reserve(text.size());
  bool previous_is_whitespace = true;
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp;
    const size_t len = decode_utf8(text, pos, &cp);
    if (len == 0) return invalid_utf8_error("context", pos, static_cast<unsigned char>(text[pos]));
    if (is_squad_whitespace(cp)) {
      previous_is_whitespace = true;
    } else {
      if (previous_is_whitespace) {
        context->word_start.push_back(static_cast<int32_t>(context->char_to_word.size()));
        context->words.emplace_back();
      }
      context->words.back().append(text.substr(pos, len));
      previous_is_whitespace = false;
    }
    context->char_to_word.push_back(static_cast<int32_t>(context->words.size()) - 1);
    pos += len;
  }
  return std::shared_ptr<const SquadContext>(std::move(context));
}

Result<std::vector<SquadExample>> make_squad_examples(const SquadDataset& dataset) {
  std::vector<SquadExample> examples;
  examples.reserve(dataset.num_questions());
  for (size_t p = 0; p < dataset.paragraphs.size(); ++p) {
    const SquadParagraph& paragraph = dataset.paragraphs[p];
    auto context = split_context(paragraph.context);
    if (!context.ok()) return context.status().with_context(fmt::format("paragraph {}", p));
    for (const SquadQuestion& question : paragraph.questions) {
      SquadExample example;
      example.qas_id = question.id;
      example.question_text = question.question;
      example.context = *context;
      example.answers = question.answers;
      locate_first_answer(&example);
      examples.push_back(std::move(example));
    }
  }
  return examples;
}

Result<std::vector<SquadExample>> read_squad_examples(const std::string& path) {
  RATEL_ASSIGN_OR_RETURN(SquadDataset dataset, read_squad_file(path));
  auto examples = make_squad_examples(dataset);
  if (!examples.ok()) return examples.status().with_context(path);
  return examples;
}

}  // namespace ratel::nlp
