// Calibration samples for a model's own inputs (`ratel run --calibrate-dataset`, HHB's `-cd`), in
// the forms HHB accepts:
//   - a folder holding <input name>.npy for every model input;
//   - a .npz archive (numpy.savez / savez_compressed) with one array per input name;
//   - a .txt list: one sample per line, one file per model input (.npy, or raw float32 .bin as
//     HHB writes inputs), bound by name when every file name ends in "<input name>.npy/.bin",
//     else in the model's input order; relative paths are relative to the list's folder.
// Folder and .npz arrays are [N, ...input shape] (N samples, the same N for all), [N, ...]
// replacing a leading batch dimension of 1 (the [N, 384] files `ratel qa --save-features`
// writes for [1, 384] inputs), or exactly the input's shape (one sample). Values convert to the
// input's type when that loses nothing (int64 ids for an int32 model, whole float32 ids).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "runtime/model.h"

namespace ratel::quant {

// samples[i][j]: sample i's value of model input j.
Result<std::vector<std::vector<Tensor>>> load_calibration_samples(const std::string& path, const runtime::Model& model);

}  // namespace ratel::quant
