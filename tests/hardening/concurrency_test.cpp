// Concurrency: one loaded Model shared by threads that each own a Session and run different
// inputs must give, bit for bit, what single-threaded runs give; creating sessions (which builds
// the shared plan) may race; the tokenizer and the memory accounting are shared. Built and run
// under ThreadSanitizer by scripts/tsan.sh.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <unistd.h>
#include <random>
#include <thread>

#include "core/tensor.h"
#include "cpu/thread_pool.h"
#include "hardening/hostile_files.h"
#include "nlp/bert_tokenizer.h"
#include "qa/qa_model.h"
#include "runtime/model.h"
#include "support/graph_builder.h"

namespace ratel {
namespace {

using testing::GraphBuilder;

// Fewer and smaller runs under ThreadSanitizer (5-15x slower); the interleavings are what count.
#if defined(__SANITIZE_THREAD__)
constexpr bool kTsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool kTsan = true;
#else
constexpr bool kTsan = false;
#endif
#else
constexpr bool kTsan = false;
#endif

// A `layers`-layer BERT encoder over [1, S] ids with a padding mask, as exporters write it; the
// optimizer fuses it into Dense/Attention/LayerNorm/Gelu, the threaded fast kernels.
std::shared_ptr<runtime::Model> bert_model(int64_t s, int64_t nh, int64_t hd, int layers) {
  GraphBuilder g;
  const int64_t h = nh * hd;
  auto* ids = g.input("input_ids", DType::kI32, {1, s});
  auto* mask = g.input("input_mask", DType::kI32, {1, s});
  auto* x = g.op("Gather", {g.random({64, h}, 1.0f), ids}, GraphBuilder::attrs({{"axis", int64_t{0}}}));
  auto* m = g.op("Cast", {mask}, GraphBuilder::attrs({{"to", int64_t{1}}}));
  auto* m4 = g.op("Unsqueeze", {g.op("Unsqueeze", {m, g.ints({1})}), g.ints({2})});
  auto* add_mask = g.op("Mul", {g.op("Sub", {g.scalar(1.0f), m4}), g.scalar(-10000.0f)});
  auto split = [&](ir::Value* v, std::vector<int64_t> perm) {
    return g.op("Transpose", {g.op("Reshape", {v, g.ints({1, s, nh, hd})})}, GraphBuilder::attrs({{"perm", perm}}));
  };
  auto dense = [&](ir::Value* in, int64_t k, int64_t n) {
    return g.op("Add", {g.random({n}), g.op("MatMul", {in, g.random({k, n}, 0.3f)})});
  };
  auto layer_norm = [&](ir::Value* v) {
    auto* mean = g.op("ReduceMean", {v}, GraphBuilder::attrs({{"axes", std::vector<int64_t>{-1}}}));
    auto* d = g.op("Sub", {v, mean});
    auto* var = g.op("ReduceMean", {g.op("Pow", {d, g.scalar(2.0f)})}, GraphBuilder::attrs({{"axes", std::vector<int64_t>{-1}}}));
    auto* norm = g.op("Div", {d, g.op("Sqrt", {g.op("Add", {var, g.scalar(1e-12f)})})});
    return g.op("Add", {g.op("Mul", {norm, g.random({h}, 1.0f)}), g.random({h}, 0.1f)});
  };
  for (int l = 0; l < layers; ++l) {
    auto* q = split(dense(x, h, h), {0, 2, 1, 3});
    auto* k = split(dense(x, h, h), {0, 2, 3, 1});
    auto* v = split(dense(x, h, h), {0, 2, 1, 3});
    auto* p = g.op("Softmax", {g.op("Add", {g.op("Div", {g.op("MatMul", {q, k}), g.scalar(std::sqrt(static_cast<float>(hd)))}), add_mask})},
                   GraphBuilder::attrs({{"axis", int64_t{-1}}}));
    auto* ctx = g.op("Reshape", {g.op("Transpose", {g.op("MatMul", {p, v})}, GraphBuilder::attrs({{"perm", std::vector<int64_t>{0, 2, 1, 3}}})),
                                 g.ints({1, s, h})});
    auto* y = layer_norm(g.op("Add", {x, dense(ctx, h, h)}));
    auto* ff = dense(y, h, 4 * h);
    auto* gelu = g.op("Mul", {g.op("Mul", {ff, g.op("Add", {g.op("Erf", {g.op("Div", {ff, g.scalar(1.4142135f)})}), g.scalar(1.0f)})}), g.scalar(0.5f)});
    x = layer_norm(g.op("Add", {y, dense(gelu, 4 * h, h)}));
  }
  g.output(x);
  auto model = runtime::Model::from_graph(g.build());
  EXPECT_TRUE(model.ok()) << model.status().message();
  return *model;
}

struct Input {
  std::vector<int32_t> ids, mask;
  int64_t real = 0;
};

std::vector<Input> make_inputs(int count, int64_t s) {
  std::mt19937 rng(7);
  std::vector<Input> inputs(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    Input& in = inputs[static_cast<size_t>(i)];
    in.real = 1 + static_cast<int64_t>(rng() % static_cast<uint32_t>(s));
    for (int64_t t = 0; t < s; ++t) {
      in.ids.push_back(static_cast<int32_t>(rng() % 64));
      in.mask.push_back(t < in.real ? 1 : 0);
    }
  }
  return inputs;
}

// Runs one input; `trim` computes only the real rows (then only those are compared).
Status run_one(runtime::Session& session, const Input& in, int64_t s, bool trim, Tensor* out) {
  RATEL_RETURN_IF_ERROR(session.set_input("input_ids", Tensor::from_vector<int32_t>(in.ids, {1, s})));
  RATEL_RETURN_IF_ERROR(session.set_input("input_mask", Tensor::from_vector<int32_t>(in.mask, {1, s})));
  RATEL_RETURN_IF_ERROR(session.set_active_rows(trim ? in.real : 0));
  RATEL_RETURN_IF_ERROR(session.run());
  RATEL_ASSIGN_OR_RETURN(*out, session.outputs()[0].clone());
  return Status::Ok();
}

TEST(ConcurrencyTest, SessionsSharingAModelMatchSingleThreadedRunsBitForBit) {
  const int64_t s = kTsan ? 24 : 48;
  const int num_inputs = kTsan ? 4 : 12;
  const int num_threads = kTsan ? 3 : 6;
  const int rounds = kTsan ? 1 : 3;
  auto model = bert_model(s, 4, 8, 2);
  ASSERT_TRUE(model);
  const std::vector<Input> inputs = make_inputs(num_inputs, s);
  // Single-threaded reference results, one session, one thread.
  std::vector<Tensor> expected(inputs.size());
  {
    auto session = runtime::Session::create(model);
    ASSERT_TRUE(session.ok()) << session.status().message();
    const runtime::PlanStats st = (*session)->stats();
    EXPECT_GT(st.fast_steps, 8) << "the model should run on the fused, threaded fast kernels";
    for (size_t i = 0; i < inputs.size(); ++i) ASSERT_TRUE(run_one(**session, inputs[i], s, false, &expected[i]).ok());
  }
  const int64_t h = expected[0].shape()[2];
  std::atomic<int> mismatches{0}, failures{0}, runs{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < num_threads; ++t) {
    threads.emplace_back([&, t] {
      runtime::SessionOptions o;
      o.threads = 1 + t % 3;  // intra-op pools of 1, 2 and 3 threads at the same time
      auto session = runtime::Session::create(model, o);
      if (!session.ok()) {
        ++failures;
        return;
      }
      for (int r = 0; r < rounds * num_inputs; ++r) {
        const size_t i = static_cast<size_t>((t * 5 + r) % num_inputs);
        const bool trim = (t + r) % 2 == 1;
        Tensor out;
        if (!run_one(**session, inputs[i], s, trim, &out).ok()) {
          ++failures;
          continue;
        }
        ++runs;
        const size_t bytes = static_cast<size_t>((trim ? inputs[i].real : s) * h) * sizeof(float);
        if (std::memcmp(out.raw(), expected[i].raw(), bytes) != 0) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mismatches.load(), 0) << "of " << runs.load() << " concurrent runs";
  EXPECT_EQ(runs.load(), num_threads * rounds * num_inputs);
}

// `ratel qa` over many windows: QaModel::run_all shares the windows between single-threaded
// sessions. Every window's logits must be run()'s, for any number of workers, each window
// reported done once; an error stops the run and names the lowest failing window.
class QaRunAllTest : public ::testing::Test {
 protected:
  static constexpr int kSeq = 48;
  void SetUp() override {
    char tmpl[] = "/tmp/ratel_qa_run_all_XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::unique_ptr<qa::QaModel> load(const onnx::ModelProto& proto, int threads) {
    const std::string path = dir_ + "/model.onnx";
    hardening::save_model(proto, path);
    qa::QaModelOptions o;
    o.session.threads = threads;
    auto m = qa::QaModel::load(path, o);
    EXPECT_TRUE(m.ok()) << m.status().message();
    return m.ok() ? std::make_unique<qa::QaModel>(std::move(m).value()) : nullptr;
  }
  // Windows of random ids (tokens 4.. of the tiny vocabulary), real lengths 5..kSeq.
  static std::vector<nlp::InputFeature> windows(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    const int vocab = hardening::qa_vocab_size();
    std::vector<nlp::InputFeature> out(n);
    for (size_t i = 0; i < n; ++i) {
      nlp::InputFeature& f = out[i];
      f.unique_id = 1000 + static_cast<int64_t>(i);
      const int real = 5 + static_cast<int>(rng() % (kSeq - 4));
      for (int t = 0; t < kSeq; ++t) {
        f.input_ids.push_back(t < real ? 4 + static_cast<int32_t>(rng() % static_cast<uint32_t>(vocab - 4)) : 0);
        f.input_mask.push_back(t < real ? 1 : 0);
        f.segment_ids.push_back(t < real && t > 8 ? 1 : 0);
      }
    }
    return out;
  }
  std::string dir_;
};

TEST_F(QaRunAllTest, AnyNumberOfWorkersGivesRunsLogits) {
  auto model = load(hardening::qa_model(kSeq), 2);
  ASSERT_NE(model, nullptr);
  const auto features = windows(kTsan ? 13 : 57, 7);
  std::vector<nlp::RawResult> expected;
  for (const auto& f : features) {
    auto r = model->run(f);
    ASSERT_TRUE(r.ok()) << r.status().message();
    expected.push_back(std::move(r).value());
  }
  for (int workers : {1, 2, 3, 5}) {
    std::vector<int> done(features.size(), 0);
    auto r = model->run_all(features, workers, [&](size_t i) { ++done[i]; });
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(r->size(), features.size());
    for (size_t i = 0; i < features.size(); ++i) {
      EXPECT_EQ(done[i], 1) << "window " << i << ", " << workers << " workers";
      EXPECT_EQ((*r)[i].unique_id, expected[i].unique_id);
      EXPECT_EQ((*r)[i].start_logits, expected[i].start_logits) << "window " << i << ", " << workers << " workers";
      EXPECT_EQ((*r)[i].end_logits, expected[i].end_logits) << "window " << i << ", " << workers << " workers";
    }
  }
}

TEST_F(QaRunAllTest, ErrorNamesTheLowestFailingWindow) {
  constexpr int kPoison = 10;  // "denver": its start logit is infinite (NaN weights are refused at load)
  auto model = load(hardening::qa_model(kSeq, kPoison, INFINITY), 1);
  ASSERT_NE(model, nullptr);
  auto features = windows(kTsan ? 12 : 40, 11);
  for (auto& f : features) {
    for (auto& id : f.input_ids) id = id == kPoison ? 4 : id;
  }
  features[9].input_ids[2] = kPoison;
  features[23 % features.size()].input_ids[3] = kPoison;
  for (int workers : {1, 2, 4}) {
    size_t failed = SIZE_MAX;
    auto r = model->run_all(features, workers, {}, &failed);
    ASSERT_FALSE(r.ok()) << workers << " workers";
    EXPECT_EQ(failed, 9u) << workers << " workers";
    EXPECT_NE(r.status().message().find("non-finite logit at position 2"), std::string::npos)
        << r.status().message();
  }
}

TEST(ConcurrencyTest, SessionsCreatedAtOnceShareOnePlan) {
  const int64_t s = 16;
  auto model = bert_model(s, 2, 8, 1);
  ASSERT_TRUE(model);
  const std::vector<Input> inputs = make_inputs(1, s);
  const int n = kTsan ? 4 : 8;
  std::vector<Tensor> outs(static_cast<size_t>(n));
  std::vector<std::shared_ptr<const runtime::ExecutionPlan>> plans(static_cast<size_t>(n));
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      ++ready;
      while (ready.load() < n) std::this_thread::yield();  // start together
      auto session = runtime::Session::create(model);
      if (!session.ok()) return;
      auto plan = model->plan();
      if (plan.ok()) plans[static_cast<size_t>(t)] = *plan;
      (void)run_one(**session, inputs[0], s, false, &outs[static_cast<size_t>(t)]);
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < n; ++t) {
    ASSERT_TRUE(outs[static_cast<size_t>(t)].defined()) << "thread " << t;
    EXPECT_EQ(plans[static_cast<size_t>(t)], plans[0]) << "one plan for all sessions";
    EXPECT_EQ(std::memcmp(outs[static_cast<size_t>(t)].raw(), outs[0].raw(), outs[0].nbytes()), 0) << "thread " << t;
  }
}

// Regression: a reference session created before the first fast one read weights that the fast
// plan then freed (null data: a crash in the reference run). Now the plan keeps them.
TEST(ConcurrencyTest, ReferenceSessionKeepsItsWeightsWhenAFastOneStartsLater) {
  const int64_t s = 8;
  auto model = bert_model(s, 2, 4, 1);
  ASSERT_TRUE(model);
  const std::vector<Input> inputs = make_inputs(1, s);
  runtime::SessionOptions ref;
  ref.executor = runtime::ExecutorKind::kReference;
  auto reference = runtime::Session::create(model, ref);
  ASSERT_TRUE(reference.ok()) << reference.status().message();
  auto fast = runtime::Session::create(model);
  ASSERT_TRUE(fast.ok());
  Tensor a, b;
  ASSERT_TRUE(run_one(**fast, inputs[0], s, false, &a).ok());
  const Status st = run_one(**reference, inputs[0], s, false, &b);
  ASSERT_TRUE(st.ok()) << st.message();
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  for (int64_t i = 0; i < a.numel(); ++i) ASSERT_NEAR(pa[i], pb[i], 1e-3f) << i;
}

TEST(ConcurrencyTest, SharedTokenizerGivesTheSameIdsOnEveryThread) {
  auto vocab = nlp::Vocab::from_text(hardening::qa_vocab() + "caf\n##\xc3\xa9\n", "v");
  ASSERT_TRUE(vocab.ok());
  auto tokenizer = nlp::BertTokenizer::create(*vocab, {});
  ASSERT_TRUE(tokenizer.ok());
  const std::string text = hardening::big_text(kTsan ? 20000 : 200000);
  std::vector<int32_t> expected;
  ASSERT_TRUE(tokenizer->encode(text, &expected).ok());
  std::atomic<int> differ{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int r = 0; r < 3; ++r) {
        std::vector<int32_t> ids;
        if (!tokenizer->encode(text, &ids).ok() || ids != expected) ++differ;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(differ.load(), 0);
}

TEST(ConcurrencyTest, MemoryLimitHoldsUnderConcurrentAllocation) {
  const size_t before = allocated_bytes();
  const size_t limit = before + (size_t{8} << 20);
  set_allocation_limit(limit);
  std::atomic<size_t> peak{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::vector<Tensor> held;
      for (int i = 0; i < 200; ++i) {
        auto tensor = Tensor::allocate(DType::kF32, {int64_t{1} << 16});  // 256 KiB
        if (tensor.ok()) {
          held.push_back(std::move(tensor).value());
        } else {
          ++refused;
          held.clear();
        }
        size_t now = allocated_bytes(), seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  set_allocation_limit(0);
  EXPECT_GT(refused.load(), 0) << "4 threads holding up to 50 MiB each must hit an 8 MiB limit";
  EXPECT_LE(peak.load(), limit) << "the limit was overshot";
  EXPECT_EQ(allocated_bytes(), before) << "every byte charged was released";
}

TEST(ConcurrencyTest, ThreadPoolsCreatedUsedAndDestroyedConcurrently) {
  std::atomic<int64_t> total{0};
  std::vector<std::thread> threads;
  const int iterations = kTsan ? 20 : 200;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int it = 0; it < iterations; ++it) {
        cpu::ThreadPool pool(2 + (t + it) % 3);
        std::vector<int64_t> partial(static_cast<size_t>(pool.num_threads()), 0);
        pool.parallel_for(1000, [&](int64_t b, int64_t e, int thread) {
          for (int64_t i = b; i < e; ++i) partial[static_cast<size_t>(thread)] += i;
          // A nested call runs inline on this thread.
          pool.parallel_for(3, [&](int64_t nb, int64_t ne, int) { partial[static_cast<size_t>(thread)] += ne - nb; });
        });
        int64_t sum = 0;
        for (int64_t p : partial) sum += p;
        total += sum;
      }
    });
  }
  for (auto& th : threads) th.join();
  // Each call: 0 + ... + 999 = 499500, plus 3 per non-empty chunk (one per pool thread).
  int64_t expected = 0;
  for (int t = 0; t < 4; ++t) {
    for (int it = 0; it < iterations; ++it) expected += 499500 + 3 * (2 + (t + it) % 3);
  }
  EXPECT_EQ(total.load(), expected);
}

}  // namespace
}  // namespace ratel
