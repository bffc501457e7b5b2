#!/bin/sh
# Cross-compiles the CPU layer and the generic kernels for riscv64 (rv64gc) and runs a smoke
# test under qemu: feature detection must report the generic path and the generic GEMM must
# match the reference exactly. Not part of ctest (needs a cross compiler and qemu):
#   apt-get install -y g++-riscv64-linux-gnu qemu-user-static
#   tests/kernels/riscv64/run_rv_smoke.sh
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
out=${TMPDIR:-/tmp}/ratel_rv_smoke
mkdir -p "$out/inc"
ln -sfn /usr/include/fmt "$out/inc/fmt"  # header-only fmt; the host's headers are portable
cd "$root"
riscv64-linux-gnu-g++ -std=c++20 -O2 -march=rv64gc -Wall -Wextra -Werror -Isrc -Iinclude \
  -I"$out/inc" -DFMT_HEADER_ONLY -static tests/kernels/riscv64/rv_smoke.cpp src/cpu/*.cpp \
  src/kernels/gemm.cpp src/kernels/vunary.cpp src/kernels/f32-gemm/f32_gemm_4x8__generic.cpp \
  src/kernels/f32-gemm/f32_gemm_config.cpp src/kernels/f32-gemm/f32_gemm_reference.cpp \
  src/kernels/f32-vgelu/f32_vgelu__generic.cpp src/kernels/f32-verf/f32_verf__generic.cpp \
  src/core/tensor.cpp src/core/dtype.cpp -o "$out/rv_smoke" -lpthread
qemu-riscv64-static "$out/rv_smoke"
