#include "nlp/metrics.h"

#include <algorithm>

#include "nlp/unicode_props.h"
#include "nlp/utf8.h"

namespace ratel::nlp {
namespace {

bool is_ascii_punctuation(char32_t c) {  // Python's string.punctuation
  return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
         (c >= 123 && c <= 126);
}

std::u32string decode_lenient(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    char32_t cp;
    const size_t len = decode_utf8(text, pos, &cp);
    out.push_back(len == 0 ? char32_t{0xFFFD} : cp);
    pos += len == 0 ? 1 : len;
  }
  return out;
}

// re.sub(r'\b(a|an|the)\b', ' ', text): alternatives tried in order at each position where a
// word starts; boundaries look at the original text.
std::u32string remove_articles(const std::u32string& text) {
  auto word_at = [&](size_t i) { return i < text.size() && is_python_word_char(text[i]); };
  auto matches = [&](size_t i, std::u32string_view article) {
    return text.compare(i, article.size(), article) == 0 && !word_at(i + article.size());
  };
  std::u32string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const bool boundary_before = i == 0 || !is_python_word_char(text[i - 1]);
    size_t length = 0;
    if (boundary_before) {
      if (matches(i, U"a")) {
        length = 1;
      } else if (matches(i, U"an")) {
        length = 2;
      } else if (matches(i, U"the")) {
        length = 3;
      }
    }
    if (length > 0) {
      out.push_back(U' ');
      i += length;
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

std::vector<std::string> normalized_words(std::string_view text) {
  const std::string normalized = normalize_answer(text);
  std::vector<std::string> words;
  size_t start = 0;
  while (start < normalized.size()) {
    size_t end = normalized.find(' ', start);
    if (end == std::string::npos) end = normalized.size();
    words.emplace_back(normalized, start, end - start);
    start = end + 1;
  }
  return words;
}

}  // namespace

std::string normalize_answer(std::string_view text) {
  std::u32string lowered;
  python_lower(decode_lenient(text), &lowered);
  std::u32string no_punctuation;
  for (char32_t c : lowered) {
    if (!is_ascii_punctuation(c)) no_punctuation.push_back(c);
  }
  const std::u32string no_articles = remove_articles(no_punctuation);
  // ' '.join(text.split())
  std::string out;
  bool in_word = false;
  for (char32_t c : no_articles) {
    if (is_python_whitespace(c)) {
      in_word = false;
    } else {
      if (!in_word && !out.empty()) out += ' ';
      append_utf8(c, &out);
      in_word = true;
    }
  }
  return out;
}

bool exact_match_score(std::string_view prediction, std::string_view ground_truth) {
  return normalize_answer(prediction) == normalize_answer(ground_truth);
}

double f1_score(std::string_view prediction, std::string_view ground_truth) {
  std::vector<std::string> p = normalized_words(prediction);
  std::vector<std::string> g = normalized_words(ground_truth);
  // sum((Counter(p) & Counter(g)).values()): the size of the multiset intersection.
  std::sort(p.begin(), p.end());
  std::sort(g.begin(), g.end());
  size_t num_same = 0;
  for (size_t i = 0, j = 0; i < p.size() && j < g.size();) {
    if (p[i] == g[j]) {
      ++num_same;
      ++i;
      ++j;
    } else if (p[i] < g[j]) {
      ++i;
    } else {
      ++j;
    }
  }
  if (num_same == 0) return 0;
  const double precision = 1.0 * static_cast<double>(num_same) / static_cast<double>(p.size());
  const double recall = 1.0 * static_cast<double>(num_same) / static_cast<double>(g.size());
  return (2 * precision * recall) / (precision + recall);
}

double max_f1_over_ground_truths(std::string_view prediction,
                                 const std::vector<SquadAnswer>& ground_truths) {
  double best = 0;
  for (const SquadAnswer& gt : ground_truths) best = std::max(best, f1_score(prediction, gt.text));
  return best;
}

bool max_exact_match_over_ground_truths(std::string_view prediction,
                                        const std::vector<SquadAnswer>& ground_truths) {
  return std::any_of(ground_truths.begin(), ground_truths.end(),
                     [&](const SquadAnswer& gt) { return exact_match_score(prediction, gt.text); });
}

SquadScores evaluate_squad_v11(const SquadDataset& dataset,
                               const std::unordered_map<std::string, std::string>& predictions) {
  SquadScores scores;
  size_t exact_matches = 0;
  double f1_sum = 0;
  for (const SquadParagraph& paragraph : dataset.paragraphs) {
    for (const SquadQuestion& qa : paragraph.questions) {
      ++scores.total;
      const auto it = predictions.find(qa.id);
      if (it == predictions.end()) continue;  // "will receive score 0"
      ++scores.answered;
      exact_matches += max_exact_match_over_ground_truths(it->second, qa.answers) ? 1 : 0;
      f1_sum += max_f1_over_ground_truths(it->second, qa.answers);
    }
  }
  if (scores.total > 0) {
    scores.exact_match =
        100.0 * static_cast<double>(exact_matches) / static_cast<double>(scores.total);
    scores.f1 = 100.0 * f1_sum / static_cast<double>(scores.total);
  }
  return scores;
}

}  // namespace ratel::nlp
