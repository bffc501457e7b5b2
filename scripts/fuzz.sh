#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan, -O1) and runs each for a bounded time,
# nice'd, from a seed corpus of valid inputs plus the corpus earlier runs grew (kept in the build
# folder, out of git). A crash, hang (-timeout) or out-of-memory (-rss_limit_mb) leaves its input
# in <build>/crashes/<target>/ and makes this script fail: copy it to fuzz/regressions/<target>/
# (replayed by tests/hardening/fuzz_regression_test.cpp in every build) and fix the bug.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]    (default 60 s, all targets)
#   RATEL_FUZZ_BUILD=dir     build folder (default build/fuzz)
# Per target, <build>/stats/<target>.txt records the last run (executions, coverage, corpus, when
# the last new coverage was found, the crash inputs it left, the CPU) and fuzz/runs/
# <target>-<time>.txt keeps every run in the repository (build folders and machines come and go;
# commit them); scripts/reliability-report.sh totals them.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
all_targets=(onnx_import npy tokenizer squad_json shape_parse qa_features bundle)
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
assets=${RATEL_ASSETS:-../shared}
build=${RATEL_FUZZ_BUILD:-build/fuzz}

RATEL_WITH_CROSS=0 scripts/install-deps.sh
command -v clang++ >/dev/null || { apt-get install -y -qq clang libclang-rt-dev >/dev/null; }
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DRATEL_FUZZ=ON -DRATEL_BUILD_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DCMAKE_C_FLAGS_DEBUG="-O1 -g" >/dev/null
nice cmake --build "$build" -j "${RATEL_JOBS:-$(nproc)}" --target $(printf 'fuzz_%s ' "${targets[@]}")

