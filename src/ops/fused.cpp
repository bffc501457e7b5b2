// Ratel's fused operators (domain "ratel"), produced by the graph optimizer's fusion passes and
// never found in ONNX files. Each has a reference implementation here, written as the
// composition of the ONNX ops it replaces, so an optimized graph can be checked against the
// original by the reference executor alone.
//
//   ratel.Gelu(X; approximate="none"|"tanh")
//       erf form:  0.5·x·(1 + erf(x/√2));  tanh form: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
//   ratel.Dense(X[..., K], W[K, N], B[N]?, R[..., N]?; activation="none"|"gelu"|"gelu_tanh")
//       Y = act(X·W + B) + R — a MatMul with a constant weight and its bias/activation/residual
//       epilogue, what the packed GEMM computes in one pass.
//   ratel.Attention(Q, K, V, Mask?; num_heads, scale)         Q, K, V: [B, S, H]
//   ratel.Attention(QKV, -, -, Mask?; num_heads, scale, packed=1)   QKV: [B, S, 3H]
//       per head h (head size D = H / num_heads):
//       softmax(scale · Q_h·K_hᵀ + Mask) · V_h, heads concatenated back to [B, S, H].
//       Mask is additive, broadcastable to [B, num_heads, S, S].
//   ratel.SkipLayerNorm(X, Skip, Gamma, Beta; epsilon)
//       LayerNormalization(X + Skip) over the last axis.
#include <cmath>
#include <vector>

#include "ops/op.h"
#include "ops/op_util.h"

namespace ratel::ops {

namespace {

constexpr double kSqrt2 = 1.41421356237309504880;
constexpr double kSqrt2OverPi = 0.79788456080286535588;

double gelu(double x, bool tanh_form) {
  if (tanh_form) return 0.5 * x * (1.0 + std::tanh(kSqrt2OverPi * (x + 0.044715 * x * x * x)));
  return 0.5 * x * (1.0 + std::erf(x / kSqrt2));
}

Status require_float32(const InferContext& ctx, size_t i) {
  if (ctx.input_dtype(i) != DType::kF32) {
    return unsupported("input {} is {}; fused ops take f32", i, dtype_name(ctx.input_dtype(i)));
  }
  return Status::Ok();
}

// Reads the GELU flavour from attribute `name`: false for erf, true for the tanh approximation.
Result<bool> tanh_approximation(const ir::Attributes& attrs, const char* name) {
  const ir::AttrValue* v = attrs.find(name);
  const std::string* a = v ? std::get_if<std::string>(v) : nullptr;
  if (!v) return false;
  if (!a) return invalid_argument("attribute '{}' must be a string", name);
  if (*a == "none" || *a == "gelu") return false;
  if (*a == "tanh" || *a == "gelu_tanh") return true;
  return invalid_argument("unknown {} '{}'", name, *a);
}

// ---- Gelu ------------------------------------------------------------------------------------

Status infer_gelu(InferContext& ctx) {
  RATEL_RETURN_IF_ERROR(require_float32(ctx, 0));
  RATEL_RETURN_IF_ERROR(tanh_approximation(ctx.attrs(), "approximate").status());
  ctx.set_output(0, DType::kF32, ctx.input_shape(0));
  return Status::Ok();
}

Status compute_gelu(KernelContext& ctx) {
  RATEL_ASSIGN_OR_RETURN(bool tanh_form, tanh_approximation(ctx.attrs(), "approximate"));
  const float* x = ctx.in(0).data<float>();
  float* y = ctx.out(0).mutable_data<float>();
  for (int64_t i = 0; i < ctx.in(0).numel(); ++i) y[i] = static_cast<float>(gelu(x[i], tanh_form));
  return Status::Ok();
}

// ---- Dense -----------------------------------------------------------------------------------

Status infer_dense(InferContext& ctx) {
  if (ctx.num_inputs() < 2) return invalid_argument("expects X and W");
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (ctx.has_input(i)) RATEL_RETURN_IF_ERROR(require_float32(ctx, i));
  }
  const Shape& x = ctx.input_shape(0);
  const Shape& w = ctx.input_shape(1);
  if (x.empty() || w.size() != 2 || x.back() != w[0]) {
    return invalid_argument("X {} and W {} do not multiply (X[..., K] · W[K, N])", shape_str(x),
                            shape_str(w));
  }
  const int64_t n = w[1];
  if (ctx.has_input(2) && ctx.input_shape(2) != Shape{n}) {
    return invalid_argument("bias must be [{}], got {}", n, shape_str(ctx.input_shape(2)));
  }
  RATEL_RETURN_IF_ERROR(tanh_approximation(ctx.attrs(), "activation").status());
  Shape y = x;
  y.back() = n;
  if (ctx.has_input(3) && ctx.input_shape(3) != y) {
    return invalid_argument("residual must be {}, got {}", shape_str(y), shape_str(ctx.input_shape(3)));
  }
  ctx.set_output(0, DType::kF32, std::move(y));
  return Status::Ok();
}

Status compute_dense(KernelContext& ctx) {
  const bool has_act = ctx.attrs().find("activation") &&
                       *ctx.attrs().get_string("activation", "none") != "none";
  RATEL_ASSIGN_OR_RETURN(const bool tanh_form, tanh_approximation(ctx.attrs(), "activation"));
  const Tensor& x = ctx.in(0);
  const Tensor& w = ctx.in(1);
  const int64_t k = w.dim(0), n = w.dim(1), m = x.numel() / k;
  const float* px = x.data<float>();
  const float* pw = w.data<float>();
  const float* pb = ctx.has_input(2) ? ctx.in(2).data<float>() : nullptr;
  const float* pr = ctx.has_input(3) ? ctx.in(3).data<float>() : nullptr;
  float* py = ctx.out(0).mutable_data<float>();
  std::vector<double> acc(static_cast<size_t>(n));
  for (int64_t i = 0; i < m; ++i) {
    // i-k-j order with a double accumulator row: cache friendly and more accurate than f32.
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int64_t kk = 0; kk < k; ++kk) {
      const double a = px[i * k + kk];
      const float* wrow = pw + kk * n;
      for (int64_t j = 0; j < n; ++j) acc[static_cast<size_t>(j)] += a * wrow[j];
    }
    for (int64_t j = 0; j < n; ++j) {
      double v = acc[static_cast<size_t>(j)] + (pb ? pb[j] : 0.0);
      if (has_act) v = gelu(v, tanh_form);
      if (pr) v += pr[i * n + j];
      py[i * n + j] = static_cast<float>(v);
    }
  }
  return Status::Ok();
}

