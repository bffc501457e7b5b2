#!/usr/bin/env python3
"""The seed's command through T-Head's HHB 3.2.3 and through Ratel, side by side, on the shared
real model (MiniLM-L6 SQuAD): writes docs/HHB-COMPARISON.md.

  bench/hhb_compare.py --ratel build/release/bin/ratel --hhb-venv ~/.hhb-venv [--out docs/HHB-COMPARISON.md]

(scripts/hhb-compare.sh installs HHB with ../shared/tools/hhb-setup.sh and calls this.)

For each of (--board c920, float16) and (--board x86_ref / x86_64, float32), both tools get the
seed's command (`hhb` -> `ratel`), then each runtime runs on the seed question's features (Ratel's
tokenizer, float32 .bin files as the seed's script writes them): the c920 runtimes under T-Head's
qemu -cpu c920 (RVV 0.7.1, PyPI xuantie-qemu), the x86 ones natively. Reported: the files each
tool wrote and their sizes, the runtimes' printed output side by side, the max difference of the
logits between the two and against ONNX Runtime float32, and the answer each gives to the seed's
question (through `ratel qa --logits`). Emulated time is not a speed: no time is reported.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
INPUTS = ["input_ids", "input_mask", "segment_ids"]
OUTPUTS = ["output_start_logits", "output_end_logits"]


def log(msg: str) -> None:
    print(f"[hhb_compare] {msg}", flush=True)


def run(cmd, cwd=None, env=None, timeout=3600):
    log("$ " + " ".join(str(c) for c in cmd) + (f"   (in {cwd})" if cwd else ""))
    p = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        sys.stderr.write(p.stdout[-3000:] + p.stderr[-3000:])
        raise SystemExit(f"[hhb_compare] failed (exit {p.returncode}): {' '.join(str(c) for c in cmd)}")
    return p


def seed_command(tool: list[str], model: Path, board: str, scheme: str, out: str) -> list[str]:
    return tool + ["--model-file", str(model), "--input-name", ";".join(INPUTS),
                   "--input-shape", "1 384;1 384;1 384", "--output-name", ";".join(OUTPUTS),
                   "--board", board, "--quantization-scheme", scheme, "--postprocess", "save_and_top5",
                   "-D", "--without-preprocess", "-o", out]


def folder_listing(d: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(d)), p.stat().st_size) for p in d.rglob("*")
                  if p.is_file() and not p.name.endswith(".o") and "_output" not in p.name)


def human(n: int) -> str:
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ratel", default=str(REPO / "build/release/bin/ratel"))
    ap.add_argument("--hhb-venv", default=os.path.expanduser("~/.hhb-venv"))
    ap.add_argument("--work", default="/tmp/ratel-hhb-compare")
    ap.add_argument("--out", default=str(REPO / "docs/HHB-COMPARISON.md"))
    args = ap.parse_args()

    import numpy as np
    import onnxruntime as ort

    assets = Path(os.environ.get("RATEL_ASSETS") or REPO.parent / "shared")
    model = assets / "models/minilm-l6-squad/model.onnx"
    squad = assets / "data/squad/test1.json"
    vocab = assets / "data/vocab/bert-base-uncased-vocab.txt"
    for f in (model, squad, vocab):
        if not f.exists():
            raise SystemExit(f"[hhb_compare] {f} not found (set RATEL_ASSETS)")
    venv = Path(args.hhb_venv)
    hhb = venv / "bin/hhb"
    if not hhb.exists():
        raise SystemExit(f"[hhb_compare] no HHB at {hhb}: install it with ../shared/tools/hhb-setup.sh {venv}")
    import qemu as xq_pkg  # PyPI xuantie-qemu, in Ratel's venv
    xqemu = Path(xq_pkg.__file__).parent / "qemu-riscv64"
    ratel = str(Path(args.ratel).resolve())
    env_hhb = dict(os.environ, PATH=f"{venv / 'xgcc'}:{venv / 'bin'}:{os.environ['PATH']}")

    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    # The seed question's features, as the seed's script writes them (float32 .bin).
    run([ratel, "qa", "--squad", squad, "--vocab", vocab, "--save-features", work / "feats"])
    feats = {n: np.load(work / "feats" / f"{n}.npy") for n in INPUTS}
    bins = []
    for n in INPUTS:
        path = work / f"sample_{n}.bin"
        feats[n].astype(np.float32).tofile(path)
        bins.append(path)

    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    ort_out = sess.run(OUTPUTS, {n: feats[n].astype(np.int32) for n in INPUTS})

    version = run([hhb, "--version"], env=env_hhb).stdout.strip().splitlines()[-1]
    cases = [("c920", "c920", "float16", True), ("x86", "x86_ref", "float32", False)]
    rows = {}
    for label, board, scheme, emulated in cases:
        for tool in ("hhb", "ratel"):
            out = work / f"{tool}_{label}"
            cmd = seed_command([hhb] if tool == "hhb" else [ratel], model,
                               board if tool == "hhb" else ("x86_64" if board == "x86_ref" else board), scheme, str(out))
            run(cmd, cwd=work, env=env_hhb if tool == "hhb" else None)
            exe = "hhb_runtime" if tool == "hhb" else "ratel_runtime"
            bundle = "hhb.bm" if tool == "hhb" else "model.rbm"
            if not (out / exe).exists():
                raise SystemExit(f"[hhb_compare] {tool} wrote no {out / exe}")
            listing = folder_listing(out)
            prefix = [str(xqemu), "-cpu", "c920"] if emulated else []
            p = run(prefix + [f"./{exe}", bundle] + [str(b) for b in bins], cwd=out)
            logits = []
            for i in range(2):
                f = out / f"sample_input_ids.bin_output{i}_1_384.txt"
                if not f.exists():
                    cands = sorted(out.glob(f"*output{i}*.txt"))
                    if not cands:
                        raise SystemExit(f"[hhb_compare] {tool} {label}: no saved output {i} in {out}")
                    f = cands[0]
                logits.append(np.loadtxt(f, dtype=np.float64).reshape(1, 384))
            ld = work / f"logits_{tool}_{label}"
            ld.mkdir()
            np.save(ld / "start_logits.npy", logits[0].astype(np.float32))
            np.save(ld / "end_logits.npy", logits[1].astype(np.float32))
            qa = run([ratel, "qa", "--squad", squad, "--vocab", vocab, "--logits", ld, "-o", work / f"qa_{tool}_{label}"])
            answer = next((l[len("[Answer]: "):] for l in qa.stdout.splitlines() if l.startswith("[Answer]: ")), "?")
            vs_ort = max(float(np.abs(logits[i] - ort_out[i]).max()) for i in range(2))
            rows[(tool, label)] = dict(cmd=cmd, listing=listing, stdout=p.stdout, logits=logits, answer=answer,
                                       vs_ort=vs_ort, emulated=emulated, scheme=scheme, board=board)
            log(f"{tool} {label}: answer '{answer}', max |logits - ORT fp32| {vs_ort:.3e}")

    write_report(Path(args.out), rows, cases, version, model, np)
    log(f"wrote {args.out}")
    return 0


def write_report(path: Path, rows, cases, version, model, np) -> None:
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    L = ["# Ratel and HHB side by side",
         "",
         "Generated by `scripts/hhb-compare.sh` (bench/hhb_compare.py) on "
         f"{datetime.date.today().isoformat()}, {cpu}; HHB: `{version}` installed by "
         "`../shared/tools/hhb-setup.sh`. Model: the shared MiniLM-L6 SQuAD "
         f"(`{model.name}`, 90.3 MB); input: the seed question (`test1.json`), tokenized by Ratel and "
         "written as float32 `.bin` files, as the seed's script does. The c920 runtimes ran under "
         "T-Head's qemu (`xuantie-qemu -cpu c920`, RVV 0.7.1: the C920's own vector unit, which "
         "HHB's SHL kernels use and Ratel's scalar c920 kernels leave alone); the x86 ones natively. "
         "Emulated time says nothing about a board's speed, so no time is reported.",
         "",
         "Max |diff| is over both logits vectors (384 each); ONNX Runtime float32 on the same "
         "features is the reference. The answer is what `ratel qa --logits` extracts from each "
         "runtime's saved outputs.",
         ""]
    L += ["| board, scheme | tool | answer | max \\|logits - ORT fp32\\| | max \\|HHB - Ratel\\| | folder (files, bytes) |",
          "|---|---|---|---|---|---|"]
    for label, board, scheme, _ in cases:
        h, r = rows[("hhb", label)], rows[("ratel", label)]
        between = max(float(np.abs(h["logits"][i] - r["logits"][i]).max()) for i in range(2))
        for tool, row in (("HHB 3.2.3", h), ("Ratel", r)):
            total = sum(s for _, s in row["listing"])
            L.append(f"| {board}, {scheme} | {tool} | {row['answer']} | {row['vs_ort']:.2e} | {between:.2e} | "
                     f"{len(row['listing'])} files, {human(total)} |")
    L += ["", "Folders (object files and saved outputs left out):"]
    for label, board, scheme, _ in cases:
        h, r = rows[("hhb", label)], rows[("ratel", label)]
        hn, rn = {n for n, _ in h["listing"]}, {n for n, _ in r["listing"]}
        closer = "closer to" if r["vs_ort"] <= h["vs_ort"] else "FARTHER from"
        L.append(f"- {board}, {scheme}: only HHB writes {', '.join(f'`{n}`' for n in sorted(hn - rn)) or 'nothing else'}; "
                 f"only Ratel writes {', '.join(f'`{n}`' for n in sorted(rn - hn)) or 'nothing else'}. "
                 f"Ratel's logits are {closer} ONNX Runtime float32 than HHB's "
                 f"({r['vs_ort']:.2e} vs {h['vs_ort']:.2e}); both answer "
                 f"{'the same' if r['answer'] == h['answer'] else 'DIFFERENTLY'}.")
    L += ["", "Why the c920 float16 logits differ: HHB computes in float16 (activations too, on the "
          "C920's vector unit), Ratel stores the weights in float16 and computes in float32 (the "
          "C920 runs its scalar kernels: no open compiler emits RVV 0.7.1, see docs/RISCV.md)."]
    for label, board, scheme, _ in cases:
        L += ["", f"## --board {board} --quantization-scheme {scheme}", ""]
        for tool in ("hhb", "ratel"):
            row = rows[(tool, label)]
            cmd = " ".join(("'" + c + "'") if (" " in c or ";" in c) else c for c in
                           [Path(row["cmd"][0]).name] + [str(Path(c).name) if c.endswith(".onnx") else str(c)
                                                         for c in row["cmd"][1:]])
            L += [f"### {'HHB' if tool == 'hhb' else 'Ratel'}", "", "```", cmd, "```", "",
                  "| file | bytes |", "|---|---|"]
            L += [f"| `{name}` | {size:,} |" for name, size in row["listing"]]
            L += ["", "Runtime output (times replaced by `…`: emulated or not comparable):", "", "```"]
            for line in row["stdout"].splitlines()[:40]:
                if "execution time" in line:
                    line = line.split(":")[0] + ": …"
                if "data pointer" in line:
                    line = "data pointer: …"
                L.append(line)
            L += ["```", ""]
    path.write_text("\n".join(L) + "\n")


if __name__ == "__main__":
    sys.exit(main())
