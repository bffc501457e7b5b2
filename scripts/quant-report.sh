#!/usr/bin/env bash
# Writes docs/QUANTIZATION.md: for each quantization scheme, the real model's EM/F1 on the
# held-out SQuAD questions, ΔF1 against Ratel's float32, model time and weight size, and ONNX
# Runtime's int8 models through the same pipeline in the same run (bench/quant_eval.py).
#
#   scripts/quant-report.sh [--limit N] [--threads T] [--no-ort]     (default: all 1716 questions)
#   RATEL_ASSETS (default ../shared). Needs build/release and .venv (scripts/setup-python-env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "quant-report: run scripts/setup-python-env.sh first" >&2; exit 1; }
exec .venv/bin/python bench/quant_eval.py "$@"