// ---- Attention -------------------------------------------------------------------------------

struct AttentionDims {
  int64_t batch, seq, hidden, heads, head_size;
  bool packed;
};

Result<AttentionDims> attention_dims(const ir::Attributes& attrs, const Shape& q) {
  RATEL_ASSIGN_OR_RETURN(int64_t heads, attrs.get_int("num_heads", 0));
  RATEL_ASSIGN_OR_RETURN(int64_t packed, attrs.get_int("packed", 0));
  if (q.size() != 3) return invalid_argument("Q must be [batch, seq, hidden], got {}", shape_str(q));
  const int64_t hidden = packed ? q[2] / 3 : q[2];
  if (packed && q[2] % 3 != 0) return invalid_argument("packed QKV width {} is not a multiple of 3", q[2]);
  if (heads <= 0 || hidden % heads != 0) {
    return invalid_argument("num_heads {} does not divide hidden size {}", heads, hidden);
  }
  return AttentionDims{q[0], q[1], hidden, heads, hidden / heads, packed != 0};
}

Status infer_attention(InferContext& ctx) {
  RATEL_RETURN_IF_ERROR(require_float32(ctx, 0));
  RATEL_ASSIGN_OR_RETURN(AttentionDims d, attention_dims(ctx.attrs(), ctx.input_shape(0)));
  const Shape qshape{d.batch, d.seq, d.hidden};
  if (!d.packed) {
    for (size_t i = 1; i < 3; ++i) {
      if (!ctx.has_input(i) || ctx.input_shape(i) != qshape) {
        return invalid_argument("K and V must be {} like Q", shape_str(qshape));
      }
    }
  }
  if (ctx.has_input(3)) {
    RATEL_RETURN_IF_ERROR(require_float32(ctx, 3));
    auto b = broadcast_shapes(ctx.input_shape(3), {d.batch, d.heads, d.seq, d.seq});
    if (!b.ok() || *b != Shape{d.batch, d.heads, d.seq, d.seq}) {
      return invalid_argument("mask {} does not broadcast to [batch, heads, seq, seq]",
                              shape_str(ctx.input_shape(3)));
    }
  }
  ctx.set_output(0, DType::kF32, qshape);
  return Status::Ok();
}

