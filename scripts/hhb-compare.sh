#!/usr/bin/env bash
# The seed's command through T-Head's real HHB 3.2.3 and through Ratel, side by side on the shared
# MiniLM (--board c920 float16 under T-Head's qemu, x86 float32 natively): docs/HHB-COMPARISON.md.
#   scripts/hhb-compare.sh [HHB_VENV]   (default ~/.hhb-venv; installed there by
#                                        ../shared/tools/hhb-setup.sh if missing: minutes, ~1.5 GB)
#   scripts/hhb-compare.sh --heldout N [HHB_VENV]
#       instead: HHB's x86_ref float16 and int8_asym and Ratel's on the first N held-out questions
#       (bench/hhb_heldout.py) -> docs/data/hhb-heldout.json, which scripts/quant-report.sh puts
#       into docs/QUANTIZATION.md.
# Needs the Release build with the riscv64 runtime (scripts/build.sh release with the cross tools:
# RATEL_WITH_CROSS=1 scripts/install-deps.sh) and the Python venv (scripts/setup-python-env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
heldout=
if [ "${1:-}" = --heldout ]; then heldout=${2:?--heldout N}; shift 2; fi
venv=${1:-$HOME/.hhb-venv}
export RATEL_ASSETS=${RATEL_ASSETS:-$(cd .. && pwd)/shared}
if [ ! -x "$venv/bin/hhb" ]; then
  setup=$RATEL_ASSETS/tools/hhb-setup.sh
  [ -f "$setup" ] || { echo "hhb-compare: no HHB at $venv and no $setup to install it" >&2; exit 1; }
  echo "hhb-compare: installing HHB 3.2.3 into $venv ($setup)"
  bash "$setup" "$venv"
fi
[ -x build/release/bin/ratel ] || { echo "hhb-compare: build Ratel first (scripts/build.sh release)" >&2; exit 1; }
[ -x .venv/bin/python ] || { echo "hhb-compare: no .venv (scripts/setup-python-env.sh)" >&2; exit 1; }
if [ -n "$heldout" ]; then
  exec .venv/bin/python bench/hhb_heldout.py --ratel build/release/bin/ratel --hhb-venv "$venv" --limit "$heldout"
fi
exec .venv/bin/python bench/hhb_compare.py --ratel build/release/bin/ratel --hhb-venv "$venv"
