// What quantization did to each activation (`ratel run --dump-quantization-loss`, HHB's flag of
// that name): the float32 model and the quantized one run on the same inputs, and every float32
// value a kernel of the quantized model reads (and each output) is compared with the same value
// of the float32 model: cosine similarity, mean squared error, max absolute error. Errors
// accumulate along the graph, so a value's numbers include everything upstream of it; the first
// value where they jump names the layer that hurt.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "runtime/model.h"

namespace ratel::quant {

struct ValueLoss {
  std::string value;    // the activation's name (shared by both models)
  std::string reader;   // the quantized model's first node reading it, "op 'name'" ("output" for outputs)
  size_t order = 0;     // position of that read in the quantized model's execution
  int64_t count = 0;    // elements compared
  double cosine = 1;    // <q, f> / (|q| |f|); 1 when both are all zeros
  double mse = 0;
  double max_abs = 0;   // max |q - f|
  double ref_max_abs = 0;  // max |f|, to read max_abs against
};

// Runs `reference` (float32) and `quantized` once each on the inputs already bound to them (same
// model inputs) and compares, in the quantized model's execution order. Sets and then removes an
// observer on both sessions (fast executor). Values only one model has (fused differently) or
// whose shapes differ are left out.
Result<std::vector<ValueLoss>> compare_activations(runtime::Session& reference, runtime::Session& quantized);

// The table `ratel run` prints: the `worst` values by cosine, then the outputs.
std::string format_quantization_loss(const std::vector<ValueLoss>& losses, size_t worst = 10);
// All of it as CSV (value, reader, order, count, cosine, mse, max_abs, ref_max_abs), execution order.
std::string quantization_loss_csv(const std::vector<ValueLoss>& losses);

}  // namespace ratel::quant
