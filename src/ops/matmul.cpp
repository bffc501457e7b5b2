// MatMul (numpy matmul) and Gemm reference kernels.
//
// These are the oracle the fast GEMM kernels are judged against, so accuracy comes first:
// floating-point products are accumulated in double and rounded once when stored. A product of
// two floats is exact in double, so the only error before that final rounding is the running
// sum's, at most about K·2^-53·Σ|a·b|, far below a float result's own half-ulp. Integer
// products wrap modulo 2^64 and are truncated to the output width, which is the same as
// wrapping in that width (what ONNX Runtime's integer MatMul does).
//
// Loops run i-k-j: the inner loop streams one row of B into one row of accumulators, both
// contiguous, so it vectorizes and stays in cache. A BERT-base FFN MatMul (384x768x3072) takes
// about a second this way, where i-j-k would stride through B column by column.
#include <cmath>
#include <type_traits>
#include <vector>

#include "ops/op.h"
#include "ops/op_util.h"

namespace ratel::ops {

namespace {

// ---- accumulation types ---------------------------------------------------------------------

// Accumulator for storage type T: double for floats, uint64 (wrapping) for integers.
template <typename T>
using Acc = std::conditional_t<std::is_integral_v<T>, uint64_t, double>;

template <typename T>
Acc<T> to_acc(T v) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<uint64_t>(v);  // sign-extends: modulo 2^64 of the value
  } else {
    return static_cast<double>(Arith<T>::load(v));
  }
}

template <typename T>
T from_acc(Acc<T> a) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(a);  // keeps the low bits: the product sum modulo 2^bits
  } else {
    return float_from_double<T>(a);
  }
}

// The whole tensor converted to accumulator values (reading 16-bit floats once, not K times).
template <typename T>
std::vector<Acc<T>> load_acc(const Tensor& t) {
  const T* p = t.data<T>();
  std::vector<Acc<T>> out(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < out.size(); ++i) out[i] = to_acc(p[i]);
  return out;
}

// rows x cols row-major matrix transposed into cols x rows.
template <typename A>
std::vector<A> transposed(const std::vector<A>& m, int64_t rows, int64_t cols) {
  std::vector<A> t(m.size());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) t[static_cast<size_t>(c * rows + r)] = m[static_cast<size_t>(r * cols + c)];
  }
  return t;
}

// out (M x N) = a (M x K) · b (K x N), all row-major, in i-k-j order.
template <typename A>
void gemm_ikj(const A* a, const A* b, A* out, int64_t m, int64_t k, int64_t n) {
  for (int64_t i = 0; i < m; ++i) {
    A* row = out + i * n;
    for (int64_t j = 0; j < n; ++j) row[j] = A{0};
    for (int64_t p = 0; p < k; ++p) {
      // No shortcut for a == 0: 0 * inf and 0 * NaN must still give NaN.
      const A av = a[i * k + p];
      const A* brow = b + p * n;
      for (int64_t j = 0; j < n; ++j) row[j] += av * brow[j];
    }
  }
}

// ---- type rules -----------------------------------------------------------------------------

// MatMul and Gemm take floats and 32/64-bit integers (8/16-bit integer matmuls are
// MatMulInteger's job); bf16 joined in opset 13. Gemm before opset 9 takes floats only.
Status check_matmul_dtype(const InferContext& ctx, DType t, bool ints_allowed) {
  switch (t) {
    case DType::kF32:
    case DType::kF64:
    case DType::kF16:
      return Status::Ok();
    case DType::kBF16:
      if (ctx.opset() >= 13) return Status::Ok();
      return unsupported("bf16 inputs need opset 13 or later; the model imports opset {}",
                         ctx.opset());
    case DType::kI32:
    case DType::kI64:
    case DType::kU32:
    case DType::kU64:
      if (ints_allowed) return Status::Ok();
      return unsupported("integer inputs ({}) need opset 9 or later; the model imports opset {}",
                         dtype_name(t), ctx.opset());
    default:
      return unsupported("input type {} is not accepted (floats and 32/64-bit integers are)",
                         dtype_name(t));
  }
}