Status compute_attention(KernelContext& ctx) {
  RATEL_ASSIGN_OR_RETURN(AttentionDims d, attention_dims(ctx.attrs(), ctx.in(0).shape()));
  RATEL_ASSIGN_OR_RETURN(float scale, ctx.attrs().get_float("scale", 1.0f / std::sqrt(static_cast<float>(d.head_size))));
  // Row stride and column offset of Q, K, V inside their tensors (packed: one [B, S, 3H] tensor).
  const int64_t stride = d.packed ? 3 * d.hidden : d.hidden;
  const float* q = ctx.in(0).data<float>();
  const float* k = d.packed ? q + d.hidden : ctx.in(1).data<float>();
  const float* v = d.packed ? q + 2 * d.hidden : ctx.in(2).data<float>();
  const Tensor* mask = ctx.has_input(3) ? &ctx.in(3) : nullptr;
  std::vector<int64_t> mask_strides;
  if (mask) mask_strides = broadcast_strides(mask->shape(), {d.batch, d.heads, d.seq, d.seq});
  float* out = ctx.out(0).mutable_data<float>();
  std::vector<double> scores(static_cast<size_t>(d.seq));
  for (int64_t b = 0; b < d.batch; ++b) {
    for (int64_t h = 0; h < d.heads; ++h) {
      for (int64_t i = 0; i < d.seq; ++i) {
        const float* qi = q + (b * d.seq + i) * stride + h * d.head_size;
        double max_score = -INFINITY;
        for (int64_t j = 0; j < d.seq; ++j) {
          const float* kj = k + (b * d.seq + j) * stride + h * d.head_size;
          double dot = 0;
          for (int64_t c = 0; c < d.head_size; ++c) dot += static_cast<double>(qi[c]) * kj[c];
          double s = scale * dot;
          if (mask) {
            s += mask->data<float>()[b * mask_strides[0] + h * mask_strides[1] + i * mask_strides[2] +
                                     j * mask_strides[3]];
          }
          scores[static_cast<size_t>(j)] = s;
          max_score = std::max(max_score, s);
        }
        double sum = 0;
        for (double& s : scores) {
          s = std::exp(s - max_score);
          sum += s;
        }
        float* oi = out + (b * d.seq + i) * d.hidden + h * d.head_size;
        for (int64_t c = 0; c < d.head_size; ++c) {
          double acc = 0;
          for (int64_t j = 0; j < d.seq; ++j) {
            acc += scores[static_cast<size_t>(j)] * v[(b * d.seq + j) * stride + h * d.head_size + c];
          }
          oi[c] = static_cast<float>(acc / sum);
        }
      }
    }
  }
  return Status::Ok();
}

// ---- SkipLayerNorm ---------------------------------------------------------------------------

Status infer_skip_layer_norm(InferContext& ctx) {
  if (ctx.num_inputs() != 4) return invalid_argument("expects X, Skip, Gamma, Beta");
  for (size_t i = 0; i < 4; ++i) RATEL_RETURN_IF_ERROR(require_float32(ctx, i));
  const Shape& x = ctx.input_shape(0);
  if (x.empty() || ctx.input_shape(1) != x) {
    return invalid_argument("X {} and Skip {} must have the same shape", shape_str(x),
                            shape_str(ctx.input_shape(1)));
  }
  const Shape param{x.back()};
  if (ctx.input_shape(2) != param || ctx.input_shape(3) != param) {
    return invalid_argument("Gamma and Beta must be {}", shape_str(param));
  }
  ctx.set_output(0, DType::kF32, x);
  return Status::Ok();
}

Status compute_skip_layer_norm(KernelContext& ctx) {
  RATEL_ASSIGN_OR_RETURN(float eps, ctx.attrs().get_float("epsilon", 1e-5f));
  const Tensor& x = ctx.in(0);
  const int64_t n = x.shape().back(), rows = x.numel() / n;
  const float* px = x.data<float>();
  const float* ps = ctx.in(1).data<float>();
  const float* g = ctx.in(2).data<float>();
  const float* bias = ctx.in(3).data<float>();
  float* y = ctx.out(0).mutable_data<float>();
  std::vector<double> row(static_cast<size_t>(n));
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0;
    for (int64_t j = 0; j < n; ++j) {
      // the sum is rounded to float first, as the unfused Add would store it
      row[static_cast<size_t>(j)] = static_cast<float>(px[r * n + j] + ps[r * n + j]);
      mean += row[static_cast<size_t>(j)];
    }
    mean /= static_cast<double>(n);
    double var = 0;
    for (double v : row) var += (v - mean) * (v - mean);
    var /= static_cast<double>(n);
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t j = 0; j < n; ++j) {
      y[r * n + j] = static_cast<float>((row[static_cast<size_t>(j)] - mean) * inv * g[j] + bias[j]);
    }
  }
  return Status::Ok();
}

}  // namespace

void register_fused_ops(OpRegistry& r) {
  r.add({"ratel", "Gelu", infer_gelu, compute_gelu});
  r.add({"ratel", "Dense", infer_dense, compute_dense});
  r.add({"ratel", "Attention", infer_attention, compute_attention});
  r.add({"ratel", "SkipLayerNorm", infer_skip_layer_norm, compute_skip_layer_norm});
}

}  // namespace ratel::ops
