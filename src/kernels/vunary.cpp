#include "kernels/vunary.h"

#include <cmath>

#include "kernels/f32-gemm/f32_gemm_reference.h"
#if defined(RATEL_RVV_KERNELS)
#include "kernels/rvv_kernels.h"
#endif

namespace ratel::kernels {

UnaryKernelFn vgelu_kernel(cpu::Isa isa) {
  switch (isa) {
#if defined(__x86_64__)
    case cpu::Isa::kAvx512: return &f32_vgelu__avx512f;
    case cpu::Isa::kAvx2: return &f32_vgelu__avx2_fma;
#endif
#if defined(RATEL_RVV_KERNELS)  // riscv64 RVV 1.0 (never handed out where detection said no)
    case cpu::Isa::kRvv: return cpu::cpu_features().rvv ? &f32_vgelu__rvv : &f32_vgelu__generic;
#endif
    default: return &f32_vgelu__generic;
  }
}

UnaryKernelFn verf_kernel(cpu::Isa isa) {
  switch (isa) {
#if defined(__x86_64__)
    case cpu::Isa::kAvx512: return &f32_verf__avx512f;
    case cpu::Isa::kAvx2: return &f32_verf__avx2_fma;
#endif
#if defined(RATEL_RVV_KERNELS)  // riscv64 RVV 1.0 (never handed out where detection said no)
    case cpu::Isa::kRvv: return cpu::cpu_features().rvv ? &f32_verf__rvv : &f32_verf__generic;
#endif
    default: return &f32_verf__generic;
  }
}

void f32_vgelu_reference(size_t n, const float* x, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<float>(gelu_reference(x[i]));
}

void f32_verf_reference(size_t n, const float* x, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<float>(std::erf(double{x[i]}));
}

}  // namespace ratel::kernels
