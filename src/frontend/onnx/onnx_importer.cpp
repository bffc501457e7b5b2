#include "frontend/onnx/onnx_importer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <set>
#include <unordered_map>

#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <onnx/onnx_pb.h>

#include "core/file.h"
#include "frontend/onnx/tensor_proto.h"
#include "ops/op.h"

namespace ratel::onnx_frontend {

namespace {

std::string dirname_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string join_names(const std::vector<ir::Value*>& values) {
  std::string s;
  for (const ir::Value* v : values) s += (s.empty() ? "" : ", ") + v->name;
  return s.empty() ? "(none)" : s;
}

// Element type and shape of a graph input/output declaration. Unknown dims become -1, with
// their symbolic name (if any) in dim_params.
Status read_value_info(const onnx::ValueInfoProto& info, DType* dtype, std::optional<Shape>* shape,
                       std::vector<std::string>* dim_params) {
  if (!info.has_type() || !info.type().has_tensor_type()) {
    return unsupported("'{}' is not a tensor (sequences, maps and optionals are not supported)",
                       info.name());
  }
  const auto& tt = info.type().tensor_type();
  if (!dtype_from_onnx(tt.elem_type(), dtype)) {
    return unsupported("'{}' has element type {}, which Ratel does not support", info.name(),
                       onnx_type_name(tt.elem_type()));
  }
  if (!tt.has_shape()) {
    shape->reset();
    return Status::Ok();
  }
  Shape s;
  dim_params->clear();
  for (const auto& d : tt.shape().dim()) {
    if (d.has_dim_value()) {
      if (d.dim_value() < 0 || d.dim_value() > kMaxDim) {
        return corrupt("'{}' declares an invalid dimension {}", info.name(), d.dim_value());
      }
      s.push_back(d.dim_value());
      dim_params->push_back("");
    } else {
      s.push_back(-1);
      dim_params->push_back(d.has_dim_param() ? d.dim_param() : "");
    }
  }
  if (s.size() > static_cast<size_t>(kMaxRank)) {
    return corrupt("'{}' declares rank {} (maximum {})", info.name(), s.size(), kMaxRank);
  }
  *shape = std::move(s);
  return Status::Ok();
}

Result<ir::AttrValue> convert_attribute(const onnx::AttributeProto& a, ExternalData* external) {
  using AP = onnx::AttributeProto;
  switch (a.type()) {
    case AP::INT: return ir::AttrValue(a.i());
    case AP::FLOAT: return ir::AttrValue(a.f());
    case AP::STRING: return ir::AttrValue(a.s());
    case AP::INTS: return ir::AttrValue(std::vector<int64_t>(a.ints().begin(), a.ints().end()));
    case AP::FLOATS: return ir::AttrValue(std::vector<float>(a.floats().begin(), a.floats().end()));
    case AP::STRINGS:
      return ir::AttrValue(std::vector<std::string>(a.strings().begin(), a.strings().end()));
    case AP::TENSOR: {
      auto t = tensor_from_proto(a.t(), external);
      if (!t.ok()) return t.status();
      return ir::AttrValue(std::move(t).value());
    }
    case AP::GRAPH:
    case AP::GRAPHS:
      return unsupported("subgraph attributes (control flow) are not supported");
    default:
      return unsupported("attribute type {} is not supported", static_cast<int>(a.type()));
  }
}

class Importer {
 public:
  Importer(const ImportOptions& options, std::string name, std::string dir)
      : options_(options), name_(std::move(name)), external_(std::move(dir)) {}

  Result<std::unique_ptr<ir::Graph>> run(onnx::ModelProto& model) {
    if (model.ir_version() <= 0 || !model.has_graph()) {
      return invalid_argument("not an ONNX model (no IR version or no graph)");
    }
    graph_ = std::make_unique<ir::Graph>();
    graph_->producer = model.producer_name() +
                       (model.producer_version().empty() ? "" : " " + model.producer_version());
    RATEL_RETURN_IF_ERROR(read_opsets(model));
    onnx::GraphProto& g = *model.mutable_graph();
    graph_->name = g.name();
    RATEL_RETURN_IF_ERROR(read_initializers(g));
    RATEL_RETURN_IF_ERROR(read_inputs(g));
    RATEL_RETURN_IF_ERROR(read_nodes(g));
    RATEL_RETURN_IF_ERROR(read_outputs(g));
    RATEL_RETURN_IF_ERROR(graph_->topo_sort());
    RATEL_RETURN_IF_ERROR(ir::verify(*graph_, /*require_types=*/false));
    return std::move(graph_);
  }

 private:
  Status read_opsets(const onnx::ModelProto& model) {
    for (const auto& op : model.opset_import()) {
      const std::string domain = op.domain() == "ai.onnx" ? "" : op.domain();
      graph_->opsets[domain] = static_cast<int>(op.version());
    }
    auto it = graph_->opsets.find("");
    if (it == graph_->opsets.end()) {
      return invalid_argument("the model imports no version of the default ONNX opset");
    }
    if (it->second < 1 || it->second > ops::kMaxOpset) {
      return unsupported("opset {} is not supported (Ratel imports default-domain opsets 1 to {})",
                         it->second, ops::kMaxOpset);
    }
    return Status::Ok();
  }

