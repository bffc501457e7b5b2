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

// Runs every test_data_set_* folder of one test. Returns "" on success, or the failure.
std::string run_datasets(const std::string& dir, TestResult* result) {
  // Import once to learn the graph inputs, then again with their shapes fixed by the data.
  auto probe = ratel::onnx_frontend::import_onnx_file(dir + "/model.onnx");
  if (!probe.ok()) return "import failed: " + probe.status().message();
  std::vector<std::string> input_names;
  for (const auto* v : (*probe)->inputs()) input_names.push_back(v->name);

  const auto sets = list_dir(dir, true);
  int ran = 0;
  for (const std::string& set : sets) {
    if (set.rfind("test_data_set_", 0) != 0) continue;
    const std::string sdir = dir + "/" + set;
    std::vector<Tensor> inputs, expected;
    for (size_t i = 0;; ++i) {
      const std::string p = sdir + "/input_" + std::to_string(i) + ".pb";
      struct stat st {};
      if (stat(p.c_str(), &st) != 0) break;
      auto t = read_tensor_pb(p);
      if (!t.ok()) {
        result->outcome = Outcome::kSkipped;
        return "input data not representable: " + t.status().message();
      }
      inputs.push_back(std::move(t).value());
    }
    for (size_t i = 0;; ++i) {
      const std::string p = sdir + "/output_" + std::to_string(i) + ".pb";
      struct stat st {};
      if (stat(p.c_str(), &st) != 0) break;
      auto t = read_tensor_pb(p);
      if (!t.ok()) {
        result->outcome = Outcome::kSkipped;
        return "expected data not representable: " + t.status().message();
      }
      expected.push_back(std::move(t).value());
    }
    if (inputs.size() != input_names.size()) {
      return fmt::format("{} has {} inputs, the model declares {}", set, inputs.size(), input_names.size());
    }
    ratel::runtime::LoadOptions load;
    for (size_t i = 0; i < inputs.size(); ++i) load.input_shapes[input_names[i]] = inputs[i].shape();
    auto model = ratel::runtime::Model::load_onnx(dir + "/model.onnx", load);
    if (!model.ok()) return model.status().message();
    auto session = ratel::runtime::Session::create(*model);
    if (!session.ok()) return session.status().message();
    for (size_t i = 0; i < inputs.size(); ++i) {
      const auto* declared = (*model)->inputs()[i];
      if (declared->dtype != inputs[i].dtype()) {
        return fmt::format("input '{}' data is {}, model declares {}", declared->name,
                           ratel::dtype_name(inputs[i].dtype()), ratel::dtype_name(declared->dtype));
      }
      Status s = (*session)->set_input(i, inputs[i]);
      if (!s.ok()) return s.message();
    }
    if (Status s = (*session)->run(); !s.ok()) return s.message();
    const auto& outputs = (*session)->outputs();
    if (outputs.size() < expected.size()) {
      return fmt::format("{} outputs, expected {}", outputs.size(), expected.size());
    }
    for (size_t i = 0; i < expected.size(); ++i) {
      const std::string diff = compare(outputs[i], expected[i], (*model)->outputs()[i]->name);
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

TestResult run_test(const std::string& root, const std::string& name) {
  TestResult r{name, Outcome::kPassed, "", {}};
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
  const std::string failure = run_datasets(dir, &r);
  if (!failure.empty()) {
    if (r.outcome != Outcome::kSkipped) r.outcome = Outcome::kFailed;
    r.detail = failure;
  }
  return r;
}

std::string summarize(const std::vector<TestResult>& results, const Options& o) {
  std::map<std::string, std::array<int, 3>> per_op;  // passed, failed, skipped
  int passed = 0, failed = 0, skipped = 0, unclaimed = 0;
  for (const TestResult& r : results) {
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
  const auto& all = ratel::ops::OpRegistry::instance().all();
  s += fmt::format("Claimed ops (from the op registry, {}): ", all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    s += fmt::format("{}{}", i ? ", " : "", all[i].name);
  }
  s += "\n\n";
  s += fmt::format("| | tests |\n|---|---|\n| run (all ops claimed) | {} |\n| passed | {} |\n"
                   "| failed | {} |\n| skipped (reason below) | {} |\n| not run (use an unclaimed op) | {} |\n\n",
                   passed + failed, passed, failed, skipped, unclaimed);
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
