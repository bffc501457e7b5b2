#include "kernels/softmax.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/status.h"
#if defined(RATEL_RVV_KERNELS)
#include "kernels/rvv_kernels.h"
#endif

namespace ratel::kernels {

SoftmaxKernelFn softmax_kernel(cpu::Isa isa) {
  switch (isa) {
#if defined(__x86_64__)
    case cpu::Isa::kAvx512: return &f32_softmax__avx512f;
    case cpu::Isa::kAvx2: return &f32_softmax__avx2_fma;
#endif
#if defined(RATEL_RVV_KERNELS)  // riscv64 RVV 1.0 (never handed out where detection said no)
    case cpu::Isa::kRvv: return cpu::cpu_features().rvv ? &f32_softmax__rvv : &f32_softmax__generic;
#endif
    default: return &f32_softmax__generic;
  }
}

VexpKernelFn vexp_kernel(cpu::Isa isa) {
  switch (isa) {
#if defined(__x86_64__)
    case cpu::Isa::kAvx512: return &f32_vexp__avx512f;
    case cpu::Isa::kAvx2: return &f32_vexp__avx2_fma;
#endif
#if defined(RATEL_RVV_KERNELS)  // riscv64 RVV 1.0 (never handed out where detection said no)
    case cpu::Isa::kRvv: return cpu::cpu_features().rvv ? &f32_vexp__rvv : &f32_vexp__generic;
#endif
    default: return &f32_vexp__generic;
  }
}

void f32_softmax_reference(size_t n, const float* x, float scale, const float* bias, float* y) {
  std::vector<double> t(n);
  double max = -INFINITY;
  bool nan = false;
  for (size_t j = 0; j < n; ++j) {
    t[j] = double{scale} * x[j] + (bias ? double{bias[j]} : 0.0);
    nan = nan || std::isnan(t[j]);
    max = std::max(max, t[j]);
  }
  if (nan) max = NAN;
  double sum = 0;
  for (size_t j = 0; j < n; ++j) sum += std::exp(t[j] - max);
  for (size_t j = 0; j < n; ++j) y[j] = static_cast<float>(std::exp(t[j] - max) / sum);
}

void softmax_rows(size_t rows, size_t n, const float* x, size_t ldx, float* y, size_t ldy,
                  cpu::ThreadPool* pool, cpu::Isa isa) {
  RATEL_ASSERT(n >= 1 && ldx >= n && ldy >= n);
  const SoftmaxKernelFn fn = softmax_kernel(isa);
  // Below ~16K elements per thread, waking workers costs more than it saves.
  const size_t per_chunk = std::max<size_t>(1, (size_t{1} << 14) / n);
  const int64_t chunks = static_cast<int64_t>((rows + per_chunk - 1) / per_chunk);
  cpu::parallel_for(pool, chunks, [&](int64_t begin, int64_t end, int /*thread*/) {
    const size_t r1 = std::min(rows, static_cast<size_t>(end) * per_chunk);
    for (size_t r = static_cast<size_t>(begin) * per_chunk; r < r1; ++r) {
      fn(n, x + r * ldx, 1.0f, nullptr, y + r * ldy);
    }
  });
}

}  // namespace ratel::kernels
