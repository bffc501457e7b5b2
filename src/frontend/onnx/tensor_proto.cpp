#include "frontend/onnx/tensor_proto.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace ratel::onnx_frontend {

namespace {
using TP = onnx::TensorProto;

// Copies `count` values from a repeated proto field into the tensor, narrowing each to T.
// ONNX stores int8/int16/uint8/uint16/bool/float16/bfloat16 in int32_data (16-bit floats as
// their bit patterns) and uint32 in uint64_data.
template <typename T, typename Field>
void copy_field(const Field& field, Tensor& t) {
  T* out = static_cast<T*>(t.mutable_raw());
  for (int i = 0; i < field.size(); ++i) out[i] = static_cast<T>(field.Get(i));
}
}  // namespace

bool dtype_from_onnx(int onnx_type, DType* out) {
  switch (onnx_type) {
    case TP::FLOAT: *out = DType::kF32; return true;
    case TP::UINT8: *out = DType::kU8; return true;
    case TP::INT8: *out = DType::kI8; return true;
    case TP::UINT16: *out = DType::kU16; return true;
    case TP::INT16: *out = DType::kI16; return true;
    case TP::INT32: *out = DType::kI32; return true;
    case TP::INT64: *out = DType::kI64; return true;
    case TP::BOOL: *out = DType::kBool; return true;
    case TP::FLOAT16: *out = DType::kF16; return true;
    case TP::DOUBLE: *out = DType::kF64; return true;
    case TP::UINT32: *out = DType::kU32; return true;
    case TP::UINT64: *out = DType::kU64; return true;
    case TP::BFLOAT16: *out = DType::kBF16; return true;
    default: return false;
  }
}

const char* onnx_type_name(int onnx_type) {
  if (TP::DataType_IsValid(onnx_type)) {
    return TP::DataType_Name(static_cast<TP::DataType>(onnx_type)).c_str();
  }
  return "invalid";
}

Result<Tensor> ExternalData::load(const TP& proto, DType dtype, const Shape& shape) {
  std::string location;
  int64_t offset = 0;
  int64_t length = -1;
  for (const auto& kv : proto.external_data()) {
    const auto parse = [&](int64_t* dst) -> Status {
      char* end = nullptr;
      errno = 0;
      const long long v = std::strtoll(kv.value().c_str(), &end, 10);
      if (errno || end == kv.value().c_str() || *end || v < 0) {
        return corrupt("external data '{}' is not a non-negative integer: '{}'", kv.key(), kv.value());
      }
      *dst = v;
      return Status::Ok();
    };
    if (kv.key() == "location") location = kv.value();
    if (kv.key() == "offset") RATEL_RETURN_IF_ERROR(parse(&offset));
    if (kv.key() == "length") RATEL_RETURN_IF_ERROR(parse(&length));
  }
  if (location.empty()) return corrupt("external data has no 'location'");
  // Only files beside the model: no absolute paths, no climbing out of the folder.
  if (location[0] == '/' || location.find("..") != std::string::npos) {
    return invalid_argument("external data location '{}' must be a relative path inside the model's folder",
                            location);
  }
  auto it = files_.find(location);
  if (it == files_.end()) {
    auto f = MappedFile::open(dir_.empty() ? location : dir_ + "/" + location);
    if (!f.ok()) return f.status().with_context("external data");
    it = files_.emplace(location, std::move(f).value()).first;
  }
  const std::shared_ptr<MappedFile>& file = it->second;
  const size_t nbytes = static_cast<size_t>(numel(shape)) * dtype_size(dtype);
  if (nbytes > allocation_limit()) {
    return out_of_range("{} bytes of external data exceed the memory limit of {} bytes", nbytes,
                        allocation_limit());
  }
  if (length >= 0 && static_cast<size_t>(length) != nbytes) {
    return corrupt("external data length {} does not match the {} bytes of shape {}", length,
                   nbytes, shape_str(shape));
  }
  if (static_cast<uint64_t>(offset) > file->size() || nbytes > file->size() - static_cast<size_t>(offset)) {
    return corrupt("external data '{}': offset {} + {} bytes is past the end of the file ({} bytes)",
                   location, offset, nbytes, file->size());
  }
  const std::byte* src = file->data() + offset;
  if (offset % static_cast<int64_t>(kTensorAlignment) == 0) {
    // Aligned: view the mapping directly (no copy; the pages load on first touch).
    auto storage = Storage::borrow(const_cast<std::byte*>(src), nbytes, file, /*writable=*/false);
    return Tensor::view(dtype, shape, std::move(storage), 0);
  }
  RATEL_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(dtype, shape));
  if (nbytes) std::memcpy(t.mutable_raw(), src, nbytes);
  return t;
}

