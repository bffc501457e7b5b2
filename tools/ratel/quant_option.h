// `--quantization-scheme`, `--channel-quantization` and the calibration options for the
// subcommands that load a model (run, qa) and the deploy flow (compile, HHB's -Q/-C/-D).
// Weight-only schemes (passes/weight_quantization.cpp) apply at load; integer schemes
// (passes/integer_quantization.cpp) first calibrate the float32 model on --calibrate-dataset
// (quant/calibration.h), then load with the measured ranges.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cpu/thread_pool.h"
#include "deploy/deploy.h"
#include "passes/passes.h"
#include "progress.h"
#include "quant/calibration.h"
#include "quant/calibration_data.h"
#include "runtime/model.h"

namespace ratel::cli {

struct QuantOptions {
  std::string scheme = "float32";
  bool channel_quantization = false;
  std::string calibrate_dataset;
  std::string calibrate_mode = "maxmin";
  double calibrate_percentile = 99.99;
  size_t calibrate_questions = 100;
  std::vector<std::string> hybrid_layers;
  std::string embedding = "auto";
  std::string smooth_quant = "auto";  // SmoothQuant's alpha, or auto (see smooth_quant_alpha)
  int activation_bits = 8;            // u8 activations: 8 or 7
};

inline constexpr const char* kSchemeHelp =
    "float32 (as given); weight-only: float16 (fp16 weights), bfloat16 (bf16 weights and activations into "
    "each dense layer), float16_w_int8 (symmetric int8 weights, fp32 activations); integer, calibrated on "
    "--calibrate-dataset: int8_asym (u8 activations with zero point, s8 weights with zero points), "
    "int8_asym_w_sym (s8 symmetric weights), int8_sym, uint8_asym, int16_sym (as many bits each side as keep the "
    "int32 sum from wrapping, chosen per layer). Only the dense layers (and the embedding tables, see "
    "--embedding-quantization) change: layer norm, softmax, GELU, attention and the residual adds stay float32, and "
    "each quantized layer gives float32 out";

inline constexpr const char* kSmoothQuantHelp =
    "Integer schemes: SmoothQuant's alpha in [0, 1]: each dense layer's input channel k is divided by "
    "max|x_k|^alpha / max|w_k|^(1-alpha) before it is quantized and the weights' row k multiplied by it, so that "
    "outlier channels stop setting the step of all the others; 0: off. auto: 1 for the 8-bit schemes with "
    "--channel-quantization and --calibrate-mode maxmin (on 1000 of MiniLM-SQuAD's tune questions int8_asym per channel lost 0.84 F1 without "
    "it, 0.29 with alpha 0.75, none with 0.9 or 1), else off. Needs --calibrate-mode maxmin";

inline constexpr const char* kActivationBitsHelp =
    "Integer schemes with u8 activations (int8_asym, int8_asym_w_sym, uint8_asym): 8 ([0, 255], as HHB) or 7 "
    "([0, 127]). With 7, AVX2 CPUs without VNNI multiply with vpmaddubsw, which is exact only for 7-bit activations; "
    "VNNI CPUs run as with 8. Measured on 1000 MiniLM-SQuAD tune questions, int8_asym per channel, 1 thread: F1 87.99 "
    "with 7 bits, 88.05 with 8 (float32 88.46); int8 model time 0.57x float32's with 7 bits, 0.73x with 8, on an "
    "AVX2-only AMD Zen 3 (on a Zen 5's AVX2 path, 300 questions: 0.42x vs 0.43x, no gain)";

// SmoothQuant's alpha for these options (--smooth-quant), or an error naming the option.
inline Result<float> smooth_quant_alpha(const QuantOptions& o) {
  const bool integer = passes::parse_integer_scheme(o.scheme).ok();
  if (o.smooth_quant == "auto") {
    // Smoothing moves each channel's range into its weight row, which only weights with a scale per
    // output column absorb: with one scale per tensor the scaled-up rows set the step of all the
    // others (measured: int8_asym per tensor, alpha 1, -44.7 F1 on held-out questions).
    const bool eight_bit = integer && o.scheme != "int16_sym";
    return eight_bit && o.channel_quantization && o.calibrate_mode == "maxmin" ? 1.0f : 0.0f;
  }
  char* end = nullptr;
  const double a = std::strtod(o.smooth_quant.c_str(), &end);
  if (o.smooth_quant.empty() || *end != '\0' || !(a >= 0 && a <= 1)) {
    return invalid_argument("--smooth-quant {}: give alpha in [0, 1] (0: off) or auto", o.smooth_quant);
  }
  if (a > 0 && !integer) return invalid_argument("--smooth-quant is for the integer schemes ('{}' is not one)", o.scheme);
  if (a > 0 && o.calibrate_mode != "maxmin") {
    return invalid_argument("--smooth-quant needs --calibrate-mode maxmin (got {}): it divides each channel's "
                            "extremes", o.calibrate_mode);
  }
  return static_cast<float>(a);
}

inline void add_quant_options(CLI::App* cmd, QuantOptions* o, bool squad_calibration) {
  cmd->add_option("--quantization-scheme", o->scheme, kSchemeHelp)->capture_default_str();
  cmd->add_flag("--channel-quantization", o->channel_quantization,
                "Integer weights: one scale (and zero point) per output channel (default: one per tensor, as HHB)");
  cmd->add_option("--calibrate-dataset,--cd", o->calibrate_dataset,
                  squad_calibration
                      ? "Calibration data for the integer schemes: a SQuAD .json file (its first --calibrate-questions "
                        "questions; use the tune split, never the questions you report on) or a folder of "
                        "input_ids/input_mask/segment_ids .npy files (ratel qa --save-features)"
                      : "Calibration data for the integer schemes: a folder holding <input name>.npy for every model "
                        "input, each [N, ...] (N samples of the input's shape; for a batch-1 input N replaces the 1, "
                        "as in the files ratel qa --save-features writes) or exactly the input's shape; a .npz with "
                        "those arrays; or a .txt list, one sample per line: a .npy or float32 .bin file per input");
  cmd->add_option("--calibrate-mode", o->calibrate_mode,
                  "How a range is chosen from the calibration activations: maxmin (extremes), percentile "
                  "(--calibrate-percentile), kl_divergence (TensorRT's entropy threshold), mse (least expected "
                  "squared error)")
      ->capture_default_str();
  cmd->add_option("--calibrate-percentile", o->calibrate_percentile, "percentile mode: the central percentile kept")
      ->capture_default_str();
  cmd->add_option("--embedding-quantization", o->embedding,
                  "With a quantization scheme, how large embedding tables (the word embedding) are stored: auto "
                  "(float16; bfloat16 with the bfloat16 scheme), int8 (symmetric, a scale per 32 elements: smallest, "
                  "costs some F1), float16, bfloat16 or float32")
      ->capture_default_str();
  cmd->add_option("--smooth-quant", o->smooth_quant, kSmoothQuantHelp)->capture_default_str();
  cmd->add_option("--activation-bits", o->activation_bits, kActivationBitsHelp)->capture_default_str();
  cmd->add_option("--hybrid-layer-name", o->hybrid_layers,
                  "Integer schemes: keep these dense layers float32 (mixed precision). A name matches a layer when it "
                  "is part of the layer's output, weight or bias name, e.g. encoder.layer.5. or qa_outputs "
                  "(ratel inspect --optimized --nodes lists them); repeatable")
      ->delimiter(',');
  if (squad_calibration) {
    cmd->add_option("--calibrate-questions", o->calibrate_questions,
                    "SQuAD calibration: how many questions (0: all)")
        ->capture_default_str();
  }
}

inline bool is_integer_scheme(const QuantOptions& o) { return passes::parse_integer_scheme(o.scheme).ok(); }

// The calibration settings, with a progress bar on stderr.
inline Result<quant::CalibrateOptions> calibrate_options(const QuantOptions& o, const std::string& scheme) {
  quant::CalibrateOptions c;
  RATEL_ASSIGN_OR_RETURN(c.mode, quant::parse_calibrate_mode(o.calibrate_mode));
  c.percentile = o.calibrate_percentile;
  RATEL_ASSIGN_OR_RETURN(passes::IntegerScheme s, passes::parse_integer_scheme(scheme));
  c.levels = passes::integer_scheme_levels(s, 384);
  if (o.activation_bits == 7 && passes::integer_scheme_has_u8_activations(s)) c.levels = 127;
  auto bar = std::make_shared<std::unique_ptr<Progress>>();
  auto bar_pass = std::make_shared<int>(0);
  c.progress = [bar, bar_pass](size_t done, size_t total, int pass, int passes) {
    if (*bar_pass != pass) {
      if (pass == 1) std::fprintf(stderr, "calibrating: %zu samples, %d pass%s\n", total, passes, passes > 1 ? "es" : "");
      *bar = std::make_unique<Progress>(total, "samples");
      *bar_pass = pass;
    }
    (*bar)->update(done);
    if (done == total) (*bar)->finish();
  };
  return c;
}

// Integer schemes: the dense layers' input ranges, measured by running the float32 model that
// `load_fp32` returns (loaded without a scheme, as the quantized model will be) on `threads`
// threads over the samples of --calibrate-dataset (quant/calibration_data.h). Shared
// by `ratel run` and the deploy flow (`ratel compile`, `ratel -Q/-C/-D`), so that both measure
// the same ranges from the same samples: results do not depend on the thread count.
inline Result<passes::ActivationRanges> calibrate_model(
    const QuantOptions& o, const std::function<Result<std::shared_ptr<runtime::Model>>()>& load_fp32, int threads) {
  RATEL_ASSIGN_OR_RETURN(quant::CalibrateOptions c, calibrate_options(o, o.scheme));
  RATEL_ASSIGN_OR_RETURN(std::shared_ptr<runtime::Model> fp32, load_fp32());
  RATEL_ASSIGN_OR_RETURN(auto samples, quant::load_calibration_samples(o.calibrate_dataset, *fp32));
  runtime::SessionOptions so;
  so.threads = threads;
  RATEL_ASSIGN_OR_RETURN(std::unique_ptr<runtime::Session> session, runtime::Session::create(fp32, so));
  return quant::calibrate(*session, samples.size(), [&](size_t i) -> Status {
    for (size_t j = 0; j < samples[i].size(); ++j) RATEL_RETURN_IF_ERROR(session->set_input(j, samples[i][j]));
    return session->run();
  }, c);
}

inline Status check_activation_bits(const QuantOptions& o) {
  if (o.activation_bits == 8) return Status::Ok();
  if (o.activation_bits != 7) return invalid_argument("--activation-bits {}: give 8 or 7", o.activation_bits);
  const Result<passes::IntegerScheme> s = passes::parse_integer_scheme(o.scheme);
  if (!s.ok() || !passes::integer_scheme_has_u8_activations(*s)) {
    return invalid_argument("--activation-bits 7 is for the schemes with u8 activations (int8_asym, int8_asym_w_sym, "
                            "uint8_asym); '{}' is not one", o.scheme);
  }
  return Status::Ok();
}

inline Status check_quant_options(const QuantOptions& o) {
  if (!is_integer_scheme(o) && !o.calibrate_dataset.empty()) {
    return invalid_argument("--calibrate-dataset is for the integer schemes; '{}' needs no calibration", o.scheme);
  }
  if (!is_integer_scheme(o) && !o.hybrid_layers.empty()) {
    return invalid_argument("--hybrid-layer-name is for the integer schemes ('{}' is not one)", o.scheme);
  }
  RATEL_RETURN_IF_ERROR(smooth_quant_alpha(o).status());
  RATEL_RETURN_IF_ERROR(check_activation_bits(o));
  if (is_integer_scheme(o) && o.calibrate_dataset.empty()) {
    return invalid_argument("--quantization-scheme {} quantizes activations: give calibration data with "
                            "--calibrate-dataset", o.scheme);
  }
  return Status::Ok();
}

inline void apply_quant_options(const QuantOptions& o, runtime::LoadOptions* load) {
  load->quantization_scheme = o.scheme;
  load->channel_quantization = o.channel_quantization;
  load->float_layers = o.hybrid_layers;
  const Result<float> alpha = smooth_quant_alpha(o);  // check_quant_options reported a bad one
  load->smooth_quant_alpha = alpha.ok() ? *alpha : 0.0f;
  load->activation_bits = o.activation_bits;
  load->embedding_quantization = o.embedding;
}

// The deploy flow (`ratel compile`, `ratel -Q/-C/-D`): the same options on `d`; for the integer
// schemes, deploy() calibrates its float32 import with calibrate_model (all hardware threads:
// the ranges do not depend on the count) before it quantizes, as `ratel run` does.
inline void apply_quant_options(const QuantOptions& o, deploy::DeployOptions* d) {
  d->scheme = o.scheme.empty() ? "float32" : o.scheme;
  d->channel_quantization = o.channel_quantization;
  d->float_layers = o.hybrid_layers;
  const Result<float> alpha = smooth_quant_alpha(o);  // check_quant_options reported a bad one
  d->smooth_quant_alpha = alpha.ok() ? *alpha : 0.0f;
  d->activation_bits = o.activation_bits;
  d->embedding_quantization = o.embedding;
  d->calibrate = nullptr;
  if (is_integer_scheme(o)) {
    d->calibrate = [o](const std::shared_ptr<runtime::Model>& fp32) {
      return calibrate_model(o, [&] { return Result<std::shared_ptr<runtime::Model>>(fp32); },
                             cpu::ThreadPool::hardware_threads());
    };
  }
}

}  // namespace ratel::cli
