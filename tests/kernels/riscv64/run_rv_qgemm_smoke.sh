#!/bin/sh
# Cross-compiles the generic quantized / half-precision GEMMs (qgemm.h, hgemm.h) for riscv64
# (rv64gc) and runs rv_qgemm_smoke.cpp under qemu (like run_rv_smoke.sh; needs
# g++-riscv64-linux-gnu and qemu-user-static).
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
out=${TMPDIR:-/tmp}/ratel_rv_qgemm_smoke
mkdir -p "$out/inc"
ln -sfn /usr/include/fmt "$out/inc/fmt"
cd "$root"
k=src/kernels
riscv64-linux-gnu-g++ -std=c++20 -O2 -march=rv64gc -Wall -Wextra -Werror -Isrc -Iinclude \
  -I"$out/inc" -DFMT_HEADER_ONLY -static tests/kernels/riscv64/rv_qgemm_smoke.cpp src/cpu/*.cpp \
  $k/gemm.cpp $k/f32-gemm/f32_gemm_4x8__generic.cpp $k/f32-gemm/f32_gemm_config.cpp \
  $k/f32-gemm/f32_gemm_reference.cpp $k/qgemm.cpp $k/hgemm.cpp \
  $k/qs8-gemm/qs8_gemm_4x8c4__generic.cpp $k/qs8-gemm/qgemm_config.cpp \
  $k/qs16-gemm/qs16_gemm_4x8c2__generic.cpp $k/qgemm-common/qgemm_pack_a__generic.cpp \
  $k/qgemm-common/qgemm_output__generic.cpp $k/hgemm-common/hgemm_config.cpp \
  $k/hgemm-common/hgemm_pack_a_f32__generic.cpp $k/hgemm-common/bf16_pack_a_f32__generic.cpp \
  $k/f32-f16w-gemm/f32_f16w_gemm_4x8__generic.cpp $k/bf16-gemm/bf16_gemm_4x8c2__generic.cpp \
  src/core/tensor.cpp src/core/dtype.cpp -o "$out/rv_qgemm_smoke" -lpthread
qemu-riscv64-static "$out/rv_qgemm_smoke"
