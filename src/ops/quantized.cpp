// Quantized and half-precision dense layers (domain "ratel"), produced by the quantizer
// (src/quant/, `ratel quantize`) from ratel.Dense:
//
//   ratel.QDense(X[..., K] f32, W[K, N], W_scale?, W_zero_point?, B[N]? f32, R[..., N]? f32,
//                X_smooth[K]? f32; x_type, x_scale, x_zero_point, x_qmin, x_qmax, activation)
//
// x_type says what happens to X before the multiply, W's type what the weights are:
//   x_type u8 / s8 / s16 (integer schemes: int8_asym, int8_sym, uint8_asym, int8_asym_w_sym,
//   int16_sym). W is i8 or u8 (with u8/s8 X) or i16 (with s16 X), W_scale f32 [N] or [1] > 0,
//   W_zero_point i32 [N] or [1] in W's range (absent: 0; must be 0 for i16):
//       xq[m][k] = clamp(round_half_even(X[m][k] / x_scale), x_qmin - x_zero_point,
//                        x_qmax - x_zero_point) + x_zero_point        (ops/quant_math.h)
//     with X_smooth (SmoothQuant, passes/integer_quantization.cpp), X[m][k] * X_smooth[k] (one
//     float multiplication) in place of X[m][k]: the quantizer divides outlier channels down and
//     multiplies the weights' rows up by the same factors;
//       acc[m][n] = sum_k (xq[m][k] - x_zero_point) * (W[k][n] - W_zero_point[n])   (int32,
//                   mod 2^32 like the hardware; the quantizer picks scales so it never wraps)
//       Y = act(float(acc) * (x_scale * W_scale[n]) + B[n]) + R      (each a float operation)
//     [x_qmin, x_qmax] lies within the storage type's range (defaults: the whole range).
//   x_type f32, W f16 (float16; W_scale optional, multiplied after the sum) or W i8 with
//     W_scale (float16_w_int8: int8 weights, fp32 activations on x86):
//       Y = act((X · float(W)) * W_scale[n] + B[n]) + R
//   x_type bf16, W bf16 (bfloat16; no scale): X rounded to bf16 (nearest even), then
//       Y = act(bf16(X) · float(W) + B[n]) + R
// activation: "none", "gelu" (erf) or "gelu_tanh", as ratel.Dense.
//
// The integer form is exact up to the float epilogue, so the fast kernel (qgemm) must match it
// bit for bit (GELU excepted: approximated erf). The float forms sum in double here; the fast
// kernels sum in float and are checked within the bound that gives.
#include <cmath>
#include <vector>

#include "ops/op.h"
#include "ops/op_util.h"
#include "ops/quant_math.h"

