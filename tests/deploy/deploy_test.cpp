// The deploy flow end to end: the seed tutorial's HHB command on the shared real model, the
// folder it writes, `make` inside it, ratel_runtime's HHB-format output parsed back, its saved
// outputs against `ratel run` (bit for bit) and through `ratel qa --logits` to the seed's answer.
// Each test builds its own folder (CTest runs every test in its own process).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/ranges.h>
#include <onnx/onnx_pb.h>

#include <bit>
#include <cstring>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include "bundle/bundle.h"
#include "bundle/checksum.h"
#include "bundle_graphs.h"
#include "core/file.h"
#include "deploy/deploy.h"
#include "io/npy.h"

namespace ratel {
namespace {

namespace fs = std::filesystem;

struct Output {
  int rc = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Runs a shell command line in `cwd`, capturing stdout and stderr.
Output sh(const std::string& cwd, const std::string& cmd) {
  const std::string out = cwd + "/.stdout", err = cwd + "/.stderr";
  const int st = std::system(("cd '" + cwd + "' && " + cmd + " >'" + out + "' 2>'" + err + "'").c_str());
  Output o;
  o.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  o.out = slurp(out);
  o.err = slurp(err);
  return o;
}

std::string assets() {
  if (const char* env = std::getenv("RATEL_ASSETS"); env && *env) return env;
  return std::string(RATEL_SOURCE_DIR) + "/../shared";
}

std::vector<float> read_floats(const std::string& path) {
  std::ifstream f(path);
  std::vector<float> v;
  for (std::string line; std::getline(f, line);) v.push_back(std::strtof(line.c_str(), nullptr));
  return v;
}

const char* const kInputs[] = {"input_ids", "input_mask", "segment_ids"};

class SeedCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = assets() + "/models/minilm-l6-squad/model.onnx";
    squad_ = assets() + "/data/squad/test1.json";
    vocab_ = assets() + "/data/vocab/bert-base-uncased-vocab.txt";
    if (!fs::exists(model_) || !fs::exists(squad_) || !fs::exists(vocab_)) {
      GTEST_SKIP() << "shared assets not found under " << assets() << " (set RATEL_ASSETS)";
    }
    dir_ = ::testing::TempDir() + "/ratel_deploy_" + std::to_string(getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // The tutorial's command, `hhb` replaced by `ratel` and the board by this host's.
    seed_ = sh(dir_, std::string(RATEL_CLI) + " --model-file " + model_ +
                         " --input-name \"input_ids;input_mask;segment_ids\" --input-shape '1 384;1 384;1 384'"
                         " --output-name \"output_start_logits;output_end_logits\" --board x86_64"
                         " --quantization-scheme \"float16\" --postprocess save_and_top5 -D --without-preprocess");
    ASSERT_EQ(seed_.rc, 0) << seed_.err;
    // The seed question's features (Ratel's tokenizer), written as HHB writes them: float32 .bin.
    const Output f = sh(dir_, std::string(RATEL_CLI) + " qa --squad " + squad_ + " --vocab " + vocab_ +
                                  " --save-features feats");
    ASSERT_EQ(f.rc, 0) << f.err;
    for (const char* name : kInputs) {
      auto t = io::read_npy(dir_ + "/feats/" + name + ".npy");
      ASSERT_TRUE(t.ok()) << t.status().message();
      ASSERT_EQ(t->shape(), (Shape{1, 384}));
      std::vector<float> v;
      for (int64_t i = 0; i < t->numel(); ++i) v.push_back(static_cast<float>(t->get_as_int64(i)));
      std::ofstream(dir_ + "/sample_0_" + name + ".bin", std::ios::binary)
          .write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
    }
  }
  void TearDown() override {
    if (!dir_.empty() && !HasFailure()) fs::remove_all(dir_);
  }
  // ratel_runtime on the seed's files, in the seed script's order (ids, segment, mask).
  Output run_runtime(const std::string& options = "") {
    return sh(dir_, "./ratel_out/ratel_runtime " + options +
                        " ratel_out/model.rbm sample_0_input_ids.bin sample_0_segment_ids.bin sample_0_input_mask.bin");
  }

