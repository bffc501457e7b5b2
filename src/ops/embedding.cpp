// ratel.QGather: a lookup into an embedding table stored in fewer bits (produced by
// passes/embedding_quantization.cpp from Gather(table, ids) on axis 0):
//
//   ratel.QGather(T[V, D] i8 | f16 | bf16, ids[...] i32 | i64, S[V, D / block] f32 (i8 only); block)
//     -> Y[..., D] f32,   Y[p][d] = float(T[id][d]) * S[id][d / block]   (i8; one IEEE multiply)
//                         Y[p][d] = float(T[id][d])                     (f16, bf16; exact)
//   with id = ids[p], negative ids counting from the back as in Gather; others are an error.
//
// Blocks of `block` consecutive elements of a row share a scale (ggml's q8_0 idea): BERT's word
// embeddings have a few large dimensions, and one scale per row would spend int8's range on them.
#include <cmath>

#include "ops/op.h"
#include "ops/op_util.h"

namespace ratel::ops {

namespace {

Status infer_qgather(InferContext& ctx) {
  if (ctx.num_inputs() < 2 || !ctx.has_input(0) || !ctx.has_input(1)) return invalid_argument("expects T and ids");
  const DType t = ctx.input_dtype(0);
  const Shape& table = ctx.input_shape(0);
  if (table.size() != 2) return invalid_argument("T must be [V, D], got {}", shape_str(table));
  if (ctx.input_dtype(1) != DType::kI32 && ctx.input_dtype(1) != DType::kI64) {
    return invalid_argument("ids must be int32 or int64, got {}", dtype_name(ctx.input_dtype(1)));
  }
  if (t == DType::kI8) {
    RATEL_ASSIGN_OR_RETURN(const int64_t block, ctx.attrs().get_int("block", 0));
    if (block <= 0 || table[1] % block != 0) {
      return invalid_argument("block {} must be positive and divide D = {}", block, table[1]);
    }
    if (!ctx.has_input(2) || ctx.input_dtype(2) != DType::kF32 || ctx.input_shape(2) != Shape{table[0], table[1] / block}) {
      return invalid_argument("int8 T needs S f32 [{}, {}]", table[0], table[1] / block);
    }
  } else if (t != DType::kF16 && t != DType::kBF16) {
    return invalid_argument("T must be i8, f16 or bf16, got {}", dtype_name(t));
  }
  Shape out = ctx.input_shape(1);
  out.push_back(table[1]);
  ctx.set_output(0, DType::kF32, std::move(out));
  return Status::Ok();
}

Status compute_qgather(KernelContext& ctx) {
  const Tensor& t = ctx.in(0);
  const Tensor& ids = ctx.in(1);
  const int64_t v = t.dim(0), d = t.dim(1);
  float* y = ctx.out(0).mutable_data<float>();
  const int64_t block = t.dtype() == DType::kI8 ? *ctx.attrs().get_int("block", 1) : 1;
  const float* s = t.dtype() == DType::kI8 ? ctx.in(2).data<float>() : nullptr;
  for (int64_t p = 0; p < ids.numel(); ++p) {
    int64_t id = ids.get_as_int64(p);
    if (id < -v || id >= v) return out_of_range("id {} at position {} is outside the table's {} rows", id, p, v);
    if (id < 0) id += v;
    float* row = y + p * d;
    switch (t.dtype()) {
      case DType::kI8: {
        const int8_t* q = t.data<int8_t>() + id * d;
        const float* rs = s + id * (d / block);
        for (int64_t c = 0; c < d; ++c) row[c] = static_cast<float>(q[c]) * rs[c / block];
        break;
      }
      case DType::kF16: {
        const Half* h = t.data<Half>() + id * d;
        for (int64_t c = 0; c < d; ++c) row[c] = half_to_float(h[c].bits);
        break;
      }
      default: {
        const BFloat16* h = t.data<BFloat16>() + id * d;
        for (int64_t c = 0; c < d; ++c) row[c] = bf16_to_float(h[c].bits);
        break;
      }
    }
  }
  return Status::Ok();
}

}  // namespace

void register_embedding_ops(OpRegistry& r) { r.add({"ratel", "QGather", infer_qgather, compute_qgather}); }

}  // namespace ratel::ops
