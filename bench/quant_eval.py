#!/usr/bin/env python3
"""What each quantization scheme costs in answers, on the real model; writes docs/QUANTIZATION.md.

    .venv/bin/python bench/quant_eval.py              # all 1,716 held-out questions
    .venv/bin/python bench/quant_eval.py --limit 300  # the first 300 (the doc says so)

For every scheme Ratel implements, `ratel qa` answers the held-out SQuAD questions (never used to
tune or calibrate anything) with the minilm-l6-squad model quantized at load; the integer schemes
are calibrated first on the first --calib-questions questions of the tune split
(`--calibrate-dataset tune-v1.1.json`, mode maxmin, HHB's default; the mode was chosen on tune
questions, see the doc). Reported: EM, F1, ΔF1 against Ratel's float32, model time (padding
trimmed) at --threads, and the weights' size after quantization (`ratel run --stats`).

ONNX Runtime's int8 runs on the same model through the same QA pipeline, in the same run:
`ratel qa --save-features` writes every held-out window, ORT (batch 1, ORT_ENABLE_ALL, intra-op
threads --threads) computes the logits, `ratel qa --logits` extracts and scores the answers. Its
two int8 models: `quantize_dynamic` (int8 weights, activations quantized per call) and
`quantize_static` (QDQ, u8 activations / s8 per-channel weights, MinMax calibration on the same
tune windows Ratel calibrates on).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shlex
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from compare import assets_dir, git_info, loadavg, machine_info, md_machine_section, python_versions  # noqa: E402
from qa_eval import ort_logits, parse_qa, run_ratel  # noqa: E402

# label, scheme, per-channel
RATEL_SCHEMES = [
    ("float32", "float32", False),
    ("float16", "float16", False),
    ("bfloat16", "bfloat16", False),
    ("float16_w_int8", "float16_w_int8", False),
    ("float16_w_int8 / channel", "float16_w_int8", True),
    ("int8_asym", "int8_asym", False),
    ("int8_asym / channel", "int8_asym", True),
    ("int8_asym / channel, no smoothing", "int8_asym", True),
    ("int8_asym / channel, 7-bit activations", "int8_asym", True),
    ("int8_asym_w_sym / channel", "int8_asym_w_sym", True),
    ("int8_sym / channel", "int8_sym", True),
    ("uint8_asym / channel", "uint8_asym", True),
    ("int16_sym / channel", "int16_sym", True),
    ("int8_asym / channel, int8 embeddings", "int8_asym", True),
    ("int8_asym + auto-hybrid", "int8_asym", False),
    ("int8_sym / channel + auto-hybrid", "int8_sym", True),
]
# Rows that let Ratel choose float32 layers on tune questions (those after the calibration ones).
AUTO_HYBRID = ["--auto-hybrid-quantization", "--quantization-loss-threshold", "0.5", "--hybrid-eval-questions", "300"]
INTEGER = {"int8_asym", "int8_asym_w_sym", "int8_sym", "uint8_asym", "int16_sym"}
# The issue's targets: largest F1 drop vs Ratel float32.
TARGET_DROP = {"int8_asym / channel": 0.5, "int16_sym / channel": 0.05, "float16": 0.05, "bfloat16": 0.3}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run_ratel_all(cmd: list[str]) -> tuple[float, str]:
    """run_ratel, returning stderr (calibration and auto-hybrid reports) after stdout."""
    import subprocess
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed (exit {r.returncode}):\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    return time.perf_counter() - t0, r.stdout + r.stderr


def question_ids(path: Path) -> list[str]:
    d = json.loads(path.read_text())
    return [q["id"] for a in d["data"] for p in a["paragraphs"] for q in p["qas"]]


class Windows:
    """ONNX Runtime's calibration reader over saved features."""

    def __init__(self, feat: Path, input_names):
        import numpy as np
        self.arrays = {n: np.load(feat / f"{n}.npy") for n in input_names}
        self.n = next(iter(self.arrays.values())).shape[0]
        self.i = 0

    def get_next(self):
        if self.i >= self.n:
            return None
        i, self.i = self.i, self.i + 1
        return {k: v[i:i + 1] for k, v in self.arrays.items()}

    def rewind(self):
        self.i = 0


