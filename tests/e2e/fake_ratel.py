#!/usr/bin/env python3
"""A stand-in for `ratel run`, for the comparison's self-test: runs the model with ONNX Runtime
(basic optimizations only, so it is not the very same computation as the reference) and adds
RATEL_FAKE_PERTURB (default 0) to one logit of the first output before saving the .npy files.

  fake_ratel.py run MODEL --input NAME=FILE.npy ... --output-dir DIR
"""
import argparse
import os
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["run"])
    ap.add_argument("model")
    ap.add_argument("--input", action="append", default=[])
    ap.add_argument("--output-dir", required=True)
    a = ap.parse_args()
    feeds = {}
    for item in a.input:
        name, _, path = item.partition("=")
        feeds[name] = np.load(path)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    sess = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    outs = sess.run(names, feeds)
    delta = float(os.environ.get("RATEL_FAKE_PERTURB", "0"))
    flat = outs[0].reshape(-1)
    flat[len(flat) // 2] += np.float32(delta)
    Path(a.output_dir).mkdir(parents=True, exist_ok=True)
    for n, t in zip(names, outs):
        np.save(Path(a.output_dir) / f"{n}.npy", t)
    print(f"fake ratel: ran {a.model} with ONNX Runtime, perturbed by {delta}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
