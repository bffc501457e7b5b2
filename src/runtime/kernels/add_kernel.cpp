// f32 Add where each input is the output's shape or a suffix of it (a bias over the last dims):
// BERT's embedding sums (word + token type + position) and any residual add the dense fusion
// left alone. Split over the pool in fixed chunks; one rounding per element, as the reference,
// so the bits are the reference's for any thread count. May write over input 0.
#include <algorithm>

#include "runtime/kernels/fast_kernels.h"

namespace ratel::runtime {

namespace {

// Elements per parallel chunk: ~10 us of adding, enough to amortize waking a worker.
constexpr int64_t kChunk = 32768;

// Whether `in` broadcasts to `out` as a whole-suffix repeat: its shape, leading 1s dropped, equals
// the last dims of `out`.
bool is_suffix_of(const Shape& in, const Shape& out) {
  size_t lead = 0;
  while (lead < in.size() && in[lead] == 1) ++lead;
  const size_t rank = in.size() - lead;
  if (rank > out.size()) return false;
  return std::equal(in.begin() + static_cast<std::ptrdiff_t>(lead), in.end(),
                    out.end() - static_cast<std::ptrdiff_t>(rank));
}

class AddKernel : public Kernel {
 public:
  explicit AddKernel(bool a_full) : a_full_(a_full) {}

  Status run(const ExecContext& ctx, std::span<const Tensor* const> in,
             std::span<Tensor* const> out) const override {
    const Shape& shape = out[0]->shape();
    const int64_t width = shape.empty() ? 1 : shape.back();
    // Trimmed runs: the leading active rows of a [..., seq_len, width] output.
    const int64_t n = width > 0 ? ctx.rows_to_compute(out[0]->numel() / width) * width : 0;
    const float* a = in[0]->data<float>();
    const float* b = in[1]->data<float>();
    const int64_t na = in[0]->numel(), nb = in[1]->numel();
    float* y = out[0]->mutable_data<float>();
    cpu::parallel_for(ctx.pool, (n + kChunk - 1) / kChunk, [&](int64_t begin, int64_t end, int) {
      const int64_t stop = std::min(n, end * kChunk);
      if (na == nb) {  // the common case: two full tensors (vectorizes)
        for (int64_t i = begin * kChunk; i < stop; ++i) y[i] = a[i] + b[i];
        return;
      }
      for (int64_t i = begin * kChunk; i < stop; ++i) y[i] = a[i % na] + b[i % nb];
    });
    return Status::Ok();
  }
  int in_place_input(int output) const override { return output == 0 && a_full_ ? 0 : -1; }
  const char* implementation() const override { return "f32 add"; }

 private:
  bool a_full_;  // input 0 has the output's shape (so the output may reuse its buffer)
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_add_kernel(const ir::Node& node) {
  if (!node.domain.empty() || node.op_type != "Add" || node.inputs.size() != 2 || !node.has_output(0)) {
    return std::unique_ptr<Kernel>();
  }
  const ir::Value* a = node.inputs[0];
  const ir::Value* b = node.inputs[1];
  const ir::Value* y = node.outputs[0];
  for (const ir::Value* v : {a, b, y}) {
    if (!v || !v->has_shape || v->dtype != DType::kF32) return std::unique_ptr<Kernel>();
  }
  if (!is_suffix_of(a->shape, y->shape) || !is_suffix_of(b->shape, y->shape)) return std::unique_ptr<Kernel>();
  // Either input may be the smaller one; the loop indexes both modulo their size.
  return std::unique_ptr<Kernel>(new AddKernel(a->shape == y->shape));
}

}  // namespace ratel::runtime
