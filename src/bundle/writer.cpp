// Bundle writer: ir::Graph -> .rbm (layout in format.h, docs/BUNDLE.md).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unordered_map>

#include <fmt/ranges.h>

#include "bundle/bundle.h"
#include "bundle/checksum.h"
#include "bundle/stream.h"

namespace ratel::bundle {

namespace {

size_t align_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

// A value's data goes into the weights section when it is known and no node computes it
// (initializers and folded constants). Values that a node computes are recomputed by inference
// on load (shape arithmetic) or at run time.
bool stored_constant(const ir::Value& v) { return v.is_constant() && v.producer == nullptr; }

void put_dims(ByteWriter& w, const Shape& shape) {
  w.put<uint16_t>(static_cast<uint16_t>(shape.size()));
  for (int64_t d : shape) w.put<int64_t>(d);
}

Status put_attribute(ByteWriter& w, const std::string& name, const ir::AttrValue& value) {
  w.put_string(name);
  w.put<uint8_t>(static_cast<uint8_t>(value.index()));
  switch (static_cast<AttrKind>(value.index())) {
    case AttrKind::kInt: w.put<int64_t>(std::get<int64_t>(value)); break;
    case AttrKind::kFloat: w.put<float>(std::get<float>(value)); break;
    case AttrKind::kString: w.put_string(std::get<std::string>(value)); break;
    case AttrKind::kInts: {
      const auto& v = std::get<std::vector<int64_t>>(value);
      w.put<uint32_t>(static_cast<uint32_t>(v.size()));
      w.put_bytes(v.data(), v.size() * sizeof(int64_t));
      break;
    }
    case AttrKind::kFloats: {
      const auto& v = std::get<std::vector<float>>(value);
      w.put<uint32_t>(static_cast<uint32_t>(v.size()));
      w.put_bytes(v.data(), v.size() * sizeof(float));
      break;
    }
    case AttrKind::kStrings: {
      const auto& v = std::get<std::vector<std::string>>(value);
      w.put<uint32_t>(static_cast<uint32_t>(v.size()));
      for (const std::string& s : v) w.put_string(s);
      break;
    }
    case AttrKind::kTensor: {
      const Tensor& t = std::get<Tensor>(value);
      if (!t.defined()) return invalid_argument("attribute '{}' holds an empty tensor", name);
      w.put<uint8_t>(static_cast<uint8_t>(t.dtype()));
      put_dims(w, t.shape());
      w.put<uint64_t>(t.nbytes());
      w.put_bytes(t.raw(), t.nbytes());
      break;
    }
  }
  return Status::Ok();
}

struct Encoded {
  std::vector<std::byte> metadata;
  std::vector<std::byte> graph;
  std::vector<const Tensor*> constants;  // in weights-section order
  std::vector<size_t> constant_offsets;  // relative to the weights section
  size_t weights_size = 0;
};

Result<Encoded> encode(const ir::Graph& graph, const Metadata& metadata) {
  Encoded e;
  ByteWriter m;
  m.put<uint32_t>(static_cast<uint32_t>(metadata.size()));
  for (const auto& [k, v] : metadata) {
    m.put_string(k);
    m.put_string(v);
  }
  e.metadata = m.bytes();

  ByteWriter w;
  w.put_string(graph.name);
  w.put_string(graph.producer);
  w.put<uint32_t>(static_cast<uint32_t>(graph.opsets.size()));
  for (const auto& [domain, version] : graph.opsets) {
    w.put_string(domain);
    w.put<int64_t>(version);
  }
  std::unordered_map<const ir::Value*, int32_t> index;
  w.put<uint32_t>(static_cast<uint32_t>(graph.values().size()));
  for (const auto& v : graph.values()) {
    index[v.get()] = static_cast<int32_t>(index.size());
    if (v->dtype == DType::kUndefined) {
      return invalid_argument("value '{}' has no element type: infer shapes before writing a bundle", v->name);
    }
    const bool constant = stored_constant(*v);
    w.put_string(v->name);
    w.put<uint8_t>(static_cast<uint8_t>(v->dtype));
    w.put<uint8_t>(static_cast<uint8_t>((v->has_shape ? kValueHasShape : 0) | (constant ? kValueConstant : 0) |
                                        (v->is_initializer ? kValueInitializer : 0)));
    put_dims(w, v->has_shape ? v->shape : Shape{});
    if (!constant) continue;
    const Tensor& t = v->constant;
    if (!t.defined()) {
      return invalid_argument("constant '{}' has no data (freed once its kernels packed it?): write the bundle from "
                              "a model whose kernels have not been prepared", v->name);
    }
    if (t.dtype() != v->dtype || t.shape() != v->shape || !v->has_shape) {
      return internal_error("constant '{}' is {} {} but its value says {} {}", v->name, dtype_name(t.dtype()),
                            shape_str(t.shape()), dtype_name(v->dtype), shape_str(v->shape));
    }
    e.weights_size = align_up(e.weights_size, kTensorAlignment);
    e.constants.push_back(&t);
    e.constant_offsets.push_back(e.weights_size);
    w.put<uint64_t>(e.weights_size);
    w.put<uint64_t>(t.nbytes());
    e.weights_size += t.nbytes();
  }
  auto put_value_list = [&](const std::vector<ir::Value*>& list, const char* what) -> Status {
    w.put<uint32_t>(static_cast<uint32_t>(list.size()));
    for (const ir::Value* v : list) {
      auto it = index.find(v);
      if (it == index.end()) return internal_error("graph {} '{}' is not a value of the graph", what, v->name);
      w.put<uint32_t>(static_cast<uint32_t>(it->second));
    }
    return Status::Ok();
  };
  for (const ir::Value* v : graph.inputs()) {
    if (stored_constant(*v)) return invalid_argument("graph input '{}' is also a constant", v->name);
  }
  RATEL_RETURN_IF_ERROR(put_value_list(graph.inputs(), "input"));
  RATEL_RETURN_IF_ERROR(put_value_list(graph.outputs(), "output"));
  w.put<uint32_t>(static_cast<uint32_t>(graph.nodes().size()));
  for (const auto& n : graph.nodes()) {
    w.put_string(n->name);
    w.put_string(n->op_type);
    w.put_string(n->domain);
    w.put<int32_t>(n->opset);
    for (const auto* list : {&n->inputs, &n->outputs}) {
      w.put<uint32_t>(static_cast<uint32_t>(list->size()));
      for (const ir::Value* v : *list) {
        if (!v) {
          w.put<int32_t>(-1);
          continue;
        }
        auto it = index.find(v);
        if (it == index.end()) return internal_error("{} refers to a value the graph does not own", n->describe());
        w.put<int32_t>(it->second);
      }
    }
    w.put<uint32_t>(static_cast<uint32_t>(n->attrs.all().size()));
    for (const auto& [name, value] : n->attrs.all()) {
      RATEL_RETURN_IF_ERROR(put_attribute(w, name, value).with_context(n->describe()));
    }
  }
  e.graph = w.bytes();
  return e;
}

struct Layout {
  size_t metadata_offset, graph_offset, weights_offset, file_size;
};

Layout plan_layout(const Encoded& e) {
  Layout l;
  const size_t table_end = kHeaderSize + 3 * kSectionEntrySize;
  l.metadata_offset = align_up(table_end, kSectionAlignment);
  l.graph_offset = align_up(l.metadata_offset + e.metadata.size(), kSectionAlignment);
  l.weights_offset = align_up(l.graph_offset + e.graph.size(), kWeightsAlignment);
  l.file_size = l.weights_offset + e.weights_size;
  return l;
}

uint64_t weights_checksum(const Encoded& e) {
  Xxh64 h;
  static const std::byte kZeros[kTensorAlignment] = {};
  size_t at = 0;
  for (size_t i = 0; i < e.constants.size(); ++i) {
    h.update(std::span<const std::byte>(kZeros, e.constant_offsets[i] - at));
    const Tensor& t = *e.constants[i];
    h.update(std::span<const std::byte>(static_cast<const std::byte*>(t.raw()), t.nbytes()));
    at = e.constant_offsets[i] + t.nbytes();
  }
  return h.digest();
}

std::vector<std::byte> header_and_table(const Encoded& e, const Layout& l) {
  ByteWriter w;
  w.put_bytes(kMagic, sizeof(kMagic));
  w.put<uint16_t>(kVersionMajor);
  w.put<uint16_t>(kVersionMinor);
  w.put<uint32_t>(static_cast<uint32_t>(kHeaderSize));
  w.put<uint64_t>(l.file_size);
  w.put<uint64_t>(kHeaderSize);
  w.put<uint32_t>(3);
  w.put<uint32_t>(static_cast<uint32_t>(kSectionEntrySize));
  w.put<uint32_t>(0);  // flags
  w.put<uint32_t>(0);  // reserved
  w.put<uint64_t>(0);  // reserved
  w.put<uint64_t>(0);  // checksum, filled below
  auto entry = [&](SectionKind kind, size_t offset, size_t size, uint64_t checksum) {
    w.put<uint32_t>(static_cast<uint32_t>(kind));
    w.put<uint32_t>(0);
    w.put<uint64_t>(offset);
    w.put<uint64_t>(size);
    w.put<uint64_t>(checksum);
  };
  entry(SectionKind::kMetadata, l.metadata_offset, e.metadata.size(), xxh64(e.metadata));
  entry(SectionKind::kGraph, l.graph_offset, e.graph.size(), xxh64(e.graph));
  entry(SectionKind::kWeights, l.weights_offset, e.weights_size, weights_checksum(e));
  std::vector<std::byte> bytes = w.bytes();
  RATEL_ASSERT(bytes.size() == kHeaderSize + 3 * kSectionEntrySize);
  Xxh64 h;
  h.update(std::span<const std::byte>(bytes.data(), header::kChecksum));
  h.update(std::span<const std::byte>(bytes.data() + kHeaderSize, bytes.size() - kHeaderSize));
  const uint64_t sum = h.digest();
  std::memcpy(bytes.data() + header::kChecksum, &sum, sizeof(sum));
  return bytes;
}

// Emits the file's bytes in order through `sink(data, size)` (false: stop, the sink failed).
template <typename Sink>
bool emit(const Encoded& e, const Layout& l, Sink&& sink) {
  static const std::byte kZeros[kWeightsAlignment] = {};
  size_t at = 0;
  auto pad_to = [&](size_t offset) {
    const size_t n = offset - at;
    at = offset;
    return sink(kZeros, n);
  };
  auto put = [&](const void* p, size_t n) {
    at += n;
    return sink(p, n);
  };
  const std::vector<std::byte> head = header_and_table(e, l);
  if (!put(head.data(), head.size())) return false;
  if (!pad_to(l.metadata_offset) || !put(e.metadata.data(), e.metadata.size())) return false;
  if (!pad_to(l.graph_offset) || !put(e.graph.data(), e.graph.size())) return false;
  if (!pad_to(l.weights_offset)) return false;
  for (size_t i = 0; i < e.constants.size(); ++i) {
    if (!pad_to(l.weights_offset + e.constant_offsets[i])) return false;
    if (!put(e.constants[i]->raw(), e.constants[i]->nbytes())) return false;
  }
  return at == l.file_size;
}

}  // namespace

std::string describe_values(const std::vector<ir::Value*>& values) {
  std::string s;
  for (const ir::Value* v : values) {
    if (!s.empty()) s += ';';
    s += fmt::format("{}:{}[{}]", v->name, dtype_name(v->dtype), fmt::join(v->shape, ","));
  }
  return s;
}

Result<std::vector<std::byte>> serialize_bundle(const ir::Graph& graph, const Metadata& metadata) {
  RATEL_ASSIGN_OR_RETURN(Encoded e, encode(graph, metadata));
  const Layout l = plan_layout(e);
  std::vector<std::byte> out;
  out.reserve(l.file_size);
  emit(e, l, [&](const void* p, size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    out.insert(out.end(), b, b + n);
    return true;
  });
  return out;
}

Status write_bundle(const ir::Graph& graph, const Metadata& metadata, const std::string& path,
                    WriteStats* stats) {
  RATEL_ASSIGN_OR_RETURN(Encoded e, encode(graph, metadata));
  const Layout l = plan_layout(e);
  const std::string tmp = path + ".partial";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return io_error("cannot write '{}': {}", tmp, std::strerror(errno));
  const bool written = emit(e, l, [&](const void* p, size_t n) { return n == 0 || std::fwrite(p, 1, n, f) == n; });
  const int write_errno = errno;
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) {
    std::remove(tmp.c_str());
    return io_error("writing '{}' failed: {}", path, std::strerror(write_errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    return io_error("cannot rename '{}' to '{}': {}", tmp, path, std::strerror(err));
  }
  if (stats) {
    stats->file_bytes = l.file_size;
    stats->graph_bytes = e.graph.size();
    stats->weight_bytes = e.weights_size;
    stats->constants = e.constants.size();
  }
  return Status::Ok();
}

}  // namespace ratel::bundle
