#!/usr/bin/env bash
# Writes docs/RELIABILITY.md from measurements made now (hostile inputs through the real CLI,
# the hardening suite in Release and ASan+UBSan builds, the ThreadSanitizer run) and from the
# statistics of the last fuzzing runs (scripts/fuzz.sh; fuzzing takes hours, so it is not rerun).
#   scripts/reliability-report.sh
#   RATEL_BUILD=dir (default build/release)   RATEL_ASAN_BUILD=dir (default build/asan)
#   RATEL_TSAN_BUILD=dir (default build/tsan) RATEL_FUZZ_BUILD=dir (default build/fuzz)
#   RATEL_REPORT_SKIP_SANITIZERS=1            leave out the ASan and TSan runs (quick drafts)
# Builds only the targets it needs, with RATEL_JOBS (default nproc) jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
build=${RATEL_BUILD:-build/release}
asan_build=${RATEL_ASAN_BUILD:-build/asan}
tsan_build=${RATEL_TSAN_BUILD:-build/tsan}
fuzz_build=${RATEL_FUZZ_BUILD:-build/fuzz}
jobs=${RATEL_JOBS:-$(nproc)}
out=docs/RELIABILITY.md
cmdline="scripts/reliability-report.sh"
for v in RATEL_BUILD RATEL_ASAN_BUILD RATEL_TSAN_BUILD RATEL_FUZZ_BUILD RATEL_REPORT_SKIP_SANITIZERS RATEL_JOBS; do
  [ -n "${!v:-}" ] && cmdline="$v=${!v} $cmdline"
done

echo "reliability-report: building ratel, ratel_hostile_files, ratel_hardening_tests in $build"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$jobs" --target ratel_cli ratel_hostile_files ratel_hardening_tests >/dev/null
ratel=$repo/$build/bin/ratel
hostile=$repo/$build/tests/hardening/ratel_hostile_files

work=$(mktemp -d /tmp/ratel-reliability-XXXXXX)
trap 'rm -rf "$work"' EXIT
D=$work/files
"$hostile" "$D" >/dev/null

