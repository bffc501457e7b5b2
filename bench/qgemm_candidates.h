// Alternatives to the shipped half-precision kernels, compiled only into ratel_qgemm_bench so
// that the choices in hgemm.cpp rest on measurements:
//   - fp16 -> fp32 conversion of B slices into a buffer (for the "convert while packing"
//     variant of the fp16-weight GEMM, which then runs the f32 microkernel).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/qs8-gemm/qgemm_ukernel.h"

namespace ratel::bench {

// dst[i] = fp32(src[i]) for i < count (count a multiple of 16), with F16C / AVX-512F.
void convert_f16_avx2(const uint16_t* src, float* dst, size_t count);
void convert_f16_avx512(const uint16_t* src, float* dst, size_t count);

}  // namespace ratel::bench
