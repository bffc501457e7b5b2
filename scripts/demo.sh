#!/usr/bin/env bash
# The main job, from a fresh Debian 12 (as root): install, build, then answer the seed
# tutorial's question ("Which NFL team represented the AFC at Super Bowl 50?") with the real
# BERT QA model, entirely in C++ (tokenizer, model, answer extraction).
#   RATEL_ASSETS   where the shared models and data are (default: ../shared beside the repo)
#   RATEL_THREADS  threads for the model (default: all cores)
set -euo pipefail
cd "$(dirname "$0")/.."
assets=${RATEL_ASSETS:-../shared}
model="$assets/models/minilm-l6-squad/model.onnx"
squad="$assets/data/squad/test1.json"
for f in "$model" "$squad" "$assets/data/vocab/bert-base-uncased-vocab.txt"; do
  if [ ! -f "$f" ]; then
    echo "demo: $f is missing. Put the shared assets (models/minilm-l6-squad/model.onnx," >&2
    echo "demo: data/squad/test1.json, data/vocab/bert-base-uncased-vocab.txt) in ../shared or" >&2
    echo "demo: point RATEL_ASSETS at them." >&2
    exit 1
  fi
done

scripts/install-deps.sh
scripts/build.sh release

echo "== ratel qa: the seed's question, answered by $model"
RATEL_ASSETS="$assets" build/release/bin/ratel qa --model "$model" --squad "$squad" \
  --threads "${RATEL_THREADS:-$(nproc)}" --output-dir build/demo
