#!/usr/bin/env python3
"""The riscv64 boards end to end: `ratel -D --board c920|c908` on a BERT-QA model, the static
riscv64 ratel_runtime run under qemu-user on the CPUs that matter, its saved outputs compared with
`ratel run` on this host.

  riscv_deploy.py --ratel build/release/bin/ratel --model build/models/tiny-torch-op13.onnx
  riscv_deploy.py --ratel ... --seed-answer     the seed's command on the shared MiniLM for c920,
                                                 float16, its logits answering the seed question

Runs (each must select the kernels named, read from `ratel_runtime -v`):
  c920 (float16, the seed's scheme)  upstream qemu -cpu rv64,v=false       generic: board c920
  c920                               T-Head qemu -cpu c920 (V in AT_HWCAP,  generic: board c920
                                     RVV 0.7.1; PyPI xuantie-qemu)
  c908 (float32)                     upstream qemu -cpu rv64,v=true,vlen=128 rvv (VLEN 128)
  c908                               upstream qemu -cpu rv64,v=true,vlen=256 rvv (VLEN 256)
  c908                               upstream qemu -cpu rv64,v=false         generic: board c908
                                                                             expects RVV 1.0, but ...
  c908                               T-Head qemu -cpu c908v                  rvv (VLEN 128)

Pass criterion per run: max |riscv64 - host| <= tol with tol = 2 * eps * S from the graph's fp32
rounding budget (tests/models/qa_common.py, fp32_error_model; S = max |host output|): the two
builds run different kernels (scalar or RVV on riscv64, AVX2/AVX-512 here) on the same weights
(float16 weights are rounded once, by `ratel`, so both sides hold the same bits).
Emulated time says nothing about a board's speed: none is reported.

Exit status: 0 pass, 1 fail, 77 skipped (no riscv64 runtime archive, no qemu, no model), with a
message. A run whose emulator is missing (T-Head's qemu) is reported as skipped by name.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "models"))

SKIP = 77
EM_RISCV = 243


def say(msg: str) -> None:
    print(f"[riscv_deploy] {msg}", flush=True)


def thead_qemu() -> str | None:
    try:
        import qemu  # PyPI xuantie-qemu
    except ImportError:
        return None
    exe = Path(qemu.__file__).parent / "qemu-riscv64"
    return str(exe) if os.access(exe, os.X_OK) else None


def elf_facts(path: Path) -> tuple[int, bool]:
    """(e_machine, has a PT_INTERP program header) of a 64-bit little-endian ELF file."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return -1, False
    machine = struct.unpack_from("<H", data, 18)[0]
    phoff = struct.unpack_from("<Q", data, 32)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    interp = any(struct.unpack_from("<I", data, phoff + i * phentsize)[0] == 3 for i in range(phnum))
    return machine, interp


def run(cmd: list[str], cwd: Path | None = None, timeout: float = 1800) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def deploy(ratel: str, model: Path, board: str, scheme: str, inputs: list[str], seq: int, out: Path,
           outputs: list[str] | None = None) -> str | None:
    """The seed's HHB command line for `board`; None on success, else the error."""
    cmd = [ratel, "--model-file", str(model), "--input-name", ";".join(inputs),
           "--input-shape", ";".join(f"1 {seq}" for _ in inputs), "--board", board,
           "--quantization-scheme", scheme, "--postprocess", "save_and_top5", "-D",
           "--without-preprocess", "-o", str(out)]
    if outputs:
        cmd[5:5] = ["--output-name", ";".join(outputs)]
    p = run(cmd)
    if p.returncode != 0:
        return f"`{' '.join(cmd)}` exited {p.returncode}: {p.stderr.strip()[-800:]}"
    exe = out / "ratel_runtime"
    machine, interp = elf_facts(exe)
    if machine != EM_RISCV:
        return f"{exe} is not a RISC-V ELF executable (e_machine {machine})"
    if interp:
        return f"{exe} is dynamically linked (has PT_INTERP): a board needs no sysroot only if it is static"
    model_c = (out / "model.c").read_text()
    if f'.board = "{board}"' not in model_c:
        return f"{out}/model.c does not name board {board}"
    return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ratel", required=True, help="path to the ratel binary (its build holds targets/riscv64)")
    ap.add_argument("--model", help="BERT-QA ONNX model (tests/models/make_bert_qa.py)")
    ap.add_argument("--seed-answer", action="store_true",
                    help="the seed's command on $RATEL_ASSETS/models/minilm-l6-squad for c920 (float16), "
                         "answering the seed's question from the emulated run's logits")
    ap.add_argument("--workdir", default=None, help="keep the folders here (default: a temp dir)")
    args = ap.parse_args(argv)

    ratel = str(Path(args.ratel).resolve())
    archive = Path(ratel).parent.parent / "targets/riscv64/lib/libratel_deploy.a"
    if not archive.exists():
        say(f"SKIP: no riscv64 runtime archive at {archive} (install riscv64-linux-gnu-g++ and clang-16: "
            "RATEL_WITH_CROSS=1 scripts/install-deps.sh, then build again)")
        return SKIP
    qemu = shutil.which("qemu-riscv64-static") or shutil.which("qemu-riscv64")
    if not qemu:
        say("SKIP: no qemu-riscv64 (apt-get install qemu-user)")
        return SKIP
    xq = thead_qemu()
    try:
        import numpy as np
        import onnx
    except ImportError as e:
        say(f"SKIP: {e} (run scripts/setup-python-env.sh and use its venv's python)")
        return SKIP
    import qa_common

    with tempfile.TemporaryDirectory(prefix="ratel-riscv-") as tmp:
        work = Path(args.workdir) if args.workdir else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        if args.seed_answer:
            return seed_answer(ratel, qemu, work, np)
        if not args.model or not Path(args.model).exists():
            say(f"SKIP: model {args.model} does not exist (generate it with tests/models/make_bert_qa.py)")
            return SKIP
        return cross_check(ratel, Path(args.model), qemu, xq, work, np, onnx, qa_common)


