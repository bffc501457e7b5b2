// The deploy flow end to end: the seed tutorial's HHB command on the shared real model, the
// folder it writes, `make` inside it, ratel_runtime's HHB-format output parsed back, its saved
// outputs against `ratel run` (bit for bit) and through `ratel qa --logits` to the seed's answer.
// Each test builds its own folder (CTest runs every test in its own process).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
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

TEST_F(SeedCommand, WritesTheFolderAndSaysWhatFloat16Means) {
  for (const char* f : {"model.rbm", "model.c", "main.c", "io.c", "io.h", "process.c", "process.h", "Makefile",
                        "ratel_runtime"}) {
    EXPECT_TRUE(fs::exists(dir_ + "/ratel_out/" + f)) << f;
  }
  EXPECT_NE(seed_.err.find("float16 is not implemented yet"), std::string::npos) << seed_.err;
  auto b = bundle::Bundle::open(dir_ + "/ratel_out/model.rbm");
  ASSERT_TRUE(b.ok()) << b.status().message();
  const auto& meta = (*b)->metadata();
  EXPECT_EQ(meta.at("board"), "x86_64");
  EXPECT_EQ(meta.at("quantization.scheme"), "float32");
  EXPECT_EQ(meta.at("quantization.requested"), "float16");
  EXPECT_EQ(meta.at("inputs"), "input_ids:i32[1,384];input_mask:i32[1,384];segment_ids:i32[1,384]");
  EXPECT_EQ(meta.at("outputs"), "output_start_logits:f32[1,384];output_end_logits:f32[1,384]");
  // The recorded SHA-256 is the one the shared assets publish.
  const std::string sums = slurp(assets() + "/models/minilm-l6-squad/SHA256SUMS");
  EXPECT_NE(sums.find(meta.at("source.sha256") + "  model.onnx"), std::string::npos) << sums;
  // model.c names the bundle's graph and calls the fast entry points.
  const std::string model_c = slurp(dir_ + "/ratel_out/model.c");
  EXPECT_NE(model_c.find(fmt::format("{:#018x}", (*b)->graph_checksum())), std::string::npos);
  for (const char* call : {"ratel_dense_f32(", "ratel_attention_f32(", "ratel_layernorm_f32(", "ratel_node("}) {
    EXPECT_NE(model_c.find(call), std::string::npos) << call;
  }
}

TEST_F(SeedCommand, TheSeedsOwnBoardIsRefusedClearlyBeforeAnyWork) {
  const Output o = sh(dir_, std::string(RATEL_CLI) + " --model-file " + model_ +
                                " --input-name \"input_ids;input_mask;segment_ids\" --input-shape '1 384;1 384;1 384'"
                                " --output-name \"output_start_logits;output_end_logits\" --board c920"
                                " --quantization-scheme \"float16\" --postprocess save_and_top5 -D "
                                "--without-preprocess -o c920_out");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("board 'c920' is a riscv64 CPU"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("--board x86_64"), std::string::npos) << o.err;
  EXPECT_FALSE(fs::exists(dir_ + "/c920_out"));
  // -E works for it: the bundle does not depend on the board.
  const Output e = sh(dir_, std::string(RATEL_CLI) + " -f " + model_ + " --board c920 -E -o c920_bundle");
  EXPECT_EQ(e.rc, 0) << e.err;
  EXPECT_TRUE(fs::exists(dir_ + "/c920_bundle/model.rbm"));
  EXPECT_FALSE(fs::exists(dir_ + "/c920_bundle/model.c"));
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
                                  " --input segment_ids=feats/segment_ids.npy --threads 2 --output-dir run_out");
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
  o = sh(dir_, base + "--quantization-scheme int8_asym");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("int8_asym is not implemented yet"), std::string::npos) << o.err;
  o = sh(dir_, base + "--calibrate-mode maxmin");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("--calibrate-mode is not implemented"), std::string::npos) << o.err;
  o = sh(dir_, std::string(RATEL_CLI) + " -f " + model_ + " --board th1520 -D");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("NPU"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("C920 CPU cores"), std::string::npos) << o.err;
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
  auto onnx = runtime::Model::load_onnx(model_);
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
  EXPECT_NE(o.out.find("quantization.requested = float16"), std::string::npos) << o.out;
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

}  // namespace
}  // namespace ratel