  std::string model_, squad_, vocab_, dir_;
  Output seed_;
};

TEST_F(SeedCommand, WritesTheFolderWithFloat16Weights) {
  for (const char* f : {"model.rbm", "model.c", "main.c", "io.c", "io.h", "process.c", "process.h", "Makefile",
                        "ratel_runtime"}) {
    EXPECT_TRUE(fs::exists(dir_ + "/ratel_out/" + f)) << f;
  }
  EXPECT_EQ(seed_.err.find("not implemented"), std::string::npos) << seed_.err;
  auto b = bundle::Bundle::open(dir_ + "/ratel_out/model.rbm");
  ASSERT_TRUE(b.ok()) << b.status().message();
  const auto& meta = (*b)->metadata();
  EXPECT_EQ(meta.at("board"), "x86_64");
  EXPECT_EQ(meta.at("quantization.scheme"), "float16");
  EXPECT_EQ(meta.count("quantization.requested"), 0u);
  // Every dense layer holds fp16 weights: none of the f32 weight matrices is left.
  auto graph = (*b)->decode_graph();
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  int qdense = 0;
  for (const auto& n : (*graph)->nodes()) {
    EXPECT_FALSE(n->domain == "ratel" && n->op_type == "Dense") << n->describe();
    if (n->op_type == "QDense") {
      ++qdense;
      EXPECT_EQ(n->inputs[1]->dtype, DType::kF16) << n->describe();
    }
  }
  EXPECT_EQ(qdense, 6 * 4 + 1);  // per layer: QKV, attention output, two feed-forward; the QA head
  EXPECT_EQ(meta.at("inputs"), "input_ids:i32[1,384];input_mask:i32[1,384];segment_ids:i32[1,384]");
  EXPECT_EQ(meta.at("outputs"), "output_start_logits:f32[1,384];output_end_logits:f32[1,384]");
  // The recorded SHA-256 is the one the shared assets publish.
  const std::string sums = slurp(assets() + "/models/minilm-l6-squad/SHA256SUMS");
  EXPECT_NE(sums.find(meta.at("source.sha256") + "  model.onnx"), std::string::npos) << sums;
  // model.c names the bundle's graph and calls the fast entry points.
  const std::string model_c = slurp(dir_ + "/ratel_out/model.c");
  EXPECT_NE(model_c.find(fmt::format("{:#018x}", (*b)->graph_checksum())), std::string::npos);
  for (const char* call : {"ratel_prepare_fast_node(", "ratel_fast_node(", "ratel_attention_f32(",
                           "ratel_layernorm_f32(", "ratel_node("}) {
    EXPECT_NE(model_c.find(call), std::string::npos) << call;
  }
  EXPECT_EQ(model_c.find("ratel_dense_f32("), std::string::npos);
  // Each quantized dense layer's step runs the runtime's fast kernel, none the reference one.
  std::istringstream lines(model_c);
  int fast_qdense = 0;
  for (std::string line, next; std::getline(lines, line);) {
    if (line.find("(ratel.QDense)") == std::string::npos || line.find("/* ") != 2) continue;
    ASSERT_TRUE(std::getline(lines, next));
    EXPECT_EQ(next.rfind("  ratel_step_begin(c, ", 0), 0u) << line << "\n" << next;  // --profile's bracket
    ASSERT_TRUE(std::getline(lines, next));
    EXPECT_NE(next.find("the runtime's fast kernel"), std::string::npos) << line << "\n" << next;
    ++fast_qdense;
  }
  EXPECT_EQ(fast_qdense, 25);
}

// The seed's exact command, board c920 included: a static riscv64 ratel_runtime (running it under
// qemu is tests/e2e/riscv_deploy.py). Without the cross-built archive, a clear error before any work.
TEST_F(SeedCommand, TheSeedsOwnBoardBuildsAStaticRiscv64Runtime) {
  const std::string seed = std::string(RATEL_CLI) + " --model-file " + model_ +
                           " --input-name \"input_ids;input_mask;segment_ids\" --input-shape '1 384;1 384;1 384'"
                           " --output-name \"output_start_logits;output_end_logits\" --board c920"
                           " --quantization-scheme \"float16\" --postprocess save_and_top5 -D --without-preprocess";
  const bool archive = fs::exists(std::string(RATEL_BUILD_DIR) + "/targets/riscv64/lib/libratel_deploy.a");
  const Output o = sh(dir_, seed + " -o c920_out");
  if (!archive) {
    EXPECT_EQ(o.rc, 1);
    EXPECT_NE(o.err.find("riscv64 runtime archive for board c920"), std::string::npos) << o.err;
    EXPECT_FALSE(fs::exists(dir_ + "/c920_out"));
    GTEST_SKIP() << "no riscv64 runtime archive in " << RATEL_BUILD_DIR
                 << "/targets/riscv64 (riscv64-linux-gnu-g++ and clang-16 not installed): only its error was checked";
  }
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.out.find("for board c920 (float16)"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("run on the board (c920)"), std::string::npos) << o.out;
  const std::string exe = slurp(dir_ + "/c920_out/ratel_runtime");
  ASSERT_GT(exe.size(), 64u);
  EXPECT_EQ(exe.substr(0, 4), "\x7f" "ELF");
  uint16_t machine = 0;
  std::memcpy(&machine, exe.data() + 18, 2);
  EXPECT_EQ(machine, 243) << "e_machine: not RISC-V";
  EXPECT_NE(slurp(dir_ + "/c920_out/model.c").find(".board = \"c920\""), std::string::npos);
  EXPECT_NE(slurp(dir_ + "/c920_out/Makefile").find("board c920"), std::string::npos);
  auto b = bundle::Bundle::open(dir_ + "/c920_out/model.rbm");
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ((*b)->metadata().at("board"), "c920");
  // Without --quantization-scheme, c920 gets HHB's default for it (float16); th1520 runs on its
  // C920 cores and says so.
  const Output t = sh(dir_, std::string(RATEL_CLI) + " -f " + model_ + " --board th1520 -C -o th1520_out");
  EXPECT_EQ(t.rc, 0) << t.err;
  EXPECT_NE(t.err.find("no backend for the TH1520's NPU"), std::string::npos) << t.err;
  EXPECT_NE(t.out.find("for board c920 (float16)"), std::string::npos) << t.out;
  // Boards Ratel does not build for are refused by name before any work.
  const Output a = sh(dir_, std::string(RATEL_CLI) + " -f " + model_ + " --board anole -D -o anole_out");
  EXPECT_EQ(a.rc, 1);
  EXPECT_NE(a.err.find("board 'anole'"), std::string::npos) << a.err;
  EXPECT_FALSE(fs::exists(dir_ + "/anole_out"));
}

TEST_F(SeedCommand, MakeRebuildsTheRuntime) {
  const std::string out = dir_ + "/ratel_out";
  Output m = sh(out, "make");
  EXPECT_EQ(m.rc, 0) << m.err;
  EXPECT_NE(m.out.find("up to date"), std::string::npos) << m.out;  // nothing changed
  // A changed source is recompiled and relinked; the rest is not.
  ASSERT_EQ(sh(out, "sleep 1 && touch process.c").rc, 0);
  m = sh(out, "make");
  EXPECT_EQ(m.rc, 0) << m.err;
  EXPECT_NE(m.out.find("process.c"), std::string::npos) << m.out;
  EXPECT_EQ(m.out.find("model.c"), std::string::npos) << m.out;
  // From clean, with warnings as errors: the generated code compiles cleanly.
  EXPECT_EQ(sh(out, "make clean").rc, 0);
  EXPECT_FALSE(fs::exists(out + "/ratel_runtime"));
  m = sh(out, "make CFLAGS='-O2 -Wall -Wextra -Werror'");
  EXPECT_EQ(m.rc, 0) << m.out << m.err;
  EXPECT_EQ(run_runtime().rc, 0);
}

TEST_F(SeedCommand, RuntimePrintsHhbsFormatAndSavesOutputs) {
  const Output r = run_runtime();
  ASSERT_EQ(r.rc, 0) << r.err;
  // The seed script passes ids, segment, mask; the file names say which is which.
  EXPECT_NE(r.err.find("inputs bound by name: sample_0_input_ids.bin -> input_ids, sample_0_segment_ids.bin -> "
                       "segment_ids, sample_0_input_mask.bin -> input_mask"),
            std::string::npos)
      << r.err;
  std::vector<std::string> lines;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  size_t i = 0;
  ASSERT_FALSE(lines.empty());
  EXPECT_TRUE(std::regex_match(lines[i++], std::regex(R"(Run graph execution time: \d+\.\d{5}ms, FPS=\d+\.\d{5})")))
      << lines[0];
  const std::regex pointer(R"(data pointer: (0x[0-9a-f]+|\(nil\)))");
  auto tensor_info = [&] {
    ASSERT_LE(i + 4, lines.size());
    EXPECT_EQ(lines[i++], "");
    EXPECT_EQ(lines[i++], "=== tensor info ===");
    EXPECT_EQ(lines[i++], "shape: 1 384 ");
    EXPECT_TRUE(std::regex_match(lines[i++], pointer)) << lines[i - 1];
  };
  for (int k = 0; k < 3; ++k) tensor_info();
  for (int o = 0; o < 2; ++o) {
    tensor_info();
    const std::vector<float> saved = read_floats(fmt::format("{}/sample_0_input_ids.bin_output{}_1_384.txt", dir_, o));
    ASSERT_EQ(saved.size(), 384u);
    double sum = 0, sq = 0;
    for (float v : saved) sum += v;
    const double mean = sum / 384;
    for (float v : saved) sq += (v - mean) * (v - mean);
    const float mx = *std::max_element(saved.begin(), saved.end());
    const float mn = *std::min_element(saved.begin(), saved.end());
    ASSERT_LE(i + 10, lines.size());
    EXPECT_EQ(lines[i++], fmt::format("The max_value of output: {:.6f}", mx));
    EXPECT_EQ(lines[i++], fmt::format("The min_value of output: {:.6f}", mn));
    EXPECT_EQ(lines[i++], fmt::format("The mean_value of output: {:.6f}", mean));
    EXPECT_EQ(lines[i++], fmt::format("The std_value of output: {:.6f}", sq / 384));  // SHL prints the variance
    EXPECT_EQ(lines[i++], " ============ top5: ===========");
    std::vector<int> order(saved.size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = static_cast<int>(k);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return saved[a] > saved[b]; });
    for (int k = 0; k < 5; ++k) {
      EXPECT_TRUE(std::regex_match(lines[i], std::regex(R"([ \d]{2}\d: -?\d+\.\d{6})"))) << lines[i];
      EXPECT_EQ(lines[i++], fmt::format("{:3d}: {:8.6f}", order[k], saved[order[k]]));
    }
  }
  EXPECT_EQ(i, lines.size());
}

TEST_F(SeedCommand, LoopPrintsEveryRunAndTheAverageWithoutWarmup) {
  const Output r = run_runtime("--loop 3 --threads 2");
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::regex run(R"(Run graph execution time: (\d+\.\d{5})ms, FPS=\d+\.\d{5})");
  std::vector<double> times;
  std::istringstream in(r.out);
  std::string last, before_last;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, run)) times.push_back(std::stod(m[1]));
    before_last = last;
    last = line;
  }
  ASSERT_EQ(times.size(), 3u);
  EXPECT_EQ(before_last, "The number of run: 3");
  std::smatch m;
  ASSERT_TRUE(
      std::regex_match(last, m, std::regex(R"(Run graph average execution time: (\d+\.\d{5})ms, FPS=(\d+\.\d{5}))")))
      << last;
  EXPECT_NEAR(std::stod(m[1]), (times[1] + times[2]) / 2, 1e-3);  // the first run is left out
  EXPECT_NEAR(std::stod(m[2]), 1000.0 / ((times[1] + times[2]) / 2), 0.01 * std::stod(m[2]));
}

