#!/usr/bin/env bash
# Everything the test suite needs, from a fresh Debian 12 (as root) to a pass/fail count:
# Debian packages, the Python venv with ONNX Runtime/PyTorch/TensorFlow for reference models,
# a Release build and an ASan+UBSan build, then CTest.
#   scripts/test.sh          default suite (unit, ONNX conformance, end-to-end on small models;
#                            sized for CI's 20-minute budget on 2 cores from a fresh machine)
#   scripts/test.sh --riscv  also cross-builds the riscv64 runtime (riscv64 g++, clang-16, qemu-user)
#                            and runs the deployed riscv64 runtimes under emulation (~5 more minutes)
#   scripts/test.sh --big    also the slow suites: BERT-base exports, all 1716 held-out questions
#                            quantized, the seed's c920 runtime on the real model under qemu
#                            (implies --riscv)
# scripts/riscv-test.sh runs the whole unit suite on riscv64 under qemu (slower still).
set -euo pipefail
cd "$(dirname "$0")/.."
big=0 riscv=0
for arg in "$@"; do
  case "$arg" in
    --big) big=1 riscv=1 ;;
    --riscv) riscv=1 ;;
    *) echo "usage: $0 [--riscv] [--big]" >&2; exit 2 ;;
  esac
done

# With the riscv64 cross compilers and qemu-user, the build makes the riscv64 runtime archive and
# the e2e suite runs deployed riscv64 runtimes under emulation; without them those tests report
# themselves skipped. The default leaves the cross build out: it alone costs ~4 minutes of CI.
# Each phase prints its wall time, so a slow CI run shows where the time went.
t0=$SECONDS phase_start=$SECONDS
phase() { echo "== [$((SECONDS - t0)) s] $1 took $((SECONDS - phase_start)) s"; phase_start=$SECONDS; }

RATEL_WITH_CROSS=$riscv scripts/install-deps.sh
phase "Debian packages"
scripts/setup-python-env.sh
phase "Python venv"

export RATEL_CMAKE_ARGS="${RATEL_CMAKE_ARGS:-} -DRATEL_RISCV_RUNTIME=$([ $riscv = 1 ] && echo ON || echo OFF)"
scripts/build.sh release
phase "Release build"
RATEL_BUILD_TARGET=ratel_unit_test_executables scripts/build.sh asan  # unit tests only
phase "ASan+UBSan build"

select=(-LE big)
[ $big = 1 ] && select=()
echo "== Release build: $([ $big = 1 ] && echo 'all suites' || echo 'default suites (not: big)'), riscv64 runtime: $([ $riscv = 1 ] && echo 'built, run under qemu' || echo 'not built (--riscv): its tests report skipped')"
ctest --test-dir build/release --output-on-failure -j "$(nproc)" "${select[@]}"
phase "Release tests"
# Left to the Release suite: the kernel tests at BERT's full sizes, and the thread-count tests
# of the portable (generic) microkernels. Under the sanitizers (-O0) they were ~200 of this run's
# ~430 s of CPU, and they take code paths the sanitized run still covers: the block-boundary and
# odd-size tests of every kernel, and the thread-count tests of the SIMD kernels, which share the
# split over threads with the generic ones.
asan_excluded='BertShapes|ThreadCountsGiveIdenticalBits.*generic'
n_excluded=$(ctest --test-dir build/asan -N -L unit -R "$asan_excluded" | sed -n 's/^Total Tests: //p')
echo "== ASan+UBSan build: unit tests, except the $n_excluded matching /$asan_excluded/ (run above, in Release)"
ctest --test-dir build/asan --output-on-failure -j "$(nproc)" -L unit -E "$asan_excluded"
phase "ASan+UBSan tests"
