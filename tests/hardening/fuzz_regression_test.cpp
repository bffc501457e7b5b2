// Every input a fuzz target ever crashed, hung or ran out of memory on is kept in
// fuzz/regressions/<target>/ and replayed here through that target's own code (its entry point,
// renamed), in every build this suite runs in (Release, ASan+UBSan, TSan). A target with no
// regression files still runs its built-in seeds, so the harnesses themselves stay tested.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/tensor.h"

extern "C" {
int ratel_fuzz_onnx_import(const uint8_t* data, size_t size);
int ratel_fuzz_npy(const uint8_t* data, size_t size);
int ratel_fuzz_tokenizer(const uint8_t* data, size_t size);
int ratel_fuzz_squad_json(const uint8_t* data, size_t size);
int ratel_fuzz_shape_parse(const uint8_t* data, size_t size);
int ratel_fuzz_qa_features(const uint8_t* data, size_t size);
int ratel_fuzz_bundle(const uint8_t* data, size_t size);
}

namespace ratel {
namespace {

using Entry = int (*)(const uint8_t*, size_t);

const std::map<std::string, Entry>& targets() {
  static const std::map<std::string, Entry> t = {
      {"onnx_import", ratel_fuzz_onnx_import}, {"npy", ratel_fuzz_npy},
      {"tokenizer", ratel_fuzz_tokenizer},     {"squad_json", ratel_fuzz_squad_json},
      {"shape_parse", ratel_fuzz_shape_parse}, {"qa_features", ratel_fuzz_qa_features},
      {"bundle", ratel_fuzz_bundle},
  };
  return t;
}

// Small inputs every target must take without crashing (and that reach past the first check).
std::vector<std::string> builtin_seeds(const std::string& target) {
  const std::string squad =
      R"({"version":"1.1","data":[{"title":"t","paragraphs":[{"context":"Super Bowl 50 was won by the Denver Broncos.","qas":[{"id":"1","question":"Who won Super Bowl 50?","answers":[{"text":"Denver Broncos","answer_start":29}]}]}]}]})";
  if (target == "qa_features") return {std::string("\x10\x08\x04\x05\x06", 5) + squad, std::string(5, '\0') + squad, ""};
  if (target == "squad_json") return {squad, "[[[[", "{\"data\": 5}", ""};
  if (target == "tokenizer") return {"Caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 [UNK] ##a", "\xff\xfe", ""};
  if (target == "shape_parse") return {"1 384;1 384", "[1, 384]", "1.5G", "x", ""};
  if (target == "bundle") return {"", std::string("RATELBM\x1a", 8), std::string(64, '\0')};
  if (target == "npy") return {std::string("\x93NUMPY\x01\x00\x10\x00{'descr': '<f4'", 24), ""};
  return {"", "\x08\x07\x3a\x00"};  // onnx_import: empty, and an ir_version + empty graph
}

// The memory limit each target fuzzes under (fuzz/fuzz_npy.cpp: 64 MiB; fuzz_onnx_import.cpp and
// fuzz_bundle.cpp: 256 MiB; the others set none, and get 256 MiB here). The targets set it once,
// on their first call, so it is set again before every replay: a recorded out-of-memory input
// must meet the limit it was found under, not the default (physical memory).
size_t fuzz_memory_limit(const std::string& target) { return target == "npy" ? size_t{64} << 20 : size_t{256} << 20; }

void replay(const std::string& target, const std::string& bytes) {
  set_allocation_limit(fuzz_memory_limit(target));
  targets().at(target)(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  set_allocation_limit(0);  // restore the default for the tests that follow
}

TEST(FuzzRegressionTest, EveryRecordedCrashAndBuiltinSeedRunsCleanly) {
  namespace fs = std::filesystem;
  const fs::path root(RATEL_FUZZ_REGRESSIONS);
  int files = 0;
  for (const auto& [target, entry] : targets()) {
    for (const std::string& seed : builtin_seeds(target)) replay(target, seed);
    const fs::path dir = root / target;
    if (!fs::is_directory(dir)) continue;
    for (const auto& f : fs::directory_iterator(dir)) {
      if (!f.is_regular_file() || f.path().extension() == ".md") continue;
      std::ifstream in(f.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      SCOPED_TRACE(f.path().string());
      const auto t0 = std::chrono::steady_clock::now();
      replay(target, ss.str());
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      EXPECT_LT(s, 30.0) << f.path() << " took " << s << " s";
      ++files;
    }
  }
  RecordProperty("regression_files", files);
}

// The bundle seeds (valid bundles of micro BERT exports) with every 5th byte flipped and cut at
// every 97th length, through the bundle target, which re-seals the checksums so the damage
// reaches the decoders (even first bytes) or stops at the checks (odd ones). A deterministic
// slice of what scripts/fuzz.sh does at random.
TEST(FuzzRegressionTest, DamagedBundleSeedsAreRefusedOrRunCleanly) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(RATEL_FUZZ_SEEDS) / "bundle";
  int seeds = 0;
  for (const auto& f : fs::directory_iterator(dir)) {
    if (f.path().extension() != ".rbm") continue;
    std::ifstream in(f.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string bytes = ss.str();
    ASSERT_GT(bytes.size(), 64u) << f.path();
    SCOPED_TRACE(f.path().string());
    for (size_t at = 0; at < bytes.size(); at += 5) {
      std::string damaged = bytes;
      damaged[at] = static_cast<char>(damaged[at] ^ 0x5a);
      replay("bundle", damaged);
    }
    for (size_t len = 0; len < bytes.size(); len += 97) replay("bundle", bytes.substr(0, len));
    ++seeds;
  }
  EXPECT_GE(seeds, 2) << "no bundle seeds in " << dir;
}

}  // namespace
}  // namespace ratel