Status check_same_input_dtypes(const InferContext& ctx, size_t a, size_t b) {
  if (ctx.input_dtype(a) != ctx.input_dtype(b)) {
    return invalid_argument("inputs {} and {} have different types ({} and {})", a, b,
                            dtype_name(ctx.input_dtype(a)), dtype_name(ctx.input_dtype(b)));
  }
  return Status::Ok();
}

// ---- MatMul ---------------------------------------------------------------------------------

// numpy matmul's view of the operands: a 1-D A is a row [1, K], a 1-D B a column [K, 1] (those
// unit dims are dropped from the result); dims before the last two broadcast.
struct MatMulPlan {
  Shape a_batch, b_batch, batch;  // batch dims of A, B and the broadcast result
  int64_t m = 0, k = 0, n = 0;
  Shape out;
};

Result<MatMulPlan> plan_matmul(const Shape& a_in, const Shape& b_in) {
  if (a_in.empty() || b_in.empty()) {
    return invalid_argument("MatMul inputs must have rank >= 1, got shapes {} and {}",
                            shape_str(a_in), shape_str(b_in));
  }
  Shape a = a_in;
  Shape b = b_in;
  if (a.size() == 1) a.insert(a.begin(), 1);
  if (b.size() == 1) b.push_back(1);
  MatMulPlan p;
  p.m = a[a.size() - 2];
  p.k = a[a.size() - 1];
  p.n = b[b.size() - 1];
  if (b[b.size() - 2] != p.k) {
    return invalid_argument("MatMul inner dimensions differ: A {} has K={}, B {} has K={}",
                            shape_str(a_in), p.k, shape_str(b_in), b[b.size() - 2]);
  }
  p.a_batch.assign(a.begin(), a.end() - 2);
  p.b_batch.assign(b.begin(), b.end() - 2);
  auto batch = broadcast_shapes(p.a_batch, p.b_batch);
  if (!batch.ok()) {
    return invalid_argument("MatMul batch dimensions of {} and {} cannot be broadcast together",
                            shape_str(a_in), shape_str(b_in));
  }
  p.batch = *batch;
  p.out = p.batch;
  if (a_in.size() > 1) p.out.push_back(p.m);
  if (b_in.size() > 1) p.out.push_back(p.n);
  return p;
}

Status infer_matmul(InferContext& ctx) {
  if (ctx.num_inputs() != 2 || !ctx.has_input(0) || !ctx.has_input(1)) {
    return invalid_argument("expects 2 inputs, got {}", ctx.num_inputs());
  }
  RATEL_RETURN_IF_ERROR(check_same_input_dtypes(ctx, 0, 1));
  RATEL_RETURN_IF_ERROR(check_matmul_dtype(ctx, ctx.input_dtype(0), /*ints_allowed=*/true));
  RATEL_ASSIGN_OR_RETURN(MatMulPlan p, plan_matmul(ctx.input_shape(0), ctx.input_shape(1)));
  ctx.set_output(0, ctx.input_dtype(0), std::move(p.out));
  return Status::Ok();
}

Status compute_matmul(KernelContext& ctx) {
  const Tensor& a = ctx.in(0);
  const Tensor& b = ctx.in(1);
  Tensor& out = ctx.out(0);
  RATEL_ASSIGN_OR_RETURN(MatMulPlan p, plan_matmul(a.shape(), b.shape()));
  return dispatch<NumericTypes>(a.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    using A = Acc<T>;
    const std::vector<A> av = load_acc<T>(a);
    const std::vector<A> bv = load_acc<T>(b);
    std::vector<A> tile(static_cast<size_t>(p.m * p.n));
    T* po = out.mutable_data<T>();
    const int64_t a_size = p.m * p.k;
    const int64_t b_size = p.k * p.n;
    const int64_t c_size = p.m * p.n;
    // Offsets come in units of whole matrices: batch index -> which A and B matrix it uses.
    for_each_broadcast<2>(p.batch, {&p.a_batch, &p.b_batch},
                          [&](int64_t batch, const std::array<int64_t, 2>& off) {
                            gemm_ikj(av.data() + off[0] * a_size, bv.data() + off[1] * b_size,
                                     tile.data(), p.m, p.k, p.n);
                            T* dst = po + batch * c_size;
                            for (int64_t i = 0; i < c_size; ++i) dst[i] = from_acc<T>(tile[static_cast<size_t>(i)]);
                          });
    return Status::Ok();
  });
}

