#include "qa/qa_calibration.h"

#include <sys/stat.h>

#include "io/npy.h"
#include "nlp/squad_eval.h"

namespace ratel::qa {

Result<std::vector<nlp::InputFeature>> calibration_windows_from_squad(const std::string& path,
                                                                     const nlp::BertTokenizer& tokenizer,
                                                                     const nlp::FeatureOptions& features,
                                                                     size_t max_questions) {
  RATEL_ASSIGN_OR_RETURN(nlp::SquadEvalSet set, nlp::load_squad_eval_set(path, tokenizer, features));
  std::vector<nlp::InputFeature> windows;
  for (auto& f : set.features) {
    if (max_questions && static_cast<size_t>(f.example_index) >= max_questions) break;
    windows.push_back(std::move(f));
  }
  if (windows.empty()) return invalid_argument("{}: no questions to calibrate on", path);
  return windows;
}

Result<std::vector<nlp::InputFeature>> calibration_windows_from_npy(const std::string& dir, int seq_len) {
  const char* names[3] = {"input_ids", "input_mask", "segment_ids"};
  std::vector<std::vector<int32_t>> columns[3];
  int64_t rows = -1;
  for (int i = 0; i < 3; ++i) {
    const std::string path = dir + "/" + names[i] + ".npy";
    RATEL_ASSIGN_OR_RETURN(Tensor t, io::read_npy(path));
    if (t.shape().size() != 2 || t.dim(1) != seq_len) {
      return invalid_argument("{}: expected [N, {}] token rows, got {}", path, seq_len, shape_str(t.shape()));
    }
    if (rows >= 0 && t.dim(0) != rows) {
      return invalid_argument("{}: {} rows, but {}.npy has {}", path, t.dim(0), names[0], rows);
    }
    rows = t.dim(0);
    RATEL_ASSIGN_OR_RETURN(Tensor v, io::convert_exact(t, DType::kI32, path));
    const int32_t* d = v.data<int32_t>();
    for (int64_t r = 0; r < rows; ++r) columns[i].emplace_back(d + r * seq_len, d + (r + 1) * seq_len);
  }
  if (rows <= 0) return invalid_argument("{}: the calibration files hold no rows", dir);
  std::vector<nlp::InputFeature> windows(static_cast<size_t>(rows));
  for (size_t r = 0; r < windows.size(); ++r) {
    nlp::InputFeature& f = windows[r];
    f.unique_id = static_cast<int64_t>(r);
    f.input_ids = std::move(columns[0][r]);
    f.input_mask = std::move(columns[1][r]);
    f.segment_ids = std::move(columns[2][r]);
    for (int32_t m : f.input_mask) f.num_tokens += m != 0;
  }
  return windows;
}

Result<std::vector<nlp::InputFeature>> load_calibration_windows(const std::string& path,
                                                               const nlp::BertTokenizer& tokenizer,
                                                               const nlp::FeatureOptions& features,
                                                               size_t max_questions) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return not_found("calibration data {}: no such file or folder", path);
  if (S_ISDIR(st.st_mode)) return calibration_windows_from_npy(path, features.max_seq_length);
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) {
    return calibration_windows_from_squad(path, tokenizer, features, max_questions);
  }
  return invalid_argument("calibration data {}: for a QA model give a SQuAD .json file or a folder of "
                          "input_ids/input_mask/segment_ids .npy files (ratel qa --save-features)", path);
}

Result<passes::ActivationRanges> calibrate_qa_model(const std::string& model_path, QaModelOptions options,
                                                    const std::vector<nlp::InputFeature>& windows,
                                                    const quant::CalibrateOptions& calibrate) {
  options.load.quantization_scheme = "float32";
  options.load.activation_ranges.clear();
  options.session.executor = runtime::ExecutorKind::kFast;
  RATEL_ASSIGN_OR_RETURN(QaModel model, QaModel::load(model_path, options));
  for (const auto& w : windows) {
    if (static_cast<int>(w.input_ids.size()) != model.max_seq_length()) {
      return invalid_argument("calibration windows have {} tokens, the model takes {}", w.input_ids.size(),
                              model.max_seq_length());
    }
  }
  return quant::calibrate(model.session(), windows.size(),
                          [&](size_t i) { return model.run(windows[i]).status(); }, calibrate);
}

}  // namespace ratel::qa
