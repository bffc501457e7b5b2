// ratel_hostile_files: writes the hostile inputs of tests/hardening/hostile_files.h to a folder,
// for scripts/reliability-report.sh to run the real CLI on (the same bytes the tests check).
//   ratel_hostile_files DIR            write every case into DIR
//   ratel_hostile_files tokenize TEXT VOCAB
//                                      tokenize a file, print "<ids> ids in <s> s (<MB/s>)"
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include "core/file.h"
#include "core/tensor.h"
#include "hardening/hostile_files.h"
#include "io/npy.h"
#include "nlp/bert_tokenizer.h"

using namespace ratel::hardening;

namespace {

int tokenize(const std::string& text_path, const std::string& vocab_path) {
  auto text = ratel::read_text_file(text_path);
  if (!text.ok()) return std::fprintf(stderr, "%s\n", text.status().message().c_str()), 1;
  auto tokenizer = ratel::nlp::BertTokenizer::load(vocab_path);
  if (!tokenizer.ok()) return std::fprintf(stderr, "%s\n", tokenizer.status().message().c_str()), 1;
  std::vector<int32_t> ids;
  const auto t0 = std::chrono::steady_clock::now();
  const ratel::Status s = tokenizer->encode(*text, &ids);
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!s.ok()) return std::fprintf(stderr, "%s\n", s.message().c_str()), 1;
  std::printf("%zu ids from %.1f MB in %.2f s (%.1f MB/s)\n", ids.size(), text->size() / 1e6, sec,
              text->size() / 1e6 / sec);
  return 0;
}

template <typename T>
void npy(const std::string& path, const std::vector<T>& v, ratel::Shape shape) {
  if (!ratel::io::write_npy(path, ratel::Tensor::from_vector<T>(v, std::move(shape))).ok()) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "tokenize") return tokenize(argv[2], argv[3]);
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR | tokenize TEXT VOCAB\n", argv[0]);
    return 2;
  }
  const std::string d = argv[1];
  ::mkdir(d.c_str(), 0755);
  auto w = [&](const std::string& name, const std::string& bytes) { write_bytes(d + "/" + name, bytes); };
  w("huge_input_dim.onnx", huge_input_dim_model());
  w("overflowing_dims.onnx", overflowing_dims_model());
  w("negative_dim.onnx", negative_dim_model());
  w("lying_initializer.onnx", lying_initializer_model());
  w("weights.bin", std::string(64, '\0'));
  w("external_past_end.onnx", external_data_model("weights.bin", "56"));
  w("external_offset_overflow.onnx", external_data_model("weights.bin", "9223372036854775807"));
  w("external_absolute.onnx", external_data_model("/etc/passwd", "0"));
  w("external_parent.onnx", external_data_model("../weights.bin", "0"));
  ::mkfifo((d + "/fifo.bin").c_str(), 0600);
  w("external_fifo.onnx", external_data_model("fifo.bin", "0"));
  ::mkfifo((d + "/fifo.onnx").c_str(), 0600);
  w("self_loop.onnx", self_loop_model());
  w("cycle.onnx", cycle_model());
  w("recursion_bomb.onnx", deep_nesting_model(100000));
  w("chain_1e6.onnx", chain_model(1000000));
  w("fan_out_1e6.onnx", fan_out_model(1000000));
  for (const char* op : {"ConstantOfShape", "Expand", "Tile", "Range"}) {
    w(std::string("huge_") + op + ".onnx", huge_output_model(op));
  }
  w("big_weights.onnx", bytes_of(scale_model(int64_t{1} << 20, 0.5f, "encoder.big_weight")));
  w("nan_weight.onnx", bad_weight_model(4, NAN, 2));
  w("inf_weight.onnx", bad_weight_model(4, INFINITY, 3));
  w("scale.onnx", bytes_of(scale_model(4)));
  npy<float>(d + "/x.npy", {1, 2, 3, 4}, {4});
  npy<float>(d + "/x_chain.npy", {-1, 2, -3, 4}, {1, 4});
  npy<float>(d + "/x_big.npy", std::vector<float>(size_t{1} << 20, 1.0f), {int64_t{1} << 20});
  npy<float>(d + "/x_nan.npy", {1, NAN, 3, INFINITY}, {4});
  w("x_huge_header.npy", lying_npy("(1099511627776, 1099511627776)", 16));
  w("x_lying_header.npy", lying_npy("(4194304,)", 16));
  // The tiny QA model: clean, with an infinite logit for "the", with NaN, with a vocab.txt one
  // token larger than its embedding table.
  const int seq = 96;
  auto qa_dir = [&](const std::string& name, const onnx::ModelProto& m, const std::string& vocab) {
    ::mkdir((d + "/" + name).c_str(), 0755);
    save_model(m, d + "/" + name + "/model.onnx");
    write_bytes(d + "/" + name + "/vocab.txt", vocab);
  };
  qa_dir("qa", qa_model(seq), qa_vocab());
  qa_dir("qa_inf", qa_model(seq, 4, INFINITY), qa_vocab());
  qa_dir("qa_nan", qa_model(seq, 4, NAN), qa_vocab());
  qa_dir("qa_vocab_mismatch", qa_model(seq), qa_vocab() + "extra\n");
  std::vector<int64_t> ids(seq, 4), ones(seq, 1), zeros(seq, 0);
  ids[5] = 999;
  npy<int64_t>(d + "/ids_oov.npy", ids, {1, seq});
  npy<int64_t>(d + "/mask.npy", ones, {1, seq});
  npy<int64_t>(d + "/segments.npy", zeros, {1, seq});
  std::vector<float> fids(seq, 4.0f);
  fids[7] = 4.5f;
  w("ids_fraction.bin", std::string(reinterpret_cast<const char*>(fids.data()), fids.size() * 4));
  w("nested.json", nested_squad_json(size_t{1} << 20));
  w("text_100mb.txt", big_text(size_t{100} << 20));
  w("word_100mb.txt", std::string(size_t{100} << 20, 'a'));
  std::printf("wrote hostile files to %s\n", d.c_str());
  return 0;
}
