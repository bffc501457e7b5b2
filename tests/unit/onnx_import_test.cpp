// ONNX import: models built with the protobuf API, written to temp files, imported back —
// including every error the importer promises to report clearly.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <onnx/onnx_pb.h>

#include "core/file.h"
#include "frontend/onnx/onnx_importer.h"
#include "runtime/model.h"
#include "support/onnx_models.h"

namespace ratel {
namespace {

using onnx_frontend::import_onnx_file;
using onnx_frontend::ImportOptions;
using testing::affine_model;
using testing::save;
using testing::set_type;
using testing::TempDir;

std::string import_error(const std::string& path, const ImportOptions& o = {}) {
  auto r = import_onnx_file(path, o);
  return r.ok() ? "" : r.status().message();
}

std::string load_error(const std::string& path, const runtime::LoadOptions& o = {}) {
  auto r = runtime::Model::load_onnx(path, o);
  return r.ok() ? "" : r.status().message();
}

TEST(OnnxImportTest, ImportsAndRunsWithUserShape) {
  TempDir dir;
  const std::string path = save(dir, affine_model());
  runtime::LoadOptions o;
  o.input_shapes["x"] = {2, 3};
  auto model = runtime::Model::load_onnx(path, o);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ((*model)->outputs()[0]->shape, (Shape{2, 3}));
  auto session = runtime::Session::create(*model);
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE((*session)->set_input("x", Tensor::from_vector<float>({1, 1, 1, 0, 1, 2}, {2, 3})).ok());
  ASSERT_TRUE((*session)->run().ok());
  EXPECT_EQ((*session)->outputs()[0].to_vector<float>(), (std::vector<float>{3, 4, 5, 1, 4, 9}));
}

TEST(OnnxImportTest, DynamicDimWithoutShapeNamesInputAndDim) {
  TempDir dir;
  const std::string msg = load_error(save(dir, affine_model()));
  EXPECT_NE(msg.find("graph input 'x' has a dynamic dimension 0 ('batch')"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--input-shape"), std::string::npos) << msg;
}

TEST(OnnxImportTest, MissingFile) {
  EXPECT_NE(import_error("/nonexistent/model.onnx").find("no such file"), std::string::npos);
}

TEST(OnnxImportTest, EmptyAndGarbageFilesAreNotOnnx) {
  TempDir dir;
  std::ofstream(dir.file("empty.onnx")).close();
  EXPECT_NE(import_error(dir.file("empty.onnx")).find("is empty, not an ONNX model"), std::string::npos);
  std::ofstream(dir.file("text.onnx")) << "this is not a protobuf at all\n";
  const std::string msg = import_error(dir.file("text.onnx"));
  EXPECT_NE(msg.find("not a valid ONNX model"), std::string::npos) << msg;
}

TEST(OnnxImportTest, TruncatedFileIsRejectedAtEveryLength) {
  TempDir dir;
  std::string bytes;
  affine_model().SerializeToString(&bytes);
  // Every strict prefix must fail cleanly (parse error, or a consistency error naming what is
  // missing) — never succeed and never crash.
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::string path = dir.file("t.onnx");
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(n));
    runtime::LoadOptions o;
    o.input_shapes["x"] = {1, 3};
    auto r = runtime::Model::load_onnx(path, o);
    EXPECT_FALSE(r.ok()) << "prefix of " << n << " bytes loaded";
  }
}

TEST(OnnxImportTest, UnknownOpNamesOpNodeAndOpset) {
  TempDir dir;
  auto m = affine_model();
  m.mutable_graph()->mutable_node(1)->set_op_type("FancyAdd");
  runtime::LoadOptions o;
  o.input_shapes["x"] = {1, 3};
  const std::string msg = load_error(save(dir, m), o);
  EXPECT_NE(msg.find("unsupported op 'FancyAdd'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("node 'add'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("opset 13"), std::string::npos) << msg;
}

TEST(OnnxImportTest, MissingInitializerIsNamed) {
  TempDir dir;
  auto m = affine_model();
  m.mutable_graph()->mutable_initializer()->RemoveLast();  // drop "b"
  const std::string msg = import_error(save(dir, m));
  EXPECT_NE(msg.find("node 'add' (Add) uses 'b'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing initializer"), std::string::npos) << msg;
}

TEST(OnnxImportTest, InitializerWithWrongElementCount) {
  TempDir dir;
  auto m = affine_model();
  m.mutable_graph()->mutable_initializer(0)->add_dims(2);  // now [3, 2] with 3 values
  const std::string msg = import_error(save(dir, m));
  EXPECT_NE(msg.find("initializer 'w'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("holds 3 values, shape [3, 2] needs 6"), std::string::npos) << msg;
}

TEST(OnnxImportTest, ShapeConflictWithModelDims) {
  TempDir dir;
  ImportOptions o;
  o.input_shapes["x"] = {1, 4};
  std::string msg = import_error(save(dir, affine_model()), o);
  EXPECT_NE(msg.find("shape conflict for input 'x'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("fixes dimension 1 to 3"), std::string::npos) << msg;
  o.input_shapes["x"] = {1, 3, 1};
  msg = import_error(save(dir, affine_model()), o);
  EXPECT_NE(msg.find("rank"), std::string::npos) << msg;
}

TEST(OnnxImportTest, ShapeForUnknownInputListsTheInputs) {
  TempDir dir;
  ImportOptions o;
  o.input_shapes["input_ids"] = {1, 3};
  const std::string msg = import_error(save(dir, affine_model()), o);
  EXPECT_NE(msg.find("input shape given for 'input_ids', but the model's inputs are: x"), std::string::npos)
      << msg;
}

TEST(OnnxImportTest, IncompatibleShapesInGraphNameTheNode) {
  TempDir dir;
  runtime::LoadOptions o;
  o.input_shapes["x"] = {2, 3};
  auto m = affine_model();
  m.mutable_graph()->mutable_initializer(1)->set_dims(0, 3);
  m.mutable_graph()->mutable_initializer(1)->add_dims(1);  // b: [3, 1] -> broadcast [2,3]+[3,1] fails
  m.mutable_graph()->mutable_initializer(1)->set_raw_data(std::string(12, '\0'));
  const std::string msg = load_error(save(dir, m), o);
  EXPECT_NE(msg.find("node 'add' (Add)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cannot be broadcast"), std::string::npos) << msg;
}

TEST(OnnxImportTest, OutputDeclaredShapeConflict) {
  TempDir dir;
  auto m = affine_model();
  m.mutable_graph()->mutable_output(0)->mutable_type()->mutable_tensor_type()->mutable_shape()
      ->mutable_dim(1)->set_dim_value(5);
  runtime::LoadOptions o;
  o.input_shapes["x"] = {1, 3};
  const std::string msg = load_error(save(dir, m), o);
  EXPECT_NE(msg.find("shape conflict at graph output 'y'"), std::string::npos) << msg;
}

TEST(OnnxImportTest, CycleIsReported) {
  TempDir dir;
  auto m = affine_model();
  m.mutable_graph()->mutable_node(0)->set_input(0, "y");  // mul reads add's output
  const std::string msg = import_error(save(dir, m));
  EXPECT_NE(msg.find("cycle"), std::string::npos) << msg;
}

TEST(OnnxImportTest, DuplicateProducerIsReported) {
  TempDir dir;
  auto m = affine_model();
  m.mutable_graph()->mutable_node(1)->set_output(0, "xw");
  const std::string msg = import_error(save(dir, m));
  EXPECT_NE(msg.find("value 'xw' is produced by node 'add' but is already produced by node 'mul'"),
            std::string::npos)
      << msg;
}

TEST(OnnxImportTest, HostileDimsAreRefusedBeforeAllocating) {
  TempDir dir;
  auto m = affine_model();
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_dims();
  w->add_dims(int64_t{1} << 40);
  w->add_dims(int64_t{1} << 40);
  std::string msg = import_error(save(dir, m));
  EXPECT_NE(msg.find("initializer 'w'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("too many elements"), std::string::npos) << msg;
  w->set_dims(0, -5);
  msg = import_error(save(dir, m));
  EXPECT_NE(msg.find("negative dimension"), std::string::npos) << msg;
}

TEST(OnnxImportTest, OpsetOutOfRange) {
  TempDir dir;
  auto m = affine_model();
  m.mutable_opset_import(0)->set_version(99);
  EXPECT_NE(import_error(save(dir, m)).find("opset 99 is not supported"), std::string::npos);
}

onnx::ModelProto with_external_weight(int64_t offset, const std::string& location) {
  auto m = affine_model();
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add_kv = [&](const std::string& k, const std::string& v) {
    auto* e = w->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  add_kv("location", location);
  add_kv("offset", std::to_string(offset));
  add_kv("length", "12");
  return m;
}

TEST(OnnxImportTest, ExternalDataAlignedAndUnaligned) {
  TempDir dir;
  // weights file: 64 bytes of padding, then w = {2, 3, 4} at offset 64; also at offset 3.
  std::string blob(128, '\0');
  const float w[3] = {2, 3, 4};
  std::memcpy(&blob[64], w, 12);
  std::memcpy(&blob[3], w, 12);
  std::ofstream(dir.file("weights.bin"), std::ios::binary).write(blob.data(), static_cast<std::streamsize>(blob.size()));
  for (int64_t offset : {64, 3}) {
    runtime::LoadOptions o;
    o.input_shapes["x"] = {1, 3};
    auto model = runtime::Model::load_onnx(save(dir, with_external_weight(offset, "weights.bin")), o);
    ASSERT_TRUE(model.ok()) << model.status().message();
    auto session = runtime::Session::create(*model);
    ASSERT_TRUE((*session)->set_input("x", Tensor::from_vector<float>({1, 1, 1}, {1, 3})).ok());
    ASSERT_TRUE((*session)->run().ok());
    EXPECT_EQ((*session)->outputs()[0].to_vector<float>(), (std::vector<float>{3, 4, 5})) << offset;
  }
}

TEST(OnnxImportTest, ExternalDataErrors) {
  TempDir dir;
  std::ofstream(dir.file("short.bin"), std::ios::binary) << "abc";
  std::string msg = import_error(save(dir, with_external_weight(0, "short.bin")));
  EXPECT_NE(msg.find("past the end of the file"), std::string::npos) << msg;
  msg = import_error(save(dir, with_external_weight(0, "missing.bin")));
  EXPECT_NE(msg.find("missing.bin"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no such file"), std::string::npos) << msg;
  msg = import_error(save(dir, with_external_weight(0, "../../etc/passwd")));
  EXPECT_NE(msg.find("must be a relative path inside the model's folder"), std::string::npos) << msg;
}

TEST(OnnxImportTest, Int64IdsConvertToInt32ModelInput) {
  // A model taking int32 ids accepts int64 and integer-valued float ids; fractional ones fail.
  TempDir dir;
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  set_type(g->add_input(), "ids", onnx::TensorProto::INT32, {"1", "3"});
  set_type(g->add_output(), "out", onnx::TensorProto::INT32, {"1", "3"});
  auto* n = g->add_node();
  n->set_op_type("Neg");
  n->add_input("ids");
  n->add_output("out");
  auto model = runtime::Model::load_onnx(save(dir, m));
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto session = runtime::Session::create(*model);
  ASSERT_TRUE((*session)->set_input("ids", Tensor::from_vector<int64_t>({1, 2, 30522}, {1, 3})).ok());
  ASSERT_TRUE((*session)->run().ok());
  EXPECT_EQ((*session)->outputs()[0].to_vector<int32_t>(), (std::vector<int32_t>{-1, -2, -30522}));
  EXPECT_TRUE((*session)->set_input("ids", Tensor::from_vector<float>({101, 2, 3}, {1, 3})).ok());
  const Status bad = (*session)->set_input("ids", Tensor::from_vector<float>({1.5f, 2, 3}, {1, 3}));
  EXPECT_NE(bad.message().find("input 'ids': element 0 is 1.5, not an integer"), std::string::npos)
      << bad.message();
  const Status wide = (*session)->set_input("ids", Tensor::from_vector<int64_t>({int64_t{1} << 40, 0, 0}, {1, 3}));
  EXPECT_NE(wide.message().find("does not fit in i32"), std::string::npos) << wide.message();
  const Status shape = (*session)->set_input("ids", Tensor::from_vector<int32_t>({1, 2}, {1, 2}));
  EXPECT_NE(shape.message().find("input 'ids' must have shape [1, 3], got [1, 2]"), std::string::npos)
      << shape.message();
}

}  // namespace
}  // namespace ratel