def cross_check(ratel, model_path, qemu, xq, work, np, onnx, qa_common) -> int:
    model = onnx.load(str(model_path), load_external_data=False)
    inits = {t.name for t in model.graph.initializer}
    in_names = [i.name for i in model.graph.input if i.name not in inits]
    out_names = [o.name for o in model.graph.output]
    types = {i.name: i.type.tensor_type for i in model.graph.input}
    dims = types["input_ids"].shape.dim
    seq = dims[1].dim_value if len(dims) > 1 and dims[1].dim_value > 0 else 128
    feeds = qa_common.make_qa_inputs(qa_common.vocab_size_of(model), seq, 0)
    for n in in_names:
        if types[n].elem_type == onnx.TensorProto.INT64:
            feeds[n] = feeds[n].astype(np.int64)
        np.save(work / f"{n}.npy", feeds[n])
    say(f"model {model_path}: inputs {in_names}, seq {seq}; riscv64 runtime from {Path(ratel).parent.parent}")

    # The host's answers, one per scheme: `ratel run` with its best kernels here.
    host = {}
    for scheme in ("float32", "float16"):
        out = work / f"host_{scheme}"
        cmd = [ratel, "run", str(model_path), "--output-dir", str(out), "--quantization-scheme", scheme]
        for n in in_names:
            cmd += ["--input", f"{n}={work / (n + '.npy')}"]
        p = run(cmd)
        if p.returncode != 0:
            say(f"FAIL: {' '.join(cmd)}: {p.stderr.strip()[-800:]}")
            return 1
        host[scheme] = [np.load(out / f"{n}.npy") for n in out_names]

    builds = {("c920", "float16"): None, ("c908", "float32"): None}
    for board, scheme in builds:
        err = deploy(ratel, model_path, board, scheme, in_names, seq, work / f"{board}_{scheme}")
        if err:
            say(f"FAIL: {err}")
            return 1
        say(f"ratel -D --board {board} --quantization-scheme {scheme}: static riscv64 ratel_runtime")

    em = qa_common.fp32_error_model(model, {n: list(feeds[n].shape) for n in in_names})
    runs = [
        ("c920", "float16", [qemu, "-cpu", "rv64,v=false"], r"generic: board c920: "),
        ("c920", "float16", [xq, "-cpu", "c920"] if xq else None, r"generic: board c920: "),
        ("c908", "float32", [qemu, "-cpu", "rv64,v=true,vlen=128"], r"rvv \(VLEN 128\)"),
        ("c908", "float32", [qemu, "-cpu", "rv64,v=true,vlen=256"], r"rvv \(VLEN 256\)"),
        ("c908", "float32", [qemu, "-cpu", "rv64,v=false"], r"generic: board c908 expects RVV 1\.0, but "),
        ("c908", "float32", [xq, "-cpu", "c908v"] if xq else None, r"rvv \(VLEN 128\)"),
    ]
    ok, skipped = True, []
    for board, scheme, emulator, want_isa in runs:
        label = f"{board} {scheme}"
        if emulator is None:
            skipped.append(f"{label} under T-Head's qemu (PyPI xuantie-qemu not installed)")
            say(f"SKIP: {skipped[-1]}")
            continue
        label += f" under {Path(emulator[0]).name} -cpu {emulator[2]}"
        d = work / f"{board}_{scheme}"
        for f in d.glob("*_output*.txt"):
            f.unlink()
        cmd = emulator + ["./ratel_runtime", "-v", "model.rbm"] + [str(work / f"{n}.npy") for n in in_names]
        p = run(cmd, cwd=d)
        if p.returncode != 0:
            say(f"FAIL: {label}: exit {p.returncode}: {(p.stdout + p.stderr).strip()[-800:]}")
            ok = False
            continue
        m = re.search(r"kernels (.*)", p.stderr)
        isa = m.group(1) if m else "(not printed)"
        if not re.match(want_isa, isa):
            say(f"FAIL: {label}: kernels '{isa}', expected /{want_isa}/")
            ok = False
            continue
        ref = host[scheme]
        scale = max(float(np.abs(r).max()) for r in ref)
        tol = qa_common.tolerance(em.eps_rel, scale)
        worst = 0.0
        for i, r in enumerate(ref):
            files = list(d.glob(f"input_ids.npy_output{i}_*.txt"))
            if len(files) != 1:
                say(f"FAIL: {label}: output {i} not saved ({[f.name for f in d.glob('*.txt')]})")
                ok = False
                break
            got = np.loadtxt(files[0], dtype=np.float64).reshape(r.shape)
            worst = max(worst, float(np.abs(got - r.astype(np.float64)).max()))
        verdict = worst <= tol
        ok &= verdict
        say(f"{'PASS' if verdict else 'FAIL'}: {label}: kernels {isa}; max |riscv64 - host| {worst:.3e} "
            f"{'<=' if verdict else '>'} tol {tol:.3e} (2 * eps {em.eps_rel:.3e} * S {scale:.3f})")
    say(("PASS" if ok else "FAIL") + (f" ({len(skipped)} run(s) skipped)" if skipped else ""))
    return 0 if ok else 1


