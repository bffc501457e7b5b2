// Alternatives to the shipped quantized / half-precision kernels, compiled only into
// ratel_qgemm_bench so that the choices in qgemm_config.cpp / hgemm.cpp rest on measurements:
//   - an AVX2 int8 kernel with vpmaddubsw (u8 x s8 pairs -> s16, SATURATING) + vpmaddwd: what
//     the exact 16-bit kernels give up; NOT exact for general weights (|a0 w0 + a1 w1| can
//     exceed 32767), never to be shipped;
//   - fp16 -> fp32 conversion of B slices into a buffer (for the "convert while packing"
//     variant of the fp16-weight GEMM, which then runs the f32 microkernel).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/qs8-gemm/qgemm_ukernel.h"

namespace ratel::bench {

// Null where the binary has no x86 kernels.
const kernels::QGemmUkernel* avx2_maddubs_candidate();

// dst[i] = fp32(src[i]) for i < count (count a multiple of 16), with F16C / AVX-512F.
void convert_f16_avx2(const uint16_t* src, float* dst, size_t count);
void convert_f16_avx512(const uint16_t* src, float* dst, size_t count);

}  // namespace ratel::bench
