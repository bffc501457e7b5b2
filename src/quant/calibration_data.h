// Calibration samples for a model's own inputs (`ratel run --calibrate-dataset DIR`): DIR holds
// <input name>.npy for every model input, each [N, ...input shape] (N samples, the same N for
// all), [N, ...] replacing a leading batch dimension of 1 (the [N, 384] files `ratel qa
// --save-features` writes for [1, 384] inputs), or exactly the input's shape (one sample). Values convert to the input's type when that
// loses nothing (int64 ids for an int32 model).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "runtime/model.h"

namespace ratel::quant {

// samples[i][j]: sample i's value of model input j.
Result<std::vector<std::vector<Tensor>>> load_calibration_samples(const std::string& dir, const runtime::Model& model);

}  // namespace ratel::quant
