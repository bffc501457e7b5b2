// The CLI on hostile inputs: --max-memory, ids outside the vocabulary, NaN/Inf in inputs,
// weights and outputs, nested JSON, FIFOs. Each case runs the real `ratel` binary and checks its
// exit status and its one-line error.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zip.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "core/tensor.h"
#include "hardening/hostile_files.h"
#include "io/npy.h"

#ifndef RATEL_CLI
#error "RATEL_CLI must name the ratel binary"
#endif

namespace ratel {
namespace {

using namespace ratel::hardening;

struct CliRun {
  int status = -1;
  std::string output;  // stdout and stderr
};

// Runs `ratel ARGS` with a time limit (a hang is a failure, not a stuck test).
CliRun ratel(const std::string& args) {
  CliRun r;
  const std::string cmd = "timeout 120 " + std::string(RATEL_CLI) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// The "ratel: error: ..." line (or "" when there is none); also checks there is just one.
std::string error_line(const CliRun& r) {
  const size_t at = r.output.find("ratel: error: ");
  if (at == std::string::npos) return "";
  const size_t end = r.output.find('\n', at);
  EXPECT_EQ(r.output.find("ratel: error: ", at + 1), std::string::npos) << "two errors: " << r.output;
  return r.output.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

#define EXPECT_HAS(haystack, needle) \
  EXPECT_NE((haystack).find(needle), std::string::npos) << "output: " << (haystack)

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ratel_cli_hardening_XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string file(const std::string& name) const { return dir_ + "/" + name; }
  std::string write(const std::string& name, const std::string& bytes) const {
    write_bytes(file(name), bytes);
    return file(name);
  }
  template <typename T>
  std::string npy(const std::string& name, const std::vector<T>& values, Shape shape) const {
    EXPECT_TRUE(io::write_npy(file(name), Tensor::from_vector<T>(values, std::move(shape))).ok());
    return file(name);
  }
  // A tiny QA model in its own folder with vocab.txt beside it (what `ratel qa` looks for).
  std::string qa_folder(const std::string& name, const onnx::ModelProto& m,
                        const std::string& vocab = qa_vocab()) const {
    const std::string folder = file(name);
    ::mkdir(folder.c_str(), 0755);
    save_model(m, folder + "/model.onnx");
    write_bytes(folder + "/vocab.txt", vocab);
    return folder + "/model.onnx";
  }
  std::string dir_;
};

constexpr int kSeq = 96;

TEST_F(CliTest, MaxMemoryRefusesWeightsOverTheLimitNamingTheTensor) {
  const int64_t n = int64_t{1} << 20;  // 4 MiB of weights
  const std::string model = write("big.onnx", bytes_of(scale_model(n, 0.5f, "encoder.big_weight")));
  const std::string x = npy<float>("x.npy", std::vector<float>(static_cast<size_t>(n), 1.0f), {n});
  // `run` reads its .npy inputs first (they fix the shapes): the 4 MiB input is refused, named.
  CliRun r = ratel("run " + model + " --input x=" + x + " --max-memory 2M");
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "x.npy: allocation of 4194304 bytes (4.0 MiB) exceeds the memory limit of 2.0 MiB");
  r = ratel("inspect " + model + " --max-memory 2M");
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "initializer 'encoder.big_weight': allocation of 4194304 bytes (4.0 MiB) exceeds the memory limit of 2.0 MiB");
  r = ratel("inspect " + model + " --max-memory 1.5M");
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "initializer 'encoder.big_weight'");
  // Under a limit that fits the weights but not also the input, the arena and the output, the
  // failing allocation is named too; with room it runs.
  r = ratel("run " + model + " --input x=" + x + " --max-memory 9M");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_HAS(error_line(r), "the session's activation memory: allocation of 4194304 bytes (4.0 MiB) exceeds the memory limit of 9.0 MiB: 8.0 MiB already in use");
  r = ratel("run " + model + " --input x=" + x + " --max-memory 64M");
  EXPECT_EQ(r.status, 0) << r.output;
  r = ratel("run " + model + " --input x=" + x + " --max-memory 12Q");
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "--max-memory: bad size '12Q': unknown unit 'Q'");
  // ratel qa honours it as well.
  const std::string qa = qa_folder("qa", qa_model(kSeq));
  r = ratel("qa -m " + qa + " --context 'the team won' --question 'who won?' --max-memory 1K");
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "exceeds the memory limit of 1.0 KiB");
}