TEST_F(SeedCommand, SavedOutputsEqualRatelRunBitForBitAndAnswerTheQuestion) {
  ASSERT_EQ(run_runtime("--threads 2").rc, 0);
  const Output run = sh(dir_, std::string(RATEL_CLI) + " run " + model_ +
                                  " --input input_ids=feats/input_ids.npy --input input_mask=feats/input_mask.npy"
                                  " --input segment_ids=feats/segment_ids.npy --threads 2 --output-dir run_out"
                                  " --quantization-scheme float16");
  ASSERT_EQ(run.rc, 0) << run.err;
  fs::create_directories(dir_ + "/logits");
  const char* names[] = {"output_start_logits", "output_end_logits"};
  const char* logits[] = {"start_logits", "end_logits"};
  for (int o = 0; o < 2; ++o) {
    const std::vector<float> saved = read_floats(fmt::format("{}/sample_0_input_ids.bin_output{}_1_384.txt", dir_, o));
    auto want = io::read_npy(fmt::format("{}/run_out/{}.npy", dir_, names[o]));
    ASSERT_TRUE(want.ok()) << want.status().message();
    ASSERT_EQ(saved.size(), static_cast<size_t>(want->numel()));
    for (size_t k = 0; k < saved.size(); ++k) {
      ASSERT_EQ(std::bit_cast<uint32_t>(saved[k]), std::bit_cast<uint32_t>(want->data<float>()[k]))
          << names[o] << "[" << k << "]: " << saved[k] << " vs " << want->data<float>()[k];
    }
    ASSERT_TRUE(
        io::write_npy(fmt::format("{}/logits/{}.npy", dir_, logits[o]), Tensor::from_vector(saved, {1, 384})).ok());
  }
  const Output qa = sh(dir_, std::string(RATEL_CLI) + " qa --squad " + squad_ + " --vocab " + vocab_ +
                                 " --logits logits -o qa_out");
  ASSERT_EQ(qa.rc, 0) << qa.err;
  EXPECT_NE(qa.out.find("[Answer]: Denver Broncos\n"), std::string::npos) << qa.out;
}