def seed_answer(ratel, qemu, work, np) -> int:
    assets = Path(os.environ.get("RATEL_ASSETS") or HERE.parent.parent.parent / "shared")
    model = assets / "models/minilm-l6-squad/model.onnx"
    squad = assets / "data/squad/test1.json"
    vocab = assets / "data/vocab/bert-base-uncased-vocab.txt"
    for f in (model, squad, vocab):
        if not f.exists():
            say(f"SKIP: {f} not found (set RATEL_ASSETS)")
            return SKIP
    inputs = ["input_ids", "input_mask", "segment_ids"]
    err = deploy(ratel, model, "c920", "float16", inputs, 384, work / "hhb_out",
                 outputs=["output_start_logits", "output_end_logits"])
    if err:
        say(f"FAIL: {err}")
        return 1
    p = run([ratel, "qa", "--squad", str(squad), "--vocab", str(vocab), "--save-features", str(work / "feats")])
    if p.returncode != 0:
        say(f"FAIL: ratel qa --save-features: {p.stderr.strip()}")
        return 1
    files = [str(work / "feats" / f"{n}.npy") for n in ("input_ids", "segment_ids", "input_mask")]  # the seed's order
    p = run([qemu, "-cpu", "rv64,v=false", "./ratel_runtime", "-v", "model.rbm"] + files, cwd=work / "hhb_out")
    if p.returncode != 0:
        say(f"FAIL: ratel_runtime under qemu: {(p.stdout + p.stderr).strip()[-800:]}")
        return 1
    print(p.stdout[-1200:], end="")
    say("ratel_runtime: " + " / ".join(line for line in p.stderr.splitlines() if line.startswith("ratel_runtime")))
    (work / "logits").mkdir(exist_ok=True)
    for i, name in enumerate(("start_logits", "end_logits")):
        v = np.loadtxt(work / "hhb_out" / f"input_ids.npy_output{i}_1_384.txt", dtype=np.float32)
        np.save(work / "logits" / f"{name}.npy", v.reshape(1, 384))
    p = run([ratel, "qa", "--squad", str(squad), "--vocab", str(vocab), "--logits", str(work / "logits"),
             "-o", str(work / "qa")])
    answer = [line for line in p.stdout.splitlines() if line.startswith("[Answer]:")]
    if p.returncode != 0 or answer != ["[Answer]: Denver Broncos"]:
        say(f"FAIL: the c920 runtime's logits answer {answer or p.stderr.strip()}")
        return 1
    say("PASS: the seed's command for --board c920 (float16), run under qemu: [Answer]: Denver Broncos")
    return 0


if __name__ == "__main__":
    sys.exit(main())
