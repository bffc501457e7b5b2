#!/bin/sh
# CXX_COMPILER_LAUNCHER of the RVV 1.0 kernel objects (src/kernels/CMakeLists.txt): CMake runs
#   riscv64-rvv-cxx.sh <rvv compiler> <the project's C++ compiler> <flags...>
# and this runs the RVV compiler (clang-16) on the same flags for the riscv64 target instead of
# gcc 12, which has no RVV intrinsics. Same include paths, defines, warnings and depfile flags;
# the target's -march=rv64gcv comes after the toolchain's -march=rv64gc and wins.
set -eu
rvv_cxx=$1
shift 2
exec "$rvv_cxx" --target=riscv64-linux-gnu "$@"
