#include "qa/auto_hybrid.h"

#include <algorithm>

#include <fmt/format.h>

namespace ratel::qa {

namespace {

// F1 of the model loaded with `options` on every question of `eval`.
Result<double> evaluate(const std::string& model_path, const QaModelOptions& options, const nlp::SquadEvalSet& eval,
                        const nlp::BertTokenizer& tokenizer, const nlp::AnswerOptions& answers) {
  RATEL_ASSIGN_OR_RETURN(QaModel model, QaModel::load(model_path, options));
  std::vector<nlp::RawResult> results;
  results.reserve(eval.features.size());
  for (const auto& f : eval.features) {
    RATEL_ASSIGN_OR_RETURN(nlp::RawResult r, model.run(f));
    results.push_back(std::move(r));
  }
  RATEL_ASSIGN_OR_RETURN(auto predictions, nlp::write_predictions(eval.examples, eval.features, results, tokenizer, answers));
  return nlp::score_predictions(eval.dataset, predictions).f1;
}

}  // namespace

Result<std::vector<std::string>> dense_layer_names(const std::string& model_path, QaModelOptions options) {
  options.load.quantization_scheme = "float32";
  RATEL_ASSIGN_OR_RETURN(QaModel model, QaModel::load(model_path, options));
  std::vector<std::string> names;
  for (const auto& n : model.model().graph().nodes()) {
    if (n->domain != "ratel" || n->op_type != "Dense") continue;
    const ir::Value* named = n->has_input(2) ? n->inputs[2] : n->has_input(1) ? n->inputs[1] : n->outputs[0];
    names.push_back(named->name);
  }
  return names;
}

Result<AutoHybridResult> choose_float_layers(const std::string& model_path, const QaModelOptions& quantized,
                                             const nlp::SquadEvalSet& eval, const nlp::BertTokenizer& tokenizer,
                                             const nlp::AnswerOptions& answers, const AutoHybridOptions& options) {
  if (eval.examples.empty()) return invalid_argument("auto-hybrid quantization needs questions to score on");
  auto log = [&](const std::string& line) {
    if (options.log) options.log(line);
  };
  AutoHybridResult result;
  auto score = [&](const std::vector<std::string>& float_layers, bool all_float) -> Result<double> {
    QaModelOptions o = quantized;
    if (all_float) o.load.quantization_scheme = "float32";
    o.load.float_layers = float_layers;
    ++result.evaluations;
    return evaluate(model_path, o, eval, tokenizer, answers);
  };
  RATEL_ASSIGN_OR_RETURN(result.f1_float, score({}, true));
  RATEL_ASSIGN_OR_RETURN(result.f1_quantized, score({}, false));
  log(fmt::format("auto-hybrid: F1 on {} questions: float32 {:.2f}, {} {:.2f} (drop {:.2f}, allowed {:.2f})",
                  eval.examples.size(), result.f1_float, quantized.load.quantization_scheme, result.f1_quantized,
                  result.f1_float - result.f1_quantized, options.max_f1_drop));
  result.f1_chosen = result.f1_quantized;
  if (result.f1_float - result.f1_quantized <= options.max_f1_drop) return result;

  RATEL_ASSIGN_OR_RETURN(std::vector<std::string> layers, dense_layer_names(model_path, quantized));
  for (size_t i = 0; i < layers.size(); ++i) {
    RATEL_ASSIGN_OR_RETURN(double f1, score({layers[i]}, false));
    log(fmt::format("auto-hybrid: sensitivity {}/{}: {} float32 -> F1 {:.2f}", i + 1, layers.size(), layers[i], f1));
    result.sensitivity.push_back({layers[i], f1});
  }
  // Best first; ties keep graph order (stable), so the choice is reproducible.
  std::stable_sort(result.sensitivity.begin(), result.sensitivity.end(),
                   [](const LayerScore& a, const LayerScore& b) { return a.f1 > b.f1; });
  for (const LayerScore& s : result.sensitivity) {
    result.float_layers.push_back(s.layer);
    if (result.float_layers.size() == 1) {
      result.f1_chosen = s.f1;  // measured above
    } else {
      RATEL_ASSIGN_OR_RETURN(result.f1_chosen, score(result.float_layers, false));
    }
    log(fmt::format("auto-hybrid: {} layer(s) float32 -> F1 {:.2f}", result.float_layers.size(), result.f1_chosen));
    if (result.f1_float - result.f1_chosen <= options.max_f1_drop) break;
  }
  return result;
}

}  // namespace ratel::qa