namespace ratel::ops {

namespace {

constexpr double kSqrt2 = 1.41421356237309504880;
constexpr double kSqrt2OverPi = 0.79788456080286535588;

enum class XType { kU8, kS8, kS16, kF32, kBF16 };

Result<XType> parse_x_type(const std::string& s) {
  if (s == "u8") return XType::kU8;
  if (s == "s8") return XType::kS8;
  if (s == "s16") return XType::kS16;
  if (s == "f32") return XType::kF32;
  if (s == "bf16") return XType::kBF16;
  return invalid_argument("unknown x_type '{}' (u8, s8, s16, f32 or bf16)", s);
}

DType x_storage(XType t) {
  switch (t) {
    case XType::kU8: return DType::kU8;
    case XType::kS8: return DType::kI8;
    case XType::kS16: return DType::kI16;
    default: return DType::kUndefined;
  }
}

struct QDenseParams {
  XType x_type = XType::kF32;
  float x_scale = 1.0f;
  int32_t x_zero_point = 0;
  int32_t x_qmin = 0, x_qmax = 0;
  int activation = 0;  // 0 none, 1 gelu (erf), 2 gelu_tanh
};

Result<QDenseParams> read_params(const ir::Attributes& attrs) {
  QDenseParams p;
  RATEL_ASSIGN_OR_RETURN(std::string xt, attrs.get_string("x_type", ""));
  RATEL_ASSIGN_OR_RETURN(p.x_type, parse_x_type(xt));
  RATEL_ASSIGN_OR_RETURN(std::string act, attrs.get_string("activation", "none"));
  if (act == "none") p.activation = 0;
  else if (act == "gelu") p.activation = 1;
  else if (act == "gelu_tanh") p.activation = 2;
  else return invalid_argument("unknown activation '{}' (none, gelu or gelu_tanh)", act);
  const DType storage = x_storage(p.x_type);
  if (storage == DType::kUndefined) return p;
  const ops::quant::QRange r = ops::quant::storage_range(storage);
  RATEL_ASSIGN_OR_RETURN(p.x_scale, attrs.get_float("x_scale", 0.0f));
  RATEL_ASSIGN_OR_RETURN(int64_t zp, attrs.get_int("x_zero_point", 0));
  RATEL_ASSIGN_OR_RETURN(int64_t qmin, attrs.get_int("x_qmin", r.min));
  RATEL_ASSIGN_OR_RETURN(int64_t qmax, attrs.get_int("x_qmax", r.max));
  if (!(p.x_scale > 0) || !std::isfinite(p.x_scale)) {
    return invalid_argument("x_scale must be a positive finite number, got {}", p.x_scale);
  }
  if (qmin < r.min || qmax > r.max || qmin > qmax) {
    return invalid_argument("[x_qmin, x_qmax] = [{}, {}] must be a range within [{}, {}]", qmin, qmax, r.min, r.max);
  }
  if (zp < qmin || zp > qmax) {
    return invalid_argument("x_zero_point {} is outside [x_qmin, x_qmax] = [{}, {}]", zp, qmin, qmax);
  }
  if (p.x_type == XType::kS16 && zp != 0) return invalid_argument("s16 activations are symmetric: x_zero_point must be 0");
  p.x_zero_point = static_cast<int32_t>(zp);
  p.x_qmin = static_cast<int32_t>(qmin);
  p.x_qmax = static_cast<int32_t>(qmax);
  return p;
}

bool weight_type_allowed(XType x, DType w) {
  switch (x) {
    case XType::kU8:
    case XType::kS8: return w == DType::kI8 || w == DType::kU8;
    case XType::kS16: return w == DType::kI16;
    case XType::kF32: return w == DType::kF16 || w == DType::kI8;
    case XType::kBF16: return w == DType::kBF16;
  }
  return false;
}

Status infer_qdense(InferContext& ctx) {
  if (ctx.num_inputs() < 2) return invalid_argument("expects X and W");
  RATEL_ASSIGN_OR_RETURN(QDenseParams p, read_params(ctx.attrs()));
  if (ctx.input_dtype(0) != DType::kF32) return invalid_argument("X must be f32, got {}", dtype_name(ctx.input_dtype(0)));
  const DType wt = ctx.input_dtype(1);
  if (!weight_type_allowed(p.x_type, wt)) {
    return invalid_argument("weights of type {} do not go with x_type {}", dtype_name(wt),
                            *ctx.attrs().get_string("x_type", ""));
  }
  const Shape& x = ctx.input_shape(0);
  const Shape& w = ctx.input_shape(1);
  if (x.empty() || w.size() != 2 || x.back() != w[0]) {
    return invalid_argument("X {} and W {} do not multiply (X[..., K] · W[K, N])", shape_str(x), shape_str(w));
  }
  const int64_t n = w[1];
  const bool integer = x_storage(p.x_type) != DType::kUndefined;
  const bool scale_required = integer || wt == DType::kI8;
  if (ctx.has_input(2)) {
    if (p.x_type == XType::kBF16) return invalid_argument("bf16 weights take no W_scale");
    if (ctx.input_dtype(2) != DType::kF32) return invalid_argument("W_scale must be f32");
    const int64_t c = numel(ctx.input_shape(2));
    if (c != 1 && c != n) return invalid_argument("W_scale must hold 1 or {} values, got {}", n, c);
    if (const Tensor* s = ctx.input_constant(2)) {
      for (int64_t i = 0; i < c; ++i) {
        const float v = s->data<float>()[i];
        if (!(v > 0) || !std::isfinite(v)) return invalid_argument("W_scale[{}] = {} is not a positive finite number", i, v);
      }
    }
  } else if (scale_required) {
    return invalid_argument("{} weights need W_scale", dtype_name(wt));
  }
  if (ctx.has_input(3)) {
    if (!integer) return invalid_argument("W_zero_point is only for integer activations");
    if (ctx.input_dtype(3) != DType::kI32) return invalid_argument("W_zero_point must be i32");
    const int64_t c = numel(ctx.input_shape(3));
    if (c != 1 && c != n) return invalid_argument("W_zero_point must hold 1 or {} values, got {}", n, c);
    if (const Tensor* z = ctx.input_constant(3)) {
      const ops::quant::QRange r = ops::quant::storage_range(wt);
      for (int64_t i = 0; i < c; ++i) {
        const int32_t v = z->data<int32_t>()[i];
        if (v < r.min || v > r.max || (wt == DType::kI16 && v != 0)) {
          return invalid_argument("W_zero_point[{}] = {} is invalid for {} weights", i, v, dtype_name(wt));
        }
      }
    }
  }
  if (ctx.has_input(4)) {
    if (ctx.input_dtype(4) != DType::kF32 || ctx.input_shape(4) != Shape{n}) {
      return invalid_argument("bias must be f32 [{}], got {} {}", n, dtype_name(ctx.input_dtype(4)),
                              shape_str(ctx.input_shape(4)));
    }
  }
  Shape y = x;
  y.back() = n;
  if (ctx.has_input(5)) {
    if (ctx.input_dtype(5) != DType::kF32 || ctx.input_shape(5) != y) {
      return invalid_argument("residual must be f32 {}, got {} {}", shape_str(y), dtype_name(ctx.input_dtype(5)),
                              shape_str(ctx.input_shape(5)));
    }
  }
  if (ctx.has_input(6)) {
    if (!integer) return invalid_argument("X_smooth is only for integer activations");
    if (ctx.input_dtype(6) != DType::kF32 || ctx.input_shape(6) != Shape{w[0]}) {
      return invalid_argument("X_smooth must be f32 [{}], got {} {}", w[0], dtype_name(ctx.input_dtype(6)),
                              shape_str(ctx.input_shape(6)));
    }
    if (const Tensor* f = ctx.input_constant(6)) {
      for (int64_t i = 0; i < w[0]; ++i) {
        const float v = f->data<float>()[i];
        if (!(v > 0) || !std::isfinite(v)) return invalid_argument("X_smooth[{}] = {} is not a positive finite number", i, v);
      }
    }
  }
  ctx.set_output(0, DType::kF32, std::move(y));
  return Status::Ok();
}

double apply_activation(double v, int activation) {
  if (activation == 1) return 0.5 * v * (1.0 + std::erf(v / kSqrt2));
  if (activation == 2) return 0.5 * v * (1.0 + std::tanh(kSqrt2OverPi * (v + 0.044715 * v * v * v)));
  return v;
}

int64_t load_int(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::kI8: return t.data<int8_t>()[i];
    case DType::kU8: return t.data<uint8_t>()[i];
    case DType::kI16: return t.data<int16_t>()[i];
    default: return t.data<int32_t>()[i];
  }
}

float load_float_weight(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::kF16: return half_to_float(t.data<Half>()[i].bits);
    case DType::kBF16: return bf16_to_float(t.data<BFloat16>()[i].bits);
    default: return static_cast<float>(t.data<int8_t>()[i]);
  }
}