TEST_F(CliTest, IdsOutsideTheVocabularyNameInputAndPosition) {
  const std::string model = qa_folder("qa", qa_model(kSeq));
  const int vocab = qa_vocab_size();
  std::vector<int64_t> ids(kSeq, 4), ones(kSeq, 1), zeros(kSeq, 0);
  ids[5] = 999;
  const std::string args = " --input input_mask=" + npy<int64_t>("m.npy", ones, {1, kSeq}) +
                           " --input segment_ids=" + npy<int64_t>("s.npy", zeros, {1, kSeq});
  CliRun r = ratel("run " + model + " --input input_ids=" + npy<int64_t>("ids.npy", ids, {1, kSeq}) + args);
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), fmt::format("input 'input_ids': element 5 is 999, outside the {} rows of 'embedding' it indexes", vocab));
  ids[5] = 4;
  ids[kSeq - 1] = -vocab - 1;
  r = ratel("run " + model + " --input input_ids=" + npy<int64_t>("ids2.npy", ids, {1, kSeq}) + args);
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), fmt::format("input 'input_ids': element {} is {}, outside the {} rows", kSeq - 1, -vocab - 1, vocab));
  // HHB-style float ids: a fraction is not an id.
  std::vector<float> fids(kSeq, 4.0f);
  fids[7] = 4.5f;
  write("ids.bin", std::string(reinterpret_cast<const char*>(fids.data()), fids.size() * 4));
  r = ratel("run " + model + " --input input_ids=" + file("ids.bin") + ":f32" + args);
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "input 'input_ids': element 7 is 4.5, not an integer (the model expects i64)");
  // ratel qa with a vocab.txt larger than the model's embedding table: the first token past
  // the table is reported by input and position, not read out of bounds.
  std::string big_vocab = qa_vocab() + "extra\n";
  const std::string mismatched = qa_folder("mismatched", qa_model(kSeq), big_vocab);
  r = ratel("qa -m " + mismatched + " --context 'the team won extra' --question 'who won?'");
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), fmt::format("input 'input_ids': element 8 is {}, outside the {} rows of 'embedding'", vocab, vocab));
}

TEST_F(CliTest, NonFiniteValuesAreReported) {
  const std::string model = write("scale.onnx", bytes_of(scale_model(4)));
  // NaN in an input: a warning naming it; NaN in the output: an error (after printing it).
  const std::string x = npy<float>("x.npy", {1.0f, NAN, 3.0f, INFINITY}, {4});
  CliRun r = ratel("run " + model + " --input x=" + x + " --output-dir " + file("out"));
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(r.output, "ratel: warning: input 'x' (" + x + ") holds 1 NaN and 1 infinite values (the first at element 1)");
  EXPECT_HAS(error_line(r), "output 'y' holds 1 NaN and 1 infinite values (the first at element 1); check the inputs and weights");
  EXPECT_HAS(r.output, "saved " + file("out") + "/y.npy");
  r = ratel("run " + model + " --input x=" + x + " --allow-nonfinite");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_HAS(r.output, "ratel: warning: output 'y' holds 1 NaN and 1 infinite values");
  // NaN weights: refused at load, naming the tensor. Infinite weights: a warning at load, and
  // the infinite output an error.
  const std::string ok_x = npy<float>("ok.npy", {1.0f, 2.0f, 3.0f, 4.0f}, {4});
  r = ratel("run " + write("nan.onnx", bad_weight_model(4, NAN, 2)) + " --input x=" + ok_x);
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "initializer 'encoder.weight' holds NaN (1 of its 4 values, the first at element 2)");
  r = ratel("run " + write("inf.onnx", bad_weight_model(4, INFINITY, 3)) + " --input x=" + ok_x);
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(r.output, "ratel: warning: initializer 'encoder.weight' holds 1 infinite value (the first at element 3)");
  EXPECT_HAS(error_line(r), "output 'y' holds 1 infinite value (the first at element 3)");
}

