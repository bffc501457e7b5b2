#!/usr/bin/env python3
"""Self-test of compare_with_ort.py: it must pass an unperturbed implementation and fail one
whose output is off by more than its tolerance (here: one logit moved by 1e-3, which is about
5x the tiny model's derived tolerance but under 1% of the logits' scale).

  selftest_compare.py --model tiny-torch-op13.onnx
Exit 0 when both verdicts are right, 1 otherwise, 77 when the model or a package is missing.
"""
import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    a = ap.parse_args()
    if not Path(a.model).exists():
        print(f"SKIP: model {a.model} does not exist")
        return 77
    try:
        import onnxruntime  # noqa: F401
    except ImportError as e:
        print(f"SKIP: {e}")
        return 77
    # The fake binary is a script run by this interpreter (the venv's), through a wrapper.
    wrapper = Path(os.environ.get("TMPDIR", "/tmp")) / f"fake-ratel-{os.getpid()}.sh"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{HERE / "fake_ratel.py"}" "$@"\n')
    wrapper.chmod(0o755)
    ok = True
    try:
        for delta, want in (("0", 0), ("1e-3", 1)):
            env = dict(os.environ, RATEL_FAKE_PERTURB=delta)
            p = subprocess.run([sys.executable, str(HERE / "compare_with_ort.py"), "--ratel",
                                str(wrapper), "--model", a.model], env=env, capture_output=True,
                               text=True)
            verdict = [line for line in p.stdout.splitlines() if "PASS" in line or "FAIL" in line]
            print(f"perturbation {delta}: exit {p.returncode} (want {want}): "
                  f"{verdict[-1] if verdict else p.stdout[-2000:] + p.stderr[-2000:]}")
            ok &= p.returncode == want
    finally:
        wrapper.unlink(missing_ok=True)
    print("self-test", "passed" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