# Seed corpora from valid inputs (made once per build folder).
seeds=$build/seeds
mkdir -p "$seeds"
for t in "${all_targets[@]}"; do mkdir -p "$seeds/$t"; done
squad_min='{"version":"1.1","data":[{"title":"t","paragraphs":[{"context":"Super Bowl 50 was won by the Denver Broncos.","qas":[{"id":"1","question":"Who won Super Bowl 50?","answers":[{"text":"Denver Broncos","answer_start":29}]}]}]}]}'
if [ -z "$(ls -A "$seeds/onnx_import")" ]; then
  n=0
  for m in /usr/share/libonnx-testdata/data/node/*/model.onnx; do
    [ -f "$m" ] || continue
    cp "$m" "$seeds/onnx_import/$(basename "$(dirname "$m")").onnx"; n=$((n + 1))
    [ $n -ge 300 ] && break
  done
  # Micro BERT-QA exports (fuzz/make_onnx_seeds.py): the graphs the fusions are written for.
  cp fuzz/seeds/onnx_import/*.onnx "$seeds/onnx_import/"
  printf '\x93NUMPY\x01\x00\x76\x00{'"'"'descr'"'"': '"'"'<f4'"'"', '"'"'fortran_order'"'"': False, '"'"'shape'"'"': (2, 3), }                                                            \n' > "$seeds/npy/f32.npy"
  head -c 24 /dev/zero >> "$seeds/npy/f32.npy"
  printf '1 384;1 384;1 384' > "$seeds/shape_parse/hhb"
  printf '[1, 384]' > "$seeds/shape_parse/brackets"
  printf '1x3x224x224' > "$seeds/shape_parse/x"
  printf '1.5GiB' > "$seeds/shape_parse/size"
  printf 'Which NFL team represented the AFC at Super Bowl 50?' > "$seeds/tokenizer/seed"
  printf 'Caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 na\xc3\xafve \xe2\x80\x94 "quotes"\t\r\n' > "$seeds/tokenizer/unicode"
  printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\n##s\n\xc3\xa9\n' > "$seeds/tokenizer/vocab"
  if [ -f "$assets/data/squad/test1.json" ]; then
    cp "$assets/data/squad/test1.json" "$seeds/squad_json/"
    { printf '\x20\x10\x08\x14\x1e'; cat "$assets/data/squad/test1.json"; } > "$seeds/qa_features/test1"
  fi
  printf '%s' "$squad_min" > "$seeds/squad_json/min.json"
  printf '{"1": "Denver Broncos", "2": ""}' > "$seeds/squad_json/predictions.json"
  { printf '\x10\x08\x04\x05\x06'; printf '%s' "$squad_min"; } > "$seeds/qa_features/min"
  { printf '\x00\x00\x00\x00\x00'; printf '%s' "$squad_min"; } > "$seeds/qa_features/min-small-windows"
fi

# Bundles of the micro exports (ratel -f X.onnx -E): refreshed each run, as the format evolves.
cp fuzz/seeds/bundle/*.rbm "$seeds/bundle/"

mkdir -p "$build/crashes" "$build/corpus" "$build/stats" "$build/logs" fuzz/runs
cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -1) ($(awk -F': *' '/^cpu family/ {f = $2} /^model\t/ {m = $2} END {printf "family %s model %s", f, m}' /proc/cpuinfo))"
status=0
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t" "$build/crashes/$t"
  log="$build/logs/$t.log"
  echo "== fuzz_$t for ${seconds}s"
  max_len=()
  [ "$t" = onnx_import ] && max_len=(-max_len=65536)
  [ "$t" = qa_features ] || [ "$t" = squad_json ] && max_len=(-max_len=16384)
  start=$(date +%s)
  stamp=$build/stats/.start-$t
  touch "$stamp"
  rc=0
  nice -n 10 "$build/fuzz/fuzz_$t" "$build/corpus/$t" "$seeds/$t" -max_total_time="$seconds" \
    -rss_limit_mb=2048 -timeout=20 -artifact_prefix="$build/crashes/$t/" -print_final_stats=1 \
    "${max_len[@]}" >"$log" 2>&1 || rc=$?
  end=$(date +%s)
  # Only this run's inputs: those of earlier runs stay in the folder until someone deletes them.
  crashes=$(find "$build/crashes/$t" -type f -newer "$stamp" | wc -l)
  if [ $rc -ne 0 ] || [ "$crashes" -gt 0 ]; then
    echo "fuzz_$t FOUND A CRASH (exit $rc): see $log and $build/crashes/$t/" >&2
    status=1
  fi
  execs=$(grep -oE 'stat::number_of_executed_units:[[:space:]]*[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
  rss=$(grep -oE 'stat::peak_rss_mb:[[:space:]]*[0-9]+' "$log" | awk '{if ($2 > m) m = $2} END {print m + 0}')
  last=$(grep -E '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse|DONE|INITED)[[:space:]]' "$log" | tail -1 || true)
  cov=$(echo "$last" | grep -o 'cov: [0-9]*' | awk '{print $2}')
  ft=$(echo "$last" | grep -o 'ft: [0-9]*' | awk '{print $2}')
  last_new=$(grep -E '^#[0-9]+[[:space:]]+NEW[[:space:]]' "$log" | tail -1 | sed -E 's/^#([0-9]+).*/\1/' || true)
  corpus=$(find "$build/corpus/$t" -type f | wc -l)
  cat >"$build/stats/$t.txt" <<STATS
target=$t
seconds=$((end - start))
executions=$execs
coverage_edges=${cov:-0}
features=${ft:-0}
corpus_files=$corpus
last_new_at_execution=${last_new:-0}
peak_rss_mb=$rss
crashes=$crashes
exit_status=$rc
date=$(date -u -d "@$start" +%Y-%m-%dT%H:%MZ)
cpu="$cpu"
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
STATS
  cp "$build/stats/$t.txt" "fuzz/runs/$t-$(date -u -d "@$start" +%Y%m%dT%H%M%S).txt"
  echo "  $execs executions in $((end - start)) s, cov $cov ft $ft, corpus $corpus, last new coverage at execution ${last_new:-0}, crashes $crashes"
done
exit $status