# ---------------------------------------------------------------------------------------------
# Hostile inputs through the CLI: exit status, time, peak RSS, and the one line it printed.
rows=()
have_time=0
[ -x /usr/bin/time ] && have_time=1
run_case() {  # run_case "what" "expected: refused|handled" ratel-args...
  local what=$1 expect=$2
  shift 2
  local log=$work/case.log tfile=$work/case.time rc=0
  if [ $have_time = 1 ]; then
    timeout 300 /usr/bin/time -f '%e %M' -o "$tfile" "$ratel" "$@" >"$log" 2>&1 || rc=$?
  else
    local t0=$(date +%s.%N)
    timeout 300 "$ratel" "$@" >"$log" 2>&1 || rc=$?
    echo "$(echo "$(date +%s.%N) - $t0" | bc) 0" >"$tfile"
  fi
  local secs kb msg
  # GNU time writes "Command exited with non-zero status N" before its own line when the command
  # fails: the numbers are on the last line.
  read -r secs kb < <(tail -n 1 "$tfile") || true
  msg=$(grep -m1 -E '^ratel: error:' "$log" || true)
  local warn
  warn=$(grep -m1 -E '^ratel: warning:' "$log" || true)
  if [ -z "$msg" ]; then msg=${warn:-$(grep -v '^\s*$' "$log" | grep -E 'loaded in|\[Answer\]|^[a-z_]+: f32' | head -1 || true)}
  elif [ -n "$warn" ]; then msg="$warn<br>$msg"; fi
  msg=${msg//$D\//}
  msg=${msg//|/\\|}
  local args="$*"
  args=${args//$D\//}
  local verdict=ok
  if [ "$expect" = refused ] && { [ $rc -eq 0 ] || [ $rc -ge 124 ]; }; then verdict="NOT REFUSED"; fi
  if [ "$expect" = handled ] && [ $rc -ne 0 ]; then verdict="FAILED"; fi
  [ $rc -eq 124 ] && verdict="HUNG (timeout)"
  [ $rc -ge 128 ] && verdict="CRASHED (signal $((rc - 128)))"
  local mb=n/a
  [ "${kb:-0}" != 0 ] && mb=$(( kb / 1024 ))
  rows+=("| $what | \`ratel $args\` | $rc | $secs | $mb | $msg | $verdict |")
  echo "  [$verdict] $what: exit $rc, ${secs}s, ${mb} MB"
}

cd "$D"
echo "reliability-report: hostile inputs"
run_case "graph input dimension 2^50" refused run huge_input_dim.onnx --input x=x.npy
run_case "initializer dims [2^31, 2^31, 2^31] (product overflows int64)" refused run overflowing_dims.onnx --input x=x.npy
run_case "negative initializer dimension" refused run negative_dim.onnx --input x=x.npy
run_case "initializer claims 4 GiB, holds 16 bytes" refused run lying_initializer.onnx --input x=x.npy
run_case "external data offset past the end of the file" refused run external_past_end.onnx --input x=x.npy
run_case "external data offset 2^63-1 (offset + size overflows)" refused run external_offset_overflow.onnx --input x=x.npy
run_case "external data at an absolute path" refused run external_absolute.onnx --input x=x.npy
run_case "external data outside the model's folder (../)" refused run external_parent.onnx --input x=x.npy
run_case "external data file is a FIFO" refused run external_fifo.onnx --input x=x.npy
run_case "model file is a FIFO" refused inspect fifo.onnx
run_case "node reading its own output" refused run self_loop.onnx
run_case "3-node cycle" refused run cycle.onnx --input x=x.npy
run_case "protobuf recursion bomb (type nested 100000 deep, 0.6 MB)" refused run recursion_bomb.onnx --input x=x.npy
run_case "1e6-node chain (31 MB): import, infer, optimize, plan, run" handled run chain_1e6.onnx --input x=x_chain.npy
run_case "1e6 nodes reading one value (fan-out, 31 MB): import and inspect" handled inspect fan_out_1e6.onnx
for op in ConstantOfShape Expand Tile Range; do
  run_case "$op to 2^40 elements (constant shape input)" refused run "huge_$op.onnx"
done
run_case "4 MiB of weights under --max-memory 2M" refused run big_weights.onnx --input x=x_big.npy --max-memory 2M
run_case "weights + input + activations over --max-memory 9M" refused run big_weights.onnx --input x=x_big.npy --max-memory 9M
run_case "--max-memory with an unknown unit" refused run scale.onnx --input x=x.npy --max-memory 12Q
run_case "NaN in a weight" refused run nan_weight.onnx --input x=x.npy
run_case "infinity in a weight (legal: warned; the output is non-finite)" refused run inf_weight.onnx --input x=x.npy
run_case "NaN and infinity in an input" refused run scale.onnx --input x=x_nan.npy
run_case "NaN and infinity in an input, --allow-nonfinite" handled run scale.onnx --input x=x_nan.npy --allow-nonfinite --print 0
run_case ".npy header claiming 2^40 x 2^40 floats" refused run scale.onnx --input x=x_huge_header.npy
run_case ".npy header claiming 16 MiB, 16 bytes of data" refused run scale.onnx --input x=x_lying_header.npy
run_case "token id 999 in a 40-row embedding" refused run qa/model.onnx --input input_ids=ids_oov.npy --input input_mask=mask.npy --input segment_ids=segments.npy
run_case "float id 4.5 (HHB-style .bin)" refused run qa/model.onnx --input input_ids=ids_fraction.bin:f32 --input input_mask=mask.npy --input segment_ids=segments.npy
run_case "qa: vocab.txt one token larger than the embedding table" refused qa -m qa_vocab_mismatch/model.onnx --context "the team won extra" --question "who won?"
run_case "qa: infinite weight reaching a logit" refused qa -m qa_inf/model.onnx --context "the team won" --question "who won?"
run_case "qa: NaN weight" refused qa -m qa_nan/model.onnx --context "the team won" --question "who won?"
run_case "qa: SQuAD JSON nested 2^20 arrays deep (2 MB)" refused qa -m qa/model.onnx --squad nested.json -o out
run_case "qa: clean tiny model (control)" handled qa -m qa/model.onnx --context "the team won" --question "who won?"
cd "$repo"

tok_line=$("$hostile" tokenize "$D/text_100mb.txt" "$D/qa/vocab.txt")
word_line=$("$hostile" tokenize "$D/word_100mb.txt" "$D/qa/vocab.txt")

# ---------------------------------------------------------------------------------------------
# Test suites.
suite() {  # suite NAME BINARY [ARGS]: prints "passed/total in S s" (or FAILED ...)
  local name=$1 bin=$2
  shift 2
  local log=$work/$name.log rc=0 t0 t1
  t0=$(date +%s)
  "$bin" "$@" --gtest_brief=1 >"$log" 2>&1 || rc=$?
  t1=$(date +%s)
  local passed total
  passed=$(grep -oE '\[  PASSED  \] [0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  total=$(grep -oE '[0-9]+ tests? from [0-9]+ test suites? ran' "$log" | grep -oE '^[0-9]+' || echo '?')
  if [ $rc -eq 0 ]; then
    echo "$passed/$total passed in $((t1 - t0)) s"
  else
    echo "FAILED (exit $rc): $(grep -E '^\[  FAILED  \]' "$log" | head -3 | tr '\n' ' ')in $((t1 - t0)) s"
  fi
}
echo "reliability-report: hardening suite (Release)"
release_result=$(suite release "$build/tests/hardening/ratel_hardening_tests")
echo "  $release_result"
asan_result="not run (RATEL_REPORT_SKIP_SANITIZERS=1)"
tsan_result="not run (RATEL_REPORT_SKIP_SANITIZERS=1)"
if [ "${RATEL_REPORT_SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "reliability-report: hardening suite (ASan+UBSan, $asan_build)"
  cmake -S . -B "$asan_build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRATEL_SANITIZE=ON >/dev/null
  cmake --build "$asan_build" -j "$jobs" --target ratel_cli ratel_hardening_tests >/dev/null
  asan_result=$(ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    suite asan "$asan_build/tests/hardening/ratel_hardening_tests")
  echo "  $asan_result"
  echo "reliability-report: ThreadSanitizer (scripts/tsan.sh)"
  if RATEL_TSAN_BUILD=$tsan_build scripts/tsan.sh >"$work/tsan.log" 2>&1; then
    tsan_result=$(grep -E '^tsan: ' "$work/tsan.log" | tail -1 | sed 's/^tsan: //')
  else
    tsan_result="FAILED: $(grep -m1 -E 'WARNING: ThreadSanitizer|FAILED' "$work/tsan.log" || tail -1 "$work/tsan.log")"
  fi
  tsan_tests=$(grep -hoE '\[  PASSED  \] [0-9]+ tests?' "$work/tsan.log" | grep -oE '[0-9]+' | paste -sd+ | bc)
  tsan_result="$tsan_result ($tsan_tests tests)"
  echo "  $tsan_result"
fi

# ---------------------------------------------------------------------------------------------
# Fuzzing statistics from the scripts/fuzz.sh runs: every run leaves fuzz/runs/<target>-<time>.txt
# in the repository (on any machine; older fuzz.sh versions left them in the fuzz build folder
# only). Totals over all runs; coverage, corpus and speed from the last run.
all_targets=(onnx_import npy tokenizer squad_json shape_parse qa_features bundle)
fuzz_runs=0
fuzz_total_s=0
fuzz_total_execs=0
for t in "${all_targets[@]}"; do
  runs=()
  for f in fuzz/runs/"$t"-*.txt; do [ -f "$f" ] && runs+=("$f"); done
  fixed=$( (find "fuzz/regressions/$t" -type f ! -name '*.md' 2>/dev/null || true) | wc -l)
  if [ ${#runs[@]} -eq 0 ]; then
    echo "| fuzz_$t | 0 | not run | | | $fixed |" >>"$work/fuzz_totals"
    continue
  fi
  n=0 tot_s=0 tot_e=0 tot_c=0 last_file=""
  for f in "${runs[@]}"; do
    # shellcheck disable=SC1090
    eval "$(. "$f"; echo "s=$seconds e=$executions c=$crashes")"
    n=$((n + 1)) tot_s=$((tot_s + s)) tot_e=$((tot_e + e)) tot_c=$((tot_c + c))
    last_file=$f
  done
  fuzz_runs=$((fuzz_runs + n)) fuzz_total_s=$((fuzz_total_s + tot_s)) fuzz_total_execs=$((fuzz_total_execs + tot_e))
  echo "| fuzz_$t | $n | $((tot_s / 60)) min | $tot_e | $tot_c | $fixed |" >>"$work/fuzz_totals"
  # shellcheck disable=SC1090
  ( . "$last_file"
    last_pct=0 rate=0
    [ "${executions:-0}" -gt 0 ] && last_pct=$(( 100 * last_new_at_execution / executions ))
    [ "${seconds:-0}" -gt 0 ] && rate=$(( executions / seconds ))
    echo "| fuzz_$target | $date | $seconds s | $executions | $rate | $coverage_edges | $features | $corpus_files | ${last_pct}% | $peak_rss_mb | $crashes |"
  ) >>"$work/fuzz_rows"
done
regressions=$( (find fuzz/regressions -type f ! -name '*.md' 2>/dev/null || true) | wc -l)

hostile_total=${#rows[@]}
hostile_ok=$(printf '%s\n' "${rows[@]}" | grep -c '| ok |$' || true)

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
# Virtual machines often report a bare "AMD EPYC": the family and model say which generation.
cpu_fm=$(awk -F': *' '/^cpu family/ {f = $2} /^model\t/ {m = $2} END {if (f != "") printf "family %s model %s", f, m}' /proc/cpuinfo)
[ -n "$cpu_fm" ] && cpu="$cpu ($cpu_fm)"
cores=$(nproc)
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
{
  cat <<EOF
# Reliability

Generated by \`$cmdline\` on $(date -u +%Y-%m-%d) from commit
\`$(git rev-parse --short HEAD)\`$(git diff --quiet HEAD -- src tools fuzz tests 2>/dev/null || echo ' (with uncommitted changes)'),
on an $cpu, $cores cores, $mem. Every number below was measured by that run, except the
fuzzing tables, which it reads from the \`scripts/fuzz.sh\` run records in \`fuzz/runs/\` (each with
its date and CPU).

Ratel reads files people download (models, vocabularies, SQuAD JSON, .npy) and may run in
services. The rule: bad input gets a one-line error naming the file, node or tensor, before any
large allocation, in bounded time; never a crash, a hang, an out-of-bounds read, or memory use
beyond \`--max-memory\` (default: physical memory; the sum of all live tensor memory: weights,
packed copies, activations, inputs).

## Fuzzing

\`scripts/fuzz.sh SECONDS [TARGET...]\` builds each libFuzzer target with ASan + UBSan and runs it
nice'd from seed corpora (ONNX backend node-test models and micro BERT-QA exports from
\`fuzz/make_onnx_seeds.py\`; SQuAD files; vocabularies; .npy files). Crashes go to
\`fuzz/regressions/<target>/\`, replayed by \`FuzzRegressionTest\` in every build
($regressions file(s) so far).

| target | what it covers |
|---|---|
| fuzz_onnx_import | ONNX bytes -> import, shape inference, every optimizer pass (Model::from_graph); when every value has at most 4096 elements, runs the fast and the reference executor on pseudo-random inputs (NaN/Inf included) |
| fuzz_npy | .npy parsing and the exact dtype conversions \`ratel run\` applies to inputs |
| fuzz_tokenizer | BERT tokenizer (cased, uncased) on arbitrary text; the bytes as a vocab.txt, then tokenizing with it |
| fuzz_squad_json | SQuAD JSON reader, examples (context split, answer location), predictions-file parser |
| fuzz_shape_parse | shape strings (\`--shape\`, HHB \`--input-shape\`), \`--max-memory\` sizes |
| fuzz_qa_features | \`ratel qa --squad\` minus the model: JSON, examples, features (windows of 8-79 tokens, strides, query lengths from the input), answer extraction from synthetic logits, predictions and n-best JSON, EM/F1 |
| fuzz_bundle | .rbm bundle loader (header, section table, checksums, metadata, graph decode), re-sealing the checksums of most inputs so mutations reach the decoders; a run of the loaded model when it is small |

Totals over every recorded run ($fuzz_runs runs, $((fuzz_total_s / 60)) min, $fuzz_total_execs executions). "Inputs
found" counts the crash, hang and out-of-memory inputs each run left in \`$fuzz_build/crashes/\`;
"fixed" counts the inputs kept in \`fuzz/regressions/<target>/\` (each one's bug fixed, replayed
by the hardening suite below).

| target | runs | fuzzing time | executions | crash / hang / OOM inputs found | fixed (regression inputs) |
|---|---|---|---|---|---|
EOF
  if [ -f "$work/fuzz_totals" ]; then cat "$work/fuzz_totals"; fi
  cat <<EOF

Last run of each target:

| target | run (UTC) | time | executions | exec/s | coverage (edges) | features | corpus | last new coverage at | peak RSS MB | crashes |
|---|---|---|---|---|---|---|---|---|---|---|
EOF
  if [ -f "$work/fuzz_rows" ]; then cat "$work/fuzz_rows"; else echo "| (no scripts/fuzz.sh statistics in fuzz/runs) | | | | | | | | | | |"; fi
  cat <<EOF

"Last new coverage at" is the share of the run's executions after which no input added coverage.

## Hostile inputs through the CLI

Files written by \`ratel_hostile_files\` (tests/hardening/make_hostile_files.cpp, the same
generators the hardening tests use), each run with the Release \`ratel\`, 300 s time limit.
Time and peak RSS are of the whole process (/usr/bin/time).

| case | command | exit | seconds | peak RSS MB | observed (first error / warning / result line) | verdict |
|---|---|---|---|---|---|---|
EOF
  printf '%s\n' "${rows[@]}"
  cat <<EOF

$hostile_ok of $hostile_total hostile cases behaved as expected (refused with an error, or handled).

Tokenizer (BERT WordPiece, uncased), 100 MB inputs (\`ratel_hostile_files tokenize\`):
- mixed text (words, punctuation, accents, CJK): $tok_line
- one 100 MB word (becomes a single [UNK]): $word_line

## Test suites

| suite | build | result |
|---|---|---|
| ratel_hardening_tests (hostile models and text, CLI, concurrency, fuzz regressions) | Release (\`$build\`) | $release_result |
| ratel_hardening_tests | ASan + UBSan, Debug (\`$asan_build\`) | $asan_result |
| \`scripts/tsan.sh\`: ThreadPool.*, *ThreadCount* kernel tests, ConcurrencyTest.* | ThreadSanitizer, RelWithDebInfo (\`$tsan_build\`) | $tsan_result |

Concurrency checks (ConcurrencyTest): one loaded Model, 6 threads each with its own Session
(intra-op pools of 1-3 threads, full and padding-trimmed runs) give bit-identical outputs to a
single-threaded session; sessions created at the same moment share one plan; a shared tokenizer;
the memory limit under concurrent allocation never overshoots; thread pools created, used (with
nested calls) and destroyed from several threads.
EOF
} >"$out"
echo "reliability-report: wrote $out"
