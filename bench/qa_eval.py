#!/usr/bin/env python3
"""SQuAD accuracy and end-to-end speed of `ratel qa`, against ONNX Runtime on Ratel's exact
features, plus the tokenizer benchmark; writes docs/QA.md.

    .venv/bin/python bench/qa_eval.py                  # all 1,716 held-out questions, threads 1 and 2
    .venv/bin/python bench/qa_eval.py --limit 100      # the first 100 questions (the doc says so)
    .venv/bin/python bench/qa_eval.py --quick          # --limit 100, short tokenizer benchmark

(a) Ratel: `ratel qa --model M --squad F --threads T` (tokenizer, windows, model, answers, EM/F1,
    all in C++); timed as one process, wall clock.
(b) ONNX Runtime through the same pipeline: `ratel qa --squad F --save-features D` writes every
    window's int32 inputs, ONNX Runtime (ORT_ENABLE_ALL, intra_op_num_threads T, inter_op 1,
    sequential) runs them one window at a time (batch 1, like Ratel), the logits go to
    `ratel qa --squad F --logits D`, which extracts the answers and scores them. Its end-to-end
    time is the sum of the three steps (so it pays for preparing the features twice).
The two must agree within 0.1 F1 (PASS/FAIL, also the exit status: 1 on FAIL).
The held-out split is for evaluation only: nothing is tuned on it here.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from compare import (assets_dir, compiler_info, git_info, loadavg, machine_info,  # noqa: E402
                     md_machine_section, python_versions)

F1_TOLERANCE = 0.1
RE_SCORE = re.compile(r"exact match ([\d.]+), F1 ([\d.]+) over (\d+) questions")
RE_TIMES = re.compile(r"(\d+) questions, (\d+) windows: features (\d+) ms, (?:model (\d+) ms \(([\d.]+) questions/s\)|"
                      r"logits read from [^,]*), answers (\d+) ms")


def log(msg):
    print(msg, flush=True)


def run_ratel(cmd: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed (exit {r.returncode}):\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    return wall, r.stdout


def parse_qa(out: str) -> dict:
    d = {}
    m = RE_SCORE.search(out)
    if m:
        d.update(em=float(m.group(1)), f1=float(m.group(2)), scored=int(m.group(3)))
    m = RE_TIMES.search(out)
    if m:
        d.update(questions=int(m.group(1)), windows=int(m.group(2)), features_ms=int(m.group(3)),
                 answers_ms=int(m.group(6)))
        if m.group(4):
            d.update(model_ms=int(m.group(4)), model_qps=float(m.group(5)))
    return d


def ort_logits(model: Path, feat: Path, out: Path, threads: int) -> dict:
    """Runs ONNX Runtime on every saved window (batch 1); writes start/end_logits.npy."""
    import numpy as np
    import onnxruntime as ort

    t0 = time.perf_counter()
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])
    arrays = {}
    for i in sess.get_inputs():
        f = feat / f"{i.name}.npy"
        if not f.exists():
            raise FileNotFoundError(f"{f}: no saved feature for model input '{i.name}'")
        a = np.load(f)
        want = {"tensor(int32)": np.int32, "tensor(int64)": np.int64}.get(i.type)
        arrays[i.name] = a.astype(want) if want and a.dtype != want else a
    names = [o.name for o in sess.get_outputs()]
    start_name = next((n for n in names if "start" in n.lower()), names[0])
    end_name = next((n for n in names if "end" in n.lower()), names[1])
    n = next(iter(arrays.values())).shape[0]
    setup_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    starts, ends = [], []
    for w in range(n):
        s, e = sess.run([start_name, end_name], {k: v[w:w + 1] for k, v in arrays.items()})
        starts.append(s.reshape(-1))
        ends.append(e.reshape(-1))
    model_s = time.perf_counter() - t1
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "start_logits.npy", np.stack(starts).astype(np.float32))
    np.save(out / "end_logits.npy", np.stack(ends).astype(np.float32))
    return {"windows": n, "setup_s": setup_s, "model_s": model_s, "wall_s": time.perf_counter() - t0}


def predictions_differ(a: Path, b: Path) -> tuple[int, int]:
    pa = json.loads((a / "predictions.json").read_text())
    pb = json.loads((b / "predictions.json").read_text())
    return sum(1 for k in pa if pa[k] != pb.get(k)), len(pa)


def readme_table(readme: Path) -> str:
    """The 'Measured' accuracy table of the model's README, verbatim."""
    try:
        text = readme.read_text()
    except OSError:
        return ""
    lines, in_table = [], False
    for line in text.splitlines():
        if line.startswith("| runtime | EM | F1 |"):
            in_table = True
        if in_table:
            if not line.startswith("|"):
                break
            lines.append(line)
    return "\n".join(lines)


