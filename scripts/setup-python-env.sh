#!/usr/bin/env bash
# Set up Ratel's Python environment for test-model generation and the ONNX Runtime cross-check.
#
#   scripts/setup-python-env.sh [VENV]      (default: <repo>/.venv, which git ignores)
#
# What it does (as root on Debian 12; idempotent):
#   1. apt-get install python3-venv python3-torch libopenblas0-pthread
#      (Debian's torch 1.13, CPU only: PyPI's torch would pull in GBs of CUDA libraries).
#   2. /usr/bin/python3 -m venv --system-site-packages VENV, so Debian's torch is importable.
#   3. pip install the pinned packages below into VENV.
# A stamp file VENV/.ratel-requirements.sha256 holds the hash of the pinned list (and of the
# apt package list); when it matches and the installed versions are the pinned ones, the script
# is a fast no-op (~0.1 s). After an install every package is imported once as a check.
#
# Environment: RATEL_PY_FORCE=1 reinstalls the pip packages even when the stamp matches.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-$REPO/.venv}"
APT_PACKAGES=(python3-venv python3-torch libopenblas0-pthread)

# Pins, chosen to fit Debian 12's torch 1.13.1 (built against numpy 1.x, Python 3.11):
#  - numpy < 2: Debian's torch was compiled against the numpy 1.x ABI.
#  - transformers 4.46.3: still runs on torch 1.13 (eager attention); needs tokenizers 0.20.x.
#  - tensorflow-cpu 2.15.1 + tf2onnx 1.17.0: tf2onnx 1.17's README tests TF 2.13-2.15; TF 2.15
#    is the newest of those (the last with Keras 2), needs numpy < 2 and protobuf < 5.
#  - onnx 1.17.0 / onnxruntime 1.20.1 / openvino 2024.6.0: all accept numpy 1.26 and protobuf 4.
#  - xuantie-qemu: T-Head's qemu-user (-cpu c920 emulates the seed's board, RVV 0.7.1), for the
#    riscv64 deploy tests.
REQUIREMENTS="$(cat <<'EOF'
numpy==1.26.4
protobuf==4.25.5
onnx==1.17.0
onnxruntime==1.20.1
tokenizers==0.20.3
huggingface-hub==0.26.5
safetensors==0.4.5
transformers==4.46.3
tensorflow-cpu==2.15.1
tf2onnx==1.17.0
openvino==2024.6.0
xuantie-qemu==20230825
EOF
)"
STAMP="$VENV/.ratel-requirements.sha256"
WANT_HASH="$(printf '%s\n%s\n' "$REQUIREMENTS" "${APT_PACKAGES[*]}" | sha256sum | cut -d' ' -f1)"

log() { printf '[setup-python-env] %s\n' "$*"; }
start=$(date +%s)

# The check that the environment is usable: every pinned package imports, torch from Debian.
check_imports() {
  "$VENV/bin/python" - <<'EOF'
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("USE_TF", "0")  # transformers: torch side only
import numpy, onnx, onnxruntime, torch, transformers, tokenizers, tensorflow, tf2onnx, openvino
print(f"numpy {numpy.__version__}, torch {torch.__version__} ({torch.__file__}), "
      f"transformers {transformers.__version__}, tokenizers {tokenizers.__version__}, "
      f"onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__}, "
      f"tensorflow {tensorflow.__version__}, tf2onnx {tf2onnx.__version__}, "
      f"openvino {openvino.__version__}")
EOF
}

# The fast check: the pinned distributions are installed at their pinned versions (reads package
# metadata only; importing TensorFlow and torch would take seconds) and torch's files are there.
check_pins() {
  printf '%s\n' "$REQUIREMENTS" | "$VENV/bin/python" -c '
import sys, importlib.metadata as md, importlib.util
for line in sys.stdin:
    name, _, want = line.strip().partition("==")
    if name and md.version(name) != want:
        sys.exit(f"{name} {md.version(name)} != {want}")
if importlib.util.find_spec("torch") is None:
    sys.exit("torch not importable")
'
}

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT_HASH" && "${RATEL_PY_FORCE:-0}" != 1 ]]; then
  if check_pins 2>/dev/null; then
    log "up to date: $VENV (stamp $STAMP matches the pinned list; RATEL_PY_FORCE=1 reinstalls)"
    exit 0
  fi
  log "stamp matches but the installed packages differ: reinstalling"
fi

# 1. Debian packages.
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    log "need root to install: ${missing[*]} (run: sudo apt-get install -y ${missing[*]})"
    exit 1
  fi
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "apt packages present: ${APT_PACKAGES[*]}"
fi

# 2. The venv (Debian's interpreter, so Debian's torch is ABI-compatible and visible).
if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating venv $VENV (/usr/bin/python3 -m venv --system-site-packages)"
  /usr/bin/python3 -m venv --system-site-packages "$VENV"
else
  log "venv exists: $VENV"
fi

# 3. Pinned pip packages.
req_file="$(mktemp)"
trap 'rm -f "$req_file"' EXIT
printf '%s\n' "$REQUIREMENTS" >"$req_file"
log "pip install (pinned):"
sed 's/^/    /' "$req_file"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip==24.3.1
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$req_file"

versions=$(check_imports)
printf '%s\n' "$WANT_HASH" >"$STAMP"
log "ready in $(( $(date +%s) - start )) s: $VENV"
log "$versions"