TEST_F(CliTest, QaRefusesNonFiniteLogitsAndNaNWeights) {
  // "the" (id 4) has an infinite start logit: the answer would be garbage, so qa fails.
  const std::string inf = qa_folder("inf", qa_model(kSeq, 4, INFINITY));
  CliRun r = ratel("qa -m " + inf + " --context 'the team won' --question 'who won?'");
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(r.output, "ratel: warning: initializer 'embedding' holds 1 infinite value");
  EXPECT_HAS(error_line(r), "the model produced a non-finite logit at position");
  const std::string nan = qa_folder("nan", qa_model(kSeq, 4, NAN));
  r = ratel("qa -m " + nan + " --context 'the team won' --question 'who won?'");
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "initializer 'embedding' holds NaN (1 of its");
  // The same model without poison answers.
  const std::string ok = qa_folder("ok", qa_model(kSeq));
  r = ratel("qa -m " + ok + " --context 'the team won' --question 'who won?'");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_HAS(r.output, "[Answer]: ");
  // --logits with a NaN: refused by answer extraction.
  const std::string squad = write("s.json", R"({"data":[{"title":"t","paragraphs":[{"context":"the team won","qas":[{"id":"q1","question":"who won?"}]}]}]})");
  std::vector<float> logits(kSeq, 0.5f);
  npy<float>("start_logits.npy", logits, {1, kSeq});
  logits[11] = NAN;
  npy<float>("end_logits.npy", logits, {1, kSeq});
  r = ratel("qa --squad " + squad + " --vocab " + file("ok/vocab.txt") + " --max-seq-length " +
            std::to_string(kSeq) + " --logits " + dir_ + " -o " + file("pred"));
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "logit at position 11 is not finite");
}

TEST_F(CliTest, QaRefusesDeeplyNestedSquadJson) {
  const std::string model = qa_folder("qa", qa_model(kSeq));
  const std::string squad = write("nested.json", nested_squad_json(size_t{1} << 20));
  CliRun r = ratel("qa -m " + model + " --squad " + squad + " -o " + file("pred"));
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), squad + ":1:");
  EXPECT_HAS(error_line(r), "invalid JSON: nested deeper than 256 levels");
}

TEST_F(CliTest, FifosAreRefusedNotWaitedOn) {
  ASSERT_EQ(mkfifo(file("model.onnx").c_str(), 0600), 0);
  ASSERT_EQ(mkfifo(file("x.npy").c_str(), 0600), 0);
  CliRun r = ratel("inspect " + file("model.onnx"));
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "is not a regular file");
  const std::string model = write("scale.onnx", bytes_of(scale_model(4)));
  r = ratel("run " + model + " --input x=" + file("x.npy"));
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "x.npy' is not a regular file");
}


// y = x · W + b with x [1, 5, 8]: one ratel.Dense after fusion, what the integer schemes rewrite.
onnx::ModelProto dense_model() {
  auto m = empty_model("dense");
  auto* g = m.mutable_graph();
  set_type(g->add_input(), "x", onnx::TensorProto::FLOAT, {1, 5, 8});
  set_type(g->add_output(), "y", onnx::TensorProto::FLOAT, {1, 5, 3});
  std::vector<float> w(24);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(static_cast<int>(i % 7) - 3) * 0.125f;
  add_f32_initializer(g, "W", {8, 3}, w);
  add_f32_initializer(g, "b", {3}, {0.5f, -0.25f, 0.0f});
  add_node(g, "MatMul", "matmul", {"x", "W"}, {"xw"});
  add_node(g, "Add", "bias", {"xw", "b"}, {"y"});
  return m;
}

