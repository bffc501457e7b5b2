// `ratel qa`: extractive question answering with a BERT QA model, end to end in C++ —
// the seed tutorial's Python script (tokenize, window, run, extract the answer) in one command.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "memory_option.h"
#include "quant_option.h"
#include "core/file.h"
#include "core/parse.h"
#include "io/npy.h"
#include "nlp/bert_tokenizer.h"
#include "nlp/qa.h"
#include "nlp/squad_eval.h"
#include "progress.h"
#include "qa/auto_hybrid.h"
#include "qa/qa_calibration.h"
#include "qa/qa_model.h"

namespace ratel::cli {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

struct QaOptions {
  std::string model;
  std::string vocab;
  std::string context;
  std::string context_file;
  std::string question;
  std::string squad;
  std::string questions;  // comma-separated ids, or @file with one id per line
  std::string output_dir = ".";
  std::string save_features;  // write the model inputs as .npy and stop before the model
  std::string logits;         // read start/end logits from .npy instead of running the model
  bool json = false;
  bool cased = false;
  bool reference = false;
  bool no_trim = false;
  QuantOptions quant;
  bool auto_hybrid = false;         // --auto-hybrid-quantization
  std::string loss_algorithm = "f1";
  double loss_threshold = 0.5;      // F1 points
  size_t hybrid_eval_questions = 300;
  int threads = 1;
  nlp::FeatureOptions features;
  nlp::AnswerOptions answers;
  std::string max_memory;  // --max-memory
};

std::string assets_dir() {
  const char* env = std::getenv("RATEL_ASSETS");
  return env && *env ? env : "../shared";
}

bool file_exists(const std::string& p) { return ::access(p.c_str(), R_OK) == 0; }

// --vocab, else vocab.txt beside the model, else the shared BERT uncased vocab.
Result<std::string> find_vocab(const QaOptions& o) {
  if (!o.vocab.empty()) return o.vocab;
  const size_t slash = o.model.find_last_of('/');
  const std::string beside = (slash == std::string::npos ? std::string(".") : o.model.substr(0, slash)) + "/vocab.txt";
  if (file_exists(beside)) return beside;
  const std::string shared = assets_dir() + "/data/vocab/bert-base-uncased-vocab.txt";
  if (file_exists(shared)) return shared;
  return not_found("no vocabulary: pass --vocab VOCAB.txt (looked for {} and {})", beside, shared);
}

Result<std::set<std::string>> parse_question_ids(const std::string& spec) {
  std::set<std::string> ids;
  if (spec.empty()) return ids;
  std::string text = spec;
  if (spec[0] == '@') {
    RATEL_ASSIGN_OR_RETURN(text, read_text_file(spec.substr(1)));
    for (char& c : text) c = c == '\n' ? ',' : c;
  }
  for (const std::string& id : split_list(text, ',')) {
    if (!id.empty()) ids.insert(id);
  }
  if (ids.empty()) return invalid_argument("--questions '{}' names no question ids", spec);
  return ids;
}

int run_single(const QaOptions& o, qa::QaModel& model, const nlp::BertTokenizer& tokenizer) {
  std::string context = o.context;
  if (!o.context_file.empty()) {
    auto text = read_text_file(o.context_file);
    if (!text.ok()) return report(text.status());
    context = std::move(text).value();
  }
  if (o.question.empty()) return report(invalid_argument("--question is empty"));
  {
    // BERT keeps the first max_query_length question tokens; say so rather than drop silently.
    std::vector<int32_t> ids;
    if (Status s = tokenizer.encode(o.question, &ids); !s.ok()) return report(s.with_context("--question"));
    if (static_cast<int>(ids.size()) > o.features.max_query_length) {
      std::fprintf(stderr, "ratel: notice: the question has %zu tokens; only the first %d are used (--max-query-length)\n",
                   ids.size(), o.features.max_query_length);
    }
  }
  auto t0 = Clock::now();
  auto features = nlp::make_features(tokenizer, o.question, context, o.features);
  if (!features.ok()) return report(features.status());
  const double tokenize_ms = ms_since(t0);
  t0 = Clock::now();
  std::vector<nlp::RawResult> results;
  for (const auto& f : features->features) {
    auto r = model.run(f);
    if (!r.ok()) return report(r.status());
    results.push_back(std::move(r).value());
  }
  const double model_ms = ms_since(t0);
  t0 = Clock::now();
  auto answer = nlp::extract_answer(tokenizer, *features, results, o.answers);
  if (!answer.ok()) return report(answer.status());
  const double post_ms = ms_since(t0);
  const nlp::NbestAnswer& best = answer->nbest.front();
  const int64_t start_char = best.char_start, end_char = best.char_end;
  if (o.json) {
    nlohmann::ordered_json j;
    j["question"] = o.question;
    j["answer"] = answer->text;
    j["score"] = best.probability;
    j["start_char"] = start_char;
    j["end_char"] = end_char;
    j["windows"] = features->features.size();
    j["time_ms"] = {{"tokenize", tokenize_ms}, {"model", model_ms}, {"postprocess", post_ms}};
    for (const auto& n : answer->nbest) {
      j["nbest"].push_back({{"text", n.text}, {"probability", n.probability},
                            {"start_logit", n.start_logit}, {"end_logit", n.end_logit}});
    }
    fmt::print("{}\n", j.dump(2));
    return 0;
  }
  fmt::print("[Context]: {}\n[Question]: {}\n[Answer]: {}\n", context, o.question, answer->text);
  fmt::print("score {:.4f} (start logit {:.3f}, end logit {:.3f}), characters {}..{}\n", best.probability,
             best.start_logit, best.end_logit, start_char, end_char);
  fmt::print("time: tokenize {:.2f} ms, model {:.1f} ms ({} window{}), answer {:.2f} ms\n", tokenize_ms, model_ms,
             features->features.size(), features->features.size() == 1 ? "" : "s", post_ms);
  return 0;
}

// --save-features DIR: the model inputs of every window as [N, L] int32 .npy files (and the
// windows' unique ids), so another runtime can be run on exactly Ratel's features.
int save_features(const std::string& dir, const nlp::SquadEvalSet& set) {
  ::mkdir(dir.c_str(), 0755);
  const int64_t n = static_cast<int64_t>(set.features.size());
  const int64_t len = n ? static_cast<int64_t>(set.features[0].input_ids.size()) : 0;
  std::vector<int32_t> ids, mask, seg;
  std::vector<int64_t> uid;
  for (const auto& f : set.features) {
    ids.insert(ids.end(), f.input_ids.begin(), f.input_ids.end());
    mask.insert(mask.end(), f.input_mask.begin(), f.input_mask.end());
    seg.insert(seg.end(), f.segment_ids.begin(), f.segment_ids.end());
    uid.push_back(f.unique_id);
  }
  for (const auto& [name, data] : {std::pair{"input_ids", &ids}, {"input_mask", &mask}, {"segment_ids", &seg}}) {
    if (Status s = io::write_npy(dir + "/" + name + ".npy", Tensor::from_vector<int32_t>(*data, {n, len})); !s.ok()) {
      return report(s);
    }
  }
  if (Status s = io::write_npy(dir + "/unique_ids.npy", Tensor::from_vector<int64_t>(uid, {n})); !s.ok()) return report(s);
  fmt::print("wrote {} windows ({} questions) to {}/{{input_ids,input_mask,segment_ids,unique_ids}}.npy\n", n,
             set.examples.size(), dir);
  return 0;
}

// --logits DIR: start_logits.npy and end_logits.npy, [N, L] f32, one row per window in the order
// --save-features wrote them.
Result<std::vector<nlp::RawResult>> load_logits(const std::string& dir, const std::vector<nlp::InputFeature>& features) {
  RATEL_ASSIGN_OR_RETURN(Tensor start, io::read_npy(dir + "/start_logits.npy"));
  RATEL_ASSIGN_OR_RETURN(Tensor end, io::read_npy(dir + "/end_logits.npy"));
  const int64_t n = static_cast<int64_t>(features.size());
  const int64_t len = n ? static_cast<int64_t>(features[0].input_ids.size()) : 0;
  for (const Tensor* t : {&start, &end}) {
    if (t->dtype() != DType::kF32 || t->shape() != Shape{n, len}) {
      return invalid_argument("logits in {} must be f32 [{}, {}] (one row per window), got {} {}", dir, n, len,
                              dtype_name(t->dtype()), shape_str(t->shape()));
    }
  }
  std::vector<nlp::RawResult> results(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    auto& r = results[static_cast<size_t>(i)];
    r.unique_id = features[static_cast<size_t>(i)].unique_id;
    r.start_logits.assign(start.data<float>() + i * len, start.data<float>() + (i + 1) * len);
    r.end_logits.assign(end.data<float>() + i * len, end.data<float>() + (i + 1) * len);
  }
  return results;
}

int run_squad(const QaOptions& o, qa::QaModel* model, const nlp::BertTokenizer& tokenizer) {
  auto wanted = parse_question_ids(o.questions);
  if (!wanted.ok()) return report(wanted.status());
  auto t0 = Clock::now();
  auto set = nlp::load_squad_eval_set(o.squad, tokenizer, o.features);
  if (!set.ok()) return report(set.status());
  // Keep the selected questions only (with their features), in file order.
  if (!wanted->empty()) {
    const size_t kept = nlp::keep_questions(&*set, [&](size_t, const std::string& id) { return wanted->count(id) > 0; });
    if (kept != wanted->size()) {
      std::set<std::string> missing = *wanted;
      for (const auto& e : set->examples) missing.erase(e.qas_id);
      if (!missing.empty()) {
        return report(not_found("--questions: '{}' is not a question id in {}", *missing.begin(), o.squad));
      }
    }
  }
  const double prepare_ms = ms_since(t0);
  const size_t n_questions = set->examples.size();
  {
    size_t truncated = 0;
    std::vector<int32_t> ids;
    for (const auto& e : set->examples) {
      ids.clear();
      if (tokenizer.encode(e.question_text, &ids).ok() && static_cast<int>(ids.size()) > o.features.max_query_length) {
        ++truncated;
      }
    }
    if (truncated) {
      std::fprintf(stderr, "ratel: notice: %zu question(s) are longer than %d tokens; their first %d tokens are used (--max-query-length)\n",
                   truncated, o.features.max_query_length, o.features.max_query_length);
    }
  }
  if (n_questions == 0) return report(invalid_argument("{} has no questions", o.squad));
  const bool verbose = n_questions <= 10;  // small files print each answer like the seed

  if (!o.save_features.empty()) return save_features(o.save_features, *set);
  t0 = Clock::now();
  std::vector<nlp::RawResult> results;
  results.reserve(set->features.size());
  if (!o.logits.empty()) {
    auto loaded = load_logits(o.logits, set->features);
    if (!loaded.ok()) return report(loaded.status());
    results = std::move(loaded).value();
  }
  Progress progress(n_questions, "questions");
  if (o.logits.empty()) {
    // Windows left per question, for the progress line (windows finish out of order).
    std::vector<int> windows_left(n_questions, 0);
    for (const auto& f : set->features) ++windows_left[static_cast<size_t>(f.example_index)];
    size_t done_questions = 0;
    auto on_done = [&](size_t i) {
      if (--windows_left[static_cast<size_t>(set->features[i].example_index)] == 0 && !verbose) {
        progress.update(++done_questions);
      }
    };
    // Many windows: one single-threaded session per thread, a window each (more throughput than
    // splitting every window's kernels); few: all threads on each window (less latency).
    const int workers = set->features.size() >= 4 * static_cast<size_t>(std::max(o.threads, 1)) ? o.threads : 1;
    size_t failed = 0;
    auto r = model->run_all(set->features, workers, on_done, &failed);
    if (!r.ok()) return report(r.status().with_context(fmt::format("question '{}'",
                                   set->examples[static_cast<size_t>(set->features[failed].example_index)].qas_id)));
    results = std::move(r).value();
  }
  if (!verbose && o.logits.empty()) progress.finish();
  const double model_ms = ms_since(t0);
  t0 = Clock::now();
  auto predictions = nlp::write_predictions(set->examples, set->features, results, tokenizer, o.answers);
  if (!predictions.ok()) return report(predictions.status());
  const double post_ms = ms_since(t0);

  if (verbose) {
    for (size_t i = 0; i < n_questions; ++i) {
      fmt::print("[Context]: {}\n[Question]: {}\n[Answer]: {}\n\n", set->examples[i].context->text,
                 set->examples[i].question_text, (*predictions)[i].text);
    }
  }
  ::mkdir(o.output_dir.c_str(), 0755);
  const std::string pred_path = o.output_dir + "/predictions.json";
  const std::string nbest_path = o.output_dir + "/nbest_predictions.json";
  if (Status s = write_text_file(pred_path, nlp::predictions_to_json(*predictions)); !s.ok()) return report(s);
  if (Status s = write_text_file(nbest_path, nlp::nbest_to_json(*predictions)); !s.ok()) return report(s);
  const std::string model_part = o.logits.empty()
      ? fmt::format("model {:.0f} ms ({:.2f} questions/s)", model_ms, 1000.0 * static_cast<double>(n_questions) / model_ms)
      : fmt::format("logits read from {}", o.logits);
  fmt::print("{} questions, {} windows: features {:.0f} ms, {}, answers {:.0f} ms\n", n_questions,
             set->features.size(), prepare_ms, model_part, post_ms);
  fmt::print("wrote {} and {}\n", pred_path, nbest_path);
  bool has_gold = false;
  for (const auto& p : set->dataset.paragraphs) {
    for (const auto& q : p.questions) has_gold = has_gold || !q.answers.empty();
  }
  if (has_gold) {
    const nlp::SquadScores scores = nlp::score_predictions(set->dataset, *predictions);
    fmt::print("exact match {:.2f}, F1 {:.2f} over {} questions\n", scores.exact_match, scores.f1, scores.total);
  }
  return 0;
}

// Integer schemes: the dense layers' input ranges, measured on the float32 model.
Result<passes::ActivationRanges> calibrate(const QaOptions& o, const qa::QaModelOptions& mo,
                                           const nlp::BertTokenizer& tokenizer) {
  RATEL_ASSIGN_OR_RETURN(quant::CalibrateOptions c, calibrate_options(o.quant, o.quant.scheme));
  const auto t0 = Clock::now();
  RATEL_ASSIGN_OR_RETURN(std::vector<nlp::InputFeature> windows,
                         qa::load_calibration_windows(o.quant.calibrate_dataset, tokenizer, o.features,
                                                      o.quant.calibrate_questions));
  RATEL_ASSIGN_OR_RETURN(passes::ActivationRanges ranges, qa::calibrate_qa_model(o.model, mo, windows, c));
  std::fprintf(stderr, "calibrated %zu dense-layer inputs on %zu windows (%s) in %.1f s\n", ranges.size(),
               windows.size(), o.quant.calibrate_mode.c_str(), ms_since(t0) / 1000.0);
  return ranges;
}

// --auto-hybrid-quantization: the dense layers to keep float32, chosen on the calibration file's
// questions after the calibration ones.
Result<std::vector<std::string>> auto_hybrid(const QaOptions& o, const qa::QaModelOptions& quantized,
                                             const nlp::BertTokenizer& tokenizer) {
  if (o.loss_algorithm != "f1") {
    return unsupported("--quantization-loss-algorithm {}: Ratel's auto-hybrid mode measures the answers (f1); "
                       "HHB's per-tensor losses are not implemented", o.loss_algorithm);
  }
  const std::string& data = o.quant.calibrate_dataset;
  if (data.size() < 5 || data.compare(data.size() - 5, 5, ".json") != 0) {
    return invalid_argument("--auto-hybrid-quantization scores answers: --calibrate-dataset must be a SQuAD .json "
                            "file (its questions after the first --calibrate-questions are scored)");
  }
  const auto t0 = Clock::now();
  RATEL_ASSIGN_OR_RETURN(nlp::SquadEvalSet eval, nlp::load_squad_eval_set(data, tokenizer, o.features));
  const size_t first = o.quant.calibrate_questions, last = first + o.hybrid_eval_questions;
  const size_t n = nlp::keep_questions(&eval, [&](size_t i, const std::string&) { return i >= first && i < last; });
  if (n == 0) {
    return invalid_argument("{}: no questions after the first {} to score the hybrid choice on", data, first);
  }
  qa::AutoHybridOptions ho;
  ho.max_f1_drop = o.loss_threshold;
  ho.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  RATEL_ASSIGN_OR_RETURN(qa::AutoHybridResult r, qa::choose_float_layers(o.model, quantized, eval, tokenizer, o.answers, ho));
  std::fprintf(stderr, "auto-hybrid: %zu dense layer(s) kept float32 after %d evaluations in %.0f s (F1 on %zu questions "
               "of %s: float32 %.2f, all quantized %.2f, chosen %.2f)%s\n", r.float_layers.size(), r.evaluations,
               ms_since(t0) / 1000.0, n, data.c_str(), r.f1_float, r.f1_quantized, r.f1_chosen,
               r.float_layers.empty() ? "" : ":");
  for (const std::string& l : r.float_layers) std::fprintf(stderr, "  --hybrid-layer-name %s\n", l.c_str());
  return r.float_layers;
}

int run_qa(const QaOptions& o) {
  if (Status s = apply_max_memory(o.max_memory); !s.ok()) return report(s);
  if (Status s = check_quant_options(o.quant); !s.ok()) return report(s);
  const bool model_needed = o.save_features.empty() && o.logits.empty();
  if (o.model.empty() && model_needed) {
    return report(invalid_argument("--model is required (the shared example model is {}/models/minilm-l6-squad/model.onnx)",
                                   assets_dir()));
  }
  if ((!o.save_features.empty() || !o.logits.empty()) && o.squad.empty()) {
    return report(invalid_argument("--save-features and --logits work with --squad FILE"));
  }
  if (!o.squad.empty() && (!o.context.empty() || !o.context_file.empty() || !o.question.empty())) {
    return report(invalid_argument("give either --squad FILE or --context/--question, not both"));
  }
  if (o.squad.empty() && o.context.empty() == o.context_file.empty()) {
    return report(invalid_argument("give the context with --context TEXT or --context-file FILE (or use --squad FILE)"));
  }
  auto vocab = find_vocab(o);
  if (!vocab.ok()) return report(vocab.status());
  nlp::TokenizerOptions tok;
  tok.do_lower_case = !o.cased;
  auto tokenizer = nlp::BertTokenizer::load(*vocab, tok);
  if (!tokenizer.ok()) return report(tokenizer.status());
  QaOptions opts = o;
  std::optional<qa::QaModel> model;
  if (!o.model.empty() && model_needed) {
    qa::QaModelOptions mo;
    mo.session.threads = o.threads;
    mo.session.executor = o.reference ? runtime::ExecutorKind::kReference : runtime::ExecutorKind::kFast;
    mo.trim_padding = !o.no_trim;
    apply_quant_options(o.quant, &mo.load);
    if (is_integer_scheme(o.quant)) {
      auto ranges = calibrate(o, mo, *tokenizer);
      if (!ranges.ok()) return report(ranges.status());
      mo.load.activation_ranges = std::move(ranges).value();
      if (o.auto_hybrid) {
        auto layers = auto_hybrid(o, mo, *tokenizer);
        if (!layers.ok()) return report(layers.status());
        mo.load.float_layers.insert(mo.load.float_layers.end(), layers->begin(), layers->end());
      }
    } else if (o.auto_hybrid) {
      return report(invalid_argument("--auto-hybrid-quantization needs an integer --quantization-scheme"));
    }
    auto loaded = qa::QaModel::load(o.model, mo);
    if (!loaded.ok()) return report(loaded.status());
    for (const std::string& w : loaded->model().warnings()) std::fprintf(stderr, "ratel: warning: %s\n", w.c_str());
    model = std::move(loaded).value();
    if (opts.features.max_seq_length != model->max_seq_length()) {
      if (opts.features.max_seq_length != 384) {
        return report(invalid_argument("--max-seq-length {} does not match the model's sequence length {}",
                                       opts.features.max_seq_length, model->max_seq_length()));
      }
      opts.features.max_seq_length = model->max_seq_length();
    }
  }
  if (o.squad.empty()) return run_single(opts, *model, *tokenizer);
  return run_squad(opts, model ? &*model : nullptr, *tokenizer);
}

}  // namespace