TEST_F(SeedCommand, RuntimeInputErrorsAreClear) {
  // Files that do not name the inputs bind by position (and it says so).
  for (int k = 0; k < 3; ++k) {
    fs::copy_file(dir_ + "/sample_0_" + kInputs[k] + ".bin", fmt::format("{}/pos{}.bin", dir_, k));
  }
  Output r = sh(dir_, "./ratel_out/ratel_runtime ratel_out/model.rbm pos0.bin pos1.bin pos2.bin");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("inputs bound by position: pos0.bin -> input_ids, pos1.bin -> input_mask, pos2.bin -> "
                       "segment_ids"),
            std::string::npos) << r.err;
  // A .txt list: two groups, two runs.
  std::ofstream(dir_ + "/list.txt") << "pos0.bin pos1.bin pos2.bin\nsample_0_input_ids.bin sample_0_input_mask.bin "
                                       "sample_0_segment_ids.bin\n";
  r = sh(dir_, "./ratel_out/ratel_runtime ratel_out/model.rbm list.txt");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir_ + "/pos0.bin_output0_1_384.txt"));
  r = sh(dir_, "./ratel_out/ratel_runtime ratel_out/model.rbm pos0.bin pos1.bin");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("the model has 3 inputs; 2 input files do not make whole groups of 3"), std::string::npos)
      << r.err;
  fs::resize_file(dir_ + "/pos1.bin", 1000);
  r = sh(dir_, "./ratel_out/ratel_runtime ratel_out/model.rbm pos0.bin pos1.bin pos2.bin");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("input 'input_mask' from 'pos1.bin': 1000 bytes; expected 1536"), std::string::npos) << r.err;
  std::vector<float> half(384, 0.5f);
  std::ofstream(dir_ + "/pos1.bin", std::ios::binary).write(reinterpret_cast<const char*>(half.data()), 1536);
  r = sh(dir_, "./ratel_out/ratel_runtime ratel_out/model.rbm pos0.bin pos1.bin pos2.bin");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("'pos1.bin'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("read as float32"), std::string::npos) << r.err;
  r = sh(dir_, "./ratel_out/ratel_runtime ratel_out/model.rbm pos0.png pos1.bin pos2.bin");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("not a .bin or .npy file"), std::string::npos) << r.err;
  // Typed .npy inputs work as they are (int32 here).
  r = sh(dir_, "./ratel_out/ratel_runtime ratel_out/model.rbm feats/input_ids.npy feats/input_mask.npy "
               "feats/segment_ids.npy");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("bound by name"), std::string::npos) << r.err;
  // A bundle that is not the one model.c was generated from.
  const Output e =
      sh(dir_, std::string(RATEL_CLI) + " -f " + model_ + " -E -o other --output-name output_start_logits");
  ASSERT_EQ(e.rc, 0) << e.err;
  r = sh(dir_, "./ratel_out/ratel_runtime other/model.rbm pos0.bin pos1.bin pos2.bin");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("is not the bundle this model.c was generated from"), std::string::npos) << r.err;
}

TEST_F(SeedCommand, HhbInputChecksNameWhatTheModelExpects) {
  const std::string base = std::string(RATEL_CLI) + " -f " + model_ + " -E -o chk ";
  Output o = sh(dir_, base + "-in 'input_ids;input_mask;segmentids' -is '1 384;1 384;1 384'");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("the model has no input 'segmentids'; its inputs are: input_ids (i32 [1, 384]), input_mask "
                       "(i32 [1, 384]), segment_ids (i32 [1, 384])"),
            std::string::npos) << o.err;
  o = sh(dir_, base + "-in 'input_ids;input_mask;segment_ids' -is '1 384;1 128;1 384'");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("input 'input_mask' is given shape [1, 128], the model expects i32 [1, 384]"), std::string::npos)
      << o.err;
  o = sh(dir_, base + "-in 'input_ids;input_mask' -is '1 384;1 384'");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("input 'segment_ids' (i32 [1, 384]) is missing"), std::string::npos) << o.err;
  o = sh(dir_, base + "-in 'input_ids;input_mask;segment_ids' -is '1 384;1 384'");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("3 input names and 2 input shapes"), std::string::npos) << o.err;
  o = sh(dir_, base + "-on 'output_start_logits;bogus'");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("output 'bogus' is not a value of the model"), std::string::npos) << o.err;
  o = sh(dir_, std::string(RATEL_CLI) + " -f " + model_ + " -Q -o chk --quantization-scheme int8_asym");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("int8_asym quantizes activations: give calibration samples with -cd/--calibrate-dataset"),
            std::string::npos) << o.err;
  o = sh(dir_, base + "--quantization-loss-threshold 0.5");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("--quantization-loss-threshold is not implemented in Ratel yet: `ratel qa "
                       "--auto-hybrid-quantization`"), std::string::npos) << o.err;
  o = sh(dir_, std::string(RATEL_CLI) + " -f " + model_ + " --board rvm -D -o chk");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("board 'rvm' (the RISC-V matrix extension) is not supported"), std::string::npos) << o.err;
  EXPECT_FALSE(fs::exists(dir_ + "/chk/model.rbm"));  // nothing above got as far as writing
  // Reordered names reorder the inputs ratel_runtime binds by position.
  o = sh(dir_, base + "-in 'segment_ids;input_ids;input_mask' -cd calib --channel-quantization");
  EXPECT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.out.find("inputs in order: segment_ids, input_ids, input_mask"), std::string::npos) << o.out;
  EXPECT_NE(o.err.find("--calibrate-dataset calib is not used"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("--channel-quantization has no effect"), std::string::npos) << o.err;
}

TEST_F(SeedCommand, SimulateBuildsAndRunsOnTheHost) {
  const Output o = sh(dir_, std::string(RATEL_CLI) + " -f " + model_ +
                                " --board x86_ref --simulate -o sim --postprocess save -sd "
                                "'sample_0_input_ids.bin;sample_0_input_mask.bin;sample_0_segment_ids.bin'");
  EXPECT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.out.find("Run graph execution time: "), std::string::npos) << o.out;
  EXPECT_EQ(o.out.find("top5"), std::string::npos) << "--postprocess save prints no top 5";
  EXPECT_TRUE(fs::exists(dir_ + "/sample_0_input_ids.bin_output1_1_384.txt"));
  auto b = bundle::Bundle::open(dir_ + "/sim/model.rbm");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)->metadata().at("board"), "x86_64");  // HHB's x86_ref is this host
}

TEST_F(SeedCommand, BundleRunsBitIdenticalToTheOnnxModel) {
  runtime::LoadOptions float16;  // the seed command's scheme, as `ratel run --quantization-scheme float16`
  float16.quantization_scheme = "float16";
  float16.channel_quantization = false;
  auto onnx = runtime::Model::load_onnx(model_, float16);
  ASSERT_TRUE(onnx.ok()) << onnx.status().message();
  auto loaded = bundle::load_model(dir_ + "/ratel_out/model.rbm");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  std::vector<Tensor> in;
  for (const char* name : kInputs) {
    auto t = io::read_npy(dir_ + "/feats/" + name + ".npy");
    ASSERT_TRUE(t.ok());
    in.push_back(std::move(t).value());
  }
  for (int threads : {1, 2}) {
    const auto want = deploy_testing::run_model(*onnx, in, threads);
    const auto got = deploy_testing::run_model(loaded->model, in, threads);
    ASSERT_EQ(want.size(), 2u);
    ASSERT_EQ(got.size(), 2u);
    for (size_t k = 0; k < 2; ++k) EXPECT_TRUE(deploy_testing::bit_identical(want[k], got[k])) << k;
  }
  const runtime::PlanStats a = (*(*onnx)->plan())->stats(), b = (*loaded->model->plan())->stats();
  EXPECT_EQ(a.fast_steps, b.fast_steps);
  EXPECT_EQ(a.reference_steps, b.reference_steps);
  EXPECT_EQ(a.arena_bytes, b.arena_bytes);
}