// ---- Gemm -----------------------------------------------------------------------------------

struct GemmAttrs {
  bool trans_a = false, trans_b = false;
  double alpha = 1.0, beta = 1.0;
};

Result<bool> read_flag(const ir::Attributes& attrs, const char* name) {
  RATEL_ASSIGN_OR_RETURN(int64_t v, attrs.get_int(name, 0));
  if (v != 0 && v != 1) return invalid_argument("attribute '{}' must be 0 or 1, got {}", name, v);
  return v == 1;
}

Result<GemmAttrs> read_gemm_attrs(const ir::Attributes& attrs) {
  GemmAttrs g;
  RATEL_ASSIGN_OR_RETURN(g.trans_a, read_flag(attrs, "transA"));
  RATEL_ASSIGN_OR_RETURN(g.trans_b, read_flag(attrs, "transB"));
  RATEL_ASSIGN_OR_RETURN(float alpha, attrs.get_float("alpha", 1.0f));
  RATEL_ASSIGN_OR_RETURN(float beta, attrs.get_float("beta", 1.0f));
  g.alpha = alpha;
  g.beta = beta;
  return g;
}

// C broadcasts one way onto the (M, N) output: rank <= 2, each dim equal or 1. Before opset 7 it
// broadcast only when the `broadcast` attribute said so, and otherwise had to be (M, N) exactly.
Status check_gemm_bias(const InferContext& ctx, const Shape& c, int64_t m, int64_t n) {
  const Shape out{m, n};
  bool ok = c.size() <= 2;
  for (size_t i = 0; ok && i < c.size(); ++i) {
    const int64_t want = out[2 - c.size() + i];
    ok = c[i] == want || c[i] == 1;
  }
  if (!ok) {
    return invalid_argument("C of shape {} cannot be broadcast to the output shape {}",
                            shape_str(c), shape_str(out));
  }
  if (ctx.opset() < 7) {
    RATEL_ASSIGN_OR_RETURN(int64_t broadcast, ctx.attrs().get_int("broadcast", 0));
    if (broadcast == 0 && c != out) {
      return invalid_argument(
          "C of shape {} differs from the output shape {} and attribute 'broadcast' is 0 "
          "(opset {} < 7 broadcasts only on request)",
          shape_str(c), shape_str(out), ctx.opset());
    }
  }
  return Status::Ok();
}

Status infer_gemm(InferContext& ctx) {
  const size_t n_in = ctx.num_inputs();
  if (n_in < 2 || n_in > 3 || !ctx.has_input(0) || !ctx.has_input(1)) {
    return invalid_argument("expects inputs A, B and optionally C, got {} inputs", n_in);
  }
  const bool has_c = ctx.has_input(2);
  if (!has_c && ctx.opset() < 11) {
    return invalid_argument("input C is optional only from opset 11; the model imports opset {}",
                            ctx.opset());
  }
  RATEL_RETURN_IF_ERROR(check_same_input_dtypes(ctx, 0, 1));
  if (has_c) RATEL_RETURN_IF_ERROR(check_same_input_dtypes(ctx, 0, 2));
  RATEL_RETURN_IF_ERROR(check_matmul_dtype(ctx, ctx.input_dtype(0), ctx.opset() >= 9));
  RATEL_ASSIGN_OR_RETURN(GemmAttrs g, read_gemm_attrs(ctx.attrs()));
  const Shape& a = ctx.input_shape(0);
  const Shape& b = ctx.input_shape(1);
  if (a.size() != 2 || b.size() != 2) {
    return invalid_argument("A and B must be 2-D, got shapes {} and {}", shape_str(a), shape_str(b));
  }
  const int64_t m = g.trans_a ? a[1] : a[0];
  const int64_t ka = g.trans_a ? a[0] : a[1];
  const int64_t kb = g.trans_b ? b[1] : b[0];
  const int64_t n = g.trans_b ? b[0] : b[1];
  if (ka != kb) {
    return invalid_argument("inner dimensions differ: A {}{} has K={}, B {}{} has K={}",
                            shape_str(a), g.trans_a ? " (transposed)" : "", ka, shape_str(b),
                            g.trans_b ? " (transposed)" : "", kb);
  }
  if (has_c) RATEL_RETURN_IF_ERROR(check_gemm_bias(ctx, ctx.input_shape(2), m, n));
  ctx.set_output(0, ctx.input_dtype(0), Shape{m, n});
  return Status::Ok();
}

