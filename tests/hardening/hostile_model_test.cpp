// Hostile model files: every one is refused with a one-line message naming what is wrong, before
// any large allocation (a low memory limit is set around each case, so a case that tried to
// allocate would fail with the limit's message instead of the expected one), and in bounded time.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "core/tensor.h"
#include "frontend/onnx/onnx_importer.h"
#include "hardening/hostile_files.h"
#include "runtime/model.h"

namespace ratel {
namespace {

using namespace ratel::hardening;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ratel_hardening_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf " + path_).c_str()); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string write(const std::string& name, const std::string& bytes) const {
    write_bytes(file(name), bytes);
    return file(name);
  }

 private:
  std::string path_;
};

// Sets the process-wide memory limit for one scope and restores the default after.
class MemoryLimit {
 public:
  explicit MemoryLimit(size_t bytes) { set_allocation_limit(bytes); }
  ~MemoryLimit() { set_allocation_limit(0); }
};

std::string load_error(const std::string& path, const runtime::LoadOptions& o = {}) {
  auto r = runtime::Model::load_onnx(path, o);
  if (r.ok()) return "";
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << "not one line: " << r.status().message();
  return r.status().message();
}

#define EXPECT_HAS(haystack, needle) \
  EXPECT_NE((haystack).find(needle), std::string::npos) << "message: " << (haystack)

TEST(HostileModelTest, HugeInputDimension) {
  TempDir dir;
  MemoryLimit limit(size_t{16} << 20);
  const std::string msg = load_error(dir.write("m.onnx", huge_input_dim_model()));
  EXPECT_HAS(msg, "graph input: 'x' declares an invalid dimension 1125899906842624");
}

TEST(HostileModelTest, OverflowingNegativeAndLyingInitializerDims) {
  TempDir dir;
  MemoryLimit limit(size_t{16} << 20);
  std::string msg = load_error(dir.write("a.onnx", overflowing_dims_model()));
  EXPECT_HAS(msg, "initializer 'w'");
  EXPECT_HAS(msg, "has too many elements");
  msg = load_error(dir.write("b.onnx", negative_dim_model()));
  EXPECT_HAS(msg, "initializer 'w': negative dimension -4");
  msg = load_error(dir.write("c.onnx", lying_initializer_model()));
  EXPECT_HAS(msg, "initializer 'w': raw data has 16 bytes, shape [1073741824] of f32 needs 4294967296");
}

TEST(HostileModelTest, ExternalDataOutOfBoundsOrMalformed) {
  TempDir dir;
  MemoryLimit limit(size_t{16} << 20);
  dir.write("weights.bin", std::string(64, '\0'));
  struct Case {
    std::string location, offset, length, expected;
  };
  const Case cases[] = {
      {"weights.bin", "56", "16", "offset 56 + 16 bytes is past the end of the file (64 bytes)"},
      {"weights.bin", "9223372036854775807", "16", "offset 9223372036854775807 + 16 bytes is past the end"},
      {"weights.bin", "18446744073709551615", "16", "'offset' is not a non-negative integer"},
      {"weights.bin", "-1", "16", "'offset' is not a non-negative integer: '-1'"},
      {"weights.bin", "12abc", "16", "'offset' is not a non-negative integer: '12abc'"},
      {"weights.bin", "0", "17", "external data length 17 does not match the 16 bytes"},
      {"weights.bin", "0", "99999999999999999999", "'length' is not a non-negative integer"},
      {"/etc/passwd", "0", "16", "must be a relative path inside the model's folder"},
      {"../weights.bin", "0", "16", "must be a relative path inside the model's folder"},
      {"missing.bin", "0", "16", "missing.bin': no such file"},
      {".", "0", "16", "is a directory, not a file"},
      {"", "0", "16", "external data has no 'location'"},
  };
  for (const Case& c : cases) {
    const std::string msg = load_error(dir.write("m.onnx", external_data_model(c.location, c.offset, c.length)));
    EXPECT_HAS(msg, "initializer 'w'");
    EXPECT_HAS(msg, c.expected);
  }
}

TEST(HostileModelTest, ExternalDataFifoIsRefusedWithoutBlocking) {
  TempDir dir;
  ASSERT_EQ(mkfifo(dir.file("weights.bin").c_str(), 0600), 0);
  const std::string msg = load_error(dir.write("m.onnx", external_data_model("weights.bin", "0")));
  EXPECT_HAS(msg, "is not a regular file");
  // The model path itself may be a FIFO too (`ratel run <(...)`): refused, not waited on.
  ASSERT_EQ(mkfifo(dir.file("model.onnx").c_str(), 0600), 0);
  EXPECT_HAS(load_error(dir.file("model.onnx")), "is not a regular file");
}