// --profile: one trace event per kernel step and run, named by node, and a per-op table; a path
// that cannot be written and the reference executor (no steps) are one-line errors.
TEST_F(CliTest, ProfileWritesAChromeTraceAndATimePerOp) {
  const std::string model = write("dense.onnx", bytes_of(dense_model()));
  std::vector<float> xs(40);
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<float>(i % 7) * 0.25f - 0.5f;
  const std::string run = "run " + model + " --input x=" + npy<float>("x.npy", xs, {1, 5, 8}) + " ";
  CliRun r = ratel(run + "--repeat 3 --profile " + file("trace.json"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_HAS(r.output, "profile: kernel time per run ");
  EXPECT_HAS(r.output, "(mean of runs 2..3; run 1 is warm-up), by op:");
  EXPECT_HAS(r.output, "ratel.Dense");
  EXPECT_HAS(r.output, "slowest nodes:");
  EXPECT_HAS(r.output, "profile: wrote " + file("trace.json"));
  std::ifstream f(file("trace.json"));
  const std::string trace((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(trace.rfind("{", 0), 0u) << trace.substr(0, 200);
  EXPECT_HAS(trace, "\"traceEvents\"");
  size_t events = 0, runs[3] = {0, 0, 0};
  for (size_t at = trace.find("\"ph\": \"X\""); at != std::string::npos; at = trace.find("\"ph\": \"X\"", at + 1)) ++events;
  for (int k = 0; k < 3; ++k) {
    const std::string tag = "\"run\": " + std::to_string(k);
    for (size_t at = trace.find(tag); at != std::string::npos; at = trace.find(tag, at + 1)) ++runs[k];
  }
  EXPECT_GT(events, 0u);
  EXPECT_EQ(events, runs[0] + runs[1] + runs[2]);
  EXPECT_EQ(runs[0], runs[1]);  // the same steps every run
  EXPECT_EQ(runs[1], runs[2]);
  EXPECT_HAS(trace, "\"kernel\": ");

  r = ratel(run + "--profile " + file("no/such/dir/trace.json"));
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), file("no/such/dir/trace.json"));
  r = ratel(run + "--reference --profile " + file("ref.json"));
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "profiling needs the fast executor (not --reference)");
}

// HHB's -cd forms: a .npz (stored or deflated members) and a .txt list of per-sample files (.npy
// or float32 .bin) calibrate exactly as the folder of stacked .npy files does; broken ones are
// one-line errors naming the archive member or the list's line.
TEST_F(CliTest, CalibrationDataComesAsFolderNpzOrTxtList) {
  const std::string model = write("dense.onnx", bytes_of(dense_model()));
  std::vector<float> xs(3 * 40);
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<float>((i * 7) % 13) * 0.25f - 1.5f;
  const std::string input = npy<float>("x.npy", std::vector<float>(xs.begin(), xs.begin() + 40), {1, 5, 8});
  ::mkdir(file("calib").c_str(), 0755);
  npy<float>("calib/x.npy", xs, {3, 1, 5, 8});
  std::ifstream stacked_file(file("calib/x.npy"), std::ios::binary);
  const std::string stacked((std::istreambuf_iterator<char>(stacked_file)), std::istreambuf_iterator<char>());
  // .npz archives written with libzip, as numpy writes them: x.npy, stored and deflated.
  auto npz = [&](const std::string& name, const std::string& member, zip_int32_t method) {
    int err = 0;
    zip_t* z = zip_open(file(name).c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    EXPECT_NE(z, nullptr);
    zip_source_t* src = zip_source_buffer(z, stacked.data(), stacked.size(), 0);
    const zip_int64_t idx = zip_file_add(z, member.c_str(), src, ZIP_FL_OVERWRITE);
    EXPECT_GE(idx, 0);
    EXPECT_EQ(zip_set_file_compression(z, static_cast<zip_uint64_t>(idx), method, 0), 0);
    EXPECT_EQ(zip_close(z), 0);
    return file(name);
  };
  const std::string stored = npz("stored.npz", "x.npy", ZIP_CM_STORE);
  const std::string deflated = npz("deflated.npz", "x.npy", ZIP_CM_DEFLATE);
  // A .txt list: sample 0 as .npy, samples 1 and 2 as raw float32 .bin, relative to the list.
  std::string list;
  for (int i = 0; i < 3; ++i) {
    const std::vector<float> one(xs.begin() + 40 * i, xs.begin() + 40 * (i + 1));
    if (i == 0) {
      npy<float>("s0_x.npy", one, {1, 5, 8});
      list += "s0_x.npy\n";
    } else {
      write("s" + std::to_string(i) + "_x.bin",
            std::string(reinterpret_cast<const char*>(one.data()), one.size() * sizeof(float)));
      list += "s" + std::to_string(i) + "_x.bin\n\n";  // blank lines are skipped
    }
  }
  const std::string txt = write("calib.txt", list);

  const std::string run = "run " + model + " --input x=" + input + " --quantization-scheme int8_asym ";
  auto output = [&](const std::string& cd, const std::string& out) {
    const CliRun r = ratel(run + "--calibrate-dataset " + cd + " --output-dir " + file(out));
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_HAS(r.output, "calibrating: 3 samples");
    auto y = io::read_npy(file(out) + "/y.npy");
    EXPECT_TRUE(y.ok()) << y.status().message();
    return y.ok() ? y->to_vector<float>() : std::vector<float>{};
  };
  const std::vector<float> want = output(file("calib"), "folder");
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(output(stored, "stored"), want);
  EXPECT_EQ(output(deflated, "deflated"), want);
  EXPECT_EQ(output(txt, "txt"), want);

  CliRun r = ratel(run + "--calibrate-dataset " + npz("other.npz", "y.npy", ZIP_CM_STORE));
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "other.npz has no array 'x' (its arrays: y.npy)");
  r = ratel(run + "--calibrate-dataset " + write("corrupt.npz", "PK\x03\x04 not really a zip"));
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "corrupt.npz: not a readable .npz (zip) archive");
  r = ratel(run + "--calibrate-dataset " + write("two.txt", "s0_x.npy s0_x.npy\n"));
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "two.txt:1: 2 files, the model has 1 inputs");
  r = ratel(run + "--calibrate-dataset " + write("short.txt", "s0_x.npy\nshort.bin\n"));
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "short.txt:2: input 'x'");
  r = ratel(run + "--calibrate-dataset " + write("calib.csv", "x"));
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "expected a folder of <input name>.npy files, a .npz archive or a .txt list");
}

