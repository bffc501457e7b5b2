// The fast kernel of ratel.QDense with integer activations (runtime/kernels/qdense_int_kernel.cpp:
// quantize X, then the int8/int16 GEMM) against QDense's reference kernel on single-node graphs.
// The integer form is exact up to a fixed sequence of float operations, so without an activation
// the two must agree bit for bit; GELU is approximated on the fast path (erf: math/erf_approx.h;
// tanh: through the vectorized exp, dense_kernel.cpp), so those are checked within the error the
// approximation allows at the pre-activation value, which the test gets from the same graph
// without activation and residual (itself checked exactly).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/math/erf_approx.h"
#include "kernels/qgemm.h"
#include "runtime/kernels/fast_kernels.h"
#include "runtime/model.h"
#include "support/graph_builder.h"

namespace ratel {
namespace {

using testing::GraphBuilder;

// Largest |tanh error| of the fast tanh GELU (dense_kernel.cpp: exp's relative error of 2.5e-7
// keeps tanh within ~1e-6, float roundings of its argument included).
constexpr double kTanhMaxAbsError = 1e-6;
constexpr double kFloatEps = 0x1p-23;

enum class ZeroPoints { kAbsent, kPerTensor, kPerColumn, kAllZero };

struct QCase {
  std::string x_type = "u8";  // u8, s8, s16
  DType w_type = DType::kI8;
  float x_scale = 0.02f;
  int64_t x_zero_point = 0;
  int64_t x_qmin = 0, x_qmax = 0;  // both 0: the attribute's default (the whole storage range)
  Shape x_shape{9, 37};             // [..., K]
  int64_t n = 23;
  bool per_column_scale = true;
  ZeroPoints zero_points = ZeroPoints::kAbsent;
  bool bias = true;
  bool residual = false;
  std::string activation = "none";
  int32_t w_limit = 0;  // |W| (16-bit weights) below this; 0: the whole range