def ort_quantize(model: Path, work: Path, calib: Path) -> dict[str, Path]:
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_dynamic, quantize_static)
    import onnxruntime as ort

    out = {}
    dyn = work / "ort_dynamic.onnx"
    quantize_dynamic(str(model), str(dyn), weight_type=QuantType.QInt8)
    out["ORT quantize_dynamic (s8 weights)"] = dyn
    names = [i.name for i in ort.InferenceSession(str(model), providers=["CPUExecutionProvider"]).get_inputs()]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.w = Windows(calib, names)

        def get_next(self):
            return self.w.get_next()

    # Quantize what Ratel quantizes: the MatMuls with a constant weight (the dense layers).
    # Quantizing every op (ORT's default) also quantizes the attention mask's -10000 and the
    # attention products, which wrecks this model (F1 ~6 in a trial run).
    import onnx
    g = onnx.load(str(model), load_external_data=False).graph
    consts = {i.name for i in g.initializer} | {o for n in g.node if n.op_type == "Constant" for o in n.output}
    dense = [n.name for n in g.node if n.op_type in ("MatMul", "Gemm") and n.input[1] in consts]
    st = work / "ort_static.onnx"
    quantize_static(str(model), str(st), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax, nodes_to_quantize=dense)
    out["ORT quantize_static (QDQ dense layers, u8/s8 per channel, MinMax)"] = st
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    assets = assets_dir()
    ap.add_argument("--build", default=str(ROOT / "build" / "release"))
    ap.add_argument("--model", default=str(assets / "models/minilm-l6-squad/model.onnx"))
    ap.add_argument("--heldout", default=str(assets / "data/squad/splits/heldout-v1.1.json"))
    ap.add_argument("--tune", default=str(assets / "data/squad/splits/tune-v1.1.json"))
    ap.add_argument("--calib-questions", type=int, default=100, help="tune questions to calibrate on")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None, help="only the first N held-out questions")
    ap.add_argument("--no-ort", action="store_true", help="skip ONNX Runtime's int8")
    ap.add_argument("--out", default=str(ROOT / "docs" / "QUANTIZATION.md"), help="markdown output ('-': none)")
    ap.add_argument("--hhb-json", default=str(ROOT / "docs" / "data" / "hhb-heldout.json"),
                    help="HHB's held-out results (bench/hhb_heldout.py), included when present")
    ap.add_argument("--work", default=None, help="keep intermediate files here (default: temp)")
    args = ap.parse_args()
    ratel = Path(args.build).resolve() / "bin" / "ratel"
    for p in (ratel, Path(args.model), Path(args.heldout), Path(args.tune)):
        if not p.exists():
            sys.exit(f"quant_eval.py: {p} not found (build ratel_cli; set RATEL_ASSETS)")
    command = shlex.join(["scripts/quant-report.sh"] + sys.argv[1:])
    started = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    t_start = time.perf_counter()
    load_start = loadavg()
    info = machine_info()
    tmp = tempfile.TemporaryDirectory() if args.work is None else None
    work = Path(args.work or tmp.name)
    work.mkdir(parents=True, exist_ok=True)

    ids = question_ids(Path(args.heldout))
    select = []
    if args.limit and args.limit < len(ids):
        (work / "heldout_ids.txt").write_text("\n".join(ids[:args.limit]) + "\n")
        select = ["--questions", f"@{work / 'heldout_ids.txt'}"]
    n_eval = min(len(ids), args.limit or len(ids))
    calib_ids = question_ids(Path(args.tune))[:args.calib_questions]
    (work / "calib_ids.txt").write_text("\n".join(calib_ids) + "\n")
    calibrate = ["--calibrate-dataset", args.tune, "--calibrate-questions", str(args.calib_questions)]
    base = [str(ratel), "qa", "--model", args.model, "--squad", args.heldout, "--threads", str(args.threads),
            "--output-dir", str(work / "pred")] + select
    log(f"quant_eval: {info['model_name']}; {n_eval} held-out questions; calibration: {len(calib_ids)} tune questions")

    # Features of the seed's question for the size readings of `ratel run --stats`.
    seed_feat = work / "seed_features"
    run_ratel([str(ratel), "qa", "--squad", str(assets / "data/squad/test1.json"), "--save-features", str(seed_feat)])

    rows = []
    for label, scheme, channel in RATEL_SCHEMES:
        q = ["--quantization-scheme", scheme] + (["--channel-quantization"] if channel else [])
        q += calibrate if scheme in INTEGER else []
        q += AUTO_HYBRID if "auto-hybrid" in label else []
        q += ["--embedding-quantization", "int8"] if "int8 embeddings" in label else []
        q += ["--smooth-quant", "0"] if "no smoothing" in label else []
        q += ["--activation-bits", "7"] if "7-bit" in label else []
        log(f"  ratel {label}")
        wall, out = run_ratel_all(base + q)
        r = parse_qa(out)
        kept = re.findall(r"^  --hybrid-layer-name (\S+)", out, re.M)
        if "auto-hybrid" in label:
            label = f"{label}: {len(kept)} float32 layer(s)" + (f" ({', '.join(k.removesuffix('.bias') for k in kept)})" if kept else "")
        # Sizes do not depend on the ranges: `ratel run` calibrates on the seed's window.
        run_q = ["--quantization-scheme", scheme] + (["--channel-quantization"] if channel else [])
        run_q += ["--calibrate-dataset", str(seed_feat)] if scheme in INTEGER else []
        run_q += [a for k in kept for a in ("--hybrid-layer-name", k)]
        run_q += ["--embedding-quantization", "int8"] if "int8 embeddings" in label else []
        run_q += ["--smooth-quant", "0"] if "no smoothing" in label else []
        run_q += ["--activation-bits", "7"] if "7-bit" in label else []
        _, stats = run_ratel([str(ratel), "run", args.model, "--stats"] + run_q +
                             [f"--input={n}={seed_feat / (n + '.npy')}" for n in ("input_ids", "input_mask", "segment_ids")])
        m = re.search(r"weights ([\d.]+) MiB", stats)
        rows.append(dict(label=label, runtime="ratel", em=r["em"], f1=r["f1"], scored=r["scored"],
                         model_ms=r.get("model_ms"), qps=r.get("model_qps"), size_mib=float(m.group(1)) if m else None,
                         wall_s=wall))
    base_f1 = rows[0]["f1"]

    ort_rows = []
    vers = python_versions(("onnxruntime",))
    if not args.no_ort:
        feat = work / "heldout_features"
        run_ratel(base[:2] + ["--squad", args.heldout, "--save-features", str(feat)] + select)
        calib = work / "calib_features"
        run_ratel(base[:2] + ["--squad", args.tune, "--questions", f"@{work / 'calib_ids.txt'}", "--save-features", str(calib)])
        models = {"ORT float32": Path(args.model)}
        log("  ORT quantization")
        models.update(ort_quantize(Path(args.model), work, calib))
        for label, path in models.items():
            log(f"  {label}")
            o = ort_logits(path, feat, work / "ort_logits", args.threads)
            _, out = run_ratel(base[:2] + ["--squad", args.heldout, "--logits", str(work / "ort_logits"),
                                           "--output-dir", str(work / "pred_ort")] + select)
            r = parse_qa(out)
            ort_rows.append(dict(label=label, runtime="ort", em=r["em"], f1=r["f1"], scored=r["scored"],
                                 model_ms=o["model_s"] * 1000, qps=n_eval / o["model_s"],
                                 size_mib=path.stat().st_size / 2**20, windows=o["windows"]))
    load_end = loadavg()
    elapsed = time.perf_counter() - t_start
    doc = write_doc(args, command, started, elapsed, info, load_start, load_end, n_eval, len(ids), rows, ort_rows,
                    base_f1, vers)
    if args.out != "-":
        Path(args.out).write_text(doc)
        log(f"quant_eval: wrote {args.out}")
    else:
        print(doc)
    return 0