TEST_F(CliTest, QuantizationSchemesAndCalibrationDataAreChecked) {
  const std::string model = write("dense.onnx", bytes_of(dense_model()));
  std::vector<float> xs(3 * 40);
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<float>(i % 11) * 0.3f - 1.0f;
  const std::string input = npy<float>("x.npy", std::vector<float>(xs.begin(), xs.begin() + 40), {1, 5, 8});
  ::mkdir(file("calib").c_str(), 0755);
  npy<float>("calib/x.npy", xs, {3, 1, 5, 8});  // three samples
  const std::string run = "run " + model + " --input x=" + input + " ";

  CliRun r = ratel(run + "--quantization-scheme int7_asym");
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "unknown quantization scheme 'int7_asym' (float32, float16, bfloat16, float16_w_int8, "
                            "int8_asym, int8_asym_w_sym, int8_sym, uint8_asym, int16_sym)");
  r = ratel(run + "--quantization-scheme int8_asym");
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "int8_asym quantizes activations: give calibration data with --calibrate-dataset");
  r = ratel(run + "--quantization-scheme float16 --calibrate-dataset " + file("calib"));
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "'float16' needs no calibration");
  r = ratel(run + "--quantization-scheme int8_asym --calibrate-dataset " + file("missing"));
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), file("missing") + ": no such file or folder");
  r = ratel(run + "--quantization-scheme int8_asym --calibrate-dataset " + file("calib") + " --calibrate-mode entropy");
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "unknown calibration mode 'entropy' (maxmin, percentile, kl_divergence or mse)");

  // Calibrated, each mode runs and the output stays near float32's (8 products of |x| <= 2.3,
  // |w| <= 0.375: int8 rounding moves y by far less than 0.1).
  r = ratel(run + "--output-dir " + file("f32"));
  ASSERT_EQ(r.status, 0) << r.output;
  auto exact = io::read_npy(file("f32") + "/y.npy");
  ASSERT_TRUE(exact.ok()) << exact.status().message();
  for (const char* mode : {"maxmin", "percentile", "kl_divergence", "mse"}) {
    SCOPED_TRACE(mode);
    r = ratel(run + "--quantization-scheme int8_asym --channel-quantization --calibrate-dataset " + file("calib") +
              " --calibrate-mode " + mode + " --output-dir " + file(mode));
    ASSERT_EQ(r.status, 0) << r.output;
    auto y = io::read_npy(file(mode) + "/y.npy");
    ASSERT_TRUE(y.ok()) << y.status().message();
    const std::vector<float> a = y->to_vector<float>(), b = exact->to_vector<float>();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 0.1) << i;
  }
  // --smooth-quant: near float32 too; alpha outside [0, 1], a scheme without integer activations
  // and a mode that clips are errors.
  r = ratel(run + "--quantization-scheme int8_asym --channel-quantization --calibrate-dataset " + file("calib") +
            " --smooth-quant 0.75 --output-dir " + file("smooth"));
  ASSERT_EQ(r.status, 0) << r.output;
  auto smoothed = io::read_npy(file("smooth") + "/y.npy");
  ASSERT_TRUE(smoothed.ok()) << smoothed.status().message();
  const std::vector<float> sa = smoothed->to_vector<float>(), sb = exact->to_vector<float>();
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) EXPECT_NEAR(sa[i], sb[i], 0.1) << i;
  r = ratel(run + "--quantization-scheme int8_asym --calibrate-dataset " + file("calib") + " --smooth-quant 1.5");
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "--smooth-quant 1.5: give alpha in [0, 1] (0: off) or auto");
  r = ratel(run + "--quantization-scheme float16 --smooth-quant 0.5");
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "--smooth-quant is for the integer schemes ('float16' is not one)");
  r = ratel(run + "--quantization-scheme int8_asym --calibrate-dataset " + file("calib") +
            " --calibrate-mode mse --smooth-quant 0.5");
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "--smooth-quant needs --calibrate-mode maxmin (got mse)");
  // --activation-bits 7: near float32 too (twice the 8-bit step, still far below 0.1); other
  // widths and schemes without u8 activations are errors.
  r = ratel(run + "--quantization-scheme int8_asym --channel-quantization --calibrate-dataset " + file("calib") +
            " --activation-bits 7 --output-dir " + file("seven"));
  ASSERT_EQ(r.status, 0) << r.output;
  auto seven = io::read_npy(file("seven") + "/y.npy");
  ASSERT_TRUE(seven.ok()) << seven.status().message();
  const std::vector<float> s7 = seven->to_vector<float>();
  ASSERT_EQ(s7.size(), sb.size());
  for (size_t i = 0; i < s7.size(); ++i) EXPECT_NEAR(s7[i], sb[i], 0.1) << i;
  r = ratel(run + "--quantization-scheme int8_asym --calibrate-dataset " + file("calib") + " --activation-bits 6");
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "--activation-bits 6: give 8 or 7");
  r = ratel(run + "--quantization-scheme int8_sym --calibrate-dataset " + file("calib") + " --activation-bits 7");
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "'int8_sym' is not one");
  // --dump-quantization-loss: the table and the CSV; without a quantization scheme, an error.
  r = ratel(run + "--quantization-scheme int8_asym --calibrate-dataset " + file("calib") +
            " --dump-quantization-loss --output-dir " + file("loss"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_HAS(r.output, "activations compared with the float32 model on these inputs");
  EXPECT_HAS(r.output, "quantization loss of the outputs:");
  std::ifstream csv(file("loss") + "/quantization_loss.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header, "value,reader,order,count,cosine,mse,max_abs,ref_max_abs");
  r = ratel(run + "--dump-quantization-loss");
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "--dump-quantization-loss compares a quantized model with the float32 one");

  // Wrong shapes, mismatched sample counts, NaN in the data: one line naming the file or value.
  npy<float>("calib/x.npy", std::vector<float>(16, 1.0f), {2, 8});
  r = ratel(run + "--quantization-scheme int8_asym --calibrate-dataset " + file("calib"));
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), file("calib/x.npy") + ": shape [2, 8] is neither input 'x''s shape [1, 5, 8]");
  std::vector<float> poisoned(xs);
  poisoned[45] = std::nanf("");
  npy<float>("calib/x.npy", poisoned, {3, 5, 8});
  r = ratel(run + "--quantization-scheme int8_asym --calibrate-dataset " + file("calib"));
  EXPECT_EQ(r.status, 1);
  EXPECT_HAS(error_line(r), "calibration sample 1: activation 'x' holds nan at element 5");
}

}  // namespace
}  // namespace ratel