TEST_F(SeedCommand, CompileConfigFilesAndBundleInfo) {
  // The native spelling, stopping after the sources.
  Output o = sh(dir_, std::string(RATEL_CLI) + " compile " + model_ + " -o native --stage code --postprocess save");
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_TRUE(fs::exists(dir_ + "/native/Makefile"));
  EXPECT_FALSE(fs::exists(dir_ + "/native/ratel_runtime"));
  EXPECT_NE(slurp(dir_ + "/native/main.c").find("#define POSTPROCESS_SAVE 1"), std::string::npos);
  // HHB's --generate-config / --config-file, as TOML: the options come back.
  o = sh(dir_, std::string(RATEL_CLI) + " -f " + model_ + " -in 'input_ids;input_mask;segment_ids' "
                   "-is '1 384;1 384;1 384' -E -o cfg --generate-config");
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_FALSE(fs::exists(dir_ + "/cfg/model.rbm"));
  o = sh(dir_, std::string(RATEL_CLI) + " --config-file cfg/ratel.toml");
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_TRUE(fs::exists(dir_ + "/cfg/model.rbm"));
  o = sh(dir_, std::string(RATEL_CLI) + " --config-file hhb_config.yaml");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("HHB's YAML configuration files are not read"), std::string::npos) << o.err;
  // ratel bundle: valid, what it holds, and load times next to the ONNX import.
  o = sh(dir_, std::string(RATEL_CLI) + " bundle ratel_out/model.rbm --repeat 1 --compare-onnx " + model_);
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.out.find("Ratel bundle format 1.0"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("quantization.scheme = float16"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("prepare kernels (pack weights)"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("import + infer + optimize"), std::string::npos) << o.out;
  fs::resize_file(dir_ + "/ratel_out/model.rbm", 5000);
  o = sh(dir_, std::string(RATEL_CLI) + " bundle ratel_out/model.rbm");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("the file has 5000: truncated"), std::string::npos) << o.err;
}

// Every fast entry point of the C ABI (dense with bias / residual / GELU epilogues, packed
// attention with a broadcast mask, ONNX layer norm, GELU, softmax), the reference fallback and
// views, through generated model.c and ratel_runtime, against the runtime in this process.
TEST(GeneratedCode, BlockGraphRunsBitIdenticalToTheRuntime) {
  runtime::LoadOptions options;
  options.optimize = false;
  auto model = runtime::Model::from_graph(deploy_testing::block_graph(), options);
  ASSERT_TRUE(model.ok()) << model.status().message();
  const std::string dir = ::testing::TempDir() + "/ratel_block_" + std::to_string(getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  ASSERT_TRUE(bundle::write_bundle((*model)->graph(), {{"ratel.version", "test"}}, dir + "/model.rbm").ok());
  auto loaded = bundle::load_model(dir + "/model.rbm");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  deploy::DeployOptions o;
  o.model = "block.onnx";
  o.output_dir = dir;
  o.ratel_home = RATEL_BUILD_DIR;
  o.top5 = false;
  o.save = true;
  deploy::DeployReport report;
  ASSERT_TRUE(deploy::write_runtime_sources(o, *loaded, &report).ok());
  EXPECT_TRUE(report.notes.empty());
  const std::string model_c = slurp(dir + "/model.c");
  for (const char* call : {"ratel_dense_f32(", "RATEL_ACT_GELU", "ratel_attention_f32(", "ratel_layernorm_f32(",
                           "ratel_gelu_f32(", "ratel_softmax_f32(", "ratel_node(", "a view"}) {
    EXPECT_NE(model_c.find(call), std::string::npos) << call;
  }
  const Output m = sh(dir, "make CFLAGS='-O2 -Wall -Wextra -Werror'");
  ASSERT_EQ(m.rc, 0) << m.out << m.err;

  const std::vector<Tensor> in = deploy_testing::block_inputs(11);
  ASSERT_TRUE(io::write_npy(dir + "/in_x.npy", in[0]).ok());
  ASSERT_TRUE(io::write_npy(dir + "/in_mask.npy", in[1]).ok());
  const Output r = sh(dir, "./ratel_runtime --threads 2 model.rbm in_mask.npy in_x.npy");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("bound by name: in_mask.npy -> mask, in_x.npy -> x"), std::string::npos) << r.err;
  const std::vector<Tensor> want = deploy_testing::run_model(*model, in, 2);
  ASSERT_EQ(want.size(), 2u);
  for (size_t k = 0; k < want.size(); ++k) {
    std::string dims;
    for (int64_t d : want[k].shape()) dims += (dims.empty() ? "" : "_") + std::to_string(d);
    const std::vector<float> got = read_floats(fmt::format("{}/in_mask.npy_output{}_{}.txt", dir, k, dims));
    ASSERT_EQ(got.size(), static_cast<size_t>(want[k].numel())) << k;
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(want[k].data<float>()[i]))
          << "output " << k << "[" << i << "]: " << got[i] << " vs " << want[k].data<float>()[i];
    }
  }
  if (!::testing::Test::HasFailure()) fs::remove_all(dir);
}

// Reads ratel_runtime's saved output (9 significant digits: reads back as the same floats) and
// `ratel run`'s .npy, and says where they first differ in any bit.
void expect_bit_identical(const std::string& saved_txt, const std::string& want_npy) {
  const std::vector<float> saved = read_floats(saved_txt);
  auto want = io::read_npy(want_npy);
  ASSERT_TRUE(want.ok()) << want.status().message();
  ASSERT_EQ(saved.size(), static_cast<size_t>(want->numel())) << saved_txt;
  for (size_t k = 0; k < saved.size(); ++k) {
    ASSERT_EQ(std::bit_cast<uint32_t>(saved[k]), std::bit_cast<uint32_t>(want->data<float>()[k]))
        << saved_txt << "[" << k << "]: " << saved[k] << " vs " << want->data<float>()[k];
  }
}