RE_TOK_ROW = re.compile(r"^(.*?)\s+([\d.]+) ms\s+([\d.]+) MB/s\s+([\d.]+) M tok/s\s+\(median ([\d.]+) ms\)")


def tokenizer_bench(build: Path, repeat: int, python: str) -> dict:
    bench = build / "bin" / "ratel_tokenizer_bench"
    if not bench.exists():
        return {"skipped": f"{bench} not built"}
    cmd = [python, str(ROOT / "bench/tokenizer/compare_hf.py"), "--bench", str(bench), "--repeat", str(repeat)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    out = r.stdout
    rows = []
    for line in out.splitlines():
        m = RE_TOK_ROW.match(line)
        if m:
            rows.append({"name": m.group(1).strip(), "best_ms": float(m.group(2)), "mbs": float(m.group(3)),
                         "mtoks": float(m.group(4)), "median_ms": float(m.group(5))})
    header = out.splitlines()[0] if out else ""
    ident = re.search(r"identical ids: (\w+) \((\d+) of (\d+) texts differ\)", out)
    speed = re.search(r"speed-up vs fastest HF: ([\d.]+)x", out)
    if not rows or r.returncode not in (0, 1):
        return {"skipped": f"{shlex.join(cmd)} failed (exit {r.returncode}): "
                           f"{(r.stderr.strip().splitlines() or [''])[-1]}", "cmd": cmd}
    return {"cmd": cmd, "rows": rows, "header": header, "identical": ident.group(1) if ident else "?",
            "differ": ident.group(2) if ident else "?", "speedup": float(speed.group(1)) if speed else None,
            "raw": out}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    assets = assets_dir()
    ap.add_argument("--build", default=str(ROOT / "build" / "release"), help="build folder with bin/ratel")
    ap.add_argument("--model", default=str(assets / "models/minilm-l6-squad/model.onnx"))
    ap.add_argument("--squad", default=str(assets / "data/squad/splits/heldout-v1.1.json"))
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--limit", type=int, default=None, help="only the first N questions (file order)")
    ap.add_argument("--tokenizer-repeat", type=int, default=None, help="compare_hf.py --repeat (default 10; quick 3)")
    ap.add_argument("--no-tokenizer", action="store_true", help="skip the tokenizer benchmark")
    ap.add_argument("--quick", action="store_true", help="--limit 100 (unless given) and a short tokenizer run")
    ap.add_argument("--out", default=str(ROOT / "docs" / "QA.md"), help="markdown output ('-': none)")
    ap.add_argument("--work", default=None, help="keep features, logits and predictions here (default: temp)")
    args = ap.parse_args()
    if args.quick and args.limit is None:
        args.limit = 100
    args.tokenizer_repeat = args.tokenizer_repeat or (3 if args.quick else 10)
    build = Path(args.build).resolve()
    ratel = build / "bin" / "ratel"
    if not ratel.exists():
        sys.exit(f"qa_eval.py: {ratel} not found (build the ratel_cli target)")
    for p in (args.model, args.squad):
        if not Path(p).exists():
            sys.exit(f"qa_eval.py: {p} not found (set RATEL_ASSETS)")
    threads = [int(t) for t in args.threads.split(",")]
    command = shlex.join([os.path.relpath(sys.executable, ROOT) if sys.executable.startswith(str(ROOT)) else sys.executable,
                          os.path.relpath(__file__, ROOT)] + sys.argv[1:])
    started = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    t_start = time.perf_counter()
    load_start = loadavg()
    info = machine_info()
    log(f"qa_eval: {info['model_name']}, {info['cpus']} CPUs, load {load_start}")

    tmp = tempfile.TemporaryDirectory() if args.work is None else None
    work = Path(args.work or tmp.name)
    work.mkdir(parents=True, exist_ok=True)

    squad = json.loads(Path(args.squad).read_text())
    all_ids = [qa["id"] for art in squad["data"] for p in art["paragraphs"] for qa in p["qas"]]
    select = []
    if args.limit is not None and args.limit < len(all_ids):
        ids_file = work / "questions.txt"
        ids_file.write_text("\n".join(all_ids[:args.limit]) + "\n")
        select = ["--questions", f"@{ids_file}"]
    n_eval = min(len(all_ids), args.limit) if args.limit else len(all_ids)
    log(f"  {n_eval} of {len(all_ids)} questions from {args.squad}")

    base = [str(ratel), "qa", "--squad", args.squad] + select
    ratel_runs, ort_runs = {}, {}
    # Features once for ONNX Runtime (Ratel's exact windows).
    feat = work / "features"
    feat_cmd = base + ["--save-features", str(feat)]
    feat_wall, _ = run_ratel(feat_cmd)
    log(f"  features: {feat_wall:.2f} s ({shlex.join(feat_cmd)})")
    def run_a(t):
        out_dir = work / f"ratel-t{t}"
        cmd = base + ["--model", args.model, "--threads", str(t), "--output-dir", str(out_dir)]
        wall, out = run_ratel(cmd)
        d = parse_qa(out)
        d.update(wall_s=wall, cmd=cmd, load=loadavg(), out_dir=out_dir)
        if "f1" not in d:
            raise RuntimeError(f"no EM/F1 in the output of {shlex.join(cmd)}:\n{out}")
        ratel_runs[t] = d
        log(f"  ratel t{t}: EM {d['em']:.2f} F1 {d['f1']:.2f}, {wall:.1f} s wall, "
            f"{d['questions'] / wall:.2f} q/s end to end, model {d.get('model_qps', 0):.2f} q/s")

    def run_b(t):
        logits = work / f"ort-t{t}"
        o = ort_logits(Path(args.model), feat, logits, t)
        cmd2 = base + ["--logits", str(logits), "--output-dir", str(logits)]
        wall2, out2 = run_ratel(cmd2)
        d2 = parse_qa(out2)
        if "f1" not in d2:
            raise RuntimeError(f"no EM/F1 in the output of {shlex.join(cmd2)}:\n{out2}")
        d2.update(ort=o, logits_wall_s=wall2, features_wall_s=feat_wall, wall_s=feat_wall + o["wall_s"] + wall2,
                  cmd=cmd2, load=loadavg(), out_dir=logits)
        ort_runs[t] = d2
        log(f"  ORT   t{t}: EM {d2['em']:.2f} F1 {d2['f1']:.2f}, {d2['wall_s']:.1f} s wall "
            f"(features {feat_wall:.1f} + ORT {o['wall_s']:.1f} + answers {wall2:.1f}), "
            f"{d2['questions'] / d2['wall_s']:.2f} q/s end to end, model {d2['questions'] / o['model_s']:.2f} q/s")

    # The two pipelines run back to back for each thread count, which goes first alternating
    # (Ratel first at the first thread count, ONNX Runtime first at the second, ...), so that a
    # change in the machine's load does not always fall on the same one.
    for i, t in enumerate(threads):
        for step in ((run_a, run_b) if i % 2 == 0 else (run_b, run_a)):
            step(t)
        d2 = ort_runs[t]
        d2["differ"], d2["total_pred"] = predictions_differ(ratel_runs[t]["out_dir"], d2["out_dir"])
        log(f"  threads {t}: {d2['differ']} of {d2['total_pred']} answers differ between Ratel and ORT")

    checks = []
    for t in threads:
        diff = abs(ratel_runs[t]["f1"] - ort_runs[t]["f1"])
        checks.append((t, diff, diff <= F1_TOLERANCE))
    passed = all(ok for _, _, ok in checks)
    for t, diff, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}: threads {t}: |F1 Ratel - F1 ORT| = {diff:.3f} "
              f"({'<=' if ok else '>'} {F1_TOLERANCE})")

    tok = None
    if not args.no_tokenizer:
        log("tokenizer benchmark (bench/tokenizer/compare_hf.py)")
        tok = tokenizer_bench(build, args.tokenizer_repeat, sys.executable)
        if "skipped" in tok:
            log(f"  skipped: {tok['skipped']}")
        else:
            log(tok["raw"].rstrip())

    load_end = loadavg()
    elapsed = time.perf_counter() - t_start
    if args.out != "-":
        write_doc(Path(args.out), args, command, started, elapsed, info, load_start, load_end, n_eval,
                  len(all_ids), ratel_runs, ort_runs, checks, passed, tok, build, feat_cmd)
        log(f"wrote {args.out} ({elapsed:.0f} s)")
    if tmp:
        tmp.cleanup()
    return 0 if passed else 1


