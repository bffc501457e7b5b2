#!/bin/sh
# run_in_venv.sh VENV SCRIPT [ARGS...]: run SCRIPT with VENV's python; exit 77 (CTest's skip code
# for the e2e tests) with a message when the venv does not exist.
venv="$1"
shift
if [ ! -x "$venv/bin/python" ]; then
  echo "SKIP: no Python venv at $venv (create it with scripts/setup-python-env.sh, or configure" \
       "with -DRATEL_PYTHON_VENV=PATH)"
  exit 77
fi
exec "$venv/bin/python" "$@"