Result<Tensor> tensor_from_proto(const TP& proto, ExternalData* external) {
  DType dtype;
  if (!dtype_from_onnx(proto.data_type(), &dtype)) {
    return unsupported("element type {} is not supported", onnx_type_name(proto.data_type()));
  }
  if (proto.has_segment()) return unsupported("segmented tensors are not supported");
  Shape shape(proto.dims().begin(), proto.dims().end());
  RATEL_ASSIGN_OR_RETURN(int64_t n, checked_numel(shape));
  const size_t nbytes = static_cast<size_t>(n) * dtype_size(dtype);

  if (proto.data_location() == TP::EXTERNAL) {
    if (!external) return unsupported("external data is not allowed here");
    return external->load(proto, dtype, shape);
  }
  if (proto.has_raw_data()) {
    if (proto.raw_data().size() != nbytes) {
      return corrupt("raw data has {} bytes, shape {} of {} needs {}", proto.raw_data().size(),
                     shape_str(shape), dtype_name(dtype), nbytes);
    }
    RATEL_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(dtype, shape));
    if (nbytes) std::memcpy(t.mutable_raw(), proto.raw_data().data(), nbytes);
    if (dtype == DType::kBool) {  // any non-zero byte is true; kernels rely on 0/1
      uint8_t* b = static_cast<uint8_t*>(t.mutable_raw());
      for (int64_t i = 0; i < n; ++i) b[i] = b[i] != 0;
    }
    return t;
  }

  int stored = 0;
  switch (dtype) {
    case DType::kF32: stored = proto.float_data_size(); break;
    case DType::kF64: stored = proto.double_data_size(); break;
    case DType::kI64: stored = proto.int64_data_size(); break;
    case DType::kU32: case DType::kU64: stored = proto.uint64_data_size(); break;
    default: stored = proto.int32_data_size(); break;
  }
  if (stored != n) {
    return corrupt("holds {} values, shape {} needs {}", stored, shape_str(shape), n);
  }
  RATEL_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(dtype, shape));
  switch (dtype) {
    case DType::kF32: copy_field<float>(proto.float_data(), t); break;
    case DType::kF64: copy_field<double>(proto.double_data(), t); break;
    case DType::kI64: copy_field<int64_t>(proto.int64_data(), t); break;
    case DType::kU32: copy_field<uint32_t>(proto.uint64_data(), t); break;
    case DType::kU64: copy_field<uint64_t>(proto.uint64_data(), t); break;
    case DType::kI32: copy_field<int32_t>(proto.int32_data(), t); break;
    case DType::kI16: copy_field<int16_t>(proto.int32_data(), t); break;
    case DType::kU16: case DType::kF16: case DType::kBF16:
      copy_field<uint16_t>(proto.int32_data(), t);
      break;
    case DType::kI8: copy_field<int8_t>(proto.int32_data(), t); break;
    case DType::kU8: copy_field<uint8_t>(proto.int32_data(), t); break;
    case DType::kBool: {
      uint8_t* out = static_cast<uint8_t*>(t.mutable_raw());
      for (int i = 0; i < proto.int32_data_size(); ++i) out[i] = proto.int32_data(i) != 0;
      break;
    }
    case DType::kUndefined: break;
  }
  return t;
}

}  // namespace ratel::onnx_frontend
