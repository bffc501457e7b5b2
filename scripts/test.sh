#!/usr/bin/env bash
# Everything the test suite needs, from a fresh Debian 12 (as root) to a pass/fail count:
# Debian packages, the Python venv with ONNX Runtime/PyTorch/TensorFlow for reference models,
# a Release build (with the riscv64 runtime, cross-built) and an ASan+UBSan build, then CTest.
#   scripts/test.sh          default suite (unit, ONNX conformance, end-to-end on small models)
#   scripts/test.sh --big    also the BERT-small/base/MiniLM end-to-end comparisons (slow)
set -euo pipefail
cd "$(dirname "$0")/.."
big=0
[ "${1:-}" = "--big" ] && big=1

# With the riscv64 cross compilers and qemu-user: the build makes the riscv64 runtime archive and
# the e2e suite runs deployed riscv64 runtimes under emulation.
RATEL_WITH_CROSS=1 scripts/install-deps.sh
if [ -x scripts/setup-python-env.sh ]; then scripts/setup-python-env.sh; fi

scripts/build.sh release
RATEL_BUILD_TARGET=ratel_unit_test_executables scripts/build.sh asan  # it runs the unit tests only

select=(-LE big)
[ $big = 1 ] && select=()
echo "== Release build: $([ $big = 1 ] && echo 'all suites' || echo 'default suites (not: big)')"
ctest --test-dir build/release --output-on-failure -j "$(nproc)" "${select[@]}"
echo "== ASan+UBSan build: unit tests"
ctest --test-dir build/asan --output-on-failure -j "$(nproc)" -L unit
