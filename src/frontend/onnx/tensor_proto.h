// onnx::TensorProto -> Tensor, including external data files.
#pragma once

#include <map>
#include <memory>
#include <string>

#include <onnx/onnx_pb.h>

#include "core/file.h"
#include "core/status.h"
#include "core/tensor.h"

namespace ratel::onnx_frontend {

// Maps ONNX's TensorProto.DataType to Ratel's; false for types Ratel has no equivalent of
// (string, complex, float8).
bool dtype_from_onnx(int onnx_type, DType* out);
const char* onnx_type_name(int onnx_type);

// Resolves external data files relative to one folder, mapping each file once.
class ExternalData {
 public:
  explicit ExternalData(std::string dir) : dir_(std::move(dir)) {}
  // The tensor's bytes from its external file, checked against the file's size.
  Result<Tensor> load(const onnx::TensorProto& proto, DType dtype, const Shape& shape);

 private:
  std::string dir_;
  std::map<std::string, std::shared_ptr<MappedFile>> files_;
};

// Converts a tensor, checking that the stored data has exactly the elements the dims promise.
// Errors describe the problem; the caller adds which tensor it was.
Result<Tensor> tensor_from_proto(const onnx::TensorProto& proto, ExternalData* external);

}  // namespace ratel::onnx_frontend
