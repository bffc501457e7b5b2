#!/usr/bin/env python3
"""Summarizes ratel_qgemm_bench JSON: per benchmark the median GOP/s over the repetitions and
their spread (min-max), and the ratio of medians to the f32 GEMM of the same ISA, shape and
thread count measured in the same run.   usage: summarize_qgemm.py qgemm_bench.json"""
import json
import re
import statistics
import sys
from collections import defaultdict


def isa_of(family, kernel):
    if family in ("f32", "f16_panels"):
        return kernel
    if "avx512" in kernel:
        return "avx512"
    if "avx2" in kernel or "avxvnni" in kernel:
        return "avx2"
    return "generic"


def main(path):
    data = json.load(open(path))
    runs = defaultdict(list)
    cpu = defaultdict(list)
    for b in data["benchmarks"]:
        if b.get("run_type") != "iteration" or "GOPS" not in b:
            continue
        runs[b["run_name"]].append(b["GOPS"] / 1e9 if b["GOPS"] > 1e6 else b["GOPS"])
        if "cpu_GOPS_per_core" in b:
            cpu[b["run_name"]].append(b["cpu_GOPS_per_core"])
    rows = []
    f32 = {}
    for name, vals in runs.items():
        m = re.match(r"qgemm/([^/]+)/(.+)/K(\d+)_N(\d+)/threads:(\d+)(/real_time)?$", name)
        if not m:
            continue
        family, kernel, k, n, t, _ = m.groups()
        med = statistics.median(vals)
        key = (isa_of(family, kernel), int(k), int(n), int(t))
        if family == "f32":
            f32[key] = (med, statistics.median(cpu[name]) if cpu[name] else None)
        per_core = statistics.median(cpu[name]) if cpu[name] else None
        rows.append((family, kernel, int(k), int(n), int(t), med, min(vals), max(vals), key, per_core))
    print("| family | kernel | K | N | threads | GOP/s median | min-max | x f32 (same ISA) |"
          " CPU GOP/s per core | x f32 per core |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    rows.sort(key=lambda r: (r[4], r[0] != "f32", r[0], r[1], r[2], r[3]))
    for family, kernel, k, n, t, med, lo, hi, key, per_core in rows:
        base, base_core = f32.get(key, (None, None))
        ratio = f"{med / base:.2f}" if base else "-"
        pc = f"{per_core:.1f}" if per_core else "-"
        pc_ratio = f"{per_core / base_core:.2f}" if per_core and base_core else "-"
        print(f"| {family} | {kernel} | {k} | {n} | {t} | {med:.1f} | {lo:.1f}-{hi:.1f} | {ratio} | {pc} | {pc_ratio} |")


if __name__ == "__main__":
    main(sys.argv[1])
