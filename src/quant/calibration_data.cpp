#include "quant/calibration_data.h"

#include <sys/stat.h>
#include <zip.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>

#include "io/npy.h"

namespace ratel::quant {
namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Splits one input's array (read from `where`) into its samples, appended to `samples`.
Status split_samples(const Tensor& t, const ir::Value* in, const std::string& where, int64_t* count,
                     std::string* count_where, std::vector<std::vector<Tensor>>* samples) {
  int64_t n = 0;
  if (t.shape() == in->shape) {
    n = 1;
  } else if (!t.shape().empty() && Shape(t.shape().begin() + 1, t.shape().end()) == in->shape) {
    n = t.dim(0);
  } else if (!in->shape.empty() && in->shape[0] == 1 && !t.shape().empty() &&
             Shape(t.shape().begin() + 1, t.shape().end()) == Shape(in->shape.begin() + 1, in->shape.end())) {
    n = t.dim(0);  // batch-1 input, samples stacked along the batch axis ([N, 384] for [1, 384])
  } else {
    return invalid_argument("{}: shape {} is neither input '{}''s shape {} nor N of them stacked ([N, {})", where,
                            shape_str(t.shape()), in->name, shape_str(in->shape), shape_str(in->shape).substr(1));
  }
  if (n == 0) return invalid_argument("{}: holds no samples", where);
  if (*count >= 0 && n != *count) return invalid_argument("{}: {} samples, but {} has {}", where, n, *count_where, *count);
  *count = n;
  *count_where = where;
  RATEL_ASSIGN_OR_RETURN(Tensor typed, io::convert_exact(t, in->dtype, where));
  samples->resize(static_cast<size_t>(n));
  const size_t bytes = typed.nbytes() / static_cast<size_t>(n);
  for (int64_t i = 0; i < n; ++i) {
    RATEL_ASSIGN_OR_RETURN(Tensor s, Tensor::allocate(in->dtype, in->shape));
    std::memcpy(s.mutable_raw(), static_cast<const char*>(typed.raw()) + static_cast<size_t>(i) * bytes, bytes);
    (*samples)[static_cast<size_t>(i)].push_back(std::move(s));
  }
  return Status::Ok();
}

// Folder and .npz: one stacked array per input, found by `read(name, &where)`.
Result<std::vector<std::vector<Tensor>>> load_stacked(
    const runtime::Model& model, const std::function<Result<Tensor>(const std::string&, std::string*)>& read) {
  std::vector<std::vector<Tensor>> samples;
  int64_t count = -1;
  std::string count_where;
  for (const ir::Value* in : model.inputs()) {
    std::string where;
    auto loaded = read(in->name, &where);
    if (!loaded.ok()) {
      return loaded.status().with_context(fmt::format("calibration data for input '{}' ({} {})", in->name,
                                                      dtype_name(in->dtype), shape_str(in->shape)));
    }
    RATEL_RETURN_IF_ERROR(split_samples(*loaded, in, where, &count, &count_where, &samples));
  }
  return samples;
}

// The members of a .npz: <name>.npy, stored or deflated (libzip reads both).
Result<std::vector<std::vector<Tensor>>> load_npz(const std::string& path, const runtime::Model& model) {
  int err = 0;
  std::unique_ptr<zip_t, int (*)(zip_t*)> archive(zip_open(path.c_str(), ZIP_RDONLY, &err), zip_close);
  if (!archive) {
    zip_error_t e;
    zip_error_init_with_code(&e, err);
    const std::string why = zip_error_strerror(&e);
    zip_error_fini(&e);
    return invalid_argument("calibration data {}: not a readable .npz (zip) archive: {}", path, why);
  }
  return load_stacked(model, [&](const std::string& name, std::string* where) -> Result<Tensor> {
    const std::string member = name + ".npy";
    *where = path + ":" + member;
    zip_stat_t st;
    if (zip_stat(archive.get(), member.c_str(), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) {
      std::string names;
      for (zip_int64_t i = 0; i < zip_get_num_entries(archive.get(), 0) && i < 20; ++i) {
        names += std::string(names.empty() ? "" : ", ") + zip_get_name(archive.get(), static_cast<zip_uint64_t>(i), 0);
      }
      return not_found("{} has no array '{}' (its arrays: {})", path, name, names.empty() ? "none" : names);
    }
    // The uncompressed size is the archive's claim: parse_npy checks it against the header, and
    // the read below must deliver all of it. Refuse sizes no array could have before allocating.
    if (st.size > (uint64_t{1} << 40)) return invalid_argument("{}: declares {} bytes", *where, st.size);
    std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> f(zip_fopen(archive.get(), member.c_str(), 0), zip_fclose);
    if (!f) return io_error("{}: cannot open: {}", *where, zip_strerror(archive.get()));
    std::vector<std::byte> bytes(static_cast<size_t>(st.size));
    size_t got = 0;
    while (got < bytes.size()) {
      const zip_int64_t n = zip_fread(f.get(), bytes.data() + got, bytes.size() - got);
      if (n <= 0) return io_error("{}: truncated or corrupt (read {} of {} bytes)", *where, got, bytes.size());
      got += static_cast<size_t>(n);
    }
    return io::parse_npy(bytes.data(), bytes.size(), *where);
  });
}

// A .txt list: each non-empty line, one file per model input.
Result<std::vector<std::vector<Tensor>>> load_list(const std::string& path, const runtime::Model& model) {
  std::ifstream f(path);
  if (!f) return not_found("calibration data {}: cannot read it", path);
  const size_t slash = path.rfind('/');
  const std::string base = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  const auto& inputs = model.inputs();
  std::vector<std::vector<Tensor>> samples;
  std::string line;
  for (size_t line_no = 1; std::getline(f, line); ++line_no) {
    std::istringstream words(line);
    std::vector<std::string> files;
    for (std::string w; words >> w;) files.push_back(w[0] == '/' ? w : base + w);
    if (files.empty()) continue;
    const std::string where = fmt::format("{}:{}", path, line_no);
    if (files.size() != inputs.size()) {
      return invalid_argument("{}: {} files, the model has {} inputs (one file per input per line)", where,
                              files.size(), inputs.size());
    }
    // By name when every file names its input, as ratel_runtime binds them; else by position.
    std::vector<size_t> target(files.size());
    bool by_name = true;
    for (size_t k = 0; k < files.size() && by_name; ++k) {
      by_name = false;
      for (size_t j = 0; j < inputs.size(); ++j) {
        if (ends_with(files[k], inputs[j]->name + ".npy") || ends_with(files[k], inputs[j]->name + ".bin")) {
          target[k] = j;
          by_name = true;
        }
      }
    }
    std::vector<Tensor> sample(inputs.size());
    for (size_t k = 0; k < files.size(); ++k) {
      const size_t j = by_name ? target[k] : k;
      const ir::Value* in = inputs[j];
      if (sample[j].defined()) return invalid_argument("{}: two files for input '{}'", where, in->name);
      Result<Tensor> t = ends_with(files[k], ".npy") ? io::read_npy(files[k])
                                                     : io::read_raw(files[k], DType::kF32, in->shape);
      if (!t.ok()) return t.status().with_context(fmt::format("{}: input '{}'", where, in->name));
      if (t->shape() != in->shape) {
        return invalid_argument("{}: {} has shape {}, input '{}' is {}", where, files[k], shape_str(t->shape()),
                                in->name, shape_str(in->shape));
      }
      RATEL_ASSIGN_OR_RETURN(sample[j], io::convert_exact(*t, in->dtype, files[k]));
    }
    samples.push_back(std::move(sample));
  }
  if (samples.empty()) return invalid_argument("calibration data {}: lists no samples", path);
  return samples;
}

}  // namespace

Result<std::vector<std::vector<Tensor>>> load_calibration_samples(const std::string& path, const runtime::Model& model) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return not_found("calibration data {}: no such file or folder (give a folder of <input name>.npy files, a .npz "
                     "or a .txt list)", path);
  }
  if (S_ISDIR(st.st_mode)) {
    return load_stacked(model, [&](const std::string& name, std::string* where) {
      *where = path + "/" + name + ".npy";
      return io::read_npy(*where);
    });
  }
  if (ends_with(path, ".npz")) return load_npz(path, model);
  if (ends_with(path, ".txt")) return load_list(path, model);
  return invalid_argument("calibration data {}: expected a folder of <input name>.npy files, a .npz archive or a .txt "
                          "list of input files", path);
}

}  // namespace ratel::quant