// Quantized models through the deploy flow on a small ONNX model of two dense layers,
// y = x + gelu(x·W1 + b1)·W2 + b2 (x: [1, 16, 64], hidden 256): ratel_runtime against
// `ratel run` with the same scheme and calibration samples, bit for bit.
class QuantizedDeploy : public ::testing::Test {
 protected:
  static constexpr int64_t kS = 16, kK = 64, kF = 256, kSamples = 8;

  void SetUp() override {
    dir_ = ::testing::TempDir() + "/ratel_qdeploy_" + std::to_string(getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_ + "/calib");
    write_model(dir_ + "/mlp.onnx");
    ASSERT_TRUE(io::write_npy(dir_ + "/calib/x.npy", normal({kSamples, kS, kK}, 1)).ok());
    ASSERT_TRUE(io::write_npy(dir_ + "/sample_x.npy", normal({1, kS, kK}, 2)).ok());
  }
  void TearDown() override {
    if (!dir_.empty() && !HasFailure()) fs::remove_all(dir_);
  }

  static Tensor normal(Shape shape, uint32_t seed, float scale = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(static_cast<size_t>(numel(shape)));
    for (float& x : v) x = d(rng);
    return Tensor::from_vector<float>(v, std::move(shape));
  }

  static void write_model(const std::string& path) {
    onnx::ModelProto m;
    m.set_ir_version(8);
    m.set_producer_name("ratel-test");
    m.add_opset_import()->set_version(13);
    onnx::GraphProto* g = m.mutable_graph();
    g->set_name("mlp");
    auto value = [](onnx::ValueInfoProto* v, const std::string& name) {
      v->set_name(name);
      auto* t = v->mutable_type()->mutable_tensor_type();
      t->set_elem_type(onnx::TensorProto::FLOAT);
      for (int64_t d : {int64_t{1}, kS, kK}) t->mutable_shape()->add_dim()->set_dim_value(d);
    };
    value(g->add_input(), "x");
    value(g->add_output(), "y");
    uint32_t seed = 10;
    auto init = [&](const std::string& name, Shape shape, float scale) {
      const Tensor t = normal(shape, seed++, scale);
      onnx::TensorProto* p = g->add_initializer();
      p->set_name(name);
      p->set_data_type(onnx::TensorProto::FLOAT);
      for (int64_t d : shape) p->add_dims(d);
      p->set_raw_data(std::string(static_cast<const char*>(t.raw()), t.nbytes()));
    };
    auto node = [&](const std::string& op, std::vector<std::string> in, const std::string& out) {
      onnx::NodeProto* n = g->add_node();
      n->set_op_type(op);
      n->set_name(out);
      for (const std::string& i : in) n->add_input(i);
      n->add_output(out);
    };
    init("fc1.weight", {kK, kF}, 0.15f);
    init("fc1.bias", {kF}, 0.1f);
    init("fc2.weight", {kF, kK}, 0.08f);
    init("fc2.bias", {kK}, 0.1f);
    onnx::TensorProto* c = g->add_initializer();
    c->set_name("sqrt2");
    c->set_data_type(onnx::TensorProto::FLOAT);
    c->add_float_data(1.4142135f);
    c = g->add_initializer();
    c->set_name("one");
    c->set_data_type(onnx::TensorProto::FLOAT);
    c->add_float_data(1.0f);
    c = g->add_initializer();
    c->set_name("half");
    c->set_data_type(onnx::TensorProto::FLOAT);
    c->add_float_data(0.5f);
    node("MatMul", {"x", "fc1.weight"}, "fc1.matmul");
    node("Add", {"fc1.bias", "fc1.matmul"}, "fc1.out");
    node("Div", {"fc1.out", "sqrt2"}, "gelu.div");
    node("Erf", {"gelu.div"}, "gelu.erf");
    node("Add", {"gelu.erf", "one"}, "gelu.add");
    node("Mul", {"fc1.out", "gelu.add"}, "gelu.mul");
    node("Mul", {"gelu.mul", "half"}, "gelu.out");
    node("MatMul", {"gelu.out", "fc2.weight"}, "fc2.matmul");
    node("Add", {"fc2.bias", "fc2.matmul"}, "fc2.out");
    node("Add", {"x", "fc2.out"}, "y");
    std::ofstream f(path, std::ios::binary);
    m.SerializeToOstream(&f);
  }

  // `ratel -D` (HHB's flags) into `out` with these quantization flags.
  Output hhb(const std::string& flags, const std::string& out, const std::string& stage = "-D") {
    return sh(dir_, std::string(RATEL_CLI) + " -f mlp.onnx --without-preprocess --postprocess save " + stage + " -o " +
                        out + " " + flags);
  }
  // ratel_runtime in `out` on the sample, and `ratel run` with `run_flags`: bit for bit.
  void expect_runtime_equals_ratel_run(const std::string& out, const std::string& run_flags) {
    const Output r = sh(dir_ + "/" + out, "./ratel_runtime --threads 2 model.rbm ../sample_x.npy");
    ASSERT_EQ(r.rc, 0) << r.err;
    const Output run = sh(dir_, std::string(RATEL_CLI) + " run mlp.onnx --input x=sample_x.npy --threads 2 -o " +
                                    out + "_run " + run_flags);
    ASSERT_EQ(run.rc, 0) << run.err;
    expect_bit_identical(dir_ + "/" + out + "/sample_x.npy_output0_1_16_64.txt", dir_ + "/" + out + "_run/y.npy");
  }
  // The bundle's dense layers: their weights' element types, and the file's size.
  std::vector<DType> dense_weights(const std::string& out, size_t* file_bytes = nullptr) {
    auto b = bundle::Bundle::open(dir_ + "/" + out + "/model.rbm");
    EXPECT_TRUE(b.ok()) << b.status().message();
    if (!b.ok()) return {};
    if (file_bytes) *file_bytes = (*b)->file_size();
    auto g = (*b)->decode_graph();
    EXPECT_TRUE(g.ok()) << g.status().message();
    std::vector<DType> types;
    for (const auto& n : (*g)->nodes()) {
      if (n->domain == "ratel" && (n->op_type == "Dense" || n->op_type == "QDense")) {
        types.push_back(n->inputs[1]->dtype);
      }
    }
    return types;
  }
  std::string meta(const std::string& out, const std::string& key) {
    auto b = bundle::Bundle::open(dir_ + "/" + out + "/model.rbm");
    if (!b.ok()) return "(no bundle)";
    auto it = (*b)->metadata().find(key);
    return it == (*b)->metadata().end() ? "(absent)" : it->second;
  }

  std::string dir_;
};