  Status read_initializers(onnx::GraphProto& g) {
    if (g.sparse_initializer_size() > 0) return unsupported("sparse initializers are not supported");
    for (auto& init : *g.mutable_initializer()) {
      if (init.name().empty()) return corrupt("an initializer has no name");
      if (graph_->find_value(init.name())) {
        return corrupt("initializer '{}' is defined twice", init.name());
      }
      auto t = tensor_from_proto(init, &external_);
      if (!t.ok()) return t.status().with_context(fmt::format("initializer '{}'", init.name()));
      ir::Value* v = graph_->add_value(init.name());
      v->constant = std::move(t).value();
      v->dtype = v->constant.dtype();
      v->shape = v->constant.shape();
      v->has_shape = true;
      v->is_initializer = true;
      // The tensor holds its own copy now; free the protobuf's (swap: clear() keeps capacity)
      // so that the weights exist about once, not twice, while importing.
      std::string().swap(*init.mutable_raw_data());
    }
    return Status::Ok();
  }

  Status read_inputs(const onnx::GraphProto& g) {
    std::set<std::string> names;
    for (const auto& info : g.input()) {
      if (graph_->find_value(info.name())) {
        ir::Value* v = graph_->find_value(info.name());
        if (v->is_initializer) continue;  // IR < 4 lists initializers as inputs: keep constant
        return corrupt("graph input '{}' is declared twice", info.name());
      }
      ir::Value* v = graph_->add_value(info.name());
      std::optional<Shape> shape;
      RATEL_RETURN_IF_ERROR(read_value_info(info, &v->dtype, &shape, &v->dim_params)
                                .with_context("graph input"));
      if (shape) {
        v->shape = *shape;
        v->has_shape = true;
      }
      graph_->inputs().push_back(v);
      names.insert(info.name());
    }
    for (const auto& [name, user_shape] : options_.input_shapes) {
      if (!names.count(name)) {
        return not_found("input shape given for '{}', but the model's inputs are: {}", name,
                         join_names(graph_->inputs()));
      }
      ir::Value* v = graph_->find_value(name);
      if (v->has_shape && v->shape.size() != user_shape.size()) {
        return invalid_argument("shape conflict for input '{}': the model declares rank {} {}, the given shape {} has rank {}",
                                name, v->shape.size(), shape_str(v->shape), shape_str(user_shape),
                                user_shape.size());
      }
      for (size_t d = 0; v->has_shape && d < user_shape.size(); ++d) {
        if (v->shape[d] >= 0 && v->shape[d] != user_shape[d]) {
          return invalid_argument("shape conflict for input '{}': the model fixes dimension {} to {}, the given shape is {}",
                                  name, d, v->shape[d], shape_str(user_shape));
        }
      }
      RATEL_RETURN_IF_ERROR(checked_numel(user_shape).status().with_context(
          fmt::format("input shape for '{}'", name)));
      v->shape = user_shape;
      v->has_shape = true;
    }
    return Status::Ok();
  }

  Status read_nodes(const onnx::GraphProto& g) {
    // Create all node outputs first so that inputs can refer to them in any order; topo_sort()
    // puts the nodes in order afterwards.
    std::vector<std::vector<ir::Value*>> outputs(static_cast<size_t>(g.node_size()));
    std::unordered_map<std::string, std::string> producer_of;
    for (int i = 0; i < g.node_size(); ++i) {
      const auto& np = g.node(i);
      const std::string node_name = np.name().empty() ? fmt::format("{}_{}", np.op_type(), i) : np.name();
      for (const std::string& out : np.output()) {
        if (out.empty()) {
          outputs[static_cast<size_t>(i)].push_back(nullptr);
          continue;
        }
        if (graph_->find_value(out)) {
          auto p = producer_of.find(out);
          return corrupt("value '{}' is produced by node '{}' but is already {}", out, node_name,
                         p != producer_of.end() ? "produced by node '" + p->second + "'"
                                                : "a graph input or initializer");
        }
        producer_of[out] = node_name;
        outputs[static_cast<size_t>(i)].push_back(graph_->add_value(out));
      }
    }
    for (int i = 0; i < g.node_size(); ++i) {
      const auto& np = g.node(i);
      const std::string node_name = np.name().empty() ? fmt::format("{}_{}", np.op_type(), i) : np.name();
      std::vector<ir::Value*> inputs;
      for (const std::string& in : np.input()) {
        if (in.empty()) {
          inputs.push_back(nullptr);
          continue;
        }
        ir::Value* v = graph_->find_value(in);
        if (!v) {
          return not_found("node '{}' ({}) uses '{}', which is not a graph input, an initializer "
                           "or any node's output (missing initializer?)",
                           node_name, np.op_type(), in);
        }
        inputs.push_back(v);
      }
      ir::Node* n = graph_->add_node(np.op_type(), node_name, std::move(inputs),
                                     std::move(outputs[static_cast<size_t>(i)]));
      n->domain = np.domain() == "ai.onnx" ? "" : np.domain();
      auto op = graph_->opsets.find(n->domain);
      n->opset = op == graph_->opsets.end() ? 1 : op->second;
      for (const auto& a : np.attribute()) {
        if (!a.ref_attr_name().empty()) {
          return unsupported("{}: attribute references (functions) are not supported", n->describe());
        }
        auto v = convert_attribute(a, &external_);
        if (!v.ok()) {
          return v.status().with_context(fmt::format("{} attribute '{}'", n->describe(), a.name()));
        }
        n->attrs.set(a.name(), std::move(v).value());
      }
    }
    return Status::Ok();
  }

