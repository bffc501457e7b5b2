#!/usr/bin/env python3
"""Fits the exp approximation used by the softmax kernels (src/kernels/math/exp_approx.h).

exp(x) = 2^n * e^r with n = round(x / ln 2) and r = x - n ln 2 in [-ln2/2, ln2/2], reduced with
Cody-Waite (ln 2 = LN2_HI + LN2_LO, LN2_HI with 16 significant bits so n * LN2_HI is exact for
|n| <= 127). e^r ~= 1 + r (c1 + r (c2 + r (c3 + r (c4 + r c5)))), the c_j minimising the maximum
relative error by Lawson's iteratively reweighted least squares. Prints the float32 coefficients,
the error in exact arithmetic and the error of the float32 evaluation (what the kernels do, Horner
with FMA) over a dense grid.
Needs numpy:  python3 -m venv /tmp/v && /tmp/v/bin/pip install numpy && /tmp/v/bin/python fit_exp.py
"""
import math

import numpy as np

DEG = 5
R = math.log(2) / 2
LN2_HI = 0.693145751953125         # 0x3F317200: 16 significant bits
LN2_LO = 1.428606765330187045e-06  # float32(ln 2 - LN2_HI)
LOG2E = 1.44269504088896341


def fit(iters=200):
    r = np.unique(np.concatenate([np.linspace(-R, R, 6001), R * np.cos(np.linspace(0, np.pi, 6001))]))
    f = np.exp(r)
    w = np.ones_like(r)
    for _ in range(iters):
        a = np.stack([r**j / f for j in range(1, DEG + 1)], 1)
        b = (f - 1) / f
        sw = np.sqrt(w)
        c, *_ = np.linalg.lstsq(a * sw[:, None], b * sw, rcond=None)
        err = np.abs((1 + sum(c[j - 1] * r**j for j in range(1, DEG + 1))) / f - 1)
        w = w * err
        w /= w.sum()
    return [float(np.float32(v)) for v in c], err.max()


def f32(v):
    return float(np.float32(v))


def eval_f32(c, x):
    n = float(np.rint(f32(x * f32(LOG2E))))
    r = f32(x - n * f32(LN2_HI))         # exact (Sterbenz), n * LN2_HI exact
    r = f32(r - n * f32(LN2_LO))         # one rounding (an FMA on the AVX paths)
    p = c[-1]
    for cj in reversed(c[:-1]):
        p = f32(p * r + cj)              # FMA: one rounding (a*b of floats is exact in double)
    p = f32(p * r + 1.0)
    return p * 2.0**n                    # exact for normal results


if __name__ == "__main__":
    c, exact_err = fit()
    print(f"max relative error in exact arithmetic: {exact_err:.3e}")
    print("C:", ", ".join(f"{v:.9e}f" for v in c))
    xs = np.linspace(-87.0, 88.0, 400001, dtype=np.float32)
    worst = max((abs(eval_f32(c, float(v)) / math.exp(float(v)) - 1), float(v)) for v in xs)
    print(f"max relative error of the float32 evaluation: {worst[0]:.3e} at x = {worst[1]:.6f}")
