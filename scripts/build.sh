#!/usr/bin/env bash
# Configures and builds Ratel. usage: scripts/build.sh [release|asan] (default release)
#   release: build/release, -O3, baseline ISA (fast kernels are picked at run time)
#   asan:    build/asan, Debug with AddressSanitizer + UndefinedBehaviorSanitizer, compiled by
#            clang when clang++ is installed (scripts/install-deps.sh installs it), else by gcc:
#            clang builds the sanitized -O0 code in ~60% of gcc's time (the unit test executables
#            on 2 cores: 237 s vs 396 s), which is most of what CI spends on this build.
#            A build folder keeps the compiler it was first configured with.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
case "$kind" in
  release) flags=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan)
    flags=(-DCMAKE_BUILD_TYPE=Debug -DRATEL_SANITIZE=ON)
    if [ ! -f build/asan/CMakeCache.txt ] && command -v clang++ >/dev/null && command -v clang >/dev/null; then
      flags+=(-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++)
    fi
    ;;
  *) echo "usage: $0 [release|asan]" >&2; exit 2 ;;
esac
jobs=${RATEL_JOBS:-$(nproc)}
cmake -S . -B "build/$kind" -G Ninja "${flags[@]}" ${RATEL_CMAKE_ARGS:-} >/dev/null
echo "build: building build/$kind with $jobs jobs ($(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "build/$kind/CMakeCache.txt"))"
# RATEL_BUILD_TARGET: one target instead of everything (scripts/test.sh builds only the unit test
# executables in the ASan build).
cmake --build "build/$kind" -j "$jobs" ${RATEL_BUILD_TARGET:+--target "$RATEL_BUILD_TARGET"}
