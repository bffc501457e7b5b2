#!/usr/bin/env bash
# The seed's question answered by the real model quantized at load (float16, int8_asym per
# channel, int16_sym; integer schemes calibrated on tune questions), the F1 cost of int8 on all
# 1716 held-out questions (evaluation only: nothing is tuned on them), and auto-hybrid quantization
# choosing float32 layers on tune questions. Skipped (77) without the shared assets.
#   quantized_qa.sh RATEL_BINARY
set -euo pipefail
ratel=$1
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

for q in "float16" "int8_asym --channel-quantization ${calib[*]}" "int16_sym --channel-quantization ${calib[*]}"; do
  # shellcheck disable=SC2086
  out=$(qa -m "$model" --squad "$seed" -o "$work" --quantization-scheme $q)
  if grep -q '^\[Answer\]: Denver Broncos$' <<<"$out"; then
    echo "PASS: --quantization-scheme $q answers Denver Broncos"
  else
    echo "FAIL: --quantization-scheme $q:"; echo "$out" | tail -5; fail=1
  fi
done

f1() { sed -n 's/^exact match [0-9.]*, F1 \([0-9.]*\) over.*/\1/p'; }
f32=$(qa -m "$model" --squad "$heldout" -o "$work" -t 2 | f1)
i8=$(qa -m "$model" --squad "$heldout" -o "$work" -t 2 --quantization-scheme int8_asym --channel-quantization \
     "${calib[@]}" | f1)
# All 1716 held-out questions: int8 flips answers chaotically, so a few hundred questions move
# by ±2 F1 under perturbations as small as fp16 embeddings (measured: 286 questions -0.9 with
# float32 embeddings, -2.5 with fp16; 275 tune questions: -0.32 and -0.27), and even the whole
# split moves by a few tenths (-0.20 with float32 embeddings, -0.55 with fp16: docs/QUANTIZATION.md).
# The target is 0.5; this allows 1.0, so it catches a broken quantizer (tens of F1), not noise.
if [ -n "$f32" ] && [ -n "$i8" ] && python3 -c "import sys; sys.exit(0 if $f32 - $i8 <= 1.0 else 1)"; then
  echo "PASS: int8_asym per channel F1 $i8 vs float32 $f32 on the 1716 held-out questions"
else
  echo "FAIL: int8_asym per channel F1 $i8 vs float32 $f32 on the 1716 held-out questions (drop > 1)"; fail=1
fi

# int8_sym per tensor, calibrated on 10 questions: 7.8 F1 lost on the 30 scored ones, so the
# search runs (one layer kept float32 brings it back, as measured when this test was written).
out=$(qa -m "$model" --squad "$seed" -o "$work" --quantization-scheme int8_sym --calibrate-dataset "$tune" \
      --calibrate-questions 10 --auto-hybrid-quantization --hybrid-eval-questions 30 --quantization-loss-threshold 0.0)
if grep -q '^auto-hybrid: [1-9][0-9]* dense layer(s) kept float32 after' <<<"$out" &&
   grep -q '^  --hybrid-layer-name ' <<<"$out" && grep -q '^\[Answer\]: Denver Broncos$' <<<"$out"; then
  echo "PASS: auto-hybrid: $(grep '^auto-hybrid: [0-9]* dense' <<<"$out")"
else
  echo "FAIL: auto-hybrid:"; echo "$out" | tail -8; fail=1
fi
exit $fail
