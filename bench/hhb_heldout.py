#!/usr/bin/env python3
"""T-Head's HHB 3.2.3 and Ratel on the same held-out SQuAD questions: EM/F1 of HHB's float16 and
int8_asym models (x86_ref board: HHB's host build, run natively) next to Ratel's, through one
pipeline. Writes a JSON that bench/quant_eval.py puts into docs/QUANTIZATION.md.

  bench/hhb_heldout.py [--limit N] [--hhb-venv ~/.hhb-venv] [--out docs/data/hhb-heldout.json]

(scripts/hhb-compare.sh --heldout N installs HHB with ../shared/tools/hhb-setup.sh and calls this.)

Features: Ratel's (`ratel qa --save-features`: the same windows Ratel answers from), written as
float32 .bin files as the seed's script does. Each HHB model is built once with the seed's
command (`-D --board x86_ref --without-preprocess`), then its `hhb_runtime` runs every window from
one list file; its saved outputs become the logits of `ratel qa --logits`, which extracts and
scores the answers exactly as for Ratel. HHB int8_asym is calibrated on the same tune questions
as Ratel's integer schemes (the first --calib-questions of tune-v1.1.json, never held-out ones),
given to HHB as a .npz of their windows, with `--calibrate-mode maxmin`. Ratel runs each scheme on
the same questions with its own defaults for that scheme (docs/QUANTIZATION.md says what they are).
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
INPUTS = ["input_ids", "input_mask", "segment_ids"]
OUTPUTS = ["output_start_logits", "output_end_logits"]
SEQ = 384


def log(msg: str) -> None:
    print(f"[hhb_heldout] {msg}", file=sys.stderr, flush=True)


def run(cmd, cwd=None, env=None, timeout=None) -> subprocess.CompletedProcess:
    log("$ " + " ".join(str(c) for c in cmd) + (f"   (in {cwd})" if cwd else ""))
    p = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        sys.stderr.write(p.stdout[-3000:] + p.stderr[-3000:])
        raise SystemExit(f"[hhb_heldout] failed (exit {p.returncode}): {' '.join(str(c) for c in cmd)}")
    return p


def question_ids(squad: Path) -> list[str]:
    data = json.loads(squad.read_text())
    return [q["id"] for a in data["data"] for p in a["paragraphs"] for q in p["qas"]]


def parse_scores(out: str) -> dict:
    m = re.search(r"exact match ([\d.]+), F1 ([\d.]+) over (\d+) questions", out)
    if not m:
        raise SystemExit(f"[hhb_heldout] no EM/F1 in ratel's output:\n{out[-2000:]}")
    return {"em": float(m.group(1)), "f1": float(m.group(2)), "questions": int(m.group(3))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ratel", default=str(REPO / "build/release/bin/ratel"))
    ap.add_argument("--hhb-venv", default=os.path.expanduser("~/.hhb-venv"))
    ap.add_argument("--limit", type=int, default=200, help="the first N held-out questions")
    ap.add_argument("--calib-questions", type=int, default=100)
    ap.add_argument("--schemes", default="float16,int8_asym,int8_asym/channel",
                    help="comma-separated; SCHEME/channel adds --channel-quantization (both tools)")
    ap.add_argument("--merge", action="store_true", help="update --out's entries instead of replacing the file")
    ap.add_argument("--work", default="/tmp/ratel-hhb-heldout")
    ap.add_argument("--out", default=str(REPO / "docs/data/hhb-heldout.json"))
    args = ap.parse_args()

    import numpy as np

    assets = Path(os.environ.get("RATEL_ASSETS") or REPO.parent / "shared")
    model = assets / "models/minilm-l6-squad/model.onnx"
    heldout = assets / "data/squad/splits/heldout-v1.1.json"
    tune = assets / "data/squad/splits/tune-v1.1.json"
    for f in (model, heldout, tune):
        if not f.exists():
            raise SystemExit(f"[hhb_heldout] {f} not found (set RATEL_ASSETS)")
    venv = Path(args.hhb_venv)
    hhb = venv / "bin/hhb"
    if not hhb.exists():
        raise SystemExit(f"[hhb_heldout] no HHB at {hhb}: install it with ../shared/tools/hhb-setup.sh {venv}")
    ratel = str(Path(args.ratel).resolve())
    env_hhb = dict(os.environ, PATH=f"{venv / 'xgcc'}:{venv / 'bin'}:{os.environ['PATH']}")
    started = time.perf_counter()

    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    ids = question_ids(heldout)[: args.limit]
    (work / "ids.txt").write_text(",".join(ids))
    select = ["--questions", f"@{work / 'ids.txt'}"]
    calib_ids = question_ids(tune)[: args.calib_questions]
    (work / "calib_ids.txt").write_text(",".join(calib_ids))

    # Held-out windows as the seed's float32 .bin files, listed for one hhb_runtime call.
    run([ratel, "qa", "--squad", heldout, *select, "--save-features", work / "feats"])
    feats = {n: np.load(work / "feats" / f"{n}.npy") for n in INPUTS}
    windows = feats["input_ids"].shape[0]
    bins = work / "bins"
    bins.mkdir()
    lines = []
    for w in range(windows):
        for n in INPUTS:
            path = bins / f"w{w:05d}_{n}.bin"
            feats[n][w].astype(np.float32).tofile(path)
            lines.append(str(path))
    (work / "inputs.txt").write_text("\n".join(lines) + "\n")

    # Calibration windows for HHB: a .npz with one [n, 384] float32 array per input name.
    run([ratel, "qa", "--squad", tune, "--questions", f"@{work / 'calib_ids.txt'}", "--save-features", work / "calib"])
    np.savez(work / "calib.npz", **{n: np.load(work / "calib" / f"{n}.npy").astype(np.float32) for n in INPUTS})

    version = run([hhb, "--version"], env=env_hhb).stdout.strip().splitlines()[-1]
    results = {"hhb": {}, "ratel": {}}
    schemes = [s.strip() for s in args.schemes.split(",") if s.strip()]
    for label in schemes:
        scheme, channel = label.removesuffix("/channel"), label.endswith("/channel")
        out = work / f"hhb_{label.replace('/', '_')}"
        cmd = [hhb, "--model-file", model, "--input-name", ";".join(INPUTS), "--input-shape", "1 384;1 384;1 384",
               "--output-name", ";".join(OUTPUTS), "--board", "x86_ref", "--quantization-scheme", scheme,
               "--postprocess", "save", "-D", "--without-preprocess", "-o", out]
        cmd += ["--channel-quantization"] if channel else []
        if scheme.startswith("int"):
            cmd += ["-cd", work / "calib.npz", "--calibrate-mode", "maxmin"]
        t0 = time.perf_counter()
        run(cmd, cwd=work, env=env_hhb)
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        p = run([out / "hhb_runtime", out / "hhb.bm", work / "inputs.txt"], cwd=out)
        run_s = time.perf_counter() - t0
        times = [float(t) for t in re.findall(r"Run graph execution time: ([\d.]+)ms", p.stdout)]
        logits = np.zeros((2, windows, SEQ), np.float32)
        for w in range(windows):
            for i in range(2):
                f = bins / f"w{w:05d}_input_ids.bin_output{i}_1_{SEQ}.txt"
                if not f.exists():
                    f = out / f.name
                if not f.exists():
                    raise SystemExit(f"[hhb_heldout] HHB {label}: no saved output {i} of window {w} ({f.name})")
                logits[i, w] = np.loadtxt(f, dtype=np.float32)
                f.unlink()
        ld = work / f"logits_{label.replace('/', '_')}"
        ld.mkdir()
        np.save(ld / "start_logits.npy", logits[0])
        np.save(ld / "end_logits.npy", logits[1])
        q = run([ratel, "qa", "--squad", heldout, *select, "--logits", ld, "-o", work / f"qa_hhb_{label.replace('/', '_')}"])
        r = parse_scores(q.stdout + q.stderr)
        r.update(command=" ".join(("'" + str(c) + "'") if " " in str(c) or ";" in str(c) else Path(str(c)).name
                                  if str(c).startswith("/") else str(c) for c in cmd),
                 build_s=round(build_s, 1), run_s=round(run_s, 1), windows=windows,
                 ms_per_window=round(sum(times) / len(times), 1) if times else None,
                 logits_max=round(float(np.abs(logits).max()), 4),
                 logits_sha256=hashlib.sha256(logits.tobytes()).hexdigest()[:16])
        results["hhb"][label] = r
        log(f"HHB {label}: EM {r['em']:.2f} F1 {r['f1']:.2f} ({windows} windows, {run_s:.0f} s)")

    for label in ["float32"] + schemes:
        scheme = label.removesuffix("/channel")
        cmd = [ratel, "qa", "--model", model, "--squad", heldout, *select, "--threads", "2", "-o", work / "qa_ratel",
               "--quantization-scheme", scheme] + (["--channel-quantization"] if label.endswith("/channel") else [])
        if scheme.startswith("int"):
            cmd += ["--calibrate-dataset", tune, "--calibrate-questions", str(args.calib_questions)]
        q = run(cmd)
        results["ratel"][label] = parse_scores(q.stdout + q.stderr)
        log(f"Ratel {label}: F1 {results['ratel'][label]['f1']:.2f}")

    doc = {"date": datetime.date.today().isoformat(), "hhb_version": version, "questions": len(ids),
           "windows": windows, "calib_questions": args.calib_questions,
           "command": f"scripts/hhb-compare.sh --heldout {args.limit}",
           "cpu": next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                        if l.startswith("model name")), "?"),
           "seconds": round(time.perf_counter() - started), **results}
    if args.merge and Path(args.out).exists():
        old = json.loads(Path(args.out).read_text())
        if old.get("questions") != doc["questions"]:
            raise SystemExit(f"[hhb_heldout] --merge: {args.out} is over {old.get('questions')} questions, this run {doc['questions']}")
        for tool in ("hhb", "ratel"):
            doc[tool] = {**old.get(tool, {}), **doc[tool]}
        doc["seconds"] += old.get("seconds", 0)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