def write_doc(path, args, command, started, elapsed, info, load_start, load_end, n_eval, n_all, ratel_runs,
              ort_runs, checks, passed, tok, build, feat_cmd):
    subset = n_eval < n_all
    rel = lambda p: os.path.relpath(p, ROOT) if str(p).startswith(str(ROOT)) else str(p)  # noqa: E731
    s = "# Question answering: accuracy and speed\n\n"
    s += (f"Generated by `bench/qa_eval.py` on {started} ({elapsed:.0f} s). "
          + ("**Quick run** (`--quick`: a 100-question subset unless `--limit` says otherwise, and a "
             f"best-of-{args.tokenizer_repeat} tokenizer benchmark). " if args.quick else "")
          + (f"**Subset: the first {n_eval} of the {n_all} held-out questions** (file order), so EM/F1 are not "
             "comparable with full-split numbers. " if subset else "")
          + "Do not edit by hand: rerun `scripts/make-docs.sh" + (" --quick" if args.quick else "") + "`.\n\n")
    s += f"Command:\n\n```sh\n{command}\n```\n\n"
    s += md_machine_section(info, load_start, load_end)
    vers = python_versions(("numpy", "onnxruntime", "tokenizers"))
    s += "## Versions\n\n| component | version |\n|---|---|\n"
    s += f"| Ratel | git {git_info()}; `{rel(build / 'bin' / 'ratel')}` |\n"
    s += f"| compiler | {compiler_info(build)} |\n"
    for k, v in vers.items():
        s += f"| {k} | {v} |\n"
    s += "\n"
    s += "## Accuracy\n\n"
    s += (f"Model `{args.model}`; questions `{args.squad}` ({n_eval} questions"
          + (f" of {n_all}" if subset else "") + "; evaluation only, never tuned on). "
          "Pre/post-processing: Google BERT `run_squad.py` semantics in C++ (uncased, max_seq_length 384, "
          "doc_stride 128, max_query_length 64, n-best 20, max answer length 30), SQuAD v1.1 EM/F1.\n\n")
    s += "| pipeline | threads | EM | F1 | questions | windows |\n|---|---|---|---|---|---|\n"
    for t in sorted(ratel_runs):
        r = ratel_runs[t]
        s += f"| (a) `ratel qa` (Ratel model) | {t} | {r['em']:.2f} | {r['f1']:.2f} | {r['scored']} | {r.get('windows', '?')} |\n"
    for t in sorted(ort_runs):
        r = ort_runs[t]
        s += (f"| (b) ONNX Runtime on Ratel's features, answers by `ratel qa --logits` | {t} | {r['em']:.2f} | "
              f"{r['f1']:.2f} | {r['scored']} | {r.get('windows', '?')} |\n")
    s += "\n"
    for t, diff, ok in checks:
        r = ort_runs[t]
        s += (f"- Agreement at {t} thread{'s' if t > 1 else ''}: |F1(a) − F1(b)| = {diff:.3f} "
              f"{'≤' if ok else '>'} {F1_TOLERANCE}: **{'PASS' if ok else 'FAIL'}**; "
              f"{r['differ']} of {r['total_pred']} predicted answers differ in text.\n")
    s += "\n"
    table = readme_table(Path(args.model).parent / "README.md")
    if table:
        s += ("For context, the model README's own numbers on the full held-out split (1,716 questions), "
              "measured by its authors elsewhere, not in this run:\n\n" + table + "\n\n")
        if subset:
            s += "(This run used a subset, so its numbers are not expected to match these.)\n\n"

    s += "## End-to-end speed\n\n"
    s += ("Wall-clock time of the whole pipeline for all evaluated questions, one window at a time (batch 1). "
          "(a) is one `ratel qa` process: load vocab and model, read the SQuAD file, tokenize, run every "
          "window, extract answers, score, write predictions. (b) is `ratel qa --save-features` + ONNX "
          "Runtime (session creation, loading the features, running every window) + `ratel qa --logits` "
          "(which reads the SQuAD file and builds the features again before extracting answers). "
          "\"model only\" is the inference loop alone: Ratel's own report, and the ONNX Runtime loop's time.\n\n")
    s += ("| pipeline | threads | wall s | questions/s end to end | questions/s model only | breakdown | load avg |\n"
          "|---|---|---|---|---|---|---|\n")
    for t in sorted(ratel_runs):
        r = ratel_runs[t]
        s += (f"| (a) Ratel | {t} | {r['wall_s']:.1f} | {r['questions'] / r['wall_s']:.2f} | "
              f"{r.get('model_qps', float('nan')):.2f} | features {r.get('features_ms', 0) / 1e3:.2f} s, model "
              f"{r.get('model_ms', 0) / 1e3:.1f} s, answers {r.get('answers_ms', 0) / 1e3:.2f} s | {r['load']} |\n")
        o = ort_runs[t]
        s += (f"| (b) ONNX Runtime | {t} | {o['wall_s']:.1f} | {o['questions'] / o['wall_s']:.2f} | "
              f"{o['questions'] / o['ort']['model_s']:.2f} | save-features {o['features_wall_s']:.2f} s, ORT "
              f"{o['ort']['wall_s']:.1f} s (of which setup {o['ort']['setup_s']:.1f} s), --logits "
              f"{o['logits_wall_s']:.2f} s | {o['load']} |\n")
    s += "\n"
    ts = sorted(ratel_runs)
    if ts:
        s += ("Ratel/ORT model-only time ratio: " + ", ".join(
            f"{t} thread{'s' if t > 1 else ''} {(ratel_runs[t]['model_ms'] / 1e3) / ort_runs[t]['ort']['model_s']:.2f}"
            for t in ts if "model_ms" in ratel_runs[t]) + f" (load average {load_start} at start, {load_end} at end; "
            "the two pipelines ran back to back for each thread count, the first one alternating between thread "
            "counts, so load changes between them show up in these ratios).\n\n")
    s += f"Features command: `{shlex.join([rel(x) for x in feat_cmd])}`\n\n"

    s += "## Tokenizer: Ratel vs HuggingFace `tokenizers`\n\n"
    if tok is None:
        s += "Not run (`--no-tokenizer`).\n"
    elif "skipped" in tok:
        s += f"Not run: {tok['skipped']}.\n"
    else:
        s += (f"`{shlex.join([rel(x) for x in tok['cmd']])}`: {tok['header']}. Same vocab, lower-casing and accent "
              "stripping, no special tokens; the texts are all contexts and questions of the SQuAD v1.1 dev set "
              "(tokenizer speed only, no model). Throughput from the best time, median in brackets.\n\n")
        s += "| tokenizer | best ms (median) | MB/s | M tokens/s | Ratel speed vs this |\n|---|---|---|---|---|\n"
        ratel_row = next((r for r in tok["rows"] if r["name"].startswith("Ratel")), None)
        for r in tok["rows"]:
            ratio = f"{r['best_ms'] / ratel_row['best_ms']:.1f}×" if ratel_row else "?"
            s += f"| {r['name']} | {r['best_ms']:.1f} ({r['median_ms']:.1f}) | {r['mbs']:.1f} | {r['mtoks']:.2f} | {ratio} |\n"
        s += (f"\nIdentical ids for every text: **{tok['identical']}** ({tok['differ']} texts differ). "
              f"Speed-up vs the fastest HF variant: {tok['speedup']:.1f}×.\n" if tok["speedup"] else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(s)


if __name__ == "__main__":
    sys.exit(main())
