#include "quant/calibration_data.h"

#include <sys/stat.h>

#include <cstring>

#include "io/npy.h"

namespace ratel::quant {

Result<std::vector<std::vector<Tensor>>> load_calibration_samples(const std::string& dir, const runtime::Model& model) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return not_found("calibration data {}: not a folder (expected <input name>.npy files for the model's inputs)", dir);
  }
  std::vector<std::vector<Tensor>> samples;
  int64_t count = -1;
  std::string count_file;
  for (size_t j = 0; j < model.inputs().size(); ++j) {
    const ir::Value* in = model.inputs()[j];
    const std::string path = dir + "/" + in->name + ".npy";
    auto loaded = io::read_npy(path);
    if (!loaded.ok()) {
      return loaded.status().with_context(fmt::format("calibration data for input '{}' ({} {})", in->name,
                                                      dtype_name(in->dtype), shape_str(in->shape)));
    }
    Tensor t = std::move(loaded).value();
    int64_t n = 0;
    if (t.shape() == in->shape) {
      n = 1;
    } else if (!t.shape().empty() && Shape(t.shape().begin() + 1, t.shape().end()) == in->shape) {
      n = t.dim(0);
    } else if (!in->shape.empty() && in->shape[0] == 1 && !t.shape().empty() &&
               Shape(t.shape().begin() + 1, t.shape().end()) == Shape(in->shape.begin() + 1, in->shape.end())) {
      n = t.dim(0);  // batch-1 input, samples stacked along the batch axis ([N, 384] for [1, 384])
    } else {
      return invalid_argument("{}: shape {} is neither input '{}''s shape {} nor N of them stacked ([N, {})", path, shape_str(t.shape()),
                              in->name, shape_str(in->shape), shape_str(in->shape).substr(1));
    }
    if (n == 0) return invalid_argument("{}: holds no samples", path);
    if (count >= 0 && n != count) {
      return invalid_argument("{}: {} samples, but {} has {}", path, n, count_file, count);
    }
    count = n;
    count_file = path;
    RATEL_ASSIGN_OR_RETURN(Tensor typed, io::convert_exact(t, in->dtype, path));
    samples.resize(static_cast<size_t>(n));
    const size_t bytes = typed.nbytes() / static_cast<size_t>(n);
    for (int64_t i = 0; i < n; ++i) {
      RATEL_ASSIGN_OR_RETURN(Tensor s, Tensor::allocate(in->dtype, in->shape));
      std::memcpy(s.mutable_raw(), static_cast<const char*>(typed.raw()) + static_cast<size_t>(i) * bytes, bytes);
      samples[static_cast<size_t>(i)].push_back(std::move(s));
    }
  }
  return samples;
}

}  // namespace ratel::quant