void add_qa_command(CLI::App& app) {
  auto o = std::make_shared<QaOptions>();
  CLI::App* cmd = app.add_subcommand(
      "qa",
      "Answer questions with a BERT QA model (ONNX): tokenizer, windows, model and answer extraction\n"
      "as Google BERT's run_squad.py, in one binary. Examples:\n"
      "  ratel qa --model model.onnx --context-file ctx.txt --question \"Which NFL team won?\"\n"
      "  ratel qa --model model.onnx --squad dev-v1.1.json --output-dir out   (prints EM/F1)");
  cmd->add_option("--model,-m", o->model, "BERT QA model (.onnx) with inputs input_ids, input_mask, segment_ids");
  cmd->add_option("--vocab", o->vocab, "WordPiece vocabulary (default: vocab.txt beside the model, else "
                                       "$RATEL_ASSETS/data/vocab/bert-base-uncased-vocab.txt)");
  cmd->add_option("--context,-c", o->context, "The passage to answer from");
  cmd->add_option("--context-file", o->context_file, "Read the passage from a file");
  cmd->add_option("--question,-q", o->question, "The question");
  cmd->add_option("--squad", o->squad, "Answer every question of a SQuAD v1.1 JSON file; writes "
                                       "predictions.json and nbest_predictions.json, prints EM/F1 when gold answers are present");
  cmd->add_option("--questions", o->questions, "With --squad: only these question ids (comma-separated, or @FILE)");
  cmd->add_option("--output-dir,-o", o->output_dir, "Where --squad writes its prediction files")->capture_default_str();
  cmd->add_option("--save-features", o->save_features,
                  "With --squad: write every window's input_ids/input_mask/segment_ids as [N, L] .npy files to "
                  "this folder and stop (to run another runtime on Ratel's exact features)");
  cmd->add_option("--logits", o->logits,
                  "With --squad: take start_logits.npy and end_logits.npy ([N, L] f32, rows in --save-features "
                  "order) from this folder instead of running a model, then extract answers and score");
  cmd->add_flag("--json", o->json, "Print the answer as JSON (text, score, character offsets, n-best list)");
  cmd->add_option("--threads,-t", o->threads, "Worker threads. With --squad and at least 4 windows per thread, each thread runs whole windows on its own session (more questions/s); otherwise the threads share each window's kernels. The answers are the same bits either way")->capture_default_str();
  cmd->add_flag("--cased", o->cased, "Keep case and accents (for cased vocabularies)");
  cmd->add_flag("--reference", o->reference, "Run the model with the portable reference kernels (slow)");
  add_quant_options(cmd, &o->quant, /*squad_calibration=*/true);
  cmd->add_flag("--auto-hybrid-quantization", o->auto_hybrid,
                "Integer schemes: keep the fewest dense layers float32 so that F1 drops by at most "
                "--quantization-loss-threshold against float32, measured on --hybrid-eval-questions questions of "
                "the --calibrate-dataset SQuAD file (those after the calibration questions; one evaluation per "
                "layer, then one per layer kept). Prints the layers it keeps");
  cmd->add_option("--quantization-loss-algorithm", o->loss_algorithm,
                  "What --auto-hybrid-quantization measures: f1 (the answers' F1)")
      ->capture_default_str();
  cmd->add_option("--quantization-loss-threshold", o->loss_threshold,
                  "--auto-hybrid-quantization: the F1 drop allowed, in F1 points")
      ->capture_default_str();
  cmd->add_option("--hybrid-eval-questions", o->hybrid_eval_questions,
                  "--auto-hybrid-quantization: questions scored per evaluation")
      ->capture_default_str();
  cmd->add_flag("--no-trim", o->no_trim,
                "Compute every position of each window, padding included. By default only the real tokens "
                "are computed (bit-identical logits there, ~3x less work on typical SQuAD windows); "
                "run_squad also ranks padding positions when it fills the n-best list, so use this for "
                "run_squad's exact nbest_predictions.json probabilities");
  cmd->add_option("--max-seq-length", o->features.max_seq_length, "Tokens per window (must match the model)")
      ->capture_default_str();
  cmd->add_option("--doc-stride", o->features.doc_stride, "Tokens between window starts")->capture_default_str();
  cmd->add_option("--max-query-length", o->features.max_query_length, "Longer questions are truncated")
      ->capture_default_str();
  cmd->add_option("--n-best", o->answers.n_best_size, "Candidates kept per window and in the n-best list")
      ->capture_default_str();
  cmd->add_option("--max-answer-length", o->answers.max_answer_length, "Longest answer, in tokens")
      ->capture_default_str();
  add_max_memory_option(cmd, &o->max_memory);
  cmd->callback([o] {
    const int rc = run_qa(*o);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace ratel::cli
