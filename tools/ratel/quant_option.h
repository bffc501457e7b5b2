// `--quantization-scheme` and `--channel-quantization` for the subcommands that load a model
// (run, qa): the weight-only schemes of passes/weight_quantization.cpp, applied at load.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "runtime/model.h"

namespace ratel::cli {

struct QuantOptions {
  std::string scheme = "float32";
  bool channel_quantization = false;
};

inline void add_quant_options(CLI::App* cmd, QuantOptions* o) {
  cmd->add_option("--quantization-scheme", o->scheme,
                  "Store the dense layers' weights as: float32 (as given), float16 (fp16 weights), bfloat16 "
                  "(bf16 weights and activations into each dense layer), float16_w_int8 (symmetric int8 weights, "
                  "fp32 activations). Layer norm, softmax, GELU and attention stay float32. HHB's integer "
                  "schemes (int8_asym, ...) are not implemented yet")
      ->capture_default_str();
  cmd->add_flag("--channel-quantization", o->channel_quantization,
                "float16_w_int8: one weight scale per output channel (default: one per tensor, as HHB)");
}

inline void apply_quant_options(const QuantOptions& o, runtime::LoadOptions* load) {
  load->quantization_scheme = o.scheme;
  load->channel_quantization = o.channel_quantization;
}

}  // namespace ratel::cli
