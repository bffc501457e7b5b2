#!/usr/bin/env bash
# ThreadSanitizer run: builds the thread pool, the threaded kernels and the hardening tests with
# -fsanitize=thread (RATEL_TSAN=ON, RelWithDebInfo) and runs the tests that use threads:
#   - ratel_kernel_tests: ThreadPool.*, and every "*ThreadCount*" test (GEMM, layer norm,
#     softmax: one kernel call split over 1-4 pool threads);
#   - ratel_hardening_tests: ConcurrencyTest.* (sessions sharing a model, racing session
#     creation, shared tokenizer, the memory limit under concurrent allocation, pools created
#     and destroyed from several threads) and QaRunAllTest.* (`ratel qa`'s windows shared out
#     between single-threaded sessions).
# Any data race, lock-order inversion or thread leak report fails the run (halt_on_error).
#   scripts/tsan.sh            build in build/tsan (override: RATEL_TSAN_BUILD=dir) and run
# Prints the wall time of the test run at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${RATEL_TSAN_BUILD:-build/tsan}
jobs=${RATEL_JOBS:-$(nproc)}

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRATEL_TSAN=ON ${RATEL_CMAKE_ARGS:-} >/dev/null
echo "tsan: building ratel_kernel_tests ratel_hardening_tests in $build with $jobs jobs"
cmake --build "$build" -j "$jobs" --target ratel_kernel_tests ratel_hardening_tests

export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 report_thread_leaks=1 history_size=4 ${TSAN_OPTIONS:-}"
start=$(date +%s)
status=0
run() {
  echo "== $*"
  if ! "$@" --gtest_brief=1; then status=1; fi
}
run "$build/tests/kernels/ratel_kernel_tests" --gtest_filter='ThreadPool.*:*ThreadCount*'
run "$build/tests/hardening/ratel_hardening_tests" --gtest_filter='ConcurrencyTest.*:QaRunAllTest.*'
end=$(date +%s)
echo "tsan: $([ $status = 0 ] && echo 'no reports, all passed' || echo FAILED) in $((end - start)) s"
exit $status
