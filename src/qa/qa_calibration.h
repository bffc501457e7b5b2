// Calibration of a BERT QA model for the integer quantization schemes: the samples are SQuAD
// windows built by Ratel's own pipeline (the first N questions of a SQuAD JSON file, e.g. the
// tune split), or the [N, L] input_ids / input_mask / segment_ids .npy files `ratel qa
// --save-features` writes. Each window runs padding-trimmed, as at inference, so only real tokens
// shape the ranges.
#pragma once

#include <string>
#include <vector>

#include "nlp/bert_tokenizer.h"
#include "nlp/features.h"
#include "passes/passes.h"
#include "qa/qa_model.h"
#include "quant/calibration.h"

namespace ratel::qa {

// The windows of the first `max_questions` questions of a SQuAD JSON file (0: all).
Result<std::vector<nlp::InputFeature>> calibration_windows_from_squad(const std::string& path,
                                                                     const nlp::BertTokenizer& tokenizer,
                                                                     const nlp::FeatureOptions& features,
                                                                     size_t max_questions);
// The rows of DIR/input_ids.npy, DIR/input_mask.npy and DIR/segment_ids.npy ([N, seq_len], integer).
Result<std::vector<nlp::InputFeature>> calibration_windows_from_npy(const std::string& dir, int seq_len);
// A SQuAD JSON file (.json) or a --save-features folder, as above.
Result<std::vector<nlp::InputFeature>> load_calibration_windows(const std::string& path,
                                                               const nlp::BertTokenizer& tokenizer,
                                                               const nlp::FeatureOptions& features,
                                                               size_t max_questions);

// Loads `model_path` in float32 with `options` (its quantization scheme ignored), runs the
// windows and returns the dense layers' input ranges for LoadOptions::activation_ranges.
Result<passes::ActivationRanges> calibrate_qa_model(const std::string& model_path, QaModelOptions options,
                                                    const std::vector<nlp::InputFeature>& windows,
                                                    const quant::CalibrateOptions& calibrate);

}  // namespace ratel::qa
