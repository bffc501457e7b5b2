#include "io/npy.h"

#include <cmath>
#include <cstring>

#include "core/file.h"

namespace ratel::io {

namespace {

struct NpyType {
  const char* descr;
  DType dtype;
};
constexpr NpyType kNpyTypes[] = {
    {"<f4", DType::kF32}, {"<f8", DType::kF64}, {"<f2", DType::kF16}, {"|i1", DType::kI8},
    {"|u1", DType::kU8},  {"<i2", DType::kI16}, {"<u2", DType::kU16}, {"<i4", DType::kI32},
    {"<u4", DType::kU32}, {"<i8", DType::kI64}, {"<u8", DType::kU64}, {"|b1", DType::kBool},
};

// Finds `'key': value` in the header dict and returns the raw value text.
bool header_field(const std::string& h, const std::string& key, std::string* value) {
  const size_t k = h.find("'" + key + "'");
  if (k == std::string::npos) return false;
  size_t p = h.find(':', k);
  if (p == std::string::npos) return false;
  ++p;
  while (p < h.size() && h[p] == ' ') ++p;
  size_t end = p;
  if (end < h.size() && h[end] == '(') {
    end = h.find(')', end);
    if (end == std::string::npos) return false;
    ++end;
  } else if (end < h.size() && h[end] == '\'') {
    end = h.find('\'', end + 1);
    if (end == std::string::npos) return false;
    ++end;
  } else {
    while (end < h.size() && h[end] != ',' && h[end] != '}') ++end;
  }
  *value = h.substr(p, end - p);
  return true;
}

}  // namespace

Result<Tensor> parse_npy(const std::byte* data, size_t size, const std::string& name) {
  static const char kMagic[] = "\x93NUMPY";
  if (size < 10 || std::memcmp(data, kMagic, 6) != 0) {
    return corrupt("'{}' is not a .npy file (bad magic)", name);
  }
  const auto* u = reinterpret_cast<const uint8_t*>(data);
  const int major = u[6];
  size_t header_len;
  size_t offset;
  if (major == 1) {
    header_len = u[8] | (static_cast<size_t>(u[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) return corrupt("'{}': truncated .npy header", name);
    header_len = u[8] | (static_cast<size_t>(u[9]) << 8) | (static_cast<size_t>(u[10]) << 16) |
                 (static_cast<size_t>(u[11]) << 24);
    offset = 12;
  } else {
    return unsupported("'{}': .npy format version {} is not supported", name, major);
  }
  if (header_len > size - offset) return corrupt("'{}': truncated .npy header", name);
  const std::string h(reinterpret_cast<const char*>(data) + offset, header_len);
  offset += header_len;

  std::string descr, fortran, shape_text;
  if (!header_field(h, "descr", &descr) || !header_field(h, "fortran_order", &fortran) ||
      !header_field(h, "shape", &shape_text)) {
    return corrupt("'{}': .npy header lacks descr, fortran_order or shape", name);
  }
  if (fortran.rfind("True", 0) == 0) {
    return unsupported("'{}': Fortran-order arrays are not supported (save with C order)", name);
  }
  descr = descr.size() >= 2 ? descr.substr(1, descr.size() - 2) : descr;
  if (descr == "<b1") descr = "|b1";
  if (descr == "<i1") descr = "|i1";
  if (descr == "<u1") descr = "|u1";
  DType dtype = DType::kUndefined;
  for (const NpyType& t : kNpyTypes) {
    if (descr == t.descr) dtype = t.dtype;
  }
  if (dtype == DType::kUndefined) {
    return unsupported("'{}': .npy element type '{}' is not supported", name, descr);
  }
  Shape shape;
  const std::string inner = shape_text.size() >= 2 ? shape_text.substr(1, shape_text.size() - 2) : "";
  size_t p = 0;
  while (p < inner.size()) {
    while (p < inner.size() && (inner[p] == ' ' || inner[p] == ',')) ++p;
    if (p >= inner.size()) break;
    size_t q = p;
    while (q < inner.size() && inner[q] >= '0' && inner[q] <= '9') ++q;
    if (q == p || q - p > 15) return corrupt("'{}': bad shape '{}' in .npy header", name, shape_text);
    shape.push_back(std::stoll(inner.substr(p, q - p)));
    p = q;
    while (p < inner.size() && inner[p] == 'L') ++p;
    if (p < inner.size() && inner[p] != ',' && inner[p] != ' ') {
      return corrupt("'{}': bad shape '{}' in .npy header", name, shape_text);
    }
  }
  auto n = checked_numel(shape);
  if (!n.ok()) return n.status().with_context(name);
  const size_t nbytes = static_cast<size_t>(*n) * dtype_size(dtype);
  if (size - offset != nbytes) {
    return corrupt("'{}': shape {} of {} needs {} bytes of data, the file has {}", name,
                   shape_str(shape), dtype_name(dtype), nbytes, size - offset);
  }
  auto allocated = Tensor::allocate(dtype, shape);
  if (!allocated.ok()) return allocated.status().with_context(name);
  Tensor t = std::move(allocated).value();
  if (nbytes) std::memcpy(t.mutable_raw(), data + offset, nbytes);
  if (dtype == DType::kBool) {
    auto* b = static_cast<uint8_t*>(t.mutable_raw());
    for (int64_t i = 0; i < *n; ++i) b[i] = b[i] != 0;
  }
  return t;
}

Result<Tensor> read_npy(const std::string& path) {
  RATEL_ASSIGN_OR_RETURN(auto f, MappedFile::open(path));
  return parse_npy(f->data(), f->size(), path);
}

Status write_npy(const std::string& path, const Tensor& t) {
  const char* descr = nullptr;
  for (const NpyType& nt : kNpyTypes) {
    if (nt.dtype == t.dtype()) descr = nt.descr;
  }
  if (!descr) return unsupported("cannot write {} tensors as .npy", dtype_name(t.dtype()));
  std::string shape = "(";
  for (size_t i = 0; i < t.shape().size(); ++i) {
    shape += std::to_string(t.shape()[i]) + (t.shape().size() == 1 ? "," : i + 1 < t.shape().size() ? ", " : "");
  }
  shape += ")";
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr, shape);
  // Pad with spaces so that magic + length + header + '\n' is a multiple of 64 bytes.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  out.append(static_cast<const char*>(t.raw()), t.nbytes());
  return write_text_file(path, out);
}

Result<Tensor> read_raw(const std::string& path, DType dtype, const Shape& shape) {
  RATEL_ASSIGN_OR_RETURN(auto f, MappedFile::open(path));
  RATEL_ASSIGN_OR_RETURN(int64_t n, checked_numel(shape));
  const size_t nbytes = static_cast<size_t>(n) * dtype_size(dtype);
  if (f->size() != nbytes) {
    return invalid_argument("'{}' has {} bytes; {} {} needs {} bytes", path, f->size(),
                            dtype_name(dtype), shape_str(shape), nbytes);
  }
  auto allocated = Tensor::allocate(dtype, shape);
  if (!allocated.ok()) return allocated.status().with_context(path);
  Tensor t = std::move(allocated).value();
  if (nbytes) std::memcpy(t.mutable_raw(), f->data(), nbytes);
  return t;
}

Result<Tensor> convert_exact(const Tensor& t, DType to, const std::string& what) {
  if (t.dtype() == to) return t;
  RATEL_ASSIGN_OR_RETURN(Tensor out, Tensor::allocate(to, t.shape()));
  const int64_t n = t.numel();
  if (dtype_is_float(to)) {
    for (int64_t i = 0; i < n; ++i) {
      const double v = t.get_as_double(i);
      switch (to) {
        case DType::kF32: out.mutable_data<float>()[i] = static_cast<float>(v); break;
        case DType::kF64: out.mutable_data<double>()[i] = v; break;
        case DType::kF16: out.mutable_data<Half>()[i] = Half{float_to_half(static_cast<float>(v))}; break;
        default: out.mutable_data<BFloat16>()[i] = BFloat16{float_to_bf16(static_cast<float>(v))}; break;
      }
    }
    return out;
  }
  // Integer or bool target: every value must be an integer in range.
  // Accepted range [lo, end): `end` is exclusive so that 2^63 and 2^64 are exact in double.
  double lo = 0, end = 2;
  switch (to) {
    case DType::kI8: lo = -128; end = 128; break;
    case DType::kU8: end = 256; break;
    case DType::kI16: lo = -32768; end = 32768; break;
    case DType::kU16: end = 65536; break;
    case DType::kI32: lo = -2147483648.0; end = 2147483648.0; break;
    case DType::kU32: end = 4294967296.0; break;
    case DType::kI64: lo = -9223372036854775808.0; end = 9223372036854775808.0; break;
    case DType::kU64: end = 18446744073709551616.0; break;
    default: break;
  }
  const bool src_int = dtype_is_integer(t.dtype()) || t.dtype() == DType::kBool;
  for (int64_t i = 0; i < n; ++i) {
    const double v = t.get_as_double(i);
    if (!src_int && (std::isnan(v) || v != std::floor(v))) {
      return invalid_argument("{}: element {} is {}, not an integer (the model expects {})", what, i,
                              v, dtype_name(to));
    }
    if (v < lo || v >= end) {
      return out_of_range("{}: element {} ({}) does not fit in {}", what, i, v, dtype_name(to));
    }
    const int64_t iv = src_int ? t.get_as_int64(i) : static_cast<int64_t>(v);
    auto* p = static_cast<std::byte*>(out.mutable_raw());
    switch (to) {
      case DType::kI8: reinterpret_cast<int8_t*>(p)[i] = static_cast<int8_t>(iv); break;
      case DType::kU8: reinterpret_cast<uint8_t*>(p)[i] = static_cast<uint8_t>(iv); break;
      case DType::kI16: reinterpret_cast<int16_t*>(p)[i] = static_cast<int16_t>(iv); break;
      case DType::kU16: reinterpret_cast<uint16_t*>(p)[i] = static_cast<uint16_t>(iv); break;
      case DType::kI32: reinterpret_cast<int32_t*>(p)[i] = static_cast<int32_t>(iv); break;
      case DType::kU32: reinterpret_cast<uint32_t*>(p)[i] = static_cast<uint32_t>(iv); break;
      case DType::kI64: reinterpret_cast<int64_t*>(p)[i] = iv; break;
      case DType::kU64: reinterpret_cast<uint64_t*>(p)[i] = static_cast<uint64_t>(iv); break;
      case DType::kBool: reinterpret_cast<uint8_t*>(p)[i] = iv != 0; break;
      default: break;
    }
  }
  return out;
}

}  // namespace ratel::io
