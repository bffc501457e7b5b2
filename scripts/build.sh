#!/usr/bin/env bash
# Configures and builds Ratel. usage: scripts/build.sh [release|asan] (default release)
#   release: build/release, -O3, baseline ISA (fast kernels are picked at run time)
#   asan:    build/asan, Debug with AddressSanitizer + UndefinedBehaviorSanitizer
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
case "$kind" in
  release) flags=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan) flags=(-DCMAKE_BUILD_TYPE=Debug -DRATEL_SANITIZE=ON) ;;
  *) echo "usage: $0 [release|asan]" >&2; exit 2 ;;
esac
jobs=${RATEL_JOBS:-$(nproc)}
cmake -S . -B "build/$kind" -G Ninja "${flags[@]}" ${RATEL_CMAKE_ARGS:-} >/dev/null
echo "build: building build/$kind with $jobs jobs"
# RATEL_BUILD_TARGET: one target instead of everything (scripts/test.sh builds only the unit test
# executables in the ASan build).
cmake --build "build/$kind" -j "$jobs" ${RATEL_BUILD_TARGET:+--target "$RATEL_BUILD_TARGET"}
