#!/usr/bin/env bash
# Cross-builds Ratel's runtime layers and their tests for riscv64 (rv64gc + RVV 1.0 kernels picked
# at run time) and runs them under qemu-user on the CPUs that matter (docs/RISCV.md):
#
#   upstream qemu  -cpu rv64,v=false            rv64gc, no vector unit   -> generic kernels
#   upstream qemu  -cpu rv64,v=true,vlen=128    RVV 1.0, VLEN 128        -> rvv kernels, 7x16 GEMM
#   upstream qemu  -cpu rv64,v=true,vlen=256    RVV 1.0, VLEN 256        -> rvv kernels, 7x32 GEMM
#   T-Head qemu    -cpu c920                    C920 (TH1520): RVV 0.7.1 and V in AT_HWCAP
#                                                                        -> generic kernels
#   T-Head qemu    -cpu c908v                   C908: RVV 1.0, VLEN 128  -> rvv kernels
#
# Each run says which ISA it must select (RATEL_EXPECT_ISA/VLEN, asserted by tests/riscv), and
# the C920 runs prove that no RVV 1.0 instruction executes there three ways: the selection test,
# a negative control (RVV 1.0 code forced on -cpu c920 must die with SIGILL: the emulator does
# trap it, so passing tests were not luck), and a static check of every linked binary (vector
# instructions only inside the RVV kernel objects and the detection probe). A board build
# (-DRATEL_RISCV_BOARD=c920) holds no vector instruction at all; the script checks that too.
#
# Usage: scripts/riscv-test.sh [--quick] [--no-build] [--no-install] [--cpus "c920 vlen128 ..."]
#   --quick       kernel + riscv tests only (the unit/ops/bundle suites are slow under emulation)
#   --cpus LIST   a subset of: novec vlen128 vlen256 c920 c908v c920board
# Ends with one line "N passed, N failed" (gtest tests over all runs) and exits non-zero on any
# failure. Time under emulation says nothing about speed on a board; none is reported.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${RATEL_RISCV_BUILD:-$root/build-riscv64}
build_c920=${RATEL_RISCV_BUILD_C920:-$root/build-riscv64-c920}
jobs=${RATEL_JOBS:-2}
quick=0
do_build=1
do_install=1
cpus="novec vlen128 vlen256 c920 c908v c920board"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --no-build) do_build=0 ;;
    --no-install) do_install=0 ;;
    --cpus) cpus=$2; shift ;;
    *) echo "usage: $0 [--quick] [--no-build] [--no-install] [--cpus LIST]" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '\n=== %s\n' "$*"; }

# --- tools -----------------------------------------------------------------------------------
need_apt=()
command -v riscv64-linux-gnu-g++ >/dev/null || need_apt+=(g++-riscv64-linux-gnu)
command -v clang++-16 >/dev/null || need_apt+=(clang-16)
command -v qemu-riscv64-static >/dev/null || command -v qemu-riscv64 >/dev/null || need_apt+=(qemu-user)
[ -f /usr/include/fmt/format.h ] || need_apt+=(libfmt-dev)
[ -f /usr/src/googletest/CMakeLists.txt ] || need_apt+=(googletest)
command -v ninja >/dev/null || need_apt+=(ninja-build)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ $do_install = 1 ] && [ "$(id -u)" = 0 ]; then
    log "installing ${need_apt[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
  else
    echo "missing: ${need_apt[*]} (apt-get install them, or run as root)" >&2
    exit 1
  fi
fi
thead_qemu() {
  python3 -c 'import os, qemu; print(os.path.join(os.path.dirname(qemu.__file__), "qemu-riscv64"))' \
    2>/dev/null || true
}
xq=$(thead_qemu)
if [ ! -x "$xq" ] && [ $do_install = 1 ]; then
  log "installing T-Head's qemu (PyPI xuantie-qemu)"
  python3 -m pip install -q xuantie-qemu || true
  xq=$(thead_qemu)
fi
[ -x "$xq" ] || { echo "note: xuantie-qemu not available: the c920/c908v runs are skipped" >&2; xq=""; }
uq=$(command -v qemu-riscv64-static || command -v qemu-riscv64)

