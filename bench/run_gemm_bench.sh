#!/bin/sh
# Runs ratel_gemm_bench with repetitions and writes <out>.json and the <out>.md summary.
#   bench/run_gemm_bench.sh [build-dir] [filter-regex] [repetitions] [out-prefix]
# This machine is shared: repetitions give the spread, interleaved in random order so that a
# burst of load from other processes spreads over all benchmarks instead of hitting one; and
# single-threaded results are timed in CPU time (see gemm_bench.cpp).
set -eu
build=${1:-build-kern}
filter=${2:-^gemm/}
reps=${3:-5}
out=${4:-$build/gemm_bench}
"$build/bench/ratel_gemm_bench" --benchmark_filter="$filter" --benchmark_repetitions="$reps" \
  --benchmark_enable_random_interleaving=true \
  --benchmark_out="$out.json" --benchmark_out_format=json > "$out.log" 2>&1
python3 "$(dirname "$0")/summarize.py" "$out.json" | tee "$out.md"
