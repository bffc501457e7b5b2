#!/bin/sh
# Runs ratel_qgemm_bench with repetitions (randomly interleaved, as run_gemm_bench.sh) and
# prints the table of GOP/s and ratios to the f32 GEMM of the same ISA (summarize_qgemm.py).
#   bench/run_qgemm_bench.sh [build-dir] [filter-regex] [repetitions] [out-prefix]
set -eu
build=${1:-build}
filter=${2:-^qgemm/}
reps=${3:-5}
out=${4:-$build/qgemm_bench}
"$build/bench/ratel_qgemm_bench" --benchmark_filter="$filter" --benchmark_repetitions="$reps" \
  --benchmark_enable_random_interleaving=true --benchmark_min_time=0.3 \
  --benchmark_out="$out.json" --benchmark_out_format=json > "$out.log" 2>&1
python3 "$(dirname "$0")/summarize_qgemm.py" "$out.json" | tee "$out.md"