  Status read_outputs(const onnx::GraphProto& g) {
    if (!options_.output_names.empty()) {
      for (const std::string& name : options_.output_names) {
        ir::Value* v = graph_->find_value(name);
        if (!v) {
          std::string model_outputs;
          for (const auto& o : g.output()) model_outputs += (model_outputs.empty() ? "" : ", ") + o.name();
          return not_found("output '{}' is not a value of the model; its outputs are: {}", name,
                           model_outputs);
        }
        graph_->outputs().push_back(v);
      }
      return Status::Ok();
    }
    for (const auto& info : g.output()) {
      ir::Value* v = graph_->find_value(info.name());
      if (!v) return not_found("graph output '{}' is not produced by any node", info.name());
      std::optional<Shape> shape;
      std::vector<std::string> params;
      RATEL_RETURN_IF_ERROR(read_value_info(info, &v->declared_dtype, &shape, &params)
                                .with_context("graph output"));
      v->declared_shape = shape;
      graph_->outputs().push_back(v);
    }
    if (graph_->outputs().empty()) return invalid_argument("the model has no outputs");
    return Status::Ok();
  }

  const ImportOptions& options_;
  std::string name_;
  ExternalData external_;
  std::unique_ptr<ir::Graph> graph_;
};

}  // namespace

namespace {

Result<onnx::ModelProto> parse_model(std::span<const std::byte> bytes, const std::string& name) {
  if (bytes.empty()) return invalid_argument("'{}' is empty, not an ONNX model", name);
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    return unsupported("'{}' is over 2 GB; save the weights as external data", name);
  }
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return corrupt("'{}' is not a valid ONNX model: the protobuf does not parse (truncated, "
                   "corrupt, or not an .onnx file)",
                   name);
  }
  return model;
}

Result<std::unique_ptr<ir::Graph>> translate(onnx::ModelProto& model, const std::string& name,
                                             const ImportOptions& options) {
  const std::string dir = options.external_data_dir.empty() ? dirname_of(name) : options.external_data_dir;
  Importer importer(options, name, dir);
  auto graph = importer.run(model);
  if (!graph.ok()) return graph.status().with_context(name);
  return graph;
}

}  // namespace

Result<std::unique_ptr<ir::Graph>> import_onnx_bytes(std::span<const std::byte> bytes,
                                                     const std::string& name,
                                                     const ImportOptions& options) {
  RATEL_ASSIGN_OR_RETURN(onnx::ModelProto model, parse_model(bytes, name));
  return translate(model, name, options);
}

Result<std::unique_ptr<ir::Graph>> import_onnx_file(const std::string& path,
                                                    const ImportOptions& options) {
  // Read through a file stream rather than a mapping: a mapped file's pages count towards the
  // process's resident memory, and the weights will be copied out of the protobuf anyway. This
  // way they are in memory about once (plus the largest tensor) while importing.
  // O_NONBLOCK: a FIFO must not block the open (it is refused below).
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return not_found("'{}': no such file", path);
    return io_error("cannot open '{}': {}", path, std::strerror(err));
  }
  struct stat st {};
  const bool stat_ok = fstat(fd, &st) == 0;
  const bool is_dir = stat_ok && S_ISDIR(st.st_mode);
  const bool is_regular = stat_ok && S_ISREG(st.st_mode);
  if (!stat_ok || !is_regular || st.st_size == 0 || st.st_size > INT_MAX) {
    ::close(fd);
    if (is_dir) return invalid_argument("'{}' is a directory, not a file", path);
    if (!stat_ok) return io_error("cannot stat '{}'", path);
    if (!is_regular) return invalid_argument("'{}' is not a regular file (a pipe or device)", path);
    if (st.st_size == 0) return invalid_argument("'{}' is empty, not an ONNX model", path);
    return unsupported("'{}' is over 2 GB; save the weights as external data", path);
  }
  onnx::ModelProto model;
  bool parsed;
  {
    google::protobuf::io::FileInputStream stream(fd, 1 << 20);
    parsed = model.ParseFromZeroCopyStream(&stream) && stream.GetErrno() == 0;
  }
  ::close(fd);
  if (!parsed) {
    return corrupt("'{}' is not a valid ONNX model: the protobuf does not parse (truncated, "
                   "corrupt, or not an .onnx file)",
                   path);
  }
  return translate(model, path, options);
}

}  // namespace ratel::onnx_frontend