# --- build -----------------------------------------------------------------------------------
test_exes=(ratel_kernel_tests ratel_riscv_tests)
if [ $quick = 0 ]; then
  test_exes+=(ratel_unit_tests ratel_ops_cast_test ratel_ops_data_movement_test
              ratel_ops_elementwise_test ratel_ops_generator_test ratel_ops_matmul_test
              ratel_ops_normalization_test ratel_ops_reduce_test ratel_ops_shape_test
              ratel_bundle_tests)
fi
if [ $do_build = 1 ]; then
  log "build: riscv64, board any ($build)"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchain-riscv64.cmake" \
    -DRATEL_RISCV_BOARD=any >/dev/null
  targets=(ratel_rv_cpu_report ratel_deploy_archive)
  for t in "${test_exes[@]}"; do
    # ratel_bundle_tests exists only while src/bundle does.
    if ninja -C "$build" -t query "$t" >/dev/null 2>&1; then targets+=("$t"); fi
  done
  nice ninja -C "$build" -j "$jobs" "${targets[@]}"
  if [[ " $cpus " == *" c920board "* ]]; then
    log "build: riscv64, board c920 ($build_c920): no RVV 1.0 code"
    cmake -S "$root" -B "$build_c920" -G Ninja \
      -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchain-riscv64.cmake" -DRATEL_RISCV_BOARD=c920 >/dev/null
    nice ninja -C "$build_c920" -j "$jobs" ratel_riscv_tests ratel_kernel_tests ratel_rv_cpu_report \
      ratel_deploy_archive
  fi
fi