  int64_t k() const { return x_shape.back(); }
  Shape y_shape() const {
    Shape y = x_shape;
    y.back() = n;
    return y;
  }
  std::string describe() const {
    std::string s = x_type + " x " + std::string(dtype_name(w_type)) + " " + shape_str(x_shape) + " N=" + std::to_string(n) +
                    (per_column_scale ? " per-column scale" : " per-tensor scale");
    const char* zp[] = {"", " zw per tensor", " zw per column", " zw all 0"};
    s += zp[static_cast<int>(zero_points)];
    if (bias) s += " + bias";
    if (residual) s += " + residual";
    return s + " " + activation;
  }
};

int32_t storage_min(const std::string& x_type) { return x_type == "u8" ? 0 : (x_type == "s8" ? -128 : -32768); }
int32_t storage_max(const std::string& x_type) { return x_type == "u8" ? 255 : (x_type == "s8" ? 127 : 32767); }

// X past both ends of the quantization range, plus the values whose handling is easy to get
// wrong: NaN (-> qmin), infinities, exact rounding ties (when x_scale is a power of two) and 0.
Tensor make_x(const QCase& c, uint32_t seed) {
  const int32_t qmin = c.x_qmin == c.x_qmax ? storage_min(c.x_type) : static_cast<int32_t>(c.x_qmin);
  const int32_t qmax = c.x_qmin == c.x_qmax ? storage_max(c.x_type) : static_cast<int32_t>(c.x_qmax);
  const float lo = static_cast<float>(qmin - c.x_zero_point) * c.x_scale;
  const float hi = static_cast<float>(qmax - c.x_zero_point) * c.x_scale;
  const float span = hi - lo;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo - 0.1f * span, hi + 0.1f * span);
  std::vector<float> v(static_cast<size_t>(numel(c.x_shape)));
  for (size_t i = 0; i < v.size(); ++i) {
    switch (i % 53) {
      case 5: v[i] = std::numeric_limits<float>::quiet_NaN(); break;
      case 11: v[i] = std::numeric_limits<float>::infinity(); break;
      case 17: v[i] = -std::numeric_limits<float>::infinity(); break;
      case 23: v[i] = 0.0f; break;
      case 29: v[i] = (static_cast<float>(i % 7) - 3.5f) * c.x_scale; break;  // a tie: x/scale = k + 0.5
      case 31: v[i] = (static_cast<float>(i % 9) + 0.5f) * c.x_scale; break;
      default: v[i] = d(rng); break;
    }
  }
  return Tensor::from_vector<float>(v, c.x_shape);
}

Tensor random_floats(Shape shape, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(static_cast<size_t>(numel(shape)));
  for (float& x : v) x = d(rng);
  return Tensor::from_vector<float>(v, std::move(shape));
}

Tensor make_weights(const QCase& c, uint32_t seed) {
  std::mt19937 rng(seed);
  const int64_t count = c.k() * c.n;
  auto fill = [&](auto tag, int32_t lo, int32_t hi) {
    using T = decltype(tag);
    std::uniform_int_distribution<int32_t> d(lo, hi);
    std::vector<T> v(static_cast<size_t>(count));
    for (T& x : v) x = static_cast<T>(d(rng));
    return Tensor::from_vector<T>(v, {c.k(), c.n});
  };
  switch (c.w_type) {
    case DType::kU8: return fill(uint8_t{}, 0, 255);
    case DType::kI16: {
      const int32_t l = c.w_limit ? c.w_limit : 32768;
      return fill(int16_t{}, -l + (c.w_limit ? 1 : 0), l - 1);
    }
    default: return fill(int8_t{}, -128, 127);
  }
}

Tensor make_zero_points(const QCase& c) {
  const int64_t count = c.zero_points == ZeroPoints::kPerTensor ? 1 : c.n;
  std::vector<int32_t> v(static_cast<size_t>(count));
  for (int64_t j = 0; j < count; ++j) {
    int32_t z = 0;
    if (c.zero_points != ZeroPoints::kAllZero) {
      // u8 weights sit around 128; i8 ones around 0, both signs, the range's ends included.
      z = c.w_type == DType::kU8 ? (j % 5 == 4 ? 255 : 128 + static_cast<int32_t>(j % 11) - 5)
                                 : (j % 5 == 4 ? -128 : static_cast<int32_t>(j % 7) - 3);
      if (c.zero_points == ZeroPoints::kPerTensor) z = c.w_type == DType::kU8 ? 131 : -5;
    }
    v[static_cast<size_t>(j)] = z;
  }
  return Tensor::from_vector<int32_t>(v, {count});
}

// Weight scales that put the pre-activation values at order 1-10, where GELU bends.
Tensor make_scales(const QCase& c, uint32_t seed) {
  const double x_span = (c.x_type == "s16" ? 32768.0 : 128.0) / 2;
  const double w_span = c.w_type == DType::kI16 ? (c.w_limit ? c.w_limit : 32768) / 2.0 : 64.0;
  const auto base = static_cast<float>(3.0 / (std::sqrt(static_cast<double>(c.k())) * x_span * w_span * c.x_scale));
  return random_floats({c.per_column_scale ? c.n : 1}, seed, 0.5f * base, 1.5f * base);
}

struct Built {
  std::shared_ptr<runtime::Model> model;
  std::vector<Tensor> inputs;  // X (and R)
};

ir::Attributes qdense_attrs(const QCase& c) {
  ir::Attributes a;
  a.set("x_type", c.x_type);
  a.set("x_scale", c.x_scale);
  a.set("x_zero_point", c.x_zero_point);
  if (c.x_qmin != c.x_qmax) {
    a.set("x_qmin", c.x_qmin);
    a.set("x_qmax", c.x_qmax);
  }
  a.set("activation", c.activation);
  return a;
}

Built build(const QCase& c, bool release_weights = false) {
  GraphBuilder g;
  Built b;
  auto* x = g.input("x", DType::kF32, c.x_shape);
  b.inputs.push_back(make_x(c, 1));
  std::vector<ir::Value*> ins{x, g.constant(make_weights(c, 2)), g.constant(make_scales(c, 3)), nullptr, nullptr,
                              nullptr};
  if (c.zero_points != ZeroPoints::kAbsent) ins[3] = g.constant(make_zero_points(c));
  if (c.bias) ins[4] = g.constant(random_floats({c.n}, 4, -2.0f, 2.0f));
  if (c.residual) {
    ins[5] = g.input("r", DType::kF32, c.y_shape());
    b.inputs.push_back(random_floats(c.y_shape(), 5, -3.0f, 3.0f));
  }
  while (ins.back() == nullptr) ins.pop_back();
  g.output(g.op("QDense", ins, qdense_attrs(c), "ratel"));
  runtime::LoadOptions o;
  o.release_packed_weights = release_weights;
  auto m = runtime::Model::from_graph(g.build(), o);
  EXPECT_TRUE(m.ok()) << m.status().message();
  if (m.ok()) b.model = *m;
  return b;
}

struct Outcome {
  Tensor y;
  runtime::PlanStats stats;
};

Outcome run_with(const std::shared_ptr<runtime::Model>& m, const std::vector<Tensor>& in, runtime::ExecutorKind kind,
             int threads) {
  runtime::SessionOptions o;
  o.executor = kind;
  o.threads = threads;
  auto s = runtime::Session::create(m, o);
  EXPECT_TRUE(s.ok()) << s.status().message();
  if (!s.ok()) return {};
  for (size_t i = 0; i < in.size(); ++i) EXPECT_TRUE((*s)->set_input(i, in[i]).ok());
  const Status st = (*s)->run();
  EXPECT_TRUE(st.ok()) << st.message();
  if (!st.ok()) return {};
  return {*(*s)->outputs()[0].clone(), (*s)->stats()};  // the output is a view of the arena
}

// Elements where `got` differs from `want` in its bits, or (tolerant, for GELU) by more than the
// approximation allows at pre-activation z; reports the first few.
void expect_matches(const Tensor& got, const Tensor& want, const QCase& c, const Tensor* z, const Tensor* r) {
  ASSERT_EQ(got.shape(), want.shape());
  const float* g = got.data<float>();
  const float* w = want.data<float>();
  int reported = 0;
  for (int64_t i = 0; i < got.numel(); ++i) {
    bool ok;
    if (z == nullptr) {
      ok = std::memcmp(&g[i], &w[i], sizeof(float)) == 0;
    } else {
      // |gelu error| <= 0.5 |z| * (error of erf or tanh) + a few roundings of the result; the
      // residual's addition rounds both sides (at most an ulp of each sum apart).
      const double zi = std::fabs(z->data<float>()[i % z->numel()]);
      const double ri = r ? std::fabs(r->data<float>()[i]) : 0.0;
      const double e = c.activation == "gelu" ? kernels::math::kErfMaxAbsError : kTanhMaxAbsError;
      const double tol = 0.5 * zi * e + 4 * kFloatEps * (std::fabs(w[i]) + ri + zi);
      ok = std::fabs(static_cast<double>(g[i]) - w[i]) <= tol;
    }
    if (!ok && reported++ < 5) {
      ADD_FAILURE() << "element " << i << ": fast " << g[i] << ", reference " << w[i] << " (" << c.describe() << ")";
    }
  }
}

// The fast executor (1 and 2 threads, identical bits) against the reference; the fast kernel
// must have run the node, with the default microkernel for this CPU.
void check_case(const QCase& c) {
  SCOPED_TRACE(c.describe());
  const Built b = build(c);
  ASSERT_TRUE(b.model);
  const Outcome ref = run_with(b.model, b.inputs, runtime::ExecutorKind::kReference, 1);
  const Outcome fast = run_with(b.model, b.inputs, runtime::ExecutorKind::kFast, 1);
  const Outcome fast2 = run_with(b.model, b.inputs, runtime::ExecutorKind::kFast, 2);
  ASSERT_TRUE(ref.y.defined() && fast.y.defined() && fast2.y.defined());
  EXPECT_EQ(fast.stats.fast_steps, 1);
  EXPECT_EQ(fast.stats.reference_steps, 0);
  EXPECT_EQ(std::memcmp(fast.y.raw(), fast2.y.raw(), fast.y.nbytes()), 0) << "2 threads differ from 1";
  if (c.activation == "none") {
    expect_matches(fast.y, ref.y, c, nullptr, nullptr);
  } else {
    QCase pre = c;  // the pre-activation values, for the tolerance
    pre.activation = "none";
    pre.residual = false;
    const Built bp = build(pre);
    const Outcome z = run_with(bp.model, bp.inputs, runtime::ExecutorKind::kReference, 1);
    ASSERT_TRUE(z.y.defined());
    expect_matches(fast.y, ref.y, c, &z.y, c.residual ? &b.inputs[1] : nullptr);
  }
  // The plan's kernel says which microkernel it runs: the default one for this CPU.
  auto plan = b.model->plan();
  ASSERT_TRUE(plan.ok());
  const kernels::QGemmUkernel& uk = kernels::qgemm_ukernel(
      c.x_type == "s16" ? kernels::QFamily::kInt16 : kernels::QFamily::kInt8, cpu::active_isa());
  for (const auto& step : (*plan)->steps()) {
    if (step.node->op_type != "QDense") continue;
    const std::string impl = step.kernel->implementation();
    EXPECT_NE(impl.find(std::string(c.x_type) + " x "), std::string::npos) << impl;
    EXPECT_NE(impl.find(uk.name), std::string::npos) << impl;
  }
}

TEST(QDenseIntKernelTest, U8ActivationsWithI8AndU8Weights) {
  for (DType wt : {DType::kI8, DType::kU8}) {
    for (ZeroPoints zp : {ZeroPoints::kAbsent, ZeroPoints::kPerTensor, ZeroPoints::kPerColumn}) {
      for (bool per_column : {false, true}) {
        QCase c;
        c.x_type = "u8";
        c.w_type = wt;
        c.x_zero_point = 93;
        c.per_column_scale = per_column;
        c.zero_points = zp;
        c.x_shape = {per_column ? 9 : 2, per_column ? 37 : 7, 37};  // 9 and 14 rows
        c.bias = zp != ZeroPoints::kPerTensor;
        c.residual = zp != ZeroPoints::kAbsent;
        check_case(c);
      }
    }
  }
}

TEST(QDenseIntKernelTest, S8ActivationsWithI8Weights) {
  // Asymmetric s8 (int8_asym with s8 activations), symmetric with the narrow [-127, 127] range
  // (int8_sym), and a power-of-two scale where the ties are exact.
  for (int variant = 0; variant < 3; ++variant) {
    QCase c;
    c.x_type = "s8";
    c.w_type = DType::kI8;
    c.x_zero_point = variant == 0 ? -7 : 0;
    if (variant == 1) {
      c.x_qmin = -127;
      c.x_qmax = 127;
    }
    c.x_scale = variant == 2 ? 0.015625f : 0.0173f;
    c.x_shape = {variant == 0 ? 37 : 20, 37};
    c.zero_points = variant == 0 ? ZeroPoints::kPerColumn : ZeroPoints::kAbsent;
    c.per_column_scale = variant != 1;
    c.bias = variant != 2;
    c.residual = variant != 1;
    check_case(c);
  }
}

TEST(QDenseIntKernelTest, S8ActivationsWithU8Weights) {
  QCase c;
  c.x_type = "s8";
  c.w_type = DType::kU8;
  c.x_zero_point = 12;
  c.x_shape = {17, 37};
  c.zero_points = ZeroPoints::kPerColumn;
  c.residual = true;
  check_case(c);
}

TEST(QDenseIntKernelTest, S16ActivationsWithI16Weights) {
  for (int variant = 0; variant < 3; ++variant) {
    QCase c;
    c.x_type = "s16";
    c.w_type = DType::kI16;
    c.x_scale = variant == 1 ? 0x1p-10f : 1.7e-4f;
    c.x_shape = {variant == 2 ? 31 : 13, 37};
    c.per_column_scale = variant != 1;
    c.zero_points = variant == 0 ? ZeroPoints::kAllZero : ZeroPoints::kAbsent;  // explicit zeros
    c.residual = variant != 1;
    c.bias = variant != 0;
    // Variant 2: whole-range weights, so some sums wrap mod 2^32 on both paths alike.
    c.w_limit = variant == 2 ? 0 : 1500;
    check_case(c);
  }
}

TEST(QDenseIntKernelTest, LargeKAcrossKBlocksAndThreads) {
  // K = 300 (one block), 1100 (> the int8 kernels' 1024-element K block) and 600 (> the
  // 16-bit A's 512): partial sums carried across K blocks. 70 x 768 x 48 has enough work for the
  // GEMM and the quantization to split over 2 threads.
  struct Shape3 {
    const char* x_type;
    DType w;
    int64_t m, k, n;
  };
  for (const Shape3& s : {Shape3{"u8", DType::kI8, 11, 300, 23}, Shape3{"s8", DType::kU8, 9, 1100, 23},
                          Shape3{"s16", DType::kI16, 10, 600, 19}, Shape3{"u8", DType::kI8, 70, 768, 48}}) {
    QCase c;
    c.x_type = s.x_type;
    c.w_type = s.w;
    c.x_zero_point = c.x_type == "s16" ? 0 : 3;
    c.x_scale = c.x_type == "s16" ? 1e-4f : 0.03f;
    c.w_limit = 2000;
    c.x_shape = {s.m, s.k};
    c.n = s.n;
    c.zero_points = c.x_type == "s16" ? ZeroPoints::kAbsent : ZeroPoints::kPerColumn;
    c.residual = true;
    check_case(c);
  }
}

TEST(QDenseIntKernelTest, GeluEpiloguesWithinTheApproximationBound) {
  for (const char* act : {"gelu", "gelu_tanh"}) {
    for (bool residual : {false, true}) {
      for (const char* x_type : {"u8", "s16"}) {
        QCase c;
        c.x_type = x_type;
        c.w_type = std::string(x_type) == "s16" ? DType::kI16 : DType::kI8;
        c.x_zero_point = std::string(x_type) == "s16" ? 0 : 100;
        c.x_scale = std::string(x_type) == "s16" ? 1e-4f : 0.02f;
        c.w_limit = 1500;
        c.x_shape = {3, 11, 37};
        c.activation = act;
        c.residual = residual;
        c.zero_points = std::string(x_type) == "s16" ? ZeroPoints::kAbsent : ZeroPoints::kPerColumn;
        check_case(c);
      }
    }
  }
}

// Every microkernel this CPU can run (not just the default one for its ISA), through the kernel
// object directly: each handles zero points and u8/s8 in its own domain (qgemm.cpp), and the
// QDense result must not depend on which. The 7-bit kernels (a_max_127) are exact only for u8
// activations <= 127 (case 3, as `--activation-bits 7` quantizes): for the others the kernel
// object must refuse them.
TEST(QDenseIntKernelTest, EveryMicrokernelGivesTheReferenceBits) {
  std::vector<QCase> cases(4);
  cases[0].x_type = "u8";
  cases[0].w_type = DType::kU8;
  cases[0].x_zero_point = 77;
  cases[0].zero_points = ZeroPoints::kPerColumn;
  cases[1].x_type = "s8";
  cases[1].w_type = DType::kI8;
  cases[1].x_zero_point = -20;
  cases[1].zero_points = ZeroPoints::kPerTensor;
  cases[1].per_column_scale = false;
  cases[2].x_type = "s16";
  cases[2].w_type = DType::kI16;
  cases[2].x_scale = 1e-4f;
  cases[2].w_limit = 1500;
  cases[3].x_type = "u8";
  cases[3].w_type = DType::kI8;
  cases[3].x_zero_point = 50;
  cases[3].x_qmin = 0;
  cases[3].x_qmax = 127;
  cases[3].zero_points = ZeroPoints::kPerColumn;
  cpu::ThreadPool pool(2);
  int tested[2] = {0, 0};
  int seven_bit_tested = 0, seven_bit_refused = 0;
  for (QCase& c : cases) {
    c.x_shape = {29, 45};
    c.residual = true;
    SCOPED_TRACE(c.describe());
    const Built b = build(c);
    ASSERT_TRUE(b.model);
    const Outcome ref = run_with(b.model, b.inputs, runtime::ExecutorKind::kReference, 1);
    ASSERT_TRUE(ref.y.defined());
    const ir::Node* node = nullptr;
    for (const auto& n : b.model->graph().nodes()) {
      if (n->op_type == "QDense") node = n.get();
    }
    ASSERT_NE(node, nullptr);
    const kernels::QFamily family = c.x_type == "s16" ? kernels::QFamily::kInt16 : kernels::QFamily::kInt8;
    for (const kernels::QGemmUkernel* const* uk = kernels::qgemm_all_ukernels(); *uk; ++uk) {
      if ((*uk)->family != family || !kernels::qgemm_ukernel_supported(**uk)) continue;
      SCOPED_TRACE((*uk)->name);
      auto kernel = runtime::make_qdense_int_kernel_with(*node, *uk);
      const bool u8_over_127 = c.x_type != "u8" || c.x_qmax == 0 || c.x_qmax > 127;
      if ((*uk)->a_max_127 && u8_over_127) {
        ASSERT_FALSE(kernel.ok()) << "a 7-bit kernel accepted activations that reach 255";
        EXPECT_NE(kernel.status().message().find("<= 127"), std::string::npos) << kernel.status().message();
        ++seven_bit_refused;
        continue;
      }
      ASSERT_TRUE(kernel.ok()) << kernel.status().message();
      if ((*uk)->a_max_127) ++seven_bit_tested;
      ASSERT_TRUE(*kernel);
      EXPECT_NE(std::string((*kernel)->implementation()).find((*uk)->name), std::string::npos);
      std::vector<const Tensor*> in;
      for (size_t i = 0; i < node->inputs.size(); ++i) {
        const ir::Value* v = node->inputs[i];
        in.push_back(i == 0 ? &b.inputs[0] : i == 5 ? &b.inputs[1] : v ? &v->constant : nullptr);
      }
      for (cpu::ThreadPool* p : {static_cast<cpu::ThreadPool*>(nullptr), &pool}) {
        auto y = Tensor::allocate(DType::kF32, c.y_shape());
        auto ws = Storage::allocate((*kernel)->workspace_bytes(p ? 2 : 1));
        ASSERT_TRUE(y.ok() && ws.ok());
        Tensor* out[] = {&*y};
        runtime::ExecContext ctx;
        ctx.pool = p;
        ctx.workspace = (*ws)->data();
        ctx.workspace_size = (*ws)->size();
        ASSERT_TRUE((*kernel)->run(ctx, in, out).ok());
        expect_matches(*y, ref.y, c, nullptr, nullptr);
      }
      ++tested[static_cast<int>(family)];
    }
  }
  EXPECT_GE(tested[0], 1);
  EXPECT_GE(tested[1], 1);
  // Each 7-bit kernel the CPU has: run once (case 3), refused twice (cases 0 and 1).
  EXPECT_EQ(seven_bit_refused, 2 * seven_bit_tested);
  if (seven_bit_tested == 0) std::printf("[   NOTE   ] no 7-bit (a<=127) int8 microkernel on this CPU: not covered\n");
}

// A [1, S] token model (ids -> embedding rows -> QDense with a residual) run with padding
// trimming: the real rows are the reference's bits, and the padding rows are not computed (they
// keep the previous run's values: nothing else writes the output buffer).
TEST(QDenseIntKernelTest, PaddingTrimmingComputesOnlyTheActiveRows) {
  const int64_t s = 23, k = 37, n = 19, vocab = 40;
  GraphBuilder g;
  auto* ids = g.input("ids", DType::kI32, {1, s});
  auto* x = g.op("Gather", {g.constant(random_floats({vocab, k}, 6, -2.0f, 2.0f)), ids},
                 GraphBuilder::attrs({{"axis", int64_t{0}}}));
  auto* r = g.op("Gather", {g.constant(random_floats({vocab, n}, 7, -1.0f, 1.0f)), ids},
                 GraphBuilder::attrs({{"axis", int64_t{0}}}));
  QCase c;
  c.x_type = "u8";
  c.x_zero_point = 128;
  c.x_shape = {1, s, k};
  c.n = n;
  c.zero_points = ZeroPoints::kPerColumn;
  g.output(g.op("QDense",
                {x, g.constant(make_weights(c, 2)), g.constant(make_scales(c, 3)), g.constant(make_zero_points(c)),
                 g.constant(random_floats({n}, 4, -1.0f, 1.0f)), r},
                qdense_attrs(c), "ratel"));
  runtime::LoadOptions o;
  o.release_packed_weights = false;
  auto model = runtime::Model::from_graph(g.build(), o);
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto token_ids = [&](int salt) {
    std::vector<int32_t> v(static_cast<size_t>(s));
    for (int64_t i = 0; i < s; ++i) v[static_cast<size_t>(i)] = static_cast<int32_t>((i * 7 + salt) % vocab);
    return Tensor::from_vector<int32_t>(v, {1, s});
  };
  const Tensor first = token_ids(3), second = token_ids(11);
  const Outcome ref = run_with(*model, {second}, runtime::ExecutorKind::kReference, 1);
  const Outcome full_first = run_with(*model, {first}, runtime::ExecutorKind::kFast, 1);
  ASSERT_TRUE(ref.y.defined() && full_first.y.defined());
  EXPECT_EQ(full_first.stats.fast_steps + full_first.stats.reference_steps, 3);
  EXPECT_EQ(full_first.stats.reference_ops.count("ratel.QDense"), 0u);
  for (int threads : {1, 2}) {
    for (int64_t real : {1, 9, 22, 23}) {
      SCOPED_TRACE(std::to_string(real) + " real rows, " + std::to_string(threads) + " threads");
      runtime::SessionOptions so;
      so.threads = threads;
      auto session = runtime::Session::create(*model, so);
      ASSERT_TRUE(session.ok());
      ASSERT_TRUE((*session)->set_input(0, first).ok());
      ASSERT_TRUE((*session)->run().ok());
      ASSERT_TRUE((*session)->set_active_rows(real).ok());
      ASSERT_TRUE((*session)->set_input(0, second).ok());
      ASSERT_TRUE((*session)->run().ok());
      const Tensor& y = (*session)->outputs()[0];
      const size_t real_bytes = static_cast<size_t>(real * n) * sizeof(float);
      EXPECT_EQ(std::memcmp(y.raw(), ref.y.raw(), real_bytes), 0) << "real rows differ from the reference";
      EXPECT_EQ(std::memcmp(static_cast<const std::byte*>(y.raw()) + real_bytes,
                            static_cast<const std::byte*>(full_first.y.raw()) + real_bytes, y.nbytes() - real_bytes),
                0)
          << "padding rows were recomputed";
    }
  }
}

// The kernel keeps its own copy of W, W_scale and W_zero_point: a model that frees them after
// packing still computes the reference's bits.
TEST(QDenseIntKernelTest, RunsAfterTheOriginalWeightsAreReleased) {
  QCase c;
  c.x_type = "u8";
  c.w_type = DType::kI8;
  c.x_zero_point = 60;
  c.zero_points = ZeroPoints::kPerColumn;
  c.residual = true;
  const Built keep = build(c);
  const Built released = build(c, /*release_weights=*/true);
  ASSERT_TRUE(keep.model && released.model);
  const Outcome ref = run_with(keep.model, keep.inputs, runtime::ExecutorKind::kReference, 1);
  const Outcome fast = run_with(released.model, released.inputs, runtime::ExecutorKind::kFast, 1);
  ASSERT_TRUE(ref.y.defined() && fast.y.defined());
  int released_inputs = 0;
  for (const auto& node : released.model->graph().nodes()) {
    for (size_t i = 1; i <= 3; ++i) released_inputs += node->has_input(i) && node->inputs[i]->data_released;
    EXPECT_FALSE(node->has_input(4) && node->inputs[4]->data_released) << "the bias is read at run time";
  }
  EXPECT_EQ(released_inputs, 3);
  expect_matches(fast.y, ref.y, c, nullptr, nullptr);
}

// What the kernel leaves to the reference kernel: weights or scales computed at run time.
TEST(QDenseIntKernelTest, NonConstantWeightsOrScalesFallBackToTheReference) {
  for (int which : {1, 2}) {
    QCase c;
    GraphBuilder g;
    auto* x = g.input("x", DType::kF32, c.x_shape);
    ir::Value* w = g.constant(make_weights(c, 2));
    ir::Value* sc = g.constant(make_scales(c, 3));
    std::vector<Tensor> in{make_x(c, 1)};
    if (which == 1) {
      w = g.input("w", DType::kI8, {c.k(), c.n});
      in.push_back(make_weights(c, 2));
    } else {
      sc = g.input("scale", DType::kF32, {c.n});
      in.push_back(make_scales(c, 3));
    }
    g.output(g.op("QDense", {x, w, sc}, qdense_attrs(c), "ratel"));
    runtime::LoadOptions o;
    o.release_packed_weights = false;
    auto model = runtime::Model::from_graph(g.build(), o);
    ASSERT_TRUE(model.ok()) << model.status().message();
    const Outcome ref = run_with(*model, in, runtime::ExecutorKind::kReference, 1);
    const Outcome fast = run_with(*model, in, runtime::ExecutorKind::kFast, 1);
    ASSERT_TRUE(ref.y.defined() && fast.y.defined());
    EXPECT_EQ(fast.stats.reference_steps, 1);
    EXPECT_EQ(fast.stats.reference_ops.count("ratel.QDense"), 1u);
    expect_matches(fast.y, ref.y, c, nullptr, nullptr);
  }
}

}  // namespace
}  // namespace ratel
