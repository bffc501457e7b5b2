#!/usr/bin/env python3
"""Fits the rational erf approximation used by the GELU kernels (src/kernels/math/erf_approx.h).

erf(x) ~= x * P(x^2) / Q(x^2) on [0, 4] (odd, so [-4, 4]), Q(0) = 1, minimising the maximum
absolute error with Lawson's iteratively reweighted least squares. Prints the float32
coefficients and the error of the float32 evaluation (Horner with FMA, as the kernels do).
Needs numpy:  python3 -m venv /tmp/v && /tmp/v/bin/pip install numpy && /tmp/v/bin/python fit_erf.py
"""
import math

import numpy as np

CLAMP = 4.0
DEG_P, DEG_Q = 5, 5


def fit(iters=150):
    x = np.linspace(1e-6, CLAMP, 4000)
    x = np.unique(np.concatenate([x, CLAMP * (1 - np.cos(np.linspace(0, np.pi / 2, 4000)))]))
    x = x[x > 0]
    f = np.array([math.erf(v) for v in x])
    s = (x / CLAMP) ** 2  # fit in s in [0, 1] for conditioning; converted to x^2 below
    w = np.ones_like(x)
    q_prev = np.ones_like(x)
    for _ in range(iters):
        cols = [x * s**j / q_prev for j in range(DEG_P + 1)]
        cols += [-f * s**j / q_prev for j in range(1, DEG_Q + 1)]
        a = np.stack(cols, 1)
        sw = np.sqrt(w)
        coef, *_ = np.linalg.lstsq(a * sw[:, None], f / q_prev * sw, rcond=None)
        p = coef[: DEG_P + 1]
        q = np.concatenate([[1.0], coef[DEG_P + 1:]])
        q_prev = sum(q[j] * s**j for j in range(DEG_Q + 1))
        err = np.abs(x * sum(p[j] * s**j for j in range(DEG_P + 1)) / q_prev - f)
        w = w * err
        w /= w.sum()
    to_t = lambda c: [float(np.float32(c[j] / CLAMP ** (2 * j))) for j in range(len(c))]
    return to_t(p), to_t(q), err.max()


def eval_f32(p, q, xv):
    f32 = lambda v: float(np.float32(v))
    x = f32(max(-CLAMP, min(CLAMP, xv)))
    t = f32(x * x)
    pp, qq = p[-1], q[-1]
    for c in reversed(p[:-1]):
        pp = f32(pp * t + c)  # one rounding: an FMA (a*b of floats is exact in double)
    for c in reversed(q[:-1]):
        qq = f32(qq * t + c)
    return f32(f32(x * pp) / qq)


if __name__ == "__main__":
    p, q, exact_err = fit()
    print(f"max |error| in exact arithmetic: {exact_err:.3e}")
    print("P:", ", ".join(f"{c:.9e}f" for c in p))
    print("Q:", ", ".join(f"{c:.9e}f" for c in q))
    xs = np.linspace(0.0, 5.0, 100001, dtype=np.float32)
    worst = max((abs(eval_f32(p, q, float(v)) - math.erf(float(v))), float(v)) for v in xs)
    print(f"max |error| of the float32 evaluation: {worst[0]:.3e} at x = {worst[1]:.5f}")
