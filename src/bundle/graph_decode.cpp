// Graph section -> ir::Graph, checking every field before it is used: counts against the bytes
// left, string lengths, dtypes, ranks and dims, value indices, weight offsets and sizes, and
// the graph's structure (one producer per value, topological order) at the end.
#include <unordered_set>

#include "bundle/bundle.h"
#include "bundle/stream.h"

namespace ratel::bundle {

namespace {

class GraphDecoder {
 public:
  GraphDecoder(ByteReader& r, std::span<const std::byte> weights, size_t weights_offset,
               std::shared_ptr<Storage> weight_storage)
      : r_(r), weights_(weights), weights_offset_(weights_offset), storage_(std::move(weight_storage)) {}

  Result<std::unique_ptr<ir::Graph>> decode();

 private:
  template <typename... Args>
  Status error(size_t at, fmt::format_string<Args...> f, Args&&... args) {
    return corrupt("{}: {} (at offset {})", r_.where(), fmt::format(f, std::forward<Args>(args)...), at);
  }
  Result<DType> read_dtype(const std::string& what, bool allow_undefined);
  // A name (value, node, op type, domain, attribute): printable, since messages quote it.
  Result<std::string> read_name(const std::string& what);
  Result<Shape> read_dims(const std::string& what);
  Status read_value(uint32_t i);
  Result<ir::Value*> read_index(const std::string& what, bool allow_omitted);
  Status read_node(uint32_t i);
  Result<ir::AttrValue> read_attribute(const std::string& what);

  ByteReader& r_;
  std::span<const std::byte> weights_;
  size_t weights_offset_;
  std::shared_ptr<Storage> storage_;
  std::unique_ptr<ir::Graph> g_ = std::make_unique<ir::Graph>();
  std::vector<ir::Value*> values_;
  std::unordered_set<const ir::Value*> produced_;
};

Result<DType> GraphDecoder::read_dtype(const std::string& what, bool allow_undefined) {
  const size_t at = r_.offset();
  RATEL_ASSIGN_OR_RETURN(uint8_t code, r_.get<uint8_t>(what + " dtype"));
  if (code > static_cast<uint8_t>(DType::kBool) || (code == 0 && !allow_undefined)) {
    return error(at, "{}: unknown dtype code {}", what, code);
  }
  return static_cast<DType>(code);
}

Result<std::string> GraphDecoder::read_name(const std::string& what) {
  const size_t at = r_.offset();
  RATEL_ASSIGN_OR_RETURN(std::string s, r_.get_string(what));
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u == 0x7f) return error(at, "{} contains a control character ({:#04x})", what, u);
  }
  return s;
}

Result<Shape> GraphDecoder::read_dims(const std::string& what) {
  const size_t at = r_.offset();
  RATEL_ASSIGN_OR_RETURN(uint16_t rank, r_.get<uint16_t>(what + " rank"));
  if (rank > kMaxRank) return error(at, "{}: rank {} exceeds the limit of {}", what, rank, kMaxRank);
  Shape shape(rank);
  for (uint16_t d = 0; d < rank; ++d) {
    const size_t dim_at = r_.offset();
    RATEL_ASSIGN_OR_RETURN(shape[d], r_.get<int64_t>(what + " dim"));
    if (shape[d] < 0 || shape[d] > kMaxDim) {
      return error(dim_at, "{}: dimension {} is {}, expected 0 to {}", what, d, shape[d], kMaxDim);
    }
  }
  if (!checked_numel(shape).ok()) return error(at, "{}: shape {} has too many elements", what, shape_str(shape));
  return shape;
}

