#!/usr/bin/env python3
"""Ratel vs ONNX Runtime (and OpenVINO): latency, output agreement and peak memory on the same
ONNX files, in one process, alternating; writes docs/PERFORMANCE.md.

    .venv/bin/python bench/compare.py                      # full: 5 rounds x 10 iterations
    .venv/bin/python bench/compare.py --quick              # a check in about a minute
    .venv/bin/python bench/compare.py --build build-bench --models bert-small --threads 1

Models (seq 384, batch 1, int32 inputs): BERT-small (4 layers, hidden 512) and BERT-base (12/768)
with random weights exported by PyTorch (tests/models/make_bert_qa.py, cached under BUILD/models),
and the shared real model $RATEL_ASSETS/models/minilm-l6-squad/model.onnx.

Method, per model and thread count:
  * Ratel through libratel.so (bench/ratel_ctypes.py, fast executor, `threads` workers);
    ONNX Runtime CPUExecutionProvider, ORT_ENABLE_ALL, intra_op_num_threads = threads,
    inter_op_num_threads = 1, ORT_SEQUENTIAL; OpenVINO CPU with INFERENCE_NUM_THREADS = threads,
    PERFORMANCE_HINT LATENCY and INFERENCE_PRECISION_HINT f32 (on CPUs with AVX512_BF16, such as
    this one, OpenVINO would otherwise compute in bfloat16).
  * All three in this process, on the same numpy inputs. Each timed call is the runtime's own
    "inputs in, outputs out" call (Ratel: set inputs, run, copy outputs out). After --warmup
    calls each, --rounds rounds; in each round every runtime runs --iters timed calls, the order
    of the runtimes rotating from round to round and a short pause between blocks (so another
    runtime's spinning worker threads have gone idle). Reported: median, min and 90th percentile
    over all timed calls, and the Ratel/ORT ratio of medians.
  * Informational fourth column (full runs; --runtimes picks): "ORT no-spin", ONNX Runtime with
    session.intra_op.allow_spinning = 0, because spin-waiting workers slow ORT's multi-threaded
    runs on a machine shared with other work. The targets are measured against default ORT.
  * max |diff|: the largest absolute difference of any output element from ONNX Runtime's.
  * Peak memory: a fresh subprocess per (model, threads, runtime) imports only that runtime,
    loads the model and runs it --mem-runs times; reported is its peak RSS (VmHWM from
    /proc/self/status) and the part above the RSS just before the load.
  * GEMM: BUILD/bin/ratel_gemm_bench (or BUILD/bench/ratel_gemm_bench), if built
    (-DRATEL_BUILD_BENCH=ON), with --benchmark_format=json: GFLOP/s and % of the measured
    single-core FMA peak (per thread) for the best ISA's BERT shapes.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

SEQ = 384
TARGET_RATIO = 0.8

GENERATED = {  # name -> make_bert_qa.py config (torch exporter, opset 13)
    "bert-small": "bert-small",
    "bert-base": "bert-base",
}
SHARED_MODEL = "minilm-l6-squad"
DEFAULT_MODELS = ["bert-small", "bert-base", SHARED_MODEL]


# ---------------------------------------------------------------------------------------------
# Machine and version information (also used by bench/qa_eval.py)
# ---------------------------------------------------------------------------------------------
def run_text(cmd, **kw) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False, **kw).stdout.strip()
    except OSError:
        return ""


def assets_dir() -> Path:
    env = os.environ.get("RATEL_ASSETS")
    p = Path(env) if env else ROOT / ".." / "shared"
    if p.name == "data" and (p.parent / "models").is_dir():  # RATEL_ASSETS may name shared/data
        p = p.parent
    return p.resolve()


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def machine_info() -> dict:
    fields = {}
    for line in run_text(["lscpu"]).splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    flags = fields.get("Flags", "").split()
    simd = [f for f in flags if re.match(r"^(sse4_2|avx|avx2|fma|f16c|avx512\w*|amx\w*|avx_vnni)$", f)]
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "model_name": fields.get("Model name", platform.processor() or "?"),
        "vendor": fields.get("Vendor ID", "?"),
        "family_model": f"family {fields.get('CPU family', '?')} model {fields.get('Model', '?')} "
                        f"stepping {fields.get('Stepping', '?')}",
        "cpus": fields.get("CPU(s)", str(os.cpu_count())),
        "threads_per_core": fields.get("Thread(s) per core", "?"),
        "caches": ", ".join(f"{k} {fields[k]}" for k in ("L1d cache", "L2 cache", "L3 cache") if k in fields),
        "hypervisor": fields.get("Hypervisor vendor", ""),
        "simd_flags": " ".join(simd),
        "flags": " ".join(flags),
        "kernel": platform.release(),
        "os": (run_text(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]) or platform.platform()),
        "mem_gib": mem_kb / 1024 / 1024,
    }


def git_info() -> str:
    sha = run_text(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"]) or "?"
    dirty = run_text(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"])
    untracked = run_text(["git", "-C", str(ROOT), "ls-files", "--others", "--exclude-standard"])
    extra = []
    if dirty:
        extra.append(f"{len(dirty.splitlines())} modified tracked files")
    if untracked:
        extra.append(f"{len(untracked.splitlines())} untracked files")
    return sha + (f" + working tree changes ({', '.join(extra)})" if extra else "")


def compiler_info(build: Path) -> str:
    cache = build / "CMakeCache.txt"
    cxx, btype = "", ""
    try:
        for line in cache.read_text().splitlines():
            if line.startswith("CMAKE_CXX_COMPILER:"):
                cxx = line.split("=", 1)[1]
            elif line.startswith("CMAKE_BUILD_TYPE:"):
                btype = line.split("=", 1)[1]
    except OSError:
        return "?"
    ver = run_text([cxx, "--version"]).splitlines()[:1] if cxx else []
    return f"{ver[0] if ver else cxx} ({btype or '?'} build, {build})"


def python_versions(mods=("numpy", "onnxruntime", "openvino", "onnx")) -> dict:
    import importlib.metadata as md
    out = {"python": platform.python_version()}
    for m in mods:
        try:
            out[m] = md.version(m)
        except md.PackageNotFoundError:
            out[m] = "not installed"
    return out


def md_machine_section(info: dict, load_start: str, load_end: str) -> str:
    s = "## Machine\n\n"
    s += f"- CPU: **{info['model_name']}** ({info['vendor']}, {info['family_model']}), {info['cpus']} CPUs, " \
         f"{info['threads_per_core']} thread(s) per core" + (f", virtualized ({info['hypervisor']})" if info['hypervisor'] else "") + "\n"
    s += f"- Caches: {info['caches']}\n"
    s += f"- SIMD flags (lscpu): `{info['simd_flags']}`\n"
    s += f"- OS: {info['os']}, kernel {info['kernel']}, {info['mem_gib']:.0f} GiB memory\n"
    s += f"- Load average (1/5/15 min) at start: {load_start}; at end: {load_end}. The machine is shared " \
         "with other engineers' builds and tests, so absolute timings are noisy; the runtimes are " \
         "interleaved so that ratios are fairer than the absolute numbers.\n\n"
    s += f"<details><summary>all lscpu flags</summary>\n\n`{info['flags']}`\n\n</details>\n\n"
    return s


# ---------------------------------------------------------------------------------------------
# Models and inputs
# ---------------------------------------------------------------------------------------------
def model_path(name: str, build: Path, python: str) -> Path:
    if name in GENERATED:
        out = build / "models" / f"{name}-torch-op13.onnx"
        cmd = [python, str(ROOT / "tests/models/make_bert_qa.py"), "--config", GENERATED[name],
               "--exporter", "torch", "--out", str(out)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0 or not out.exists():
            raise RuntimeError(f"generating {name} failed ({shlex.join(cmd)}):\n{r.stdout}{r.stderr}")
        return out
    if name == SHARED_MODEL:
        p = assets_dir() / "models" / SHARED_MODEL / "model.onnx"
        if not p.exists():
            raise FileNotFoundError(f"{p}: shared model not found (set RATEL_ASSETS)")
        return p
    p = Path(name)
    if p.suffix == ".onnx" and p.exists():
        return p
    raise ValueError(f"unknown model '{name}' (bert-small, bert-base, {SHARED_MODEL}, or an .onnx path)")


def input_specs(path: Path) -> list[tuple[str, str, tuple[int, ...]]]:
    """(name, numpy dtype, shape with dynamic dims fixed to batch 1 / seq 384), from the ONNX file."""
    import onnx

    m = onnx.load(str(path), load_external_data=False)
    inits = {i.name for i in m.graph.initializer}
    specs = []
    for inp in m.graph.input:
        if inp.name in inits:
            continue
        t = inp.type.tensor_type
        dtype = onnx.helper.tensor_dtype_to_np_dtype(t.elem_type).name
        dims = []
        for i, d in enumerate(t.shape.dim):
            dims.append(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else (1 if i == 0 else SEQ))
        specs.append((inp.name, dtype, tuple(dims)))
    return specs


def model_gflop(path: Path, specs) -> tuple[float | None, str]:
    """GFLOP of one call: 2·M·N·K over every MatMul and Gemm, shapes from ONNX's own shape
    inference with the inputs fixed to `specs`. Elementwise ops, softmax and layer norm are left
    out (a few % of BERT's arithmetic), so the bound below is a lower bound. (None, why) when a
    shape stays unknown."""
    import math

    import onnx
    from onnx import shape_inference
    try:
        m = onnx.load(str(path), load_external_data=False)
        fixed = {n: s for n, _, s in specs}
        for inp in m.graph.input:
            if inp.name in fixed:
                for d, v in zip(inp.type.tensor_type.shape.dim, fixed[inp.name]):
                    d.ClearField("dim_param")
                    d.dim_value = v
        m = shape_inference.infer_shapes(m, data_prop=True)
    except Exception as e:  # noqa: BLE001 - any failure only drops the bound from the doc
        return None, f"shape inference failed: {e}"
    shapes = {t.name: list(t.dims) for t in m.graph.initializer}
    for vi in list(m.graph.value_info) + list(m.graph.input) + list(m.graph.output):
        shapes[vi.name] = [d.dim_value if d.HasField("dim_value") else None for d in vi.type.tensor_type.shape.dim]
    total = 0
    for node in m.graph.node:
        if node.op_type not in ("MatMul", "Gemm"):
            continue
        a, out = shapes.get(node.input[0]), shapes.get(node.output[0])
        if not a or not out or None in a or None in out:
            return None, f"the shapes of {node.op_type} node '{node.name}' are unknown"
        trans_a = next((x.i for x in node.attribute if x.name == "transA"), 0)
        k = (a[0] if trans_a else a[1]) if node.op_type == "Gemm" else a[-1]
        total += 2 * math.prod(out) * k
    return total / 1e9, ""


def make_inputs(specs, seed: int = 0):
    """A realistic SQuAD-like window: [CLS] question [SEP] context [SEP], then padding."""
    import numpy as np

    rng = np.random.default_rng(seed)
    feeds = {}
    for name, dtype, shape in specs:
        n = shape[-1]
        q_len, used = 16, n - 40  # 40 padding positions, like a short last window
        ids = rng.integers(1000, 30000, size=shape)
        ids[..., 0] = 101
        ids[..., q_len + 1] = 102
        ids[..., used - 1] = 102
        ids[..., used:] = 0
        mask = np.zeros(shape)
        mask[..., :used] = 1
        seg = np.zeros(shape)
        seg[..., q_len + 2:used] = 1
        lname = name.lower()
        if "mask" in lname:
            a = mask
        elif "segment" in lname or "type" in lname:
            a = seg
        else:
            a = ids
        feeds[name] = a.astype(dtype)
    return feeds


# ---------------------------------------------------------------------------------------------
# Runtimes: each exposes .name, .run(feeds) -> {output name: array}
# ---------------------------------------------------------------------------------------------
class RatelRunner:
    name = "Ratel"

    def __init__(self, path: Path, threads: int, specs, lib_path: str | None, model=None):
        import ratel_ctypes

        self.lib = ratel_ctypes.load_library(lib_path)
        self.model = model or ratel_ctypes.Model(path, {n: s for n, _, s in specs}, lib=self.lib)
        self.session = self.model.session(threads=threads)

    def run(self, feeds):
        return self.session.run(feeds)

    def close(self):
        self.session.close()


class OrtRunner:
    name = "ORT"
    spinning = None  # None: ONNX Runtime's default (its worker threads spin-wait between tasks)

    def __init__(self, path: Path, threads: int, specs=None, lib_path=None):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        if self.spinning is not None:
            so.add_session_config_entry("session.intra_op.allow_spinning", "1" if self.spinning else "0")
        self.sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        self.names = [o.name for o in self.sess.get_outputs()]

    def run(self, feeds):
        return dict(zip(self.names, self.sess.run(self.names, feeds)))

    def close(self):
        self.sess = None


class OrtNoSpinRunner(OrtRunner):
    """ORT as above but with session.intra_op.allow_spinning = 0: informational only (the target is
    against ORT's defaults). On a machine shared with other work, spinning workers can slow ORT's
    multi-threaded runs down; this column shows by how much."""
    name = "ORT no-spin"
    spinning = False


_ov_core = None


class OvRunner:
    name = "OpenVINO"

    def __init__(self, path: Path, threads: int, specs=None, lib_path=None):
        import openvino as ov

        global _ov_core
        if _ov_core is None:
            _ov_core = ov.Core()
        self.compiled = _ov_core.compile_model(str(path), "CPU", {
            "INFERENCE_NUM_THREADS": threads,
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": "f32",
        })
        self.request = self.compiled.create_infer_request()
        self.outputs = [(o, o.get_any_name()) for o in self.compiled.outputs]

    def run(self, feeds):
        res = self.request.infer(feeds)
        return {name: res[o].copy() for o, name in self.outputs}

    def close(self):
        self.request = None
        self.compiled = None


RUNNERS = {"ratel": RatelRunner, "ort": OrtRunner, "openvino": OvRunner, "ort-nospin": OrtNoSpinRunner}
NO_MEMORY = {"ort-nospin"}  # same memory as "ort": not measured again


def max_abs_diff(a: dict, ref: dict) -> float:
    import numpy as np

    worst = 0.0
    for i, (name, r) in enumerate(ref.items()):
        x = a.get(name)
        if x is None:  # fall back to output order
            x = list(a.values())[i]
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        r = np.asarray(r, dtype=np.float64).reshape(-1)
        if x.shape != r.shape:
            return float("inf")
        worst = max(worst, float(np.max(np.abs(x - r))) if r.size else 0.0)
    return worst


# ---------------------------------------------------------------------------------------------
# Memory worker: python bench/compare.py --mem-worker RUNTIME MODEL THREADS RUNS
# ---------------------------------------------------------------------------------------------
def vm_field(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def mem_worker(runtime: str, path: str, threads: int, runs: int, specs_json: str, lib_path: str | None) -> None:
    # The input specs come from the parent: reading them here with onnx.load would parse the whole
    # model in Python and set a high-water mark above any runtime's.
    specs = [(n, d, tuple(s)) for n, d, s in json.loads(specs_json)]
    feeds = make_inputs(specs)
    if runtime == "ratel":
        import ratel_ctypes

        ratel_ctypes.load_library(lib_path)  # its code pages count in the baseline, as imports do
    elif runtime == "ort":
        import onnxruntime  # noqa: F401
    elif runtime == "openvino":
        import openvino  # noqa: F401
    base = vm_field("VmRSS")
    t0 = time.perf_counter()
    r = RUNNERS[runtime](Path(path), threads, specs, lib_path)
    load_s = time.perf_counter() - t0
    for _ in range(runs):
        r.run(feeds)
    # VmHWM, not ru_maxrss: Linux carries the parent's RSS at fork over into the child's
    # ru_maxrss across execve, so a worker started from this (large) process would report at
    # least the parent's size. VmHWM belongs to the new address space made by execve.
    print(json.dumps({"runtime": runtime, "baseline_kb": base, "peak_kb": vm_field("VmHWM"), "end_kb": vm_field("VmRSS"),
                      "ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "load_s": load_s}))


def measure_memory(runtime: str, path: Path, threads: int, runs: int, specs, lib_path: str | None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--mem-worker", runtime, str(path),
           str(threads), str(runs), json.dumps(specs)]
    if lib_path:
        cmd += ["--lib", lib_path]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return {"error": (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1]}
    return json.loads(r.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# Latency
# ---------------------------------------------------------------------------------------------
def percentile(xs, q):
    import numpy as np

    return float(np.percentile(np.asarray(xs), q))


def bench_row(path: Path, specs, threads: int, args, ratel_model, log) -> dict:
    feeds = make_inputs(specs)
    runners, errors = [], {}
    for key in args.runtimes:
        cls = RUNNERS[key]
        try:
            t0 = time.perf_counter()
            if key == "ratel":
                r = cls(path, threads, specs, args.lib, model=ratel_model)
            else:
                r = cls(path, threads, specs, args.lib)
            log(f"    {cls.name}: ready in {time.perf_counter() - t0:.2f} s")
            runners.append(r)
        except Exception as e:  # noqa: BLE001 - reported in the table
            errors[cls.name] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            log(f"    {cls.name}: FAILED to load: {errors[cls.name]}")
    outputs = {}
    for r in list(runners):
        try:
            for _ in range(max(1, args.warmup)):
                outputs[r.name] = r.run(feeds)
        except Exception as e:  # noqa: BLE001
            errors[r.name] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            log(f"    {r.name}: FAILED to run: {errors[r.name]}")
            runners.remove(r)
    samples = {r.name: [] for r in runners}
    load_row = loadavg()
    for rnd in range(args.rounds):
        k = rnd % max(1, len(runners))
        for r in runners[k:] + runners[:k]:
            time.sleep(args.pause)
            for _ in range(args.iters):
                t0 = time.perf_counter()
                r.run(feeds)
                samples[r.name].append(time.perf_counter() - t0)
    for r in runners:
        r.close()
    res = {"threads": threads, "errors": errors, "load": load_row, "runtimes": {}}
    ref = outputs.get("ORT")
    if ref is not None:
        import numpy as np

        res["ref_max"] = max(float(np.max(np.abs(v))) for v in ref.values())
    for name, ts in samples.items():
        ms = [t * 1e3 for t in ts]
        d = {"median": statistics.median(ms), "min": min(ms), "p90": percentile(ms, 90), "n": len(ms)}
        if ref is not None and name != "ORT":
            d["max_diff"] = max_abs_diff(outputs[name], ref)
        res["runtimes"][name] = d
        log(f"    {name:11s} median {d['median']:8.2f} ms  min {d['min']:8.2f}  p90 {d['p90']:8.2f}"
            + (f"  max|diff| vs ORT {d['max_diff']:.2e}" if "max_diff" in d else ""))
    return res


# ---------------------------------------------------------------------------------------------
# GEMM benchmark
# ---------------------------------------------------------------------------------------------
def gemm_bench(build: Path, args, log) -> dict:
    exe = next((p for p in (build / "bin" / "ratel_gemm_bench", build / "bench" / "ratel_gemm_bench")
                if p.exists()), None)
    if exe is None:
        return {"skipped": f"no ratel_gemm_bench in {build}/bin or {build}/bench "
                           "(configure with -DRATEL_BUILD_BENCH=ON to build it)"}
    listed = run_text([str(exe), "--benchmark_list_tests=true"]).splitlines()
    isa = next((n.split("/")[1] for n in listed if n.startswith("gemm/")), None)
    if isa is None:
        return {"skipped": f"{exe} lists no gemm/ benchmarks"}
    filt = args.gemm_filter or f"^(gemm|gemm_coldB|gemm_gelu|attention)/{isa}/"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "gemm.json"
        cmd = [str(exe), f"--benchmark_filter={filt}", f"--benchmark_repetitions={args.gemm_reps}",
               f"--benchmark_min_time={args.gemm_min_time}", "--benchmark_format=json",
               f"--benchmark_out={out}", "--benchmark_out_format=json"]
        log(f"  {shlex.join(cmd)}")
        t0 = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0 or not out.exists():
            return {"skipped": f"{shlex.join(cmd)} failed (exit {r.returncode}): "
                               f"{(r.stderr.strip().splitlines() or [''])[-1]}", "cmd": cmd}
        data = json.loads(out.read_text())
    ctx = data.get("context", {})
    runs, order = {}, []
    for b in data.get("benchmarks", []):
        if b.get("run_type") != "iteration" or "GFLOPS" not in b:
            continue
        name = b.get("run_name", b["name"])
        if name not in runs:
            runs[name] = []
            order.append(name)
        runs[name].append(b)
    rows = []
    for name in order:
        g = [x["GFLOPS"] for x in runs[name]]  # counters are already rates (GFLOP/s, %)
        p = [x.get("pct_peak", 0.0) for x in runs[name]]
        # The time the counters are rates of: wall time for UseRealTime runs, else CPU time.
        t = [x.get("real_time" if name.endswith("/real_time") else "cpu_time", 0.0) for x in runs[name]]
        rows.append({"name": name, "reps": len(g), "gflops": statistics.median(g), "gmin": min(g),
                     "gmax": max(g), "pct": statistics.median(p), "pmin": min(p), "pmax": max(p),
                     "time": statistics.median(t), "unit": runs[name][0].get("time_unit", "")})
    return {"cmd": cmd, "isa": isa, "context": ctx, "rows": rows, "seconds": time.perf_counter() - t0}


# ---------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------
def md_header(cols) -> str:
    return "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"


def fmt_ms(d):
    return f"{d['median']:.1f} ({d['min']:.1f}–{d['p90']:.1f})" if d else "n/a"


def fmt_mb(kb):
    return f"{kb / 1024:.0f}"


def write_doc(path: Path, args, results, mem, gemm, info, vers, ratel_version, load_start, load_end,
              command, started, elapsed, gflops=None):
    rt_names = [RUNNERS[k].name for k in args.runtimes]
    has_ov = "OpenVINO" in rt_names
    others = [n for n in rt_names if n not in ("Ratel", "ORT")]
    s = "# Performance: Ratel vs ONNX Runtime" + (" and OpenVINO" if has_ov else "") + "\n\n"
    s += (f"Generated by `bench/compare.py` on {started} ({elapsed:.0f} s). "
          + ("**Quick run** (few iterations: a smoke check, not the full measurement). " if args.quick else "")
          + "Do not edit by hand: rerun `scripts/make-docs.sh" + (" --quick" if args.quick else "") + "`.\n\n")
    s += f"Command:\n\n```sh\n{command}\n```\n\n"
    s += md_machine_section(info, load_start, load_end)
    s += "## Versions\n\n| component | version |\n|---|---|\n"
    s += f"| Ratel | {ratel_version}, git {git_info()}; `{args.lib_resolved}` |\n"
    s += f"| compiler | {compiler_info(Path(args.build))} |\n"
    for k, v in vers.items():
        s += f"| {k} | {v} |\n"
    s += "\n## Method\n\n"
    s += (f"Batch 1, sequence length {SEQ}, int32 inputs (a SQuAD-like window: 344 real tokens, 40 padding). "
          "All runtimes live in one Python process and run the same numpy inputs; each timed call is the "
          "runtime's own inputs-in/outputs-out call (Ratel through `libratel.so` via `bench/ratel_ctypes.py`, fast "
          "executor). After "
          f"{args.warmup} warm-up call(s) each, {args.rounds} rounds of {args.iters} timed calls per runtime, the "
          f"runtime order rotating each round with a {args.pause * 1e3:.0f} ms pause between blocks; latency is "
          "the median over all timed calls, with min and 90th percentile. "
          "ONNX Runtime: CPUExecutionProvider, `ORT_ENABLE_ALL`, `intra_op_num_threads` = threads, "
          "`inter_op_num_threads` = 1, `ORT_SEQUENTIAL`. "
          + ("OpenVINO: CPU plugin, `INFERENCE_NUM_THREADS` = threads, `PERFORMANCE_HINT` LATENCY, "
             "`INFERENCE_PRECISION_HINT` f32 (without it OpenVINO computes in bfloat16 on this CPU, which has "
             "AVX512_BF16). " if has_ov else "")
          + ("ORT no-spin (informational, not what the target is measured against): ONNX Runtime as above "
             "with `session.intra_op.allow_spinning` = 0; by default its worker threads spin-wait between "
             "tasks, which costs it time when other processes compete for the cores. "
             if "ORT no-spin" in rt_names else "")
          + "max |diff|: largest absolute difference of any output logit from ONNX Runtime's. "
          f"Peak memory: a fresh subprocess per model, thread count ({', '.join(map(str, args.mem_threads_list))}) "
          f"and runtime imports only that runtime, loads the model and runs it {args.mem_runs} time(s); its peak RSS (`VmHWM` in `/proc/self/status`; not `ru_maxrss`, which on Linux inherits the parent's size across fork+exec) is reported, and in brackets the "
          "part above its RSS just before loading (interpreter, numpy and the runtime's libraries excluded).\n\n")
    s += f"Targets (from the issue): Ratel/ORT latency ≤ {TARGET_RATIO} on every row; Ratel's peak memory ≤ ORT's.\n\n"

    # Latency table
    s += "## Latency\n\nmilliseconds: median (min–p90)\n\n"
    cols = ["model", "threads", "Ratel", "ORT"] + others + \
           ["Ratel/ORT", f"meets ≤ {TARGET_RATIO}"] + [f"{n}/ORT" for n in others] + \
           ["max \\|diff\\| vs ORT: " + " / ".join(["Ratel"] + others), "max \\|logit\\| (ORT)", "load avg"]
    s += md_header(cols)
    verdicts = []
    for model, rows in results.items():
        for row in rows:
            rts = row["runtimes"]
            ra, ort = rts.get("Ratel"), rts.get("ORT")
            ratio = ra["median"] / ort["median"] if ra and ort else None
            meets = None if ratio is None else ratio <= TARGET_RATIO
            verdicts.append((model, row["threads"], ratio, meets))
            cells = [model, str(row["threads"]), fmt_ms(ra), fmt_ms(ort)]
            for n in others:
                cells.append(fmt_ms(rts[n]) if n in rts else "n/a (failed)")
            cells.append(f"{ratio:.2f}" if ratio is not None else "n/a")
            cells.append("n/a" if meets is None else ("**yes**" if meets else "no"))
            for n in others:
                cells.append(f"{rts[n]['median'] / ort['median']:.2f}" if n in rts and ort else "n/a")
            cells.append(" / ".join(f"{rts[n]['max_diff']:.1e}" if n in rts and "max_diff" in rts[n] else "n/a"
                                    for n in ["Ratel"] + others))
            cells.append(f"{row['ref_max']:.2g}" if row.get("ref_max") is not None else "n/a")
            cells.append(row["load"])
            s += "| " + " | ".join(cells) + " |\n"
            for name, err in row["errors"].items():
                s += f"\n- {model}, {row['threads']} thread(s): {name} failed: `{err}`\n"
    s += "\n"

    # Memory table
    mem_verdicts = []
    if mem:
        s += ("## Peak memory\n\nPer runtime: peak RSS in MiB (in brackets: above the RSS before loading); RSS at "
              "the end, after the runs, in MiB (what stays resident; a peak well above it is transient, during "
              "loading); model load time in seconds\n\n")
        mem_names = [RUNNERS[k].name for k in args.runtimes if k not in NO_MEMORY]
        s += md_header(["model", "threads"] + mem_names + ["Ratel/ORT", "meets ≤ ORT"])
        for (model, threads), m in mem.items():
            def cell(name):
                d = m.get(name)
                if not d:
                    return "not run"
                if "error" in d:
                    return f"failed: `{d['error'][:80]}`"
                return (f"{fmt_mb(d['peak_kb'])} ({fmt_mb(d['peak_kb'] - d['baseline_kb'])}); "
                        f"{fmt_mb(d['end_kb'])}; {d['load_s']:.1f} s")
            ra, ort = m.get("Ratel", {}), m.get("ORT", {})
            ok = "peak_kb" in ra and "peak_kb" in ort
            ratio = ra["peak_kb"] / ort["peak_kb"] if ok else None
            meets = None if ratio is None else ra["peak_kb"] <= ort["peak_kb"]
            mem_verdicts.append((model, threads, ratio, meets))
            cells = [model, str(threads)] + [cell(n) for n in mem_names]
            cells += [f"{ratio:.2f}" if ratio is not None else "n/a",
                      "n/a" if meets is None else ("**yes**" if meets else "no")]
            s += "| " + " | ".join(cells) + " |\n"
        s += "\n"

    s += compute_bound_section(results, gemm, gflops or {})

    # Reading
    s += "## Reading\n\n" + reading(verdicts, mem_verdicts, results, args, load_start, load_end, gemm) + "\n\n"

    # GEMM
    s += "## GEMM kernels (`ratel_gemm_bench`)\n\n"
    if gemm is None:
        s += f"Not run: {'`--no-gemm`' if args.no_gemm == '--no-gemm' else args.no_gemm}.\n"
    elif "skipped" in gemm:
        s += f"Not run: {gemm['skipped']}.\n"
    else:
        ctx = gemm["context"]
        gb = run_text(["dpkg-query", "-W", "-f=${Version}", "libbenchmark-dev"]) or ctx.get("library_version", "?")
        shown = [re.sub(r"^--benchmark_out=.*", "--benchmark_out=FILE.json", a) for a in gemm["cmd"]]
        shown[0] = os.path.relpath(shown[0], ROOT) if shown[0].startswith(str(ROOT)) else shown[0]
        s += (f"Command: `{shlex.join(shown)}` (Google Benchmark {gb}, "
              f"{gemm['seconds']:.0f} s). CPU reported: {ctx.get('cpu_model', '?')}, best ISA "
              f"{ctx.get('best_isa', '?')}; measured single-core FMA peak: AVX2 "
              f"{float(ctx.get('peak_gflops_avx2', 0)):.1f} GFLOP/s, AVX-512 "
              f"{float(ctx.get('peak_gflops_avx512', 0)):.1f} GFLOP/s. % of peak is per thread (2 threads: "
              "of twice the single-core peak). M = 384 rows (one BERT window); single-thread runs are timed in "
              "CPU time, 2-thread runs in wall time (more spread on this shared machine). `coldB` rotates "
              "over 8 copies of the weights (75 MB, more than the L3). Median (min–max) over "
              f"{gemm['rows'][0]['reps'] if gemm['rows'] else 0} repetition(s).\n\n")
        s += "| benchmark | time per call | GFLOP/s | % of peak |\n|---|---|---|---|\n"
        for r in gemm["rows"]:
            s += (f"| {r['name']} | {r['time']:.3g} {r['unit']} | {r['gflops']:.1f} ({r['gmin']:.1f}–{r['gmax']:.1f}) | "
                  f"{r['pct']:.1f} ({r['pmin']:.1f}–{r['pmax']:.1f}) |\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(s)


def compute_bound_section(results, gemm, gflops) -> str:
    """How close each runtime is to what the FMA units allow: the model's MatMul/Gemm FLOPs at the
    measured peak of the best ISA (times the thread count) is a lower bound on latency that no
    fp32 runtime can beat, so Ratel/ORT ≤ 0.8 needs ORT to be at most 80% as efficient as Ratel."""
    if not gemm or "context" not in gemm:
        return ""
    ctx = gemm["context"]
    isa = ctx.get("best_isa", "")
    peak = max(float(ctx.get("peak_gflops_avx2", 0) or 0), float(ctx.get("peak_gflops_avx512", 0) or 0))
    if peak <= 0 or not any(g for g, _ in gflops.values()):
        return ""
    s = ("## Compute bound\n\n"
         f"GFLOP per call: 2·M·N·K summed over the model's MatMul and Gemm nodes (ONNX shape inference at the "
         f"benchmark's shapes; softmax, layer norm and elementwise work left out). Bound: that work at the measured "
         f"single-core FMA peak of the best ISA ({isa}, {peak:.1f} GFLOP/s) times the thread count, a lower bound "
         f"on any fp32 runtime's latency. Efficiency: bound / median latency. The last column is the efficiency "
         f"Ratel would need for Ratel/ORT = {TARGET_RATIO}: above 100% means no fp32 kernel can meet the ratio "
         f"on this machine at this ORT latency (only doing less arithmetic could).\n\n")
    s += md_header(["model", "threads", "GFLOP", "bound", "Ratel efficiency", "ORT efficiency",
                    f"needed for {TARGET_RATIO}× ORT"])
    for model, rows in results.items():
        g, why = gflops.get(model, (None, "not counted"))
        for row in rows:
            if not g:
                s += f"| {model} | {row['threads']} | n/a ({why}) | | | | |\n"
                continue
            bound = g / (peak * row["threads"]) * 1e3
            ra, ort = row["runtimes"].get("Ratel"), row["runtimes"].get("ORT")
            eff = lambda d: f"{100 * bound / d['median']:.0f}%" if d else "n/a"  # noqa: E731
            need = f"{100 * bound / (TARGET_RATIO * ort['median']):.0f}%" if ort else "n/a"
            s += f"| {model} | {row['threads']} | {g:.2f} | {bound:.1f} ms | {eff(ra)} | {eff(ort)} | {need} |\n"
    return s + "\n"


def reading(verdicts, mem_verdicts, results, args, load_start, load_end, gemm) -> str:
    import math

    parts = []
    if args.quick:
        parts.append(f"This is a quick run ({args.rounds}×{args.iters} timed calls per runtime and row), "
                     "so the numbers show direction, not precise values.")
    meet = [f"{m} at {t} thread{'s' if t > 1 else ''} ({r:.2f})" for m, t, r, ok in verdicts if ok]
    miss = [f"{m} at {t} thread{'s' if t > 1 else ''} ({r:.2f})" for m, t, r, ok in verdicts if ok is False]
    na = [f"{m} at {t}" for m, t, r, ok in verdicts if ok is None]
    ratios = [r for _, _, r, ok in verdicts if r]
    if ratios:
        gm = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        parts.append(f"Ratel's latency is {gm:.2f}× ONNX Runtime's (geometric mean of the Ratel/ORT median "
                     f"ratios over {len(ratios)} row{'s' if len(ratios) > 1 else ''}; below 1 means Ratel is faster).")
    if not miss and meet:
        parts.append(f"The latency target (Ratel/ORT ≤ {TARGET_RATIO}) is met on every row.")
    else:
        if meet:
            parts.append(f"The latency target (Ratel/ORT ≤ {TARGET_RATIO}) is met by: {'; '.join(meet)}.")
        if miss:
            parts.append(("It is" if meet else f"The latency target (Ratel/ORT ≤ {TARGET_RATIO}) is")
                         + f" **not met** by: {'; '.join(miss)}.")
    if na:
        parts.append(f"No ratio for: {', '.join(na)} (a runtime failed; see the table).")
    nospin = [(m, row["threads"], row["runtimes"]["Ratel"]["median"] / row["runtimes"]["ORT no-spin"]["median"])
              for m, rows in results.items() for row in rows
              if "Ratel" in row["runtimes"] and "ORT no-spin" in row["runtimes"]]
    if nospin:
        parts.append("Against ONNX Runtime without spin-waiting (informational), Ratel's ratio is "
                     + "; ".join(f"{m} at {t}: {r:.2f}" for m, t, r in nospin)
                     + " (where this is clearly above the Ratel/ORT ratio, ORT's default spinning cost it time "
                       "on this busy machine, and the Ratel/ORT verdict is flattered by it).")
    mmeet = [f"{m}/{t}" for m, t, r, ok in mem_verdicts if ok]
    mmiss = [f"{m}/{t} ({r:.2f}× ORT)" for m, t, r, ok in mem_verdicts if ok is False]
    if mem_verdicts:
        if not mmiss and mmeet:
            parts.append("Ratel's peak RSS is at or below ONNX Runtime's on every row (memory target met).")
        else:
            if mmeet:
                parts.append(f"The memory target (peak RSS ≤ ORT's) is met by {', '.join(mmeet)}")
            if mmiss:
                parts.append(f"and **not met** by {', '.join(mmiss)}." if mmeet else
                             f"The memory target (peak RSS ≤ ORT's) is **not met** by {', '.join(mmiss)}.")
            elif mmeet:
                parts[-1] += "."
    diffs = [row["runtimes"]["Ratel"].get("max_diff") for rows in results.values() for row in rows
             if "Ratel" in row["runtimes"]]
    diffs = [d for d in diffs if d is not None]
    if diffs:
        scale = max((row.get("ref_max") or 0) for rows in results.values() for row in rows)
        parts.append(f"Ratel's logits differ from ONNX Runtime's by at most {max(diffs):.1e}, with logits up to "
                     f"{scale:.2g} in magnitude: fp32 rounding from a different order of summation, not an "
                     "accuracy difference.")
    if gemm and gemm.get("rows"):
        one = [r["pct"] for r in gemm["rows"] if "threads:1" in r["name"] or "/threads:" not in r["name"]]
        two = [r["pct"] for r in gemm["rows"] if "threads:2" in r["name"]]
        if one:
            rng = lambda v: f"{min(v):.0f}" if round(min(v)) == round(max(v)) else f"{min(v):.0f}–{max(v):.0f}"  # noqa: E731
            parts.append(f"Single-thread GEMM/attention kernels reach {rng(one)}% of the measured "
                         "FMA peak (CPU time)" + (f"; with 2 threads {rng(two)}% of twice the "
                                                  "peak (wall time, so competing load lowers it)." if two else "."))
    parts.append(f"The load average was {load_start} at the start and {load_end} at the end on "
                 f"{os.cpu_count()} CPUs, so other work competed for the cores: the 2-thread rows in particular "
                 "are affected, and a row whose p90 is far above its median was disturbed.")
    return " ".join(parts)


# ---------------------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--build", default=str(ROOT / "build" / "release"),
                    help="Ratel build folder: lib/libratel.so, models/, bin/ratel_gemm_bench (default build/release)")
    ap.add_argument("--lib", default=None, help="libratel.so (default BUILD/lib/libratel.so)")
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS),
                    help=f"comma-separated: bert-small, bert-base, {SHARED_MODEL}, or .onnx paths")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--runtimes", default=None,
                    help="comma-separated, from ratel, ort, openvino, ort-nospin (default: all four; quick: "
                         "ratel,ort,openvino)")
    ap.add_argument("--rounds", type=int, default=None, help="rounds (default 5; quick 2)")
    ap.add_argument("--iters", type=int, default=None, help="timed calls per runtime per round (default 10; quick 1)")
    ap.add_argument("--warmup", type=int, default=None, help="warm-up calls per runtime (default 3; quick 1)")
    ap.add_argument("--pause", type=float, default=0.05, help="seconds of pause between timed blocks")
    ap.add_argument("--mem-runs", type=int, default=None, help="runs in each memory subprocess (default 10; quick 1)")
    ap.add_argument("--mem-threads", default=None,
                    help="thread counts to measure memory at (default: all of --threads; quick: the largest)")
    ap.add_argument("--no-mem", action="store_true", help="skip the peak-memory subprocesses")
    ap.add_argument("--no-gemm", nargs="?", const="--no-gemm", default=None, metavar="REASON",
                    help="skip the GEMM benchmark (the doc gives REASON)")
    ap.add_argument("--gemm-filter", default=None, help="Google Benchmark filter (default: best ISA's gemm/attention)")
    ap.add_argument("--gemm-reps", type=int, default=None, help="repetitions (default 3; quick 1)")
    ap.add_argument("--gemm-min-time", type=float, default=None, help="seconds per benchmark (default 0.5; quick 0.05)")
    ap.add_argument("--quick", action="store_true", help="few iterations (about a minute); the doc says 'quick run'")
    ap.add_argument("--out", default=str(ROOT / "docs" / "PERFORMANCE.md"), help="markdown output ('-': none)")
    ap.add_argument("--json", default=None, help="also write the raw results as JSON here")
    ap.add_argument("--mem-worker", nargs=5, metavar=("RUNTIME", "MODEL", "THREADS", "RUNS", "SPECS"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.mem_worker:
        rt_, model_, threads_, runs_, specs_ = args.mem_worker
        mem_worker(rt_, model_, int(threads_), int(runs_), specs_, args.lib)
        return 0

    q = args.quick
    args.rounds = args.rounds or (2 if q else 5)
    args.iters = args.iters or (1 if q else 10)
    args.warmup = args.warmup if args.warmup is not None else (1 if q else 3)
    args.mem_runs = args.mem_runs or (1 if q else 10)
    args.gemm_reps = args.gemm_reps or (1 if q else 3)
    args.gemm_min_time = args.gemm_min_time or (0.05 if q else 0.5)
    args.runtimes = args.runtimes or ("ratel,ort,openvino" if q else "ratel,ort,openvino,ort-nospin")
    args.runtimes = [r.strip() for r in args.runtimes.split(",") if r.strip()]
    for r in args.runtimes:
        if r not in RUNNERS:
            ap.error(f"unknown runtime '{r}' ({', '.join(RUNNERS)})")
    if "ratel" not in args.runtimes or "ort" not in args.runtimes:
        ap.error("--runtimes must include ratel and ort (the comparison)")
    build = Path(args.build).resolve()
    args.build = str(build)
    args.lib = args.lib or str(build / "lib" / "libratel.so")
    args.lib_resolved = args.lib
    threads = [int(t) for t in args.threads.split(",")]
    if args.mem_threads:
        mem_threads = [int(t) for t in args.mem_threads.split(",")]
    else:
        mem_threads = [max(threads)] if q else threads
    args.mem_threads_list = mem_threads
    command = shlex.join([os.path.relpath(sys.executable, ROOT) if sys.executable.startswith(str(ROOT)) else sys.executable,
                          os.path.relpath(__file__, ROOT)] + sys.argv[1:])

    def log(msg):
        print(msg, flush=True)

    import ratel_ctypes

    try:
        lib = ratel_ctypes.load_library(args.lib)
    except OSError as e:
        sys.exit(f"compare.py: {e}")
    started = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    t_start = time.perf_counter()
    load_start = loadavg()
    info = machine_info()
    vers = python_versions()
    if "openvino" not in args.runtimes:
        vers.pop("openvino", None)
    log(f"compare: {info['model_name']}, {info['cpus']} CPUs, load {load_start}; Ratel {lib.version()} ({args.lib})")
    log(f"  rounds {args.rounds} x iters {args.iters}, warm-up {args.warmup}, threads {threads}")

    results, mem, gflops = {}, {}, {}
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        try:
            path = model_path(name, build, sys.executable)
        except (OSError, ValueError, RuntimeError) as e:
            sys.exit(f"compare.py: {e}")
        specs = input_specs(path)
        log(f"{name}: {path} inputs {specs}")
        try:  # loaded once, shared by the sessions of every thread count
            ratel_model = ratel_ctypes.Model(path, {n: s for n, _, s in specs}, lib=lib)
        except ratel_ctypes.RatelError as e:
            log(f"  Ratel cannot load {path}: {e} (the rows will say so)")
            ratel_model = None
        gflops[name] = model_gflop(path, specs)
        log(f"  {gflops[name][0]:.2f} GFLOP per call (MatMul/Gemm)" if gflops[name][0] else f"  no FLOP count: {gflops[name][1]}")
        results[name] = []
        for t in threads:
            log(f"  threads {t} (load {loadavg()})")
            results[name].append(bench_row(path, specs, t, args, ratel_model, log))
        if ratel_model is not None:
            ratel_model.close()
        del ratel_model
        if not args.no_mem:
            for t in mem_threads:
                m = {}
                for key in [k for k in args.runtimes if k not in NO_MEMORY]:
                    m[RUNNERS[key].name] = d = measure_memory(key, path, t, args.mem_runs, specs, args.lib)
                    log(f"    memory {name} t{t} {RUNNERS[key].name}: " +
                        (f"peak {d['peak_kb'] / 1024:.0f} MiB (+{(d['peak_kb'] - d['baseline_kb']) / 1024:.0f} "
                         f"over pre-load), load {d['load_s']:.2f} s" if "peak_kb" in d else f"FAILED {d['error']}"))
                mem[(name, t)] = m
    gemm = None
    if args.no_gemm is None:
        log("GEMM benchmark")
        gemm = gemm_bench(build, args, log)
        if "skipped" in gemm:
            log(f"  skipped: {gemm['skipped']}")
        else:
            for r in gemm["rows"]:
                log(f"  {r['name']:45s} {r['gflops']:7.1f} GFLOP/s  {r['pct']:5.1f}% of peak")
    load_end = loadavg()
    elapsed = time.perf_counter() - t_start
    if args.out != "-":
        write_doc(Path(args.out), args, results, mem, gemm, info, vers, lib.version(), load_start, load_end,
                  command, started, elapsed, gflops)
        log(f"wrote {args.out} ({elapsed:.0f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "memory": {f"{k[0]}/{k[1]}": v for k, v in mem.items()},
                                               "gemm": gemm, "load": [load_start, load_end]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
