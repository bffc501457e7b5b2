// NumPy .npy files and raw .bin tensors: what `ratel run` reads and writes.
#pragma once

#include <string>

#include "core/status.h"
#include "core/tensor.h"

namespace ratel::io {

// Reads a .npy file (format versions 1-3, little-endian, C order). Errors name the file.
Result<Tensor> read_npy(const std::string& path);
Result<Tensor> parse_npy(const std::byte* data, size_t size, const std::string& name);
Status write_npy(const std::string& path, const Tensor& t);

// Reads raw little-endian values of `dtype`; the file must hold exactly `shape`'s elements.
Result<Tensor> read_raw(const std::string& path, DType dtype, const Shape& shape);

// Converts between element types when no information is lost: integers that fit, floats that
// hold integer values when the target is an integer (ids stored as float32, HHB-style),
// any float to any float. Errors name `what` and the first offending element.
Result<Tensor> convert_exact(const Tensor& t, DType to, const std::string& what);

}  // namespace ratel::io
