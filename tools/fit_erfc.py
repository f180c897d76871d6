"""Fit the coefficients of xact.catalogue._blocks' float32 erfc (run: python tools/fit_erfc.py [degree]).

One polynomial, evaluated in float32 by Horner's rule (Juffa's erfcx form):

    (1 + 2a) erfcx(a) - 1 = R(q),  q = (a - 2) / (a + 2),  a in [0, 10.1],

where erfc(a) = e^(-a^2) (1 + R(q)) / (1 + 2a) (beyond a = 10.06 float32 erfc
is 0). R is small (0 to 0.25), so its own rounding hardly shows in 1 + R.
Near 0, where erfc is within 1/8 of 1 (|h| < 1/8), the block takes
erfc(h) = 1 - h P(h^2) instead, P(z) = erf(h)/h (degree 3 in z = h^2), whose
error is weighted relative to erfc.

Targets come from mpmath at 40 digits on Chebyshev nodes. The fit minimises the
maximum error relative to 1 + R by Lawson's iteratively reweighted least
squares; the coefficients are then rounded to float32 one at a time from the
constant term up, refitting the remaining ones after each rounding, so the
float32 constants that the frameworks multiply by are the ones fitted.
Printed: the coefficients (ascending) and the fit's max relative error.
"""

from __future__ import annotations

import sys

import mpmath
import numpy as np

mpmath.mp.dps = 40
BIG_UPTO = 10.1


def _minimax(basis: np.ndarray, rhs: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """x minimising max |weight * (basis @ x - rhs)| (Lawson's algorithm)."""
    w = np.full(rhs.shape, 1.0 / rhs.size)
    for _ in range(100):
        sw = np.sqrt(w) * weight
        sol, *_ = np.linalg.lstsq(basis * sw[:, None], rhs * sw, rcond=None)
        err = np.abs(basis @ sol - rhs) * weight
        w = w * err
        w /= w.sum()
    return sol


def fit_float32(basis: np.ndarray, target: np.ndarray, weight: np.ndarray) -> tuple[list[float], float]:
    """Float32-representable coefficients, rounded one by one (refitting the rest), and the max weighted error."""
    n = basis.shape[1]
    rounded: list[float] = []
    for k in range(n):
        rhs = target - basis[:, :k] @ np.array(rounded) if rounded else target
        sol = _minimax(basis[:, k:], rhs, weight)
        rounded.append(float(np.float32(sol[0])))
    c = np.array(rounded)
    return rounded, float(np.max(np.abs(basis @ c - target) * weight))


def chebyshev_nodes(lo: float, hi: float, n: int) -> np.ndarray:
    k = np.arange(n)
    return (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (k + 0.5) / n)


SMALL_BELOW = 0.125


def fit_p(degree: int) -> tuple[list[float], float]:
    h = chebyshev_nodes(0.0, SMALL_BELOW + 0.001, 1000)
    mp = [mpmath.mpf(v) for v in h]
    target = np.array([float(mpmath.erf(v) / v) for v in mp])
    weight = h / np.array([float(mpmath.erfc(v)) for v in mp])  # error of 1 - h P relative to erfc
    return fit_float32(np.vander(h * h, degree + 1, increasing=True), target, weight)


def fit_r(degree: int) -> tuple[list[float], float]:
    q = chebyshev_nodes(-1.0 - 0.001, (BIG_UPTO - 2) / (BIG_UPTO + 2) + 0.002, 3000)
    a = [2 * (1 + mpmath.mpf(v)) / (1 - mpmath.mpf(v)) for v in q]
    r = np.array([float((1 + 2 * x) * mpmath.exp(x * x) * mpmath.erfc(x) - 1) for x in a])
    return fit_float32(np.vander(q, degree + 1, increasing=True), r, 1.0 / (1.0 + r))


if __name__ == "__main__":
    degree = int(sys.argv[1]) if len(sys.argv) > 1 else 11
    c, err = fit_r(degree)
    print(f"# R, degree {degree}: max error {err:.3g} relative to 1 + R ({err / 2**-24:.3f} x 2^-24)")
    print("_ERFCX32_R = (" + ", ".join(repr(v) for v in c) + ")")
    c, err = fit_p(3)
    print(f"# P, degree 3: max error {err:.3g} relative to erfc ({err / 2**-24:.3f} x 2^-24)")
    print("_ERF32_SMALL = (" + ", ".join(repr(v) for v in c) + ")")