# --- static check: where vector instructions are -----------------------------------------------
# RVV instructions all start with 'v' (vsetvli, vle32.v, vfmacc.vf, ...); no rv64gc one does.
# Allowed homes: functions defined in the RVV kernel objects, and the detection probe (which runs
# in a child process). Anything else -- e.g. an inline function the linker kept from an RVV
# object -- would run on the C920 and crash.
vector_functions() {  # binary -> "function" lines for every function holding a vector instruction
  riscv64-linux-gnu-objdump -d --no-show-raw-insn -C "$1" | awk '
    /^[0-9a-f]+ <.*>:$/ { fn = $0; sub(/^[0-9a-f]+ </, "", fn); sub(/>:$/, "", fn); next }
    /^ +[0-9a-f]+:\t/ { split($0, p, "\t"); if (p[2] ~ /^v/) seen[fn] = 1 }
    END { for (f in seen) print f }' | sort
}
static_fail=0
rvv_objs=$(ls "$build"/src/kernels/CMakeFiles/ratel_kernels_rvv.dir/*/*.o 2>/dev/null || true)
allowed=$(for o in $rvv_objs; do riscv64-linux-gnu-nm -C --defined-only "$o" | awk '$2 ~ /^[tT]$/ { $1=""; $2=""; sub(/^  /, ""); print }'; done | sort -u)
log "static check: vector instructions only in the RVV kernels and the probe"
for exe in ratel_kernel_tests ratel_rv_cpu_report; do
  bin="$build/tests/$exe"
  [ -f "$bin" ] || continue
  bad=$(vector_functions "$bin" | while IFS= read -r fn; do
    case "$fn" in *probe_child*) continue ;; esac
    grep -Fxq -- "$fn" <<<"$allowed" || echo "$fn"
  done)
  n=$(vector_functions "$bin" | wc -l)
  if [ -n "$bad" ]; then
    echo "FAIL $exe: vector instructions outside the RVV kernels:"; echo "$bad" | sed 's/^/    /'
    static_fail=1
  else
    echo "ok   $exe: $n functions hold vector instructions, all RVV kernels or the probe"
  fi
done
if [ -f "$build_c920/tests/ratel_kernel_tests" ]; then
  for exe in ratel_kernel_tests ratel_riscv_tests ratel_rv_cpu_report; do
    fns=$(vector_functions "$build_c920/tests/$exe" | grep -v probe_child || true)
    if [ -n "$fns" ]; then
      echo "FAIL board c920 $exe holds vector instructions in:"; echo "$fns" | sed 's/^/    /'
      static_fail=1
    else
      echo "ok   board c920 $exe: no vector instruction (the probe is compiled out for c920 too)"
    fi
  done
fi

# --- runs ------------------------------------------------------------------------------------
total_pass=0; total_fail=0; total_skip=0
summary=()
run_suite() {  # label emulator-cmd expect-isa expect-vlen build-dir exes...
  local label=$1 emu=$2 isa=$3 vlen=$4 dir=$5; shift 5
  local pass=0 fail=0 skip=0 exe out rc
  log "$label: $emu (expect $isa${vlen:+, VLEN $vlen})"
  RATEL_EXPECT_ISA=$isa RATEL_EXPECT_VLEN=$vlen $emu "$dir/tests/ratel_rv_cpu_report" | sed 's/^/  /'
  for exe in "$@"; do
    [ -f "$dir/tests/$exe" ] || continue
    set +e
    out=$(RATEL_EXPECT_ISA=$isa RATEL_EXPECT_VLEN=$vlen timeout 3600 $emu "$dir/tests/$exe" \
          --gtest_brief=1 2>&1)
    rc=$?
    set -e
    local p s f
    p=$(grep -oE '^\[  PASSED  \] [0-9]+' <<<"$out" | grep -oE '[0-9]+$' || echo 0)
    s=$(grep -oE '^\[  SKIPPED \] [0-9]+' <<<"$out" | grep -oE '[0-9]+$' || echo 0)
    f=$(grep -oE '^\[  FAILED  \] [0-9]+ test' <<<"$out" | grep -oE '^\[  FAILED  \] [0-9]+' | grep -oE '[0-9]+$' || echo 0)
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi  # a crash (e.g. SIGILL) counts as a failure
    grep -E '^\[ratel-riscv\]' <<<"$out" | sed 's/^/  /' || true
    if [ "$f" != 0 ]; then grep -E 'FAILED|Failure|error|Illegal' <<<"$out" | head -20 | sed 's/^/    /'; fi
    printf '  %-32s %4s passed %3s skipped %3s failed (rc %s)\n' "$exe" "$p" "$s" "$f" "$rc"
    pass=$((pass + p)); skip=$((skip + s)); fail=$((fail + f))
  done
  summary+=("$(printf '%-44s %5d passed %4d skipped %3d failed' "$label" $pass $skip $fail)")
  total_pass=$((total_pass + pass)); total_skip=$((total_skip + skip)); total_fail=$((total_fail + fail))
}

for cpu in $cpus; do
  case $cpu in
    novec)   run_suite "qemu rv64,v=false" "$uq -cpu rv64,v=false" generic "" "$build" "${test_exes[@]}" ;;
    vlen128) run_suite "qemu rv64,v=true,vlen=128" "$uq -cpu rv64,v=true,vlen=128" rvv 128 "$build" "${test_exes[@]}" ;;
    vlen256) run_suite "qemu rv64,v=true,vlen=256" "$uq -cpu rv64,v=true,vlen=256" rvv 256 "$build" "${test_exes[@]}" ;;
    c920)
      [ -n "$xq" ] || continue
      run_suite "xuantie-qemu c920 (RVV 0.7.1)" "$xq -cpu c920" generic "" "$build" "${test_exes[@]}"
      log "negative control: RVV 1.0 code forced on -cpu c920 must die with SIGILL"
      set +e
      "$xq" -cpu c920 "$build/tests/ratel_rv_cpu_report" --force-rvv 2>&1 | tail -2 | sed 's/^/  /'
      rc=${PIPESTATUS[0]}
      set -e
      if [ "$rc" = 132 ]; then
        echo "  ok: killed by SIGILL (rc 132): on this CPU RVV 1.0 code cannot pass unnoticed"
      else
        echo "  FAIL: expected SIGILL (rc 132), got rc $rc"; static_fail=1
      fi ;;
    c908v)
      [ -n "$xq" ] || continue
      run_suite "xuantie-qemu c908v (RVV 1.0)" "$xq -cpu c908v" rvv 128 "$build" "${test_exes[@]}" ;;
    c920board)
      [ -n "$xq" ] && [ -f "$build_c920/tests/ratel_riscv_tests" ] || continue
      run_suite "board c920 build on xuantie-qemu c920" "$xq -cpu c920" generic "" "$build_c920" \
        ratel_riscv_tests ratel_kernel_tests ;;
    *) echo "unknown cpu '$cpu'" >&2; exit 2 ;;
  esac
done

log "summary (gtest tests per qemu CPU)"
printf '%s\n' "${summary[@]}"
if [ $static_fail != 0 ]; then
  echo "static check or negative control FAILED"
  total_fail=$((total_fail + 1))
fi
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" = 0 ]