Status GraphDecoder::read_value(uint32_t i) {
  const size_t at = r_.offset();
  RATEL_ASSIGN_OR_RETURN(std::string name, read_name(fmt::format("value {} name", i)));
  const std::string what = fmt::format("value {} ('{}')", i, name);
  if (name.empty()) return error(at, "value {} has an empty name", i);
  if (g_->find_value(name)) return error(at, "{}: the name is used twice", what);
  RATEL_ASSIGN_OR_RETURN(DType dtype, read_dtype(what, false));
  const size_t flags_at = r_.offset();
  RATEL_ASSIGN_OR_RETURN(uint8_t flags, r_.get<uint8_t>(what + " flags"));
  if (flags & ~kValueKnownFlags) return error(flags_at, "{}: unknown flags {:#x}", what, flags);
  RATEL_ASSIGN_OR_RETURN(Shape shape, read_dims(what));
  ir::Value* v = g_->add_value(name);
  v->dtype = dtype;
  v->has_shape = (flags & kValueHasShape) != 0;
  if (!v->has_shape && !shape.empty()) return error(flags_at, "{}: has dims but no shape flag", what);
  v->shape = std::move(shape);
  v->is_initializer = (flags & kValueInitializer) != 0;
  if (flags & kValueConstant) {
    if (!v->has_shape) return error(flags_at, "{}: a constant without a shape", what);
    const size_t ref_at = r_.offset();
    RATEL_ASSIGN_OR_RETURN(uint64_t offset, r_.get<uint64_t>(what + " weight offset"));
    RATEL_ASSIGN_OR_RETURN(uint64_t nbytes, r_.get<uint64_t>(what + " weight size"));
    const uint64_t expect = static_cast<uint64_t>(numel(v->shape)) * dtype_size(dtype);
    if (nbytes != expect) {
      return error(ref_at, "{}: weight size {} does not match {} {} ({} bytes)", what, nbytes, dtype_name(dtype),
                   shape_str(v->shape), expect);
    }
    if (offset % kTensorAlignment != 0) {
      return error(ref_at, "{}: weight offset {} is not a multiple of {}", what, offset, kTensorAlignment);
    }
    if (offset > weights_.size() || nbytes > weights_.size() - offset) {
      return error(ref_at, "{}: weight bytes [{}, {}) lie outside the weights section ({} bytes at offset {})",
                   what, offset, offset + nbytes, weights_.size(), weights_offset_);
    }
    v->constant = Tensor::view(dtype, v->shape, storage_, static_cast<size_t>(offset));
  }
  values_.push_back(v);
  return Status::Ok();
}

Result<ir::Value*> GraphDecoder::read_index(const std::string& what, bool allow_omitted) {
  const size_t at = r_.offset();
  RATEL_ASSIGN_OR_RETURN(int32_t index, r_.get<int32_t>(what));
  if (index == -1 && allow_omitted) return static_cast<ir::Value*>(nullptr);
  if (index < 0 || static_cast<size_t>(index) >= values_.size()) {
    return error(at, "{}: value index {} is out of range (the graph has {} values)", what, index, values_.size());
  }
  return values_[static_cast<size_t>(index)];
}

