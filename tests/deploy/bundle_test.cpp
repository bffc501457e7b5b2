// The .rbm bundle: checksums against reference vectors, round trips (structure, constants in
// place, bit-identical outputs), determinism, and refusal of damaged or hostile files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <filesystem>
#include <set>

#include "bundle/bundle.h"
#include "bundle/checksum.h"
#include "bundle_graphs.h"

namespace ratel {
namespace {

using namespace deploy_testing;
using bundle::Bundle;

std::span<const std::byte> as_bytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

TEST(Checksum, Xxh64MatchesReferenceVectors) {
  // Values from the reference implementation (python-xxhash 3.x).
  EXPECT_EQ(bundle::xxh64(as_bytes("")), 0xef46db3751d8e999ull);
  EXPECT_EQ(bundle::xxh64(as_bytes("a")), 0xd24ec4f1a98c6e5bull);
  EXPECT_EQ(bundle::xxh64(as_bytes("abc")), 0x44bc2cf5ad770999ull);
  EXPECT_EQ(bundle::xxh64(as_bytes("Nobody inspects the spammish repetition")), 0xfbcea83c8a378bf1ull);
  EXPECT_EQ(bundle::xxh64(as_bytes("abc"), 42), 0x13c1d910702770e6ull);
  std::string long_input;
  for (int r = 0; r < 3; ++r) {
    for (int i = 0; i < 256; ++i) long_input += static_cast<char>(i);
  }
  long_input += "xyz";
  EXPECT_EQ(bundle::xxh64(as_bytes(long_input)), 0xe921a1b45bd779f8ull);
  EXPECT_EQ(bundle::xxh64(as_bytes(long_input), 42), 0x7649e45d58c1a228ull);
  // Streaming in uneven pieces gives the one-shot value.
  for (size_t piece : {1u, 7u, 31u, 32u, 33u, 100u}) {
    bundle::Xxh64 h;
    for (size_t at = 0; at < long_input.size(); at += piece) {
      h.update(as_bytes(std::string_view(long_input).substr(at, piece)));
    }
    EXPECT_EQ(h.digest(), 0xe921a1b45bd779f8ull) << "piece " << piece;
  }
}

TEST(Checksum, Sha256MatchesFipsVectors) {
  auto sha = [](std::string_view s, size_t piece) {
    bundle::Sha256 h;
    for (size_t at = 0; at < s.size(); at += piece) h.update(as_bytes(s.substr(at, piece)));
    const auto d = h.digest();
    return bundle::to_hex(d);
  };
  EXPECT_EQ(sha("", 1), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha("abc", 1), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  for (size_t piece : {1u, 5u, 64u, 100u}) {
    EXPECT_EQ(sha(two_blocks, piece), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  }
  EXPECT_EQ(sha(std::string(1000000, 'a'), 4096),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

class BundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    runtime::LoadOptions options;
    options.optimize = false;
    auto m = runtime::Model::from_graph(block_graph(), options);
    ASSERT_TRUE(m.ok()) << m.status().message();
    model_ = *m;
    auto bytes = bundle::serialize_bundle(model_->graph(), {{"board", "x86_64"}, {"source.model", "block"}});
    ASSERT_TRUE(bytes.ok()) << bytes.status().message();
    bytes_ = std::move(bytes).value();
  }

  // Parses and loads a (possibly damaged) copy; returns the status.
  Status load(const std::vector<std::byte>& bytes) {
    auto keep = std::make_shared<std::vector<std::byte>>(bytes);
    auto b = Bundle::parse(*keep, keep, "t.rbm");
    if (!b.ok()) return b.status();
    auto m = bundle::load_model(*b);
    if (!m.ok()) return m.status();
    // A bundle that loads must also run.
    return run_model(m->model, block_inputs(1)).empty() ? internal_error("loaded but failed to run")
                                                        : Status::Ok();
  }

  // Offset of a section's bytes, by kind.
  size_t section_offset(bundle::SectionKind kind) {
    auto b = Bundle::parse(bytes_, nullptr, "t.rbm");
    for (const auto& s : (*b)->sections()) {
      if (s.kind == kind) return static_cast<size_t>(s.offset);
    }
    ADD_FAILURE() << "no section";
    return 0;
  }
  // Offset of the first record field after value `name` in the graph section (the dtype byte).
  size_t value_record(const std::string& name) {
    const size_t graph = section_offset(bundle::SectionKind::kGraph);
    std::vector<std::byte> key(4);
    const uint32_t n = static_cast<uint32_t>(name.size());
    std::memcpy(key.data(), &n, 4);
    for (char c : name) key.push_back(static_cast<std::byte>(c));  // (a memcpy here trips gcc 12's -O1 bounds warning)
    auto it = std::search(bytes_.begin() + static_cast<ptrdiff_t>(graph), bytes_.end(), key.begin(), key.end());
    EXPECT_NE(it, bytes_.end()) << name;
    return static_cast<size_t>(it - bytes_.begin()) + key.size();
  }
  template <typename T>
  std::vector<std::byte> with(size_t offset, T value, bool resign_it = true) {
    std::vector<std::byte> b = bytes_;
    std::memcpy(b.data() + offset, &value, sizeof(T));
    if (resign_it) resign(b);
    return b;
  }
  void expect_error(const std::vector<std::byte>& b, const std::string& needle) {
    const Status s = load(b);
    ASSERT_FALSE(s.ok()) << "expected an error containing: " << needle;
    EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("t.rbm"), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << "one line: " << s.message();
  }

  std::shared_ptr<runtime::Model> model_;
  std::vector<std::byte> bytes_;
};

TEST_F(BundleTest, RoundTripKeepsStructureAndRunsBitIdentical) {
  const std::string path = ::testing::TempDir() + "/round_trip.rbm";
  bundle::WriteStats stats;
  ASSERT_TRUE(
      bundle::write_bundle(model_->graph(), {{"board", "x86_64"}, {"source.model", "block"}}, path, &stats).ok());
  EXPECT_EQ(stats.file_bytes, std::filesystem::file_size(path));
  auto loaded = bundle::load_model(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const ir::Graph& a = model_->graph();
  const ir::Graph& b = loaded->model->graph();
  ASSERT_EQ(a.values().size(), b.values().size());
  for (size_t i = 0; i < a.values().size(); ++i) {
    const ir::Value& va = *a.values()[i];
    const ir::Value& vb = *b.values()[i];
    EXPECT_EQ(va.name, vb.name);
    EXPECT_EQ(va.dtype, vb.dtype) << va.name;
    EXPECT_EQ(va.shape, vb.shape) << va.name;
    EXPECT_EQ(va.is_constant(), vb.is_constant()) << va.name;
    if (va.is_constant()) {
      EXPECT_TRUE(bit_identical(va.constant, vb.constant)) << va.name;
    }
  }
  ASSERT_EQ(a.nodes().size(), b.nodes().size());
  for (size_t i = 0; i < a.nodes().size(); ++i) {
    const ir::Node& na = *a.nodes()[i];
    const ir::Node& nb = *b.nodes()[i];
    EXPECT_EQ(na.describe(), nb.describe());
    EXPECT_EQ(na.opset, nb.opset);
    EXPECT_EQ(na.inputs.size(), nb.inputs.size());
    for (size_t k = 0; k < na.inputs.size() && k < nb.inputs.size(); ++k) {
      EXPECT_EQ(na.inputs[k] ? na.inputs[k]->name : "-", nb.inputs[k] ? nb.inputs[k]->name : "-");
    }
    EXPECT_EQ(na.attrs.all().size(), nb.attrs.all().size()) << na.describe();
  }
  EXPECT_EQ(loaded->bundle->metadata().at("board"), "x86_64");

  // Constants are views of the mapped file, 64-byte aligned; the weights section is page aligned.
  const auto file = loaded->bundle->bytes();
  int constants = 0;
  for (const auto& v : b.values()) {
    if (!v->is_constant() || v->producer) continue;
    const auto* p = static_cast<const std::byte*>(v->constant.raw());
    EXPECT_TRUE(p >= file.data() && p + v->constant.nbytes() <= file.data() + file.size()) << v->name << " was copied";
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u) << v->name;
    ++constants;
  }
  EXPECT_GE(constants, 10);
  for (const auto& s : loaded->bundle->sections()) {
    if (s.kind == bundle::SectionKind::kWeights) {
      EXPECT_EQ(s.offset % 4096, 0u);
    }
  }

  for (int threads : {1, 2}) {
    const auto in = block_inputs(7);
    const auto want = run_model(model_, in, threads);
    const auto got = run_model(loaded->model, in, threads);
    ASSERT_EQ(want.size(), 2u);
    ASSERT_EQ(got.size(), 2u);
    for (size_t i = 0; i < want.size(); ++i) EXPECT_TRUE(bit_identical(want[i], got[i])) << "output " << i;
  }
  // Same plan: the bundle does not change which kernels run.
  EXPECT_EQ((*model_->plan())->stats().fast_steps, (*loaded->model->plan())->stats().fast_steps);
  EXPECT_EQ((*model_->plan())->stats().reference_steps, (*loaded->model->plan())->stats().reference_steps);
}

// Attributes equal value for value, floats bit for bit (x_scale is a float attribute: a rounded
// one would change every quantized activation).
bool same_attributes(const ir::Attributes& a, const ir::Attributes& b, std::string* why) {
  if (a.all().size() != b.all().size()) {
    *why = "attribute count";
    return false;
  }
  for (const auto& [name, va] : a.all()) {
    const ir::AttrValue* vb = b.find(name);
    const bool same = vb && vb->index() == va.index() && std::visit([&](const auto& x) {
      using T = std::decay_t<decltype(x)>;
      const T& y = std::get<T>(*vb);
      if constexpr (std::is_same_v<T, Tensor>) {
        return bit_identical(x, y);
      } else if constexpr (std::is_same_v<T, float>) {
        return std::bit_cast<uint32_t>(x) == std::bit_cast<uint32_t>(y);
      } else if constexpr (std::is_same_v<T, std::vector<float>>) {
        return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
      } else {
        return x == y;
      }
    }, va);
    if (!same) {
      *why = "attribute '" + name + "'";
      return false;
    }
  }
  return true;
}

// Every quantization scheme's graph (ratel.QDense with f16 / bf16 / i8 / u8 / i16 weights, f32
// scales, i32 zero points, float / int / string attributes) survives the bundle exactly: the
// same values and attributes, constants byte for byte in place, the same outputs bit for bit.
TEST(QuantizedBundle, EverySchemeRoundTripsBitIdentical) {
  struct Case {
    const char* scheme;
    bool per_channel;
    DType weights;
  };
  for (const Case c : {Case{"float16", false, DType::kF16}, Case{"bfloat16", false, DType::kBF16},
                       Case{"float16_w_int8", true, DType::kI8}, Case{"int8_asym", true, DType::kI8},
                       Case{"int8_asym", false, DType::kI8}, Case{"int8_sym", true, DType::kI8},
                       Case{"uint8_asym", true, DType::kU8}, Case{"int16_sym", false, DType::kI16}}) {
    SCOPED_TRACE(std::string(c.scheme) + (c.per_channel ? " per channel" : ""));
    auto model = quantized_block_model(c.scheme, c.per_channel);
    ASSERT_TRUE(model.ok()) << model.status().message();
    const ir::Graph& a = (*model)->graph();
    int qdense = 0;
    std::set<DType> dtypes;
    for (const auto& n : a.nodes()) {
      EXPECT_FALSE(n->domain == "ratel" && n->op_type == "Dense") << n->describe() << " was not quantized";
      if (n->op_type != "QDense") continue;
      ++qdense;
      EXPECT_EQ(n->inputs[1]->dtype, c.weights) << n->describe();
      for (const ir::Value* v : n->inputs) {
        if (v && v->is_constant()) dtypes.insert(v->dtype);
      }
    }
    EXPECT_EQ(qdense, 3);
    if (std::string(c.scheme) == "int8_asym" || std::string(c.scheme) == "uint8_asym") {
      EXPECT_TRUE(dtypes.count(DType::kI32)) << "zero points";
    }
    const std::string path = ::testing::TempDir() + "/quantized_" + c.scheme + ".rbm";
    ASSERT_TRUE(bundle::write_bundle(a, {{"quantization.scheme", c.scheme}}, path).ok());
    auto loaded = bundle::load_model(path);
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    const ir::Graph& b = loaded->model->graph();
    ASSERT_EQ(a.values().size(), b.values().size());
    for (size_t i = 0; i < a.values().size(); ++i) {
      const ir::Value& va = *a.values()[i];
      const ir::Value& vb = *b.values()[i];
      EXPECT_EQ(va.name, vb.name);
      EXPECT_EQ(va.dtype, vb.dtype) << va.name;
      EXPECT_EQ(va.shape, vb.shape) << va.name;
      ASSERT_EQ(va.is_constant(), vb.is_constant()) << va.name;
      if (va.is_constant()) {
        EXPECT_TRUE(bit_identical(va.constant, vb.constant)) << va.name;
      }
    }
    ASSERT_EQ(a.nodes().size(), b.nodes().size());
    for (size_t i = 0; i < a.nodes().size(); ++i) {
      std::string why;
      EXPECT_EQ(a.nodes()[i]->describe(), b.nodes()[i]->describe());
      EXPECT_TRUE(same_attributes(a.nodes()[i]->attrs, b.nodes()[i]->attrs, &why))
          << a.nodes()[i]->describe() << ": " << why;
    }
    for (int threads : {1, 2}) {
      const auto in = block_inputs(5);
      const auto want = run_model(*model, in, threads);
      const auto got = run_model(loaded->model, in, threads);
      ASSERT_EQ(want.size(), 2u);
      ASSERT_EQ(got.size(), 2u);
      for (size_t i = 0; i < want.size(); ++i) EXPECT_TRUE(bit_identical(want[i], got[i])) << "output " << i;
    }
    // The quantized layers run on fast kernels in both.
    EXPECT_EQ((*(*model)->plan())->stats().reference_ops.count("ratel.QDense"), 0u);
    EXPECT_EQ((*loaded->model->plan())->stats().reference_ops.count("ratel.QDense"), 0u);
  }
}

TEST_F(BundleTest, WritingIsDeterministicAndMatchesSerialize) {
  auto again = bundle::serialize_bundle(model_->graph(), {{"board", "x86_64"}, {"source.model", "block"}});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, bytes_);
  const std::string path = ::testing::TempDir() + "/det.rbm";
  ASSERT_TRUE(bundle::write_bundle(model_->graph(), {{"board", "x86_64"}, {"source.model", "block"}}, path).ok());
  auto f = MappedFile::open(path);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(std::equal(bytes_.begin(), bytes_.end(), (*f)->data(), (*f)->data() + (*f)->size()));
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
}

TEST_F(BundleTest, EveryAttributeKindRoundTrips) {
  // decode_graph needs no op registry: a made-up op carries one attribute of every kind.
  GraphBuilder g;
  ir::Value* x = g.input("x", DType::kF32, {2});
  ir::Attributes attrs = GraphBuilder::attrs({{"i", int64_t{-7}},
                                              {"f", 0.25f},
                                              {"s", std::string("text")},
                                              {"is", std::vector<int64_t>{1, -2, 3}},
                                              {"fs", std::vector<float>{1.5f, -0.5f}},
                                              {"ss", std::vector<std::string>{"a", "", "ccc"}},
                                              {"t", Tensor::from_vector<int32_t>({4, 5, 6}, {3})}});
  ir::Value* y = g.op("Anything", {x, nullptr}, attrs, "test.domain");
  y->dtype = DType::kF32;
  y->shape = {2};
  y->has_shape = true;
  g.output(y);
  auto graph = g.build();
  auto bytes = bundle::serialize_bundle(*graph, {});
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  auto keep = std::make_shared<std::vector<std::byte>>(std::move(bytes).value());
  auto b = Bundle::parse(*keep, keep, "attrs.rbm");
  ASSERT_TRUE(b.ok()) << b.status().message();
  auto decoded = (*b)->decode_graph();
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  const ir::Node& n = *(*decoded)->nodes()[0];
  EXPECT_EQ(n.domain, "test.domain");
  EXPECT_EQ(n.inputs.size(), 2u);
  EXPECT_EQ(n.inputs[1], nullptr);
  EXPECT_EQ(*n.attrs.get_int("i", 0), -7);
  EXPECT_EQ(*n.attrs.get_float("f", 0), 0.25f);
  EXPECT_EQ(*n.attrs.get_string("s", ""), "text");
  EXPECT_EQ(*n.attrs.get_ints("is"), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(*n.attrs.get_floats("fs"), (std::vector<float>{1.5f, -0.5f}));
  EXPECT_EQ(std::get<std::vector<std::string>>(*n.attrs.find("ss")), (std::vector<std::string>{"a", "", "ccc"}));
  EXPECT_EQ(n.attrs.get_tensor("t")->to_vector<int32_t>(), (std::vector<int32_t>{4, 5, 6}));
}

// ---- damaged and hostile files ----------------------------------------------------------------

TEST_F(BundleTest, TruncationAtAnyLengthIsRefused) {
  ASSERT_TRUE(load(bytes_).ok());
  std::vector<size_t> lengths;
  for (size_t n = 0; n < std::min<size_t>(bytes_.size(), 1024); ++n) lengths.push_back(n);
  for (size_t n = 1024; n < bytes_.size(); n += 61) lengths.push_back(n);
  lengths.push_back(bytes_.size() - 1);
  for (size_t n : lengths) {
    const std::vector<std::byte> cut(bytes_.begin(), bytes_.begin() + static_cast<ptrdiff_t>(n));
    const Status s = load(cut);
    ASSERT_FALSE(s.ok()) << "length " << n;
    ASSERT_EQ(s.code(), StatusCode::kCorrupt) << n << ": " << s.message();
  }
  // The error for a cut inside the data says what happened.
  std::vector<std::byte> cut(bytes_.begin(), bytes_.end() - 100);
  expect_error(cut, "truncated");
}

TEST_F(BundleTest, AFlippedByteInAnySectionIsCaught) {
  auto b = Bundle::parse(bytes_, nullptr, "t.rbm");
  ASSERT_TRUE(b.ok());
  // Every byte of the header and table; every byte of metadata and graph; a stride of weights.
  std::vector<std::pair<size_t, const char*>> where;
  for (size_t i = 0; i < bundle::kHeaderSize + 3 * bundle::kSectionEntrySize; ++i) where.push_back({i, "header"});
  for (const auto& s : (*b)->sections()) {
    const size_t step = s.kind == bundle::SectionKind::kWeights ? 13 : 1;
    for (size_t i = 0; i < s.size; i += step) where.push_back({static_cast<size_t>(s.offset) + i, "section"});
  }
  for (const auto& [at, what] : where) {
    std::vector<std::byte> bad = bytes_;
    bad[at] ^= std::byte{0x5a};
    const Status s = load(bad);
    ASSERT_FALSE(s.ok()) << what << " byte " << at;
    if (std::string(what) == "section") {
      EXPECT_NE(s.message().find("checksum mismatch"), std::string::npos) << s.message();
    }
  }
}

TEST_F(BundleTest, ResignedGarbageInTheGraphNeverCrashes) {
  // With the checksums recomputed the decoder itself must reject (or accept and run) every
  // corruption of the graph section; under ASan this is the memory-safety check.
  const size_t graph = section_offset(bundle::SectionKind::kGraph);
  auto b = Bundle::parse(bytes_, nullptr, "t.rbm");
  size_t size = 0;
  for (const auto& s : (*b)->sections()) {
    if (s.kind == bundle::SectionKind::kGraph) size = static_cast<size_t>(s.size);
  }
  int refused = 0;
  const uint8_t flips[] = {0x01, 0x80, 0xff};  // one per byte, in turn: a low bit, a high bit, all bits
  for (size_t i = 0; i < size; ++i) {
    std::vector<std::byte> bad = bytes_;
    bad[graph + i] ^= std::byte{flips[i % 3]};
    resign(bad);
    const Status s = load(bad);
    if (!s.ok()) {
      ++refused;
      ASSERT_EQ(s.message().find('\n'), std::string::npos) << s.message();
      ASSERT_FALSE(s.message().empty());
    }
  }
  // Most changes are caught; a changed name or a float attribute may load and run fine.
  EXPECT_GT(refused, static_cast<int>(size / 2)) << refused << " of " << size;
  RecordProperty("refused", refused);
}

TEST_F(BundleTest, HeaderAndTableErrorsNameTheField) {
  using namespace bundle;
  std::vector<std::byte> bad = bytes_;
  bad[0] = std::byte{'X'};
  expect_error(bad, "not a Ratel bundle");
  expect_error(with<uint16_t>(header::kVersionMajor, 2), "format version 2.0");
  expect_error(with<uint64_t>(header::kFileSize, bytes_.size() + 8), "says");
  expect_error(with<uint32_t>(header::kSectionCount, 1000), "section_count is 1000");
  expect_error(with<uint64_t>(header::kChecksum, 1, false), "header checksum mismatch");
  const size_t weights_entry = kHeaderSize + 2 * kSectionEntrySize;
  expect_error(with<uint64_t>(weights_entry + entry::kOffset, 1u << 30), "run past the end of the file");
  expect_error(with<uint64_t>(weights_entry + entry::kOffset, section_offset(SectionKind::kWeights) + 64),
               "not a multiple of 4096");
  const size_t graph_entry = kHeaderSize + kSectionEntrySize;
  expect_error(with<uint64_t>(graph_entry + entry::kOffset, kHeaderSize), "overlaps");
  expect_error(with<uint32_t>(graph_entry + entry::kKind, 77), "unknown section kind 77");
  expect_error(with<uint32_t>(graph_entry + entry::kKind, 1), "a second metadata section");
  expect_error(with<uint64_t>(graph_entry + entry::kSize, ~uint64_t{0}), "run past the end of the file");
  std::vector<std::byte> hhb(5000, std::byte{0});
  std::memcpy(hhb.data(), "Heterogeneous Honey Badger binary model", 39);
  expect_error(hhb, "HHB model");
}

TEST_F(BundleTest, GraphFieldErrorsNameTheValueAndOffset) {
  // Value records of the first constant of the graph: name, then dtype u8, flags u8, rank u16,
  // dims i64[rank], weight offset u64, weight size u64.
  const ir::Value* w = nullptr;
  for (const auto& v : model_->graph().values()) {
    if (v->is_constant() && !v->producer && v->shape.size() == 2) {
      w = v.get();
      break;
    }
  }
  ASSERT_NE(w, nullptr);
  const size_t rec = value_record(w->name);
  expect_error(with<uint8_t>(rec, 99), "unknown dtype code 99");
  expect_error(with<uint8_t>(rec + 1, 0x40), "unknown flags");
  expect_error(with<uint16_t>(rec + 2, 300), "rank 300 exceeds the limit of 16");
  expect_error(with<int64_t>(rec + 4, int64_t{1} << 50), "dimension 0 is 1125899906842624");
  expect_error(with<int64_t>(rec + 4, -3), "dimension 0 is -3");
  expect_error(with<int64_t>(rec + 4, w->shape[0] + 1), "does not match");
  const size_t ref = rec + 4 + 16;
  expect_error(with<uint64_t>(ref, 8), "not a multiple of 64");
  expect_error(with<uint64_t>(ref, uint64_t{1} << 40), "outside the weights section");
  expect_error(with<uint64_t>(ref + 8, 0), "does not match");
  expect_error(with<uint32_t>(rec - w->name.size() - 4, 0xfffffff0u), "exceeds the limit");
  // An intermediate value whose recorded shape disagrees with inference.
  const ir::Value* act = model_->graph().outputs()[1];
  expect_error(with<int64_t>(value_record(act->name) + 4, 2), "recorded as f32 [2, 8, 16]");
  // The value count, right after the opsets.
  const size_t graph = section_offset(bundle::SectionKind::kGraph);
  size_t at = graph;
  for (int s = 0; s < 2; ++s) {
    uint32_t n;
    std::memcpy(&n, bytes_.data() + at, 4);
    at += 4 + n;
  }
  uint32_t opsets;
  std::memcpy(&opsets, bytes_.data() + at, 4);
  at += 4;
  for (uint32_t i = 0; i < opsets; ++i) {
    uint32_t n;
    std::memcpy(&n, bytes_.data() + at, 4);
    at += 4 + n + 8;
  }
  expect_error(with<uint32_t>(at, 0xffffffffu), "value count 4294967295");
  expect_error(with<uint32_t>(at, 1000000), "cannot fit");
  EXPECT_FALSE(load(with<uint32_t>(at, 3)).ok());  // the rest of the records no longer parse
}

TEST_F(BundleTest, NodeIndexErrors) {
  // The first node's first input index follows its name, op type, domain and opset.
  const ir::Node& n = *model_->graph().nodes()[0];
  const size_t graph = section_offset(bundle::SectionKind::kGraph);
  std::vector<std::byte> key(4 + n.name.size());
  const uint32_t len = static_cast<uint32_t>(n.name.size());
  std::memcpy(key.data(), &len, 4);
  std::memcpy(key.data() + 4, n.name.data(), n.name.size());
  auto it = std::search(bytes_.begin() + static_cast<ptrdiff_t>(graph), bytes_.end(), key.begin(), key.end());
  ASSERT_NE(it, bytes_.end());
  size_t at = static_cast<size_t>(it - bytes_.begin()) + key.size();
  at += 4 + n.op_type.size() + 4 + n.domain.size() + 4;  // op type, domain, opset
  const size_t first_input = at + 4;
  expect_error(with<int32_t>(first_input, 100000), "value index 100000 is out of range");
  expect_error(with<int32_t>(first_input, -5), "value index -5 is out of range");
  expect_error(with<uint32_t>(at, 0x7fffffff), "input count");
  // Making the node read its own output: not in topological order.
  const int32_t out_index = static_cast<int32_t>(n.outputs[0]->id);
  const Status s = load(with<int32_t>(first_input, out_index));
  EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace ratel