Status compute_qdense(KernelContext& ctx) {
  RATEL_ASSIGN_OR_RETURN(QDenseParams p, read_params(ctx.attrs()));
  const Tensor& x = ctx.in(0);
  const Tensor& w = ctx.in(1);
  const int64_t k = w.dim(0), n = w.dim(1), m = x.numel() / k;
  const Tensor* ws = ctx.has_input(2) ? &ctx.in(2) : nullptr;
  const Tensor* wz = ctx.has_input(3) ? &ctx.in(3) : nullptr;
  const float* bias = ctx.has_input(4) ? ctx.in(4).data<float>() : nullptr;
  const float* res = ctx.has_input(5) ? ctx.in(5).data<float>() : nullptr;
  const float* smooth = ctx.has_input(6) ? ctx.in(6).data<float>() : nullptr;
  auto scale_of = [&](int64_t j) { return ws ? ws->data<float>()[ws->numel() == 1 ? 0 : j] : 1.0f; };
  const float* px = x.data<float>();
  float* py = ctx.out(0).mutable_data<float>();
  const bool integer = x_storage(p.x_type) != DType::kUndefined;
  std::vector<int64_t> xq(static_cast<size_t>(k));
  std::vector<double> xf(static_cast<size_t>(k));
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t kk = 0; kk < k; ++kk) {
      const float v = smooth ? px[i * k + kk] * smooth[kk] : px[i * k + kk];
      if (integer) {
        xq[static_cast<size_t>(kk)] =
            ops::quant::quantize_value(v, p.x_scale, p.x_zero_point, p.x_qmin, p.x_qmax) - p.x_zero_point;
      } else {
        xf[static_cast<size_t>(kk)] = p.x_type == XType::kBF16 ? bf16_to_float(float_to_bf16(v)) : v;
      }
    }
    for (int64_t j = 0; j < n; ++j) {
      float y;
      if (integer) {
        const int64_t zw = wz ? load_int(*wz, wz->numel() == 1 ? 0 : j) : 0;
        int64_t sum = 0;
        for (int64_t kk = 0; kk < k; ++kk) sum += xq[static_cast<size_t>(kk)] * (load_int(w, kk * n + j) - zw);
        const auto acc = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(sum)));  // mod 2^32
        y = static_cast<float>(acc) * (p.x_scale * scale_of(j));
      } else {
        double sum = 0;
        for (int64_t kk = 0; kk < k; ++kk) sum += xf[static_cast<size_t>(kk)] * load_float_weight(w, kk * n + j);
        y = static_cast<float>(sum);
        if (ws) y = y * scale_of(j);
      }
      if (bias) y = y + bias[j];
      if (p.activation != 0) y = static_cast<float>(apply_activation(y, p.activation));
      if (res) y = y + res[i * n + j];
      py[i * n + j] = y;
    }
  }
  return Status::Ok();
}

}  // namespace

void register_quantized_ops(OpRegistry& r) {
  r.add({"ratel", "QDense", infer_qdense, compute_qdense});
}

}  // namespace ratel::ops