Result<ir::AttrValue> GraphDecoder::read_attribute(const std::string& what) {
  const size_t at = r_.offset();
  RATEL_ASSIGN_OR_RETURN(uint8_t kind, r_.get<uint8_t>(what + " kind"));
  switch (static_cast<AttrKind>(kind)) {
    case AttrKind::kInt: {
      RATEL_ASSIGN_OR_RETURN(int64_t v, r_.get<int64_t>(what));
      return ir::AttrValue(v);
    }
    case AttrKind::kFloat: {
      RATEL_ASSIGN_OR_RETURN(float v, r_.get<float>(what));
      return ir::AttrValue(v);
    }
    case AttrKind::kString: {
      RATEL_ASSIGN_OR_RETURN(std::string v, r_.get_string(what));
      return ir::AttrValue(std::move(v));
    }
    case AttrKind::kInts: {
      RATEL_ASSIGN_OR_RETURN(uint32_t n, r_.get_count(what + " count", 8, kMaxStringBytes));
      std::vector<int64_t> v(n);
      for (uint32_t i = 0; i < n; ++i) {
        RATEL_ASSIGN_OR_RETURN(v[i], r_.get<int64_t>(what));
      }
      return ir::AttrValue(std::move(v));
    }
    case AttrKind::kFloats: {
      RATEL_ASSIGN_OR_RETURN(uint32_t n, r_.get_count(what + " count", 4, kMaxStringBytes));
      std::vector<float> v(n);
      for (uint32_t i = 0; i < n; ++i) {
        RATEL_ASSIGN_OR_RETURN(v[i], r_.get<float>(what));
      }
      return ir::AttrValue(std::move(v));
    }
    case AttrKind::kStrings: {
      RATEL_ASSIGN_OR_RETURN(uint32_t n, r_.get_count(what + " count", 4, kMaxStringBytes));
      std::vector<std::string> v(n);
      for (uint32_t i = 0; i < n; ++i) {
        RATEL_ASSIGN_OR_RETURN(v[i], r_.get_string(what));
      }
      return ir::AttrValue(std::move(v));
    }
    case AttrKind::kTensor: {
      RATEL_ASSIGN_OR_RETURN(DType dtype, read_dtype(what, false));
      RATEL_ASSIGN_OR_RETURN(Shape shape, read_dims(what));
      const size_t size_at = r_.offset();
      RATEL_ASSIGN_OR_RETURN(uint64_t nbytes, r_.get<uint64_t>(what + " tensor size"));
      const uint64_t expect = static_cast<uint64_t>(numel(shape)) * dtype_size(dtype);
      if (nbytes != expect) {
        return error(size_at, "{}: tensor size {} does not match {} {} ({} bytes)", what, nbytes,
                     dtype_name(dtype), shape_str(shape), expect);
      }
      RATEL_ASSIGN_OR_RETURN(auto bytes, r_.get_bytes(what + " tensor data", nbytes));
      RATEL_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(dtype, shape));
      if (nbytes) std::memcpy(t.mutable_raw(), bytes.data(), bytes.size());
      return ir::AttrValue(std::move(t));
    }
  }
  return error(at, "{}: unknown attribute kind {}", what, kind);
}

Status GraphDecoder::read_node(uint32_t i) {
  const size_t at = r_.offset();
  RATEL_ASSIGN_OR_RETURN(std::string name, read_name(fmt::format("node {} name", i)));
  const std::string what = fmt::format("node {} ('{}')", i, name);
  RATEL_ASSIGN_OR_RETURN(std::string op_type, read_name(what + " op type"));
  RATEL_ASSIGN_OR_RETURN(std::string domain, read_name(what + " domain"));
  const size_t opset_at = r_.offset();
  RATEL_ASSIGN_OR_RETURN(int32_t opset, r_.get<int32_t>(what + " opset"));
  if (name.empty() || op_type.empty()) return error(at, "{}: empty node name or op type", what);
  if (opset < 0) return error(opset_at, "{}: negative opset {}", what, opset);
  RATEL_ASSIGN_OR_RETURN(uint32_t n_in, r_.get_count(what + " input count", 4, 1u << 16));
  std::vector<ir::Value*> inputs(n_in);
  for (uint32_t k = 0; k < n_in; ++k) {
    RATEL_ASSIGN_OR_RETURN(inputs[k], read_index(fmt::format("{} input {}", what, k), true));
  }
  RATEL_ASSIGN_OR_RETURN(uint32_t n_out, r_.get_count(what + " output count", 4, 1u << 16));
  std::vector<ir::Value*> outputs(n_out);
  for (uint32_t k = 0; k < n_out; ++k) {
    const size_t out_at = r_.offset();
    RATEL_ASSIGN_OR_RETURN(ir::Value* v, read_index(fmt::format("{} output {}", what, k), true));
    if (v && (v->is_constant() || !produced_.insert(v).second)) {
      return error(out_at, "{}: output '{}' is a constant, a graph input or another node's output", what, v->name);
    }
    outputs[k] = v;
  }
  RATEL_ASSIGN_OR_RETURN(uint32_t n_attr, r_.get_count(what + " attribute count", 5, 1u << 16));
  ir::Attributes attrs;
  for (uint32_t k = 0; k < n_attr; ++k) {
    const size_t attr_at = r_.offset();
    RATEL_ASSIGN_OR_RETURN(std::string attr_name, read_name(what + " attribute name"));
    if (attrs.has(attr_name)) return error(attr_at, "{}: attribute '{}' appears twice", what, attr_name);
    RATEL_ASSIGN_OR_RETURN(ir::AttrValue value, read_attribute(fmt::format("{} attribute '{}'", what, attr_name)));
    attrs.set(attr_name, std::move(value));
  }
  ir::Node* n = g_->add_node(op_type, name, std::move(inputs), std::move(outputs));
  n->domain = std::move(domain);
  n->opset = opset;
  n->attrs = std::move(attrs);
  return Status::Ok();
}

