// Global pooling: GlobalAveragePool and GlobalMaxPool reduce every spatial axis (2..rank-1) of
// an [N, C, D1, ..., Dn] tensor to 1. tf2onnx emits GlobalAveragePool for the mean over the last
// axis of a rank-3 tensor (tf.nn.moments in BERT's layer norm).
#include <cmath>
#include <limits>

#include "ops/op.h"
#include "ops/op_util.h"

namespace ratel::ops {

namespace {

Status infer_global_pool(InferContext& ctx) {
  if (ctx.num_inputs() != 1 || !ctx.has_input(0)) return invalid_argument("expects 1 input");
  if (!dtype_in<FloatTypes>(ctx.input_dtype(0))) {
    return unsupported("input type {} is not accepted", dtype_name(ctx.input_dtype(0)));
  }
  Shape out = ctx.input_shape(0);
  if (out.size() < 3) return invalid_argument("input must be [N, C, spatial...], got {}", shape_str(out));
  for (size_t i = 2; i < out.size(); ++i) {
    if (out[i] == 0) return invalid_argument("spatial dimension {} is 0", i);
    out[i] = 1;
  }
  ctx.set_output(0, ctx.input_dtype(0), std::move(out));
  return Status::Ok();
}

template <bool kMax>
Status compute_global_pool(KernelContext& ctx) {
  const Tensor& x = ctx.in(0);
  const int64_t spatial = dims_product(x.shape(), 2, x.rank());
  const int64_t rows = x.numel() / spatial;
  return dispatch<FloatTypes>(x.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* py = ctx.out(0).mutable_data<T>();
    for (int64_t r = 0; r < rows; ++r) {
      // double accumulation, one rounding: the reference is more accurate than fast kernels
      double acc = kMax ? -std::numeric_limits<double>::infinity() : 0.0;
      for (int64_t i = 0; i < spatial; ++i) {
        const double v = static_cast<double>(Arith<T>::load(px[r * spatial + i]));
        if constexpr (kMax) {
          acc = std::isnan(v) || v > acc ? v : acc;
        } else {
          acc += v;
        }
      }
      if constexpr (!kMax) acc /= static_cast<double>(spatial);
      py[r] = float_from_double<T>(acc);
    }
    return Status::Ok();
  });
}

}  // namespace

void register_pool_ops(OpRegistry& r) {
  r.add({"", "GlobalAveragePool", infer_global_pool, compute_global_pool<false>});
  r.add({"", "GlobalMaxPool", infer_global_pool, compute_global_pool<true>});
}

}  // namespace ratel::ops