TEST(HostileModelTest, CyclesAreReported) {
  TempDir dir;
  std::string msg = load_error(dir.write("a.onnx", self_loop_model()));
  EXPECT_HAS(msg, "the graph has a cycle through node 'mul' (Mul)");
  msg = load_error(dir.write("b.onnx", cycle_model()));
  EXPECT_HAS(msg, "the graph has a cycle through node 'A' (Add)");
}

TEST(HostileModelTest, RecursionBombIsRefusedByTheParser) {
  TempDir dir;
  // 100 levels is protobuf's recursion limit: one level more than a real model needs (ONNX
  // types nest a few levels) is still fine; a hundred thousand must fail cleanly, not overflow
  // the stack.
  std::string msg = load_error(dir.write("ok.onnx", deep_nesting_model(20)));
  EXPECT_HAS(msg, "'deep' is not a tensor");  // parsed, then refused for what it is
  for (int depth : {200, 100000}) {
    msg = load_error(dir.write("deep.onnx", deep_nesting_model(depth)));
    EXPECT_HAS(msg, "is not a valid ONNX model: the protobuf does not parse");
  }
  // The same bytes from memory (the fuzzing entry point).
  const std::string bytes = deep_nesting_model(100000);
  auto r = onnx_frontend::import_onnx_bytes(std::as_bytes(std::span(bytes.data(), bytes.size())), "deep.onnx");
  ASSERT_FALSE(r.ok());
  EXPECT_HAS(r.status().message(), "the protobuf does not parse");
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

TEST(HostileModelTest, HundredThousandNodeGraphsLoadInBoundedTime) {
  TempDir dir;
  const int n = 100000;
  {
    // 1e5 consumers of one value: a topological sort that kept its ready list sorted by
    // insertion took minutes here. Import only (loading would delete the unused nodes).
    const std::string path = dir.write("fan.onnx", fan_out_model(n));
    const auto t0 = std::chrono::steady_clock::now();
    auto g = onnx_frontend::import_onnx_file(path);
    ASSERT_TRUE(g.ok()) << g.status().message();
    EXPECT_EQ((*g)->nodes().size(), static_cast<size_t>(n + 1));
    const double s = seconds_since(t0);
    RecordProperty("fan_out_import_seconds", std::to_string(s));
    EXPECT_LT(s, 20.0) << "importing a 1e5-node fan-out took " << s << " s";
  }
  {
    // A 1e5-node chain through the whole load: import, shape inference, every pass, plan.
    const std::string path = dir.write("chain.onnx", chain_model(n));
    const auto t0 = std::chrono::steady_clock::now();
    auto model = runtime::Model::load_onnx(path);
    ASSERT_TRUE(model.ok()) << model.status().message();
    auto session = runtime::Session::create(*model);
    ASSERT_TRUE(session.ok()) << session.status().message();
    ASSERT_TRUE((*session)->set_input("x", Tensor::from_vector<float>({-1, 2, -3, 4}, {1, 4})).ok());
    ASSERT_TRUE((*session)->run().ok());
    EXPECT_EQ((*session)->outputs()[0].to_vector<float>(), (std::vector<float>{0, 2, 0, 4}));
    const double s = seconds_since(t0);
    RecordProperty("chain_load_run_seconds", std::to_string(s));
    EXPECT_LT(s, 40.0) << "loading and running a 1e5-node chain took " << s << " s";
  }
}

TEST(HostileModelTest, HugeComputedShapesAreRefusedBeforeAllocating) {
  TempDir dir;
  MemoryLimit limit(size_t{64} << 20);
  for (const std::string op : {"ConstantOfShape", "Expand", "Tile", "Range"}) {
    // Loading refuses it, or (Range, whose 2^40 elements are a valid shape) creating the
    // session does, when its buffers are allocated.
    const std::string path = dir.write(op + ".onnx", huge_output_model(op));
    std::string msg = load_error(path);
    if (msg.empty()) {
      auto model = runtime::Model::load_onnx(path);
      ASSERT_TRUE(model.ok());
      auto session = runtime::Session::create(*model);
      if (!session.ok()) msg = session.status().message();
    }
    EXPECT_FALSE(msg.empty()) << op << " loaded and got a session";
    // Either the shape check (too many elements) or the memory limit refuses it.
    // The import names the node; the session names the buffer it could not allocate.
    const bool named = msg.find("node '") != std::string::npos ||
                       msg.find("the session's activation memory") != std::string::npos;
    const bool refused = msg.find("too many elements") != std::string::npos ||
                         msg.find("too large") != std::string::npos ||
                         msg.find("exceeds the memory limit") != std::string::npos;
    EXPECT_TRUE(named && refused) << op << ": " << msg;
  }
}

TEST(HostileModelTest, WeightsOverTheMemoryLimitAreRefusedNamingTheTensor) {
  TempDir dir;
  // 1 Mi floats = 4 MiB of weights, limit 2 MiB.
  const std::string path = dir.write("big.onnx", bytes_of(scale_model(int64_t{1} << 20, 0.5f, "encoder.big_weight")));
  {
    MemoryLimit limit(size_t{2} << 20);
    const std::string msg = load_error(path);
    EXPECT_HAS(msg, "initializer 'encoder.big_weight': allocation of 4194304 bytes (4.0 MiB) exceeds the memory limit of 2.0 MiB");
  }
  // The sum counts, not only each tensor: two 1.5 MiB weights under a 2.5 MiB limit.
  auto m = scale_model(3 << 17, 0.5f, "first");
  auto* g = m.mutable_graph();
  add_f32_initializer(g, "second", {3 << 17}, std::vector<float>(3 << 17, 1.0f));
  add_node(g, "Add", "add", {"y", "second"}, {"z"});
  g->mutable_output(0)->set_name("z");
  const std::string two = dir.write("two.onnx", bytes_of(m));
  {
    MemoryLimit limit(size_t{5} << 19);
    const std::string msg = load_error(two);
    EXPECT_HAS(msg, "initializer 'second'");
    EXPECT_HAS(msg, "exceeds the memory limit of 2.5 MiB: 1.5 MiB already in use");
  }
  // External data is viewed in place, but a tensor over the limit is refused all the same.
  dir.write("weights.bin", std::string(size_t{4} << 20, '\0'));
  const std::string ext = dir.write("ext.onnx", external_data_model("weights.bin", "0", "4194304", int64_t{1} << 20));
  {
    MemoryLimit limit(size_t{2} << 20);
    const std::string msg = load_error(ext);
    EXPECT_HAS(msg, "initializer 'w': 4194304 bytes of external data exceed the memory limit of 2097152 bytes");
  }
  // With the default limit all three load, and the accounting returns to where it was.
  const size_t before = allocated_bytes();
  for (const std::string& p : {path, two, ext}) {
    auto model = runtime::Model::load_onnx(p);
    EXPECT_TRUE(model.ok()) << p << ": " << model.status().message();
  }
  EXPECT_EQ(allocated_bytes(), before);
}

TEST(HostileModelTest, NaNWeightsAreRefusedAndInfinitiesWarned) {
  TempDir dir;
  std::string msg = load_error(dir.write("nan.onnx", bad_weight_model(1000, NAN, 417)));
  EXPECT_HAS(msg, "initializer 'encoder.weight' holds NaN (1 of its 1000 values, the first at element 417)");
  auto model = runtime::Model::load_onnx(dir.write("inf.onnx", bad_weight_model(1000, -INFINITY, 3)));
  ASSERT_TRUE(model.ok()) << model.status().message();
  ASSERT_EQ((*model)->warnings().size(), 1u);
  EXPECT_EQ((*model)->warnings()[0], "initializer 'encoder.weight' holds 1 infinite value (the first at element 3)");
  // A clean model has no warnings.
  model = runtime::Model::load_onnx(dir.write("ok.onnx", bad_weight_model(1000, 1.0f, 3)));
  ASSERT_TRUE(model.ok());
  EXPECT_TRUE((*model)->warnings().empty());
}

TEST(HostileModelTest, NaNInAConstantNodeAndInFloat16WeightsIsRefused) {
  TempDir dir;
  auto m = scale_model(4);
  auto* g = m.mutable_graph();
  g->mutable_initializer()->Clear();
  auto* c = add_node(g, "Constant", "bad_constant", {}, {"w"});
  auto* a = c->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  a->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
  a->mutable_t()->add_dims(4);
  for (float f : {1.0f, 2.0f, NAN, NAN}) a->mutable_t()->add_float_data(f);
  std::string msg = load_error(dir.write("c.onnx", bytes_of(m)));
  EXPECT_HAS(msg, "the value of node 'bad_constant' (Constant) holds NaN (2 of its 4 values, the first at element 2)");

  auto h = empty_model("f16");
  auto* hg = h.mutable_graph();
  set_type(hg->add_input(), "x", onnx::TensorProto::FLOAT16, {3});
  set_type(hg->add_output(), "y", onnx::TensorProto::FLOAT16, {3});
  auto* w = hg->add_initializer();
  w->set_name("half_weight");
  w->set_data_type(onnx::TensorProto::FLOAT16);
  w->add_dims(3);
  for (int bits : {0x3c00, 0x7e00, 0x3c00}) w->add_int32_data(bits);  // 1, NaN, 1
  add_node(hg, "Mul", "mul", {"x", "half_weight"}, {"y"});
  msg = load_error(dir.write("h.onnx", bytes_of(h)));
  EXPECT_HAS(msg, "initializer 'half_weight' holds NaN (1 of its 3 values, the first at element 1)");
}

}  // namespace
}  // namespace ratel
