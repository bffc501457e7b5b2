#!/usr/bin/env python3
"""Run a BERT-QA ONNX model through ONNX Runtime and through `ratel run`, and compare.

  compare_with_ort.py --ratel build/bin/ratel --model build/models/tiny-torch-op13.onnx

Inputs: a realistic random SQuAD feature ([CLS]=101 question [SEP]=102 context [SEP] padding;
segments 0 then 1; mask 1 then 0), int32 [1, seq] unless the model declares int64, saved as .npy
and given to both runtimes. ONNX Runtime runs with all graph optimizations.

Pass criterion: max |ratel - ort| <= tol over every output, with

    tol = 2 * eps * S,   eps = u * (sum_K + elementwise_ulps),   S = max |ort output|

where u = 2^-24, sum_K is the sum of the contraction lengths of every MatMul/Gemm/reduction/
Softmax in the graph and elementwise_ulps the ulp budget of its element-wise ops: the first-order
fp32 rounding budget of one implementation (derivation in tests/models/qa_common.py,
fp32_error_model), doubled because ONNX Runtime and Ratel each have one. All the numbers are
printed.

Exit status: 0 pass, 1 fail, 77 skipped (no model / missing Python package), with a message.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "models"))

SKIP = 77


def say(msg: str) -> None:
    print(f"[compare_with_ort] {msg}", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ratel", required=True, help="path to the ratel binary")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="ONNX model (BERT-QA interface)")
    src.add_argument("--asset", help="a model under the shared assets, e.g. "
                     "models/minilm-l6-squad/model.onnx ($RATEL_ASSETS, default <repo>/../shared)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random input feature")
    ap.add_argument("--seq-len", type=int, default=None, help="sequence length (default: the model's)")
    ap.add_argument("--workdir", default=None, help="keep inputs/outputs here (default: a temp dir)")
    ap.add_argument("--ratel-arg", action="append", default=[], metavar="ARG",
                    help="extra argument for `ratel run` (repeatable), e.g. --ratel-arg=--reference")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds allowed for `ratel run`")
    args = ap.parse_args(argv)

    if args.asset:
        assets = Path(os.environ.get("RATEL_ASSETS") or HERE.parent.parent.parent / "shared")
        model_path = assets / args.asset
        if not model_path.exists():
            say(f"SKIP: shared asset {model_path} not found (set RATEL_ASSETS to the shared folder)")
            return SKIP
    else:
        model_path = Path(args.model)
    if not model_path.exists():
        say(f"SKIP: model {model_path} does not exist (generate it with tests/models/make_bert_qa.py)")
        return SKIP
    try:
        import numpy as np
        import onnx
        import onnxruntime as ort
    except ImportError as e:
        say(f"SKIP: {e} (run scripts/setup-python-env.sh and use its venv's python)")
        return SKIP
    import qa_common

    ratel = Path(args.ratel)
    if not (ratel.is_file() and os.access(ratel, os.X_OK)):
        say(f"FAIL: ratel binary {ratel} is not an executable file")
        return 1

    model = onnx.load(str(model_path), load_external_data=False)
    in_names = [i.name for i in model.graph.input
                if i.name not in {t.name for t in model.graph.initializer}]
    out_names = [o.name for o in model.graph.output]
    types = {i.name: i.type.tensor_type for i in model.graph.input}
    seq = args.seq_len
    if seq is None:
        dims = types["input_ids"].shape.dim
        seq = dims[1].dim_value if len(dims) > 1 and dims[1].dim_value > 0 else 384
    vocab = qa_common.vocab_size_of(model)
    if vocab is None:
        say("FAIL: cannot tell the vocabulary size (no word-embedding table found)")
        return 1
    feeds = qa_common.make_qa_inputs(vocab, seq, args.seed)
    missing = [n for n in in_names if n not in feeds]
    if missing:
        say(f"FAIL: model inputs {missing} are not BERT-QA inputs {sorted(feeds)}")
        return 1
    for n in in_names:
        if types[n].elem_type == onnx.TensorProto.INT64:
            feeds[n] = feeds[n].astype(np.int64)
    real = int(feeds["input_mask"].sum())
    say(f"model {model_path} ({len(model.graph.node)} nodes); vocab {vocab}, seq {seq}, "
        f"{real} real tokens, seed {args.seed}")

    # Reference: ONNX Runtime, all graph optimizations.
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    t0 = time.perf_counter()
    sess = ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])
    ref = dict(zip(out_names, sess.run(out_names, {n: feeds[n] for n in in_names})))
    say(f"onnxruntime {ort.__version__}: {time.perf_counter() - t0:.2f} s (load + run)")

    with tempfile.TemporaryDirectory(prefix="ratel-e2e-") as tmp:
        work = Path(args.workdir) if args.workdir else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        cmd = [str(ratel), "run", str(model_path)]
        for n in in_names:
            np.save(work / f"{n}.npy", feeds[n])
            cmd += ["--input", f"{n}={work / (n + '.npy')}"]
        outdir = work / "ratel_out"
        cmd += ["--output-dir", str(outdir)] + args.ratel_arg
        say("running: " + " ".join(cmd))
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            say(f"FAIL: ratel run exceeded {args.timeout} s")
            return 1
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            say(f"FAIL: ratel run exited {proc.returncode} after {wall:.1f} s")
            sys.stdout.write(proc.stdout[-4000:])
            sys.stdout.write(proc.stderr[-4000:])
            return 1
        timing = [line for line in proc.stdout.splitlines() if line.startswith("loaded in")]
        say(f"ratel run: {wall:.2f} s wall" + (f" ({timing[0].strip()})" if timing else ""))
        got = {}
        for n in out_names:
            f = outdir / f"{n}.npy"
            if not f.exists():
                say(f"FAIL: ratel wrote no {f}")
                return 1
            got[n] = np.load(f)

    em = qa_common.fp32_error_model(model, {n: list(feeds[n].shape) for n in in_names})
    if em.unknown:
        say(f"FAIL: contraction lengths unknown for {em.unknown[:5]}: cannot derive the tolerance")
        return 1
    scale = max(float(np.abs(ref[n]).max()) for n in out_names)
    tol = qa_common.tolerance(em.eps_rel, scale)
    say(f"tolerance: {em.describe()}")
    say(f"tolerance: tol = 2 implementations * eps * S = 2 * {em.eps_rel:.3e} * {scale:.4f} "
        f"= {tol:.3e}   (S = max |ort output|)")

    ok = True
    worst = 0.0
    for n in out_names:
        r, g = ref[n], got[n]
        if r.shape != g.shape:
            say(f"{n}: shape {list(g.shape)} != ONNX Runtime's {list(r.shape)}")
            ok = False
            continue
        if not np.isfinite(g).all():
            say(f"{n}: {int((~np.isfinite(g)).sum())} non-finite values")
            ok = False
            continue
        d = np.abs(g.astype(np.float64) - r.astype(np.float64))
        worst = max(worst, float(d.max()))
        i = int(d.argmax())
        same_argmax = int(r.argmax()) == int(g.argmax())
        say(f"{n}: max|diff| {d.max():.3e} at {i} (ort {r.ravel()[i]:.6f}, ratel {g.ravel()[i]:.6f}), "
            f"mean|diff| {d.mean():.3e}, argmax {'same' if same_argmax else 'DIFFERENT'}")
        ok &= bool(d.max() <= tol)
    verdict = "PASS" if ok else "FAIL"
    say(f"{verdict}: max|diff| {worst:.3e} {'<=' if worst <= tol else '>'} tol {tol:.3e} "
        f"(ratio {worst / tol:.2e})")
    summary = {"model": str(model_path), "pass": ok, "max_abs_diff": worst, "tolerance": tol,
               "eps": em.eps_rel, "scale": scale, "sum_K": em.contraction_terms}
    print("RESULT " + json.dumps(summary))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
