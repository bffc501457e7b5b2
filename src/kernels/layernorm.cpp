#include "kernels/layernorm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/status.h"
#if defined(RATEL_RVV_KERNELS)
#include "kernels/rvv_kernels.h"
#endif

namespace ratel::kernels {

LayerNormKernelFn layernorm_kernel(cpu::Isa isa) {
  switch (isa) {
#if defined(__x86_64__)
    case cpu::Isa::kAvx512: return &f32_layernorm__avx512f;
    case cpu::Isa::kAvx2: return &f32_layernorm__avx2_fma;
#endif
#if defined(RATEL_RVV_KERNELS)  // riscv64 RVV 1.0 (never handed out where detection said no)
    case cpu::Isa::kRvv: return cpu::cpu_features().rvv ? &f32_layernorm__rvv : &f32_layernorm__generic;
#endif
    default: return &f32_layernorm__generic;
  }
}

void f32_layernorm_reference(size_t n, const float* x, const float* skip, const float* gamma,
                             const float* beta, float epsilon, float* y) {
  std::vector<double> z(n);
  double sum = 0;
  for (size_t j = 0; j < n; ++j) {
    z[j] = skip ? static_cast<double>(x[j] + skip[j]) : double{x[j]};
    sum += z[j];
  }
  const double mean = sum / static_cast<double>(n);
  double squares = 0;
  for (size_t j = 0; j < n; ++j) squares += (z[j] - mean) * (z[j] - mean);
  const double rstd = 1.0 / std::sqrt(squares / static_cast<double>(n) + double{epsilon});
  for (size_t j = 0; j < n; ++j) {
    y[j] = static_cast<float>((z[j] - mean) * rstd * gamma[j] + (beta ? double{beta[j]} : 0.0));
  }
}

void layernorm_rows(size_t rows, size_t n, const float* x, const float* skip, const float* gamma,
                    const float* beta, float epsilon, float* y, cpu::ThreadPool* pool,
                    cpu::Isa isa) {
  RATEL_ASSERT(n >= 1);
  const LayerNormKernelFn fn = layernorm_kernel(isa);
  // Below ~16K elements per thread, waking workers costs more than it saves.
  const size_t per_chunk = std::max<size_t>(1, (size_t{1} << 14) / n);
  const int64_t chunks = static_cast<int64_t>((rows + per_chunk - 1) / per_chunk);
  cpu::parallel_for(pool, chunks, [&](int64_t begin, int64_t end, int /*thread*/) {
    const size_t r1 = std::min(rows, static_cast<size_t>(end) * per_chunk);
    for (size_t r = static_cast<size_t>(begin) * per_chunk; r < r1; ++r) {
      fn(n, x + r * n, skip ? skip + r * n : nullptr, gamma, beta, epsilon, y + r * n);
    }
  });
}

}  // namespace ratel::kernels