TEST_F(QuantizedDeploy, Float16RunsItsFastKernelAndEqualsRatelRun) {
  const Output o = hhb("--quantization-scheme float16", "f16");
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(o.err, "");  // no "runs as float32" warning any more
  EXPECT_NE(o.out.find("(float16)"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("2 fast, 0 reference"), std::string::npos) << o.out;
  EXPECT_EQ(dense_weights("f16"), (std::vector<DType>{DType::kF16, DType::kF16}));
  EXPECT_EQ(meta("f16", "quantization.scheme"), "float16");
  const std::string model_c = slurp(dir_ + "/f16/model.c");
  EXPECT_NE(model_c.find("RATEL_TRY(ratel_prepare_fast_node(c, "), std::string::npos) << model_c;
  EXPECT_NE(model_c.find("RATEL_TRY(ratel_fast_node(c, "), std::string::npos) << model_c;
  EXPECT_EQ(model_c.find("ratel_node("), std::string::npos) << model_c;
  expect_runtime_equals_ratel_run("f16", "--quantization-scheme float16");
}

// ratel_runtime --profile: a trace event per kernel step and run, the per-op table, and the same
// outputs as without it.
TEST_F(QuantizedDeploy, RuntimeProfileWritesATraceAndTheTimePerOp) {
  const Output o = hhb("--quantization-scheme float16", "prof");
  ASSERT_EQ(o.rc, 0) << o.err;
  const std::string model_c = slurp(dir_ + "/prof/model.c");
  size_t steps = 0;
  for (size_t at = model_c.find("ratel_step_begin(c, "); at != std::string::npos;
       at = model_c.find("ratel_step_begin(c, ", at + 1)) {
    ++steps;
  }
  ASSERT_GT(steps, 0u);
  expect_runtime_equals_ratel_run("prof", "--quantization-scheme float16");  // writes prof_run/y.npy
  const Output r = sh(dir_ + "/prof", "./ratel_runtime --loop 3 --profile trace.json model.rbm ../sample_x.npy");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("profile: kernel time per run "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(mean of runs 2..3; run 1 is warm-up), by op:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ratel.QDense"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("profile: wrote trace.json"), std::string::npos) << r.out;
  const std::string trace = slurp(dir_ + "/prof/trace.json");
  size_t events = 0;
  for (size_t at = trace.find("\"ph\": \"X\""); at != std::string::npos; at = trace.find("\"ph\": \"X\"", at + 1)) ++events;
  EXPECT_EQ(events, 3 * steps) << trace.substr(0, 400);
  EXPECT_EQ(trace.rfind("{\"displayTimeUnit\": \"ms\", \"traceEvents\": [", 0), 0u) << trace.substr(0, 100);
  // Still the same bits as ratel run.
  expect_bit_identical(dir_ + "/prof/sample_x.npy_output0_1_16_64.txt", dir_ + "/prof_run/y.npy");
  const Output bad = sh(dir_ + "/prof", "./ratel_runtime --profile /no/such/dir/t.json model.rbm ../sample_x.npy");
  EXPECT_EQ(bad.rc, 1);
  EXPECT_NE(bad.err.find("/no/such/dir/t.json"), std::string::npos) << bad.err;
}

TEST_F(QuantizedDeploy, Int8AsymCalibratedEqualsRatelRunWithAQuarterOfTheWeights) {
  Output o = hhb("", "fp32", "-Q");
  ASSERT_EQ(o.rc, 0) << o.err;
  o = hhb("--quantization-scheme int8_asym --channel-quantization -cd calib", "int8");
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.err.find("calibrating: 8 samples"), std::string::npos) << o.err;
  EXPECT_NE(o.out.find("2 fast, 0 reference"), std::string::npos) << o.out;
  size_t fp32_bytes = 0, int8_bytes = 0;
  EXPECT_EQ(dense_weights("fp32", &fp32_bytes), (std::vector<DType>{DType::kF32, DType::kF32}));
  EXPECT_EQ(dense_weights("int8", &int8_bytes), (std::vector<DType>{DType::kI8, DType::kI8}));
  // 2 x 64 x 256 weights: 128 KiB as f32, 32 KiB as int8 (plus scales, zero points, biases).
  EXPECT_LT(int8_bytes * 10, fp32_bytes * 4) << int8_bytes << " vs " << fp32_bytes;
  EXPECT_EQ(meta("int8", "quantization.scheme"), "int8_asym");
  expect_runtime_equals_ratel_run("int8", "--quantization-scheme int8_asym --channel-quantization --cd calib");
  // Per-tensor weights (no --channel-quantization) give other results, also reproduced exactly.
  o = hhb("--quantization-scheme int8_asym -cd calib --calibrate-mode percentile", "int8_pt");
  ASSERT_EQ(o.rc, 0) << o.err;
  expect_runtime_equals_ratel_run("int8_pt", "--quantization-scheme int8_asym --cd calib --calibrate-mode percentile");
}

TEST_F(QuantizedDeploy, Int16SymThroughCompileEqualsRatelRun) {
  const Output o = sh(dir_, std::string(RATEL_CLI) + " compile mlp.onnx -o i16 --postprocess save "
                                                     "--quantization-scheme int16_sym --cd calib");
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(dense_weights("i16"), (std::vector<DType>{DType::kI16, DType::kI16}));
  expect_runtime_equals_ratel_run("i16", "--quantization-scheme int16_sym --cd calib");
}

TEST_F(QuantizedDeploy, HybridLayersStayFloat32) {
  const Output o = hhb("--quantization-scheme int8_sym -cd calib --hybrid-layer-name fc2. "
                          "--hybrid-quantization-scheme float32", "hybrid", "-C");
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(dense_weights("hybrid"), (std::vector<DType>{DType::kI8, DType::kF32}));
  const std::string model_c = slurp(dir_ + "/hybrid/model.c");
  EXPECT_NE(model_c.find("ratel_fast_node("), std::string::npos);
  EXPECT_NE(model_c.find("ratel_dense_f32("), std::string::npos);
}

TEST_F(QuantizedDeploy, MistakesAreOneLineErrorsBeforeAnyWork) {
  auto expect_error = [&](const Output& o, const std::string& needle) {
    EXPECT_EQ(o.rc, 1) << needle;
    EXPECT_NE(o.err.find(needle), std::string::npos) << o.err;
    EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
    EXPECT_EQ(o.err.rfind("ratel: error: ", 0), 0u) << o.err;
  };
  expect_error(hhb("--quantization-scheme int8_asym", "bad"),
               "--quantization-scheme int8_asym quantizes activations: give calibration samples with "
               "-cd/--calibrate-dataset DIR");
  expect_error(hhb("--quantization-scheme int16_sym -cd nowhere", "bad"),
               "-cd/--calibrate-dataset nowhere: no such file or folder");
  std::ofstream(dir_ + "/calib.npz") << "PK";
  expect_error(hhb("--quantization-scheme int8_asym -cd calib.npz", "bad"),
               "calib.npz: not a readable .npz (zip) archive");
  expect_error(hhb("--quantization-scheme int9_asym", "bad"),
               "unknown --quantization-scheme 'int9_asym'; Ratel's schemes are float32, float16, bfloat16, "
               "float16_w_int8, int8_asym, int8_asym_w_sym, int8_sym, uint8_asym, int16_sym");
  expect_error(hhb("--quantization-scheme int4_asym_w_sym", "bad"),
               "--quantization-scheme int4_asym_w_sym is not implemented in Ratel; its schemes are float32");
  expect_error(hhb("--quantization-scheme int8_asym -cd calib --calibrate-mode pec", "bad"),
               "--calibrate-mode: unknown calibration mode 'pec' (maxmin, percentile, kl_divergence or mse)");
  expect_error(hhb("--quantization-scheme float16 --hybrid-layer-name fc2.", "bad"),
               "--hybrid-layer-name is for the integer schemes");
  expect_error(hhb("--quantization-scheme int8_asym -cd calib --hybrid-quantization-scheme int16_sym", "bad"),
               "Ratel keeps the --hybrid-layer-name layers float32");
  expect_error(hhb("--quantization-scheme int8_asym -cd calib --hybrid-layer-name fc9.", "bad"),
               "--hybrid-layer-name 'fc9.' matches no dense layer");
  expect_error(sh(dir_, std::string(RATEL_CLI) + " compile mlp.onnx -o bad --quantization-scheme uint8_asym"),
               "give calibration data with --calibrate-dataset");
  EXPECT_FALSE(fs::exists(dir_ + "/bad/model.rbm"));
  // Calibration samples that do not fit the model: the file and both shapes.
  ASSERT_TRUE(io::write_npy(dir_ + "/calib/x.npy", normal({4, kS, kK + 1}, 3)).ok());
  expect_error(hhb("--quantization-scheme int8_asym -cd calib", "bad"), "calib/x.npy: shape [4, 16, 65]");
  // -E stops before quantization (as HHB's): a float32 bundle, the request recorded, a warning.
  const Output e = hhb("--quantization-scheme int8_asym", "imported", "-E");
  ASSERT_EQ(e.rc, 0) << e.err;
  EXPECT_NE(e.err.find("-E stops before quantization"), std::string::npos) << e.err;
  EXPECT_EQ(meta("imported", "quantization.scheme"), "float32");
  EXPECT_EQ(meta("imported", "quantization.requested"), "int8_asym");
}

// The C entry point of quantized dense layers (ratel_fast_node over the runtime's own kernels:
// fp16 GEMM, u8 x s8 and s16 x s16 integer GEMMs) through generated model.c and ratel_runtime,
// against the runtime in this process.
TEST(GeneratedCode, QuantizedBlockGraphRunsBitIdenticalToTheRuntime) {
  for (const auto& [scheme, per_channel] : {std::pair{"float16", false}, std::pair{"int8_asym", true},
                                            std::pair{"int16_sym", false}}) {
    SCOPED_TRACE(scheme);
    auto model = deploy_testing::quantized_block_model(scheme, per_channel);
    ASSERT_TRUE(model.ok()) << model.status().message();
    const std::string dir = fmt::format("{}/ratel_qblock_{}_{}", ::testing::TempDir(), scheme, getpid());
    fs::remove_all(dir);
    fs::create_directories(dir);
    ASSERT_TRUE(bundle::write_bundle((*model)->graph(), {{"ratel.version", "test"}}, dir + "/model.rbm").ok());
    auto loaded = bundle::load_model(dir + "/model.rbm");
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    deploy::DeployOptions o;
    o.model = "block.onnx";
    o.output_dir = dir;
    o.ratel_home = RATEL_BUILD_DIR;
    o.top5 = false;
    o.save = true;
    deploy::DeployReport report;
    ASSERT_TRUE(deploy::write_runtime_sources(o, *loaded, &report).ok());
    const std::string model_c = slurp(dir + "/model.c");
    size_t calls = 0;
    for (size_t at = model_c.find("ratel_fast_node(c, "); at != std::string::npos;
         at = model_c.find("ratel_fast_node(c, ", at + 1)) {
      ++calls;
    }
    EXPECT_EQ(calls, 3u) << "every quantized dense layer";
    EXPECT_EQ(model_c.find("ratel_dense_f32("), std::string::npos);
    const Output m = sh(dir, "make CFLAGS='-O2 -Wall -Wextra -Werror'");
    ASSERT_EQ(m.rc, 0) << m.out << m.err;
    const std::vector<Tensor> in = deploy_testing::block_inputs(13);
    ASSERT_TRUE(io::write_npy(dir + "/in_x.npy", in[0]).ok());
    ASSERT_TRUE(io::write_npy(dir + "/in_mask.npy", in[1]).ok());
    for (int threads : {1, 3}) {
      const Output r = sh(dir, fmt::format("./ratel_runtime --threads {} model.rbm in_mask.npy in_x.npy", threads));
      ASSERT_EQ(r.rc, 0) << r.err;
      const std::vector<Tensor> want = deploy_testing::run_model(*model, in, threads);
      ASSERT_EQ(want.size(), 2u);
      for (size_t k = 0; k < want.size(); ++k) {
        const std::string dims = fmt::format("{}", fmt::join(want[k].shape(), "_"));
        const std::vector<float> got = read_floats(fmt::format("{}/in_mask.npy_output{}_{}.txt", dir, k, dims));
        ASSERT_EQ(got.size(), static_cast<size_t>(want[k].numel())) << k;
        for (size_t i = 0; i < got.size(); ++i) {
          ASSERT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(want[k].data<float>()[i]))
              << "threads " << threads << ", output " << k << "[" << i << "]: " << got[i] << " vs "
              << want[k].data<float>()[i];
        }
      }
    }
    if (!::testing::Test::HasFailure()) fs::remove_all(dir);
  }
}

}  // namespace
}  // namespace ratel