Result<std::unique_ptr<ir::Graph>> GraphDecoder::decode() {
  RATEL_ASSIGN_OR_RETURN(g_->name, r_.get_string("graph name"));
  RATEL_ASSIGN_OR_RETURN(g_->producer, r_.get_string("producer"));
  RATEL_ASSIGN_OR_RETURN(uint32_t n_opsets, r_.get_count("opset count", 12, 1024));
  for (uint32_t i = 0; i < n_opsets; ++i) {
    RATEL_ASSIGN_OR_RETURN(std::string domain, read_name("opset domain"));
    RATEL_ASSIGN_OR_RETURN(int64_t version, r_.get<int64_t>("opset version"));
    if (version < 0 || version > (1 << 20)) return error(r_.offset() - 8, "opset version {} is out of range", version);
    g_->opsets[domain] = static_cast<int>(version);
  }
  // A value takes at least 8 bytes (name length, dtype, flags, rank).
  RATEL_ASSIGN_OR_RETURN(uint32_t n_values, r_.get_count("value count", 8, kMaxValues));
  values_.reserve(n_values);
  for (uint32_t i = 0; i < n_values; ++i) RATEL_RETURN_IF_ERROR(read_value(i));
  RATEL_ASSIGN_OR_RETURN(uint32_t n_inputs, r_.get_count("graph input count", 4, kMaxValues));
  for (uint32_t i = 0; i < n_inputs; ++i) {
    const size_t at = r_.offset();
    RATEL_ASSIGN_OR_RETURN(ir::Value* v, read_index(fmt::format("graph input {}", i), false));
    if (v->is_constant() || !produced_.insert(v).second) {
      return error(at, "graph input {} ('{}') is a constant or listed twice", i, v->name);
    }
    if (!v->has_shape) return error(at, "graph input {} ('{}') has no shape", i, v->name);
    g_->inputs().push_back(v);
  }
  RATEL_ASSIGN_OR_RETURN(uint32_t n_outputs, r_.get_count("graph output count", 4, kMaxValues));
  for (uint32_t i = 0; i < n_outputs; ++i) {
    RATEL_ASSIGN_OR_RETURN(ir::Value* v, read_index(fmt::format("graph output {}", i), false));
    g_->outputs().push_back(v);
  }
  // A node takes at least 28 bytes (three string lengths, the opset, three counts).
  RATEL_ASSIGN_OR_RETURN(uint32_t n_nodes, r_.get_count("node count", 28, kMaxNodes));
  for (uint32_t i = 0; i < n_nodes; ++i) RATEL_RETURN_IF_ERROR(read_node(i));
  if (!r_.at_end()) return error(r_.offset(), "{} unread bytes after the last node", r_.remaining());
  if (Status s = ir::verify(*g_, /*require_types=*/false); !s.ok()) {
    return corrupt("{}: {}", r_.where(), s.message());
  }
  return std::move(g_);
}

}  // namespace

Result<std::unique_ptr<ir::Graph>> Bundle::decode_graph() const {
  const auto graph_bytes = bytes_.subspan(static_cast<size_t>(graph_.offset), static_cast<size_t>(graph_.size));
  const auto weights = bytes_.subspan(static_cast<size_t>(weights_.offset), static_cast<size_t>(weights_.size));
  // Constants view the mapping; the storage keeps this bundle's bytes alive (read-only).
  auto storage = Storage::borrow(const_cast<std::byte*>(weights.data()), weights.size(),
                                 std::const_pointer_cast<void>(keepalive_), /*writable=*/false);
  ByteReader r(graph_bytes, static_cast<size_t>(graph_.offset), name_ + ": graph section");
  GraphDecoder decoder(r, weights, static_cast<size_t>(weights_.offset), std::move(storage));
  return decoder.decode();
}

}  // namespace ratel::bundle