// alpha·acc + beta·c for one output element. Floats: in double, rounded once on store. Integers:
// in wrapping integer arithmetic when alpha and beta are whole numbers (the usual 1 and 1), else
// in double and truncated toward zero with saturation, as ONNX's numpy reference does.
template <typename T>
T gemm_epilogue(Acc<T> acc, const T* c, double alpha, double beta) {
  if constexpr (std::is_integral_v<T>) {
    const bool whole = alpha == std::trunc(alpha) && beta == std::trunc(beta) &&
                       std::fabs(alpha) < 0x1p62 && std::fabs(beta) < 0x1p62;
    if (whole) {
      uint64_t y = static_cast<uint64_t>(static_cast<int64_t>(alpha)) * acc;
      if (c) y += static_cast<uint64_t>(static_cast<int64_t>(beta)) * static_cast<uint64_t>(*c);
      return static_cast<T>(y);
    }
    double y = alpha * static_cast<double>(static_cast<T>(acc));
    if (c) y += beta * static_cast<double>(*c);
    return saturate_cast_float<T>(y);
  } else {
    double y = alpha * acc;
    if (c) y += beta * static_cast<double>(Arith<T>::load(*c));
    return float_from_double<T>(y);
  }
}

Status compute_gemm(KernelContext& ctx) {
  const Tensor& a = ctx.in(0);
  const Tensor& b = ctx.in(1);
  // ONNX's reference skips C when beta is 0, so a NaN or inf in C does not leak into Y.
  const Tensor* c = ctx.has_input(2) ? &ctx.in(2) : nullptr;
  Tensor& out = ctx.out(0);
  RATEL_ASSIGN_OR_RETURN(GemmAttrs g, read_gemm_attrs(ctx.attrs()));
  if (g.beta == 0) c = nullptr;
  const int64_t m = out.dim(0);
  const int64_t n = out.dim(1);
  const int64_t k = g.trans_a ? a.dim(0) : a.dim(1);
  const Shape out_shape{m, n};
  return dispatch<NumericTypes>(a.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    using A = Acc<T>;
    std::vector<A> av = load_acc<T>(a);
    std::vector<A> bv = load_acc<T>(b);
    if (g.trans_a) av = transposed(av, k, m);
    if (g.trans_b) bv = transposed(bv, n, k);
    std::vector<A> acc(static_cast<size_t>(m * n));
    gemm_ikj(av.data(), bv.data(), acc.data(), m, k, n);
    T* po = out.mutable_data<T>();
    if (!c) {
      for (int64_t i = 0; i < m * n; ++i) {
        po[i] = gemm_epilogue<T>(acc[static_cast<size_t>(i)], nullptr, g.alpha, g.beta);
      }
      return Status::Ok();
    }
    const T* pc = c->data<T>();
    for_each_broadcast<1>(out_shape, {&c->shape()}, [&](int64_t i, const std::array<int64_t, 1>& off) {
      po[i] = gemm_epilogue<T>(acc[static_cast<size_t>(i)], pc + off[0], g.alpha, g.beta);
    });
    return Status::Ok();
  });
}

}  // namespace

void register_matmul_ops(OpRegistry& r) {
  r.add({"", "MatMul", infer_matmul, compute_matmul});
  r.add({"", "Gemm", infer_gemm, compute_gemm});
}

}  // namespace ratel::ops