def hhb_section(path: str, base_f1: float) -> str:
    """T-Head HHB's own float16 and int8_asym models on held-out questions, from the JSON that
    bench/hhb_heldout.py writes (a separate run: HHB takes an hour to install and its x86_ref
    runtime is slow, so it is not rerun with every report)."""
    p = Path(path)
    if not p.exists():
        return (f"\n## T-Head HHB\n\nNot included: no `{path}` (run `scripts/hhb-compare.sh --heldout N`, which "
                "installs HHB 3.2.3 and writes it).\n")
    d = json.loads(p.read_text())
    s = (f"\n## T-Head HHB {d['hhb_version'].split(',')[0].replace('HHB version: ', '')}, the tool Ratel replaces\n\n"
         f"From `{d['command']}` ({d['date']}, {d['cpu']}, {d['seconds'] / 60:.0f} min; `{p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}`): "
         f"the first {d['questions']} held-out questions ({d['windows']} windows; a subset, as HHB's x86_ref "
         f"runtime is slow), HHB's x86_ref build of the seed's command with each scheme, run natively on Ratel's "
         f"features and scored by `ratel qa --logits`; HHB int8_asym calibrated with `-cd` on the windows of the "
         f"first {d['calib_questions']} tune questions (maxmin), as Ratel's integer rows. Ratel on the same "
         f"questions in the same run, each scheme with its defaults (per-tensor weights, as HHB's); `/channel` rows "
         f"give both tools `--channel-quantization`. ΔF1 is against Ratel float32 on those questions (all "
         f"held-out questions: {base_f1:.2f} above). Time per window: HHB's own `Run graph execution time` "
         f"(x86_ref is HHB's reference host target, not a fast path, and these runs shared the cores with other jobs; Ratel's times are in the table above).\n\n")
    s += "| scheme | tool | EM | F1 | ΔF1 vs Ratel float32 | time per window |\n|---|---|---|---|---|---|\n"
    f32 = d["ratel"].get("float32", {}).get("f1")
    for scheme, r in d["ratel"].items():
        rows = [("Ratel", r)] + ([("HHB", d["hhb"][scheme])] if scheme in d["hhb"] else [])
        for tool, x in rows:
            delta = f"{x['f1'] - f32:+.2f}" if f32 is not None else "?"
            per = f"{x['ms_per_window']:.0f} ms (x86_ref)" if x.get("ms_per_window") else ""
            s += f"| {scheme} | {tool} | {x['em']:.2f} | {x['f1']:.2f} | {delta} | {per} |\n"
    hhb = d["hhb"]
    if any("logits_max" in x for x in hhb.values()):
        s += "\nHHB's logits: " + "; ".join(f"{k}: max |logit| {x['logits_max']:.2f}" for k, x in hhb.items()
                                             if "logits_max" in x) + "."
        same = [(a, b) for i, a in enumerate(hhb) for b in list(hhb)[i + 1:]
                if hhb[a].get("logits_sha256") and hhb[a].get("logits_sha256") == hhb[b].get("logits_sha256")]
        for a, b in same:
            s += f" HHB's {a} and {b} gave bit-identical logits (the option between them changed nothing)."
        s += "\n"
    return s


