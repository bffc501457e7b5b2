// ONNX backend node-test conformance runner.
//
// Runs ONNX's own operator tests (Debian libonnx-testdata: one folder per test with model.onnx
// and test_data_set_*/input_N.pb, output_N.pb) for every test whose ops Ratel claims, i.e. every
// op in the op registry. A claimed test must pass; the summary lists the claimed ops, the tests
// run, passed and failed, and every claimed test skipped with its reason. Tests that use an
// unclaimed op are counted, not run.
//
//   ratel_onnx_conformance [--data DIR] [--filter SUBSTRING] [--summary FILE.md] [--verbose]
//
// Exit status: 0 all claimed tests pass, 1 some fail, 77 the test data is not installed.
// Comparison follows ONNX's backend test runner: |actual - expected| <= atol + rtol * |expected|
// with rtol 1e-3 and atol 1e-7 for floating point; integers and bools must be equal.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "core/file.h"
#include "frontend/onnx/onnx_importer.h"
#include "frontend/onnx/tensor_proto.h"
#include "ops/op.h"
#include "runtime/model.h"

namespace {

using ratel::Result;
using ratel::Status;
using ratel::Tensor;

constexpr double kRtol = 1e-3;
constexpr double kAtol = 1e-7;

struct Options {
  std::string data = "/usr/share/libonnx-testdata/data/node";
  std::string filter;
  std::string summary;
  bool verbose = false;
};

enum class Outcome { kPassed, kFailed, kSkipped, kUnclaimed };

struct TestResult {
  std::string name;
  Outcome outcome;
  std::string detail;            // failure or skip reason, or the unclaimed ops
  std::set<std::string> ops;     // op types the test's model uses
  bool frozen = false;           // integer inputs were compiled in as constants (see load_for_data)
};

std::vector<std::string> list_dir(const std::string& dir, bool dirs_only) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (!d) return names;
  while (dirent* e = readdir(d)) {
    const std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    struct stat st {};
    if (stat((dir + "/" + n).c_str(), &st) != 0) continue;
    if (dirs_only != S_ISDIR(st.st_mode)) continue;
    names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

Result<Tensor> read_tensor_pb(const std::string& path) {
  RATEL_ASSIGN_OR_RETURN(auto file, ratel::MappedFile::open(path));
  onnx::TensorProto proto;
  if (!proto.ParseFromArray(file->data(), static_cast<int>(file->size()))) {
    return ratel::corrupt("'{}' is not a TensorProto", path);
  }
  auto t = ratel::onnx_frontend::tensor_from_proto(proto, nullptr);
  if (!t.ok()) return t.status().with_context(path);
  return t;
}

// Compares one output; returns "" if equal within tolerance, else a description.
std::string compare(const Tensor& actual, const Tensor& expected, const std::string& name) {
  if (actual.dtype() != expected.dtype()) {
    return fmt::format("output '{}' has type {}, expected {}", name, ratel::dtype_name(actual.dtype()),
                       ratel::dtype_name(expected.dtype()));
  }
  if (actual.shape() != expected.shape()) {
    return fmt::format("output '{}' has shape {}, expected {}", name, ratel::shape_str(actual.shape()),
                       ratel::shape_str(expected.shape()));
  }
  const bool is_float = ratel::dtype_is_float(actual.dtype());
  for (int64_t i = 0; i < actual.numel(); ++i) {
    if (is_float) {
      const double a = actual.get_as_double(i);
      const double e = expected.get_as_double(i);
      if (std::isnan(e) && std::isnan(a)) continue;
      if (std::isinf(e) && a == e) continue;
      if (!(std::fabs(a - e) <= kAtol + kRtol * std::fabs(e))) {
        return fmt::format("output '{}' element {}: got {:.9g}, expected {:.9g}", name, i, a, e);
      }
    } else if (actual.get_as_int64(i) != expected.get_as_int64(i)) {
      return fmt::format("output '{}' element {}: got {}, expected {}", name, i, actual.get_as_int64(i),
                         expected.get_as_int64(i));
    }
  }
  return "";
}

// Old ONNX test data stores bfloat16 tensors as uint16 bit patterns; view them as bf16.
Tensor as_declared(const Tensor& t, ratel::DType declared) {
  if (t.dtype() == ratel::DType::kU16 && declared == ratel::DType::kBF16) {
    return Tensor::view(ratel::DType::kBF16, t.shape(), t.storage());
  }
  return t;
}

// Builds a model whose inputs have the data's shapes. With `freeze`, the inputs become constants:
// Ratel compiles for static shapes, so inputs that decide shapes (Reshape's shape, ReduceSum's
// axes, Range's bounds...) must be known when the model is loaded. A frozen model is evaluated
// while loading, by the same reference kernels.
Result<std::shared_ptr<ratel::runtime::Model>> load_for_data(const std::string& path,
                                                            const std::vector<Tensor>& data,
                                                            bool freeze) {
  RATEL_ASSIGN_OR_RETURN(auto graph, ratel::onnx_frontend::import_onnx_file(path));
  if (graph->inputs().size() != data.size()) {
    return ratel::invalid_argument("{} input files, the model declares {} inputs", data.size(),
                                   graph->inputs().size());
  }
  std::vector<ratel::ir::Value*> kept;
  for (size_t i = 0; i < data.size(); ++i) {
    ratel::ir::Value* v = graph->inputs()[i];
    const Tensor t = as_declared(data[i], v->dtype);
    if (t.dtype() != v->dtype) {
      return ratel::invalid_argument("input '{}' data is {}, the model declares {}", v->name,
                                     ratel::dtype_name(t.dtype()), ratel::dtype_name(v->dtype));
    }
    // The test's data decides the shapes (a few test models declare stale ones).
    v->shape = t.shape();
    v->has_shape = true;
    if (freeze) {
      v->constant = t;
      v->is_initializer = true;
    } else {
      kept.push_back(v);
    }
  }
  graph->inputs() = kept;
  return ratel::runtime::Model::from_graph(std::move(graph));
}

// Runs every test_data_set_* folder of one test. Returns "" on success, or the failure.
std::string run_datasets(const std::string& dir, TestResult* result) {
  const auto sets = list_dir(dir, true);
  int ran = 0;
  for (const std::string& set : sets) {
    if (set.rfind("test_data_set_", 0) != 0) continue;
    const std::string sdir = dir + "/" + set;
    std::vector<Tensor> inputs, expected;
    for (int kind = 0; kind < 2; ++kind) {
      for (size_t i = 0;; ++i) {
        const std::string p = sdir + (kind ? "/output_" : "/input_") + std::to_string(i) + ".pb";
        struct stat st {};
        if (stat(p.c_str(), &st) != 0) break;
        auto t = read_tensor_pb(p);
        if (!t.ok()) {
          result->outcome = Outcome::kSkipped;
          return "test data not representable: " + t.status().message();
        }
        (kind ? expected : inputs).push_back(std::move(t).value());
      }
    }
    auto model = load_for_data(dir + "/model.onnx", inputs, false);
    if (!model.ok() && model.status().message().find("must be known at compile time") != std::string::npos) {
      model = load_for_data(dir + "/model.onnx", inputs, true);
      result->frozen = true;
    }
    if (!model.ok() && model.status().code() == ratel::StatusCode::kUnsupported &&
        model.status().message().find("training") != std::string::npos) {
      result->outcome = Outcome::kSkipped;  // Ratel is an inference engine
      return model.status().message();
    }
    if (!model.ok()) return model.status().message();
    auto session = ratel::runtime::Session::create(*model);
    if (!session.ok()) return session.status().message();
    size_t fed = 0;
    for (const Tensor& t : inputs) {
      if (fed >= (*model)->inputs().size()) break;
      if (result->frozen) break;
      Status s = (*session)->set_input(fed, as_declared(t, (*model)->inputs()[fed]->dtype));
      if (!s.ok()) return s.message();
      ++fed;
    }
    if (Status s = (*session)->run(); !s.ok()) return s.message();
    const auto& outputs = (*session)->outputs();
    if (outputs.size() < expected.size()) {
      return fmt::format("{} outputs, expected {}", outputs.size(), expected.size());
    }
    for (size_t i = 0; i < expected.size(); ++i) {
      const Tensor want = as_declared(expected[i], outputs[i].dtype());
      const std::string diff = compare(outputs[i], want, (*model)->outputs()[i]->name);
      if (!diff.empty()) return set + ": " + diff;
    }
    ++ran;
  }
  if (ran == 0) {
    result->outcome = Outcome::kSkipped;
    return "no test data sets";
  }
  return "";
}

// Why Ratel cannot represent a test's interface, or "" if it can: string, sequence and optional
// values have no Ratel equivalent, so such tests are skipped with this reason.
std::string unrepresentable_interface(const onnx::ModelProto& model) {
  auto check = [](const onnx::ValueInfoProto& v) -> std::string {
    if (!v.type().has_tensor_type()) return fmt::format("'{}' is not a tensor (sequence/map/optional)", v.name());
    ratel::DType t;
    if (!ratel::onnx_frontend::dtype_from_onnx(v.type().tensor_type().elem_type(), &t)) {
      return fmt::format("'{}' has element type {}, which Ratel does not have", v.name(),
                         ratel::onnx_frontend::onnx_type_name(v.type().tensor_type().elem_type()));
    }
    return "";
  };
  for (const auto& v : model.graph().input()) {
    if (std::string r = check(v); !r.empty()) return "input " + r;
  }
  for (const auto& v : model.graph().output()) {
    if (std::string r = check(v); !r.empty()) return "output " + r;
  }
  return "";
}

// Tests whose expected data contradicts the current ONNX specification, with the reason.
struct KnownDeviation {
  const char* test;
  const char* reason;
};
constexpr KnownDeviation kKnownDeviations[] = {
    {"test_cast_FLOAT_to_BFLOAT16", "ONNX 1.12's data truncates float to bfloat16; ONNX >= 1.14 "
                                    "specifies round-to-nearest-even, which Ratel implements"},
    {"test_castlike_FLOAT_to_BFLOAT16", "same as test_cast_FLOAT_to_BFLOAT16"},
    {"test_castlike_FLOAT_to_BFLOAT16_expanded", "same as test_cast_FLOAT_to_BFLOAT16"},
};

TestResult run_test(const std::string& root, const std::string& name) {
  TestResult r{name, Outcome::kPassed, "", {}};
  for (const KnownDeviation& d : kKnownDeviations) {
    if (name == d.test) {
      r.outcome = Outcome::kSkipped;
      r.detail = d.reason;
      return r;
    }
  }
  const std::string dir = root + "/" + name;
  auto file = ratel::MappedFile::open(dir + "/model.onnx");
  onnx::ModelProto model;
  if (!file.ok() || !model.ParseFromArray((*file)->data(), static_cast<int>((*file)->size()))) {
    r.outcome = Outcome::kUnclaimed;
    r.detail = "model.onnx unreadable";
    return r;
  }
  std::set<std::string> unclaimed;
  for (const auto& n : model.graph().node()) {
    const std::string domain = n.domain() == "ai.onnx" ? "" : n.domain();
    const std::string op = domain.empty() ? n.op_type() : domain + "." + n.op_type();
    r.ops.insert(op);
    if (!ratel::ops::OpRegistry::instance().find(domain, n.op_type())) unclaimed.insert(op);
  }
  if (!unclaimed.empty()) {
    r.outcome = Outcome::kUnclaimed;
    for (const auto& op : unclaimed) r.detail += (r.detail.empty() ? "" : ", ") + op;
    return r;
  }
  if (std::string why = unrepresentable_interface(model); !why.empty()) {
    r.outcome = Outcome::kSkipped;
    r.detail = why;
    return r;
  }
  const std::string failure = run_datasets(dir, &r);
  if (!failure.empty()) {
    if (r.outcome != Outcome::kSkipped) r.outcome = Outcome::kFailed;
    r.detail = failure;
  }
  return r;
}

std::string summarize(const std::vector<TestResult>& results, const Options& o) {
  std::map<std::string, std::array<int, 3>> per_op;  // passed, failed, skipped
  int passed = 0, failed = 0, skipped = 0, unclaimed = 0, frozen = 0;
  for (const TestResult& r : results) {
    frozen += r.frozen && r.outcome == Outcome::kPassed ? 1 : 0;
    if (r.outcome == Outcome::kUnclaimed) {
      ++unclaimed;
      continue;
    }
    const int slot = r.outcome == Outcome::kPassed ? 0 : r.outcome == Outcome::kFailed ? 1 : 2;
    (r.outcome == Outcome::kPassed ? passed : r.outcome == Outcome::kFailed ? failed : skipped)++;
    for (const std::string& op : r.ops) per_op[op][static_cast<size_t>(slot)]++;
  }
  std::string s;
  s += "# ONNX backend node tests\n\n";
  s += fmt::format("Test data: `{}`{}. Tolerance: |actual - expected| <= {} + {} * |expected| "
                   "(ONNX's backend defaults); integers and bools exact.\n\n",
                   o.data, o.filter.empty() ? "" : ", filter `" + o.filter + "`", kAtol, kRtol);
  // Claimed ONNX ops: the default-domain part of the op registry (Ratel's own fused ops, domain
  // "ratel", have no ONNX tests; they are checked against the unfused graphs instead).
  std::vector<ratel::ops::OpSpec> all;
  for (const auto& spec : ratel::ops::OpRegistry::instance().all()) {
    if (spec.domain.empty()) all.push_back(spec);
  }
  s += fmt::format("Claimed ONNX ops (from the op registry, {}): ", all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    s += fmt::format("{}{}", i ? ", " : "", all[i].name);
  }
  s += "\n\n";
  s += fmt::format("| | tests |\n|---|---|\n| run (all ops claimed) | {} |\n| passed | {} |\n"
                   "| failed | {} |\n| skipped (reason below) | {} |\n| not run (use an unclaimed op) | {} |\n\n",
                   passed + failed, passed, failed, skipped, unclaimed);
  if (frozen) {
    s += fmt::format("{} of the passed tests feed shape-deciding inputs (axes, shapes, depths, "
                     "range bounds) at run time; Ratel compiles for static shapes, so the runner "
                     "loads those models with their inputs fixed as constants (evaluated at load "
                     "time by the same reference kernels).\n\n", frozen);
  }
  s += "| op (tests using it) | passed | failed | skipped |\n|---|---|---|---|\n";
  for (const auto& [op, c] : per_op) s += fmt::format("| {} | {} | {} | {} |\n", op, c[0], c[1], c[2]);
  std::set<std::string> untested;
  for (const auto& spec : all) {
    const std::string op = spec.domain.empty() ? std::string(spec.name) : std::string(spec.domain) + "." + std::string(spec.name);
    if (!per_op.count(op)) untested.insert(op);
  }
  if (!untested.empty()) {
    s += "\nClaimed ops with no runnable ONNX node test here: ";
    bool first = true;
    for (const auto& op : untested) {
      s += (first ? "" : ", ") + op;
      first = false;
    }
    s += "\n";
  }
  if (failed) {
    s += "\n## Failed\n\n";
    for (const TestResult& r : results) {
      if (r.outcome == Outcome::kFailed) s += fmt::format("- `{}`: {}\n", r.name, r.detail);
    }
  }
  if (skipped) {
    s += "\n## Skipped\n\n";
    for (const TestResult& r : results) {
      if (r.outcome == Outcome::kSkipped) s += fmt::format("- `{}`: {}\n", r.name, r.detail);
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (const char* env = std::getenv("RATEL_ONNX_TESTDATA")) o.data = env;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--data") o.data = value();
    else if (a == "--filter") o.filter = value();
    else if (a == "--summary") o.summary = value();
    else if (a == "--verbose" || a == "-v") o.verbose = true;
    else {
      std::fprintf(stderr,
                   "usage: %s [--data DIR] [--filter SUBSTRING] [--summary FILE.md] [--verbose]\n",
                   argv[0]);
      return 2;
    }
  }
  const auto tests = list_dir(o.data, true);
  if (tests.empty()) {
    std::printf("SKIPPED: no ONNX node tests at %s (apt-get install libonnx-testdata)\n", o.data.c_str());
    return 77;
  }
  std::vector<TestResult> results;
  for (const std::string& name : tests) {
    if (!o.filter.empty() && name.find(o.filter) == std::string::npos) continue;
    TestResult r = run_test(o.data, name);
    if (r.outcome == Outcome::kFailed) {
      std::printf("FAIL  %s: %s\n", r.name.c_str(), r.detail.c_str());
    } else if (o.verbose && r.outcome != Outcome::kUnclaimed) {
      std::printf("%s  %s%s%s\n", r.outcome == Outcome::kPassed ? "ok  " : "SKIP", r.name.c_str(),
                  r.detail.empty() ? "" : ": ", r.detail.c_str());
    }
    results.push_back(std::move(r));
  }
  const std::string summary = summarize(results, o);
  std::printf("\n%s", summary.c_str());
  if (!o.summary.empty()) {
    if (Status s = ratel::write_text_file(o.summary, summary); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.message().c_str());
      return 1;
    }
  }
  const bool any_failed = std::any_of(results.begin(), results.end(),
                                      [](const TestResult& r) { return r.outcome == Outcome::kFailed; });
  return any_failed ? 1 : 0;
}
