#!/usr/bin/env bash
# The seed's question answered by the real model quantized at load (float16, int8_asym per
# channel, int16_sym; integer schemes calibrated on tune questions), the F1 cost of int8 on
# held-out questions (evaluation only: nothing is tuned on them), and auto-hybrid quantization
# choosing float32 layers on tune questions. Skipped (77) without the shared assets.
#   quantized_qa.sh RATEL_BINARY           the seed's answers, int8 F1 on the first 400 held-out
#                                          questions (default suite, ~1 min)
#   quantized_qa.sh RATEL_BINARY --full    int8 F1 on all 1716 of them (label big, ~3 min)
#   quantized_qa.sh RATEL_BINARY --hybrid  the auto-hybrid search (default suite, ~1 min; its own
#                                          test so that CTest runs it beside the other part)
set -euo pipefail
ratel=$1
full=0 hybrid=0
case "${2:-}" in
  --full) full=1 ;;
  --hybrid) hybrid=1 ;;
  "") ;;
  *) echo "usage: $0 RATEL_BINARY [--full|--hybrid]" >&2; exit 2 ;;
esac
repo=$(cd "$(dirname "$0")/../.." && pwd)
assets=${RATEL_ASSETS:-$repo/../shared}
# ratel finds the shared BERT vocabulary through RATEL_ASSETS (ctest runs this from the build tree,
# where the default ../shared does not exist).
export RATEL_ASSETS=$assets
model=$assets/models/minilm-l6-squad/model.onnx
tune=$assets/data/squad/splits/tune-v1.1.json
heldout=$assets/data/squad/splits/heldout-v1.1.json
seed=$assets/data/squad/test1.json
for f in "$model" "$tune" "$heldout" "$seed"; do
  [ -e "$f" ] || { echo "SKIP: $f not found (set RATEL_ASSETS)"; exit 77; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
calib=(--calibrate-dataset "$tune")  # its first 100 questions
# A failing ratel must show its message here, not end the script silently under set -e.
qa() { "$ratel" qa "$@" 2>&1 || echo "(ratel exited with status $?)"; }

seed_answers() {
  local q out
  for q in "float16" "int8_asym --channel-quantization ${calib[*]}" "int16_sym --channel-quantization ${calib[*]}"; do
    # shellcheck disable=SC2086
    out=$(qa -m "$model" --squad "$seed" -o "$work" --quantization-scheme $q)
    if grep -q '^\[Answer\]: Denver Broncos$' <<<"$out"; then
      echo "PASS: --quantization-scheme $q answers Denver Broncos"
    else
      echo "FAIL: --quantization-scheme $q:"; echo "$out" | tail -5; fail=1
    fi
  done
}

f1() { sed -n 's/^exact match [0-9.]*, F1 \([0-9.]*\) over.*/\1/p'; }
# int8 flips answers chaotically, so a few hundred questions move by ±2 F1 under perturbations as
# small as fp16 embeddings (measured: 286 questions -0.9 with float32 embeddings, -2.5 with fp16;
# 275 tune questions: -0.32 and -0.27), and even the whole split moves by a few tenths (-0.20 with
# float32 embeddings, -0.55 with fp16: docs/QUANTIZATION.md). The target is 0.5 on the whole split;
# these limits (1.0 on all 1716, 3.0 on 400) catch a broken quantizer (tens of F1), not noise.
int8_f1() {
  local which allowed select f32 i8
  if [ $full = 1 ]; then
    which="the 1716 held-out questions"; allowed=1.0; select=()
  else
    which="the first 400 held-out questions"; allowed=3.0
    python3 -c "
import json, sys
ids = [q['id'] for a in json.load(open(sys.argv[1]))['data'] for p in a['paragraphs'] for q in p['qas']]
print('\n'.join(ids[:400]))" "$heldout" >"$work/ids.txt"
    select=(--questions "@$work/ids.txt")
  fi
  f32=$(qa -m "$model" --squad "$heldout" "${select[@]}" -o "$work" -t 2 | f1)
  i8=$(qa -m "$model" --squad "$heldout" "${select[@]}" -o "$work" -t 2 --quantization-scheme int8_asym \
       --channel-quantization "${calib[@]}" | f1)
  if [ -n "$f32" ] && [ -n "$i8" ] && python3 -c "import sys; sys.exit(0 if $f32 - $i8 <= $allowed else 1)"; then
    echo "PASS: int8_asym per channel F1 $i8 vs float32 $f32 on $which (allowed drop $allowed)"
  else
    echo "FAIL: int8_asym per channel F1 $i8 vs float32 $f32 on $which (drop > $allowed)"; fail=1
  fi
}

# int8_sym per tensor, calibrated on 10 questions, loses F1 on the 30 scored ones (4.4 when last
# measured; 20 questions were tried and gave a different answer to the seed's question), so the
# search runs and must keep at least one layer float32 and answer the seed's question.
auto_hybrid() {
  local out
  out=$(qa -m "$model" --squad "$seed" -o "$work" --quantization-scheme int8_sym --calibrate-dataset "$tune" \
        --calibrate-questions 10 --auto-hybrid-quantization --hybrid-eval-questions 30 --quantization-loss-threshold 0.0)
  if grep -q '^auto-hybrid: [1-9][0-9]* dense layer(s) kept float32 after' <<<"$out" &&
     grep -q '^  --hybrid-layer-name ' <<<"$out" && grep -q '^\[Answer\]: Denver Broncos$' <<<"$out"; then
    echo "PASS: auto-hybrid: $(grep '^auto-hybrid: [0-9]* dense' <<<"$out")"
  else
    echo "FAIL: auto-hybrid:"; echo "$out" | tail -8; fail=1
  fi
}

if [ $hybrid = 1 ]; then
  auto_hybrid
else
  [ $full = 1 ] || seed_answers
  int8_f1
fi
exit $fail