def fmt(v, spec):
    return "?" if v is None else format(v, spec)


def write_doc(args, command, started, elapsed, info, load_start, load_end, n_eval, n_all, rows, ort_rows, base_f1,
              vers) -> str:
    by = {r["label"]: r for r in rows + ort_rows}
    s = "# Quantization: what each scheme costs in answers\n\n"
    s += f"Generated by `{command}` ({started}, {elapsed / 60:.0f} min) from {git_info()}.\n\n"
    s += md_machine_section(info, load_start, load_end)
    s += "## Setup\n\n"
    s += (f"- Model: `minilm-l6-squad` (6 layers, hidden 384, 22.7 M parameters; shared assets), seq 384.\n"
          f"- Evaluation: {n_eval} of the {n_all} held-out questions (`heldout-v1.1.json`), never used for tuning or "
          f"calibration. {'All of them.' if n_eval == n_all else 'The first ones in file order.'}\n"
          f"- Calibration (integer schemes): the first {args.calib_questions} questions of `tune-v1.1.json` "
          f"(their windows, padding excluded), `--calibrate-mode maxmin`. Among maxmin, percentile (99.99), mse and "
          f"kl_divergence, maxmin kept the most F1 on 275 other tune questions (int8_asym per channel: -0.32, -1.33, "
          f"-1.06, -2.27 F1), so it is used here; no mode was compared on held-out questions.\n"
          f"- SmoothQuant (`--smooth-quant`, default auto: alpha 1 for the 8-bit schemes with per-channel weights, "
          f"off for per-tensor weights, which cannot absorb the scaled rows, and for int16_sym): alpha "
          f"was chosen on tune questions 101-1100 (int8_asym per channel, F1 against float32's 87.10: alpha 0 -0.84, "
          f"0.25 -61.8, 0.5 -1.38, 0.6 -1.50, 0.75 -0.29, 0.9 +0.10, 1 +0.17); the row 'no smoothing' is alpha 0. No "
          f"alpha was tried on held-out questions before it was chosen.\n"
          f"- Threads: {args.threads}. Model time: the QA model's total over all windows (Ratel computes only the real "
          f"tokens of each window; ONNX Runtime runs all 384 positions, as it does in a deployment).\n"
          f"- Size: the weights after quantization as `ratel run --stats` reports them. The word embedding (45 MiB in "
          f"float32) is stored in fp16 with every scheme (bf16 with bfloat16), in int8 blocks of 32 only with "
          f"`--embedding-quantization int8` (its own row); for ONNX Runtime, the .onnx file.\n"
          f"- ONNX Runtime {vers.get('onnxruntime', '?')}: same features, logits scored by `ratel qa --logits`.\n\n")
    s += "## Ratel\n\n| scheme | EM | F1 | ΔF1 vs float32 | target | model time | questions/s | weights |\n"
    s += "|---|---|---|---|---|---|---|---|\n"
    for r in rows:
        d = r["f1"] - base_f1
        t = TARGET_DROP.get(r["label"])
        target = "" if t is None else (f"≥ -{t}: {'met' if d >= -t else 'NOT met'}")
        s += (f"| {r['label']} | {r['em']:.2f} | {r['f1']:.2f} | {d:+.2f} | {target} | {fmt(r['model_ms'], '.0f')} ms "
              f"| {fmt(r['qps'], '.1f')} | {fmt(r['size_mib'], '.1f')} MiB |\n")
    if ort_rows:
        s += "\n## ONNX Runtime, same model, same pipeline, same run\n\n"
        s += "| model | EM | F1 | ΔF1 vs Ratel float32 | model time | questions/s | file |\n|---|---|---|---|---|---|---|\n"
        for r in ort_rows:
            s += (f"| {r['label']} | {r['em']:.2f} | {r['f1']:.2f} | {r['f1'] - base_f1:+.2f} | {r['model_ms']:.0f} ms "
                  f"| {r['qps']:.1f} | {r['size_mib']:.1f} MiB |\n")
    s += hhb_section(args.hhb_json, base_f1)
    s += "\n## Against the targets\n\n"
    f32, i8 = by.get("float32"), by.get("int8_asym / channel")
    i8e = by.get("int8_asym / channel, int8 embeddings")
    if f32 and i8 and i8["model_ms"] and f32["model_ms"]:
        s += f"- int8_asym (per channel) model time / Ratel float32: **{i8['model_ms'] / f32['model_ms']:.2f}** (target ≤ 0.6).\n"
        ort8 = [r for r in ort_rows if "quantize" in r["label"]]
        for r in ort8:
            s += (f"- int8_asym (per channel) model time / {r['label']}: **{i8['model_ms'] / r['model_ms']:.2f}** "
                  f"(target ≤ 0.8); F1 {i8['f1']:.2f} vs {r['f1']:.2f} (target: ≥).\n")
        i7 = by.get("int8_asym / channel, 7-bit activations")
        if i7 and i7["model_ms"]:
            s += (f"- int8_asym (per channel) with `--activation-bits 7` (u8 activations in [0, 127]; on AVX2 CPUs "
                  f"without VNNI the vpmaddubsw kernel, elsewhere the same kernels as 8 bits): model time / Ratel "
                  f"float32 **{i7['model_ms'] / f32['model_ms']:.2f}**, F1 {i7['f1'] - i8['f1']:+.2f} against 8-bit "
                  f"activations.\n")
        if i8["size_mib"] and f32["size_mib"]:
            s += f"- int8 model / float32 model (weights): {i8['size_mib'] / f32['size_mib']:.2f} with the fp16 word embedding"
            if i8e and i8e["size_mib"]:
                s += (f", {i8e['size_mib'] / f32['size_mib']:.2f} with int8 embeddings (F1 {i8e['f1'] - base_f1:+.2f} against "
                      f"float32)")
            s += " (target ≤ 0.30).\n"
    s += ("\nAuto-hybrid rows: `--auto-hybrid-quantization --quantization-loss-threshold 0.5 --hybrid-eval-questions "
          "300` — Ratel scores tune questions 101-400 in float32, fully quantized, and with each dense layer alone kept "
          "float32, then keeps layers (most helpful first) until the tune F1 drop is ≤ 0.5; the held-out questions "
          "play no part in the choice.\n")
    s += ("\n## What each scheme does\n\n"
          "Only the dense layers (QKV, attention output, FFN, QA head: `ratel.Dense` after fusion) and the embedding tables change; layer "
          "norm, softmax, GELU, attention (QKᵀ and ·V) and the residual adds stay float32, and every quantized "
          "layer gives float32 out (`--help` of `ratel qa` says the same).\n\n"
          "- Embedding tables with ≥ 1024 rows (the word embedding) become a `ratel.QGather` from an fp16 table "
          "(default), a bf16 one (bfloat16) or int8 with one scale per 32 elements (`--embedding-quantization int8`); "
          "only looked-up rows are converted.\n"
          "- `float16`: fp16 weights (F16C converts them inside the GEMM); `bfloat16`: bf16 weights and each dense "
          "layer's input rounded to bf16; `float16_w_int8`: symmetric int8 weights, one scale per tensor (HHB's "
          "default) or per output column (`--channel-quantization`), float32 activations.\n"
          "- `int8_asym`: activations u8 with a zero point (the same 256 levels as HHB's int8 with zero point), "
          "weights s8 with zero points; `int8_asym_w_sym`: the same with symmetric weights; `int8_sym`: s8 "
          "activations and weights, both symmetric in [-127, 127]; `uint8_asym`: u8 activations and weights with "
          "zero points; `int16_sym`: s16 activations and weights, symmetric, with per-layer limits qx, qw chosen "
          "so that qx · max_n Σ_k |w_q| < 2³¹ (the int32 sum can never wrap) and 1/qx + 1/qw is smallest. The GEMM sums in int32 exactly (AVX512-VNNI, AVX-VNNI or AVX2 kernels, all "
          "bit-identical) and scales back to float32 with the bias, GELU and residual in its epilogue.\n"
          "- SmoothQuant on the 8-bit schemes: MiniLM's layer-norm and GELU outputs each have one channel ~15-19x "
          "the median channel's magnitude, which sets the per-tensor activation step for all 384 or 1536 channels. "
          "Input channel k is divided by s_k = max|x_k|^alpha / max_n|w_kn|^(1-alpha) while the activation is "
          "quantized (one float multiplication per element, inside the quantizing loop) and weight row k is "
          "multiplied by s_k before the weights are quantized, so x·W is unchanged in real arithmetic. With "
          "alpha 1 every channel spans [-1, 1] and the channels' ranges live in the per-column weight scales.\n")
    return s


if __name__ == "__main__":
    sys.exit(main())
