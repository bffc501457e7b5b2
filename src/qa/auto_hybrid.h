// End-task mixed precision (`ratel qa --auto-hybrid-quantization`): given a QA model quantized
// with an integer scheme, keep the fewest dense layers in float32 so that F1 on a set of allowed
// questions (never the ones reported on) drops by at most `max_f1_drop` against float32.
//
// Greedy, as quantization toolkits do it with a per-layer loss, but measured on the answers:
//   1. F1 in float32 and with every layer quantized; done if the drop is already small enough.
//   2. Sensitivity: F1 with each layer alone kept float32 (one evaluation per layer).
//   3. Keep layers in order of that F1 (best first) until the drop is at most max_f1_drop, or
//      every layer is float32.
// Each evaluation loads the model with LoadOptions::float_layers and answers every question.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "nlp/answers.h"
#include "nlp/bert_tokenizer.h"
#include "nlp/squad_eval.h"
#include "qa/qa_model.h"

namespace ratel::qa {

struct AutoHybridOptions {
  double max_f1_drop = 0.5;  // F1 points
  std::function<void(const std::string&)> log;  // one line per evaluation
};

struct LayerScore {
  std::string layer;  // a --hybrid-layer-name pattern that selects just this layer
  double f1 = 0;      // F1 with only this layer kept float32
};

struct AutoHybridResult {
  double f1_float = 0, f1_quantized = 0, f1_chosen = 0;
  std::vector<LayerScore> sensitivity;    // best first
  std::vector<std::string> float_layers;  // the layers kept float32
  int evaluations = 0;
};

// The dense layers of the model `options` loads, one unique pattern each (the bias's name, else
// the weight's, else the output's), in graph order.
Result<std::vector<std::string>> dense_layer_names(const std::string& model_path, QaModelOptions options);

// `quantized` carries the integer scheme and its activation ranges; `eval` the questions to score.
Result<AutoHybridResult> choose_float_layers(const std::string& model_path, const QaModelOptions& quantized,
                                             const nlp::SquadEvalSet& eval, const nlp::BertTokenizer& tokenizer,
                                             const nlp::AnswerOptions& answers, const AutoHybridOptions& options);

}  // namespace ratel::qa
