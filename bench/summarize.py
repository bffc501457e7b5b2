#!/usr/bin/env python3
"""Turns a ratel_gemm_bench JSON file (run with --benchmark_repetitions=N) into a markdown table:
median and min-max over the repetitions of GFLOP/s and of % of the measured peak (and, for
multi-threaded runs, the per-core efficiency: flops per CPU-second of all threads).

    bench/summarize.py results.json > results.md
"""
import json
import statistics
import sys


def main(path):
    with open(path) as f:
        data = json.load(f)
    ctx = data["context"]
    runs = {}
    order = []
    for b in data["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        name = b["run_name"]
        if name not in runs:
            runs[name] = []
            order.append(name)
        runs[name].append(b)
    print(f"CPU: {ctx.get('cpu_model', '?')} (best ISA {ctx.get('best_isa', '?')}), {ctx.get('num_cpus', '?')} CPUs at "
          f"{ctx.get('mhz_per_cpu', '?')} MHz (nominal); load average at start "
          f"{', '.join(f'{x:.2f}' for x in ctx.get('load_avg', []))}")
    print(f"Measured single-core FMA peak: AVX2 {float(ctx.get('peak_gflops_avx2', 0)):.1f} GFLOP/s, "
          f"AVX-512 {float(ctx.get('peak_gflops_avx512', 0)):.1f} GFLOP/s")
    print()
    print("| benchmark | reps | GFLOP/s median | GFLOP/s min-max | % peak median | % peak min-max "
          "| per-core % peak (CPU time) |")
    print("|---|---|---|---|---|---|---|")
    for name in sorted(order):
        rs = runs[name]
        g = [r["GFLOPS"] for r in rs]
        p = [r.get("pct_peak", 0.0) for r in rs]
        c = [r["cpu_pct_peak"] for r in rs if "cpu_pct_peak" in r]
        per_core = (f"{statistics.median(c):.1f} ({min(c):.1f}-{max(c):.1f})" if c else "")
        print(f"| {name} | {len(rs)} | {statistics.median(g):.1f} | {min(g):.1f}-{max(g):.1f} | "
              f"{statistics.median(p):.1f} | {min(p):.1f}-{max(p):.1f} | {per_core} |")


if __name__ == "__main__":
    main(sys.argv[1])
