// Small ONNX models built with the protobuf API, for tests that need real .onnx files.
#pragma once

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

namespace ratel::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ratel_import_test_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf " + path_).c_str()); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline void set_type(onnx::ValueInfoProto* v, const std::string& name, int elem,
              const std::vector<std::string>& dims) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem);
  auto* shape = tt->mutable_shape();
  for (const std::string& d : dims) {
    auto* dim = shape->add_dim();
    if (!d.empty() && std::isdigit(static_cast<unsigned char>(d[0]))) {
      dim->set_dim_value(std::stoll(d));
    } else {
      dim->set_dim_param(d);
    }
  }
}

// y = x * w + b with w, b initializers; x: float [batch, 3].
inline onnx::ModelProto affine_model() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("ratel-test");
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("affine");
  set_type(g->add_input(), "x", onnx::TensorProto::FLOAT, {"batch", "3"});
  set_type(g->add_output(), "y", onnx::TensorProto::FLOAT, {"batch", "3"});
  auto* w = g->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(3);
  for (float f : {2.0f, 3.0f, 4.0f}) w->add_float_data(f);
  auto* b = g->add_initializer();
  b->set_name("b");
  b->set_data_type(onnx::TensorProto::FLOAT);
  b->add_dims(3);
  const float bias[3] = {1, 1, 1};
  b->set_raw_data(std::string(reinterpret_cast<const char*>(bias), sizeof(bias)));
  auto* mul = g->add_node();
  mul->set_op_type("Mul");
  mul->set_name("mul");
  mul->add_input("x");
  mul->add_input("w");
  mul->add_output("xw");
  auto* add = g->add_node();
  add->set_op_type("Add");
  add->set_name("add");
  add->add_input("xw");
  add->add_input("b");
  add->add_output("y");
  return m;
}

inline std::string save(const TempDir& dir, const onnx::ModelProto& m, const std::string& name = "m.onnx") {
  const std::string path = dir.file(name);
  std::ofstream out(path, std::ios::binary);
  m.SerializeToOstream(&out);
  return path;
}

}  // namespace ratel::testing
