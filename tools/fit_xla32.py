"""Fit the float32 polynomials of xact/ops/_xla.py (run: python tools/fit_xla32.py).

Two odd functions near 0, each evaluated in float32 by Horner's rule in z = x^2:

    tanh(x) = x + x^3 T(z)   for |x| < TANH_SMALL (T's error weighted relative to tanh),
    erf(x)  = x (c + z E(z)) for |x| < ERF_SMALL, c = 2/sqrt(pi) carried as two
                             float32 numbers (E's error weighted relative to erf).

Outside those ranges tanh is 1 - 2 / (e^(2|x|) + 1) and erf is 1 - erfc(|x|)
(xact.catalogue._blocks.erfc32_parts), which do not cancel there. Targets come
from mpmath at 40 digits on Chebyshev nodes; coefficients are fitted by
tools/fit_erfc.py's minimax and rounded to float32 one at a time, refitting the
rest. Printed: the coefficients (ascending) and each fit's max relative error.
"""

from __future__ import annotations

import mpmath
import numpy as np
from fit_erfc import chebyshev_nodes, fit_float32

mpmath.mp.dps = 40
TANH_SMALL = 0.625
ERF_SMALL = 1.0


def fit_tanh(degree: int) -> tuple[list[float], float]:
    x = chebyshev_nodes(1e-4, TANH_SMALL + 0.001, 2000)
    t = np.array([float(mpmath.tanh(mpmath.mpf(v))) for v in x])
    target = (t - x) / x**3  # T(z) = (tanh x - x) / x^3
    weight = x**3 / t  # an error in T moves tanh by x^3 dT: weighted relative to tanh
    return fit_float32(np.vander(x * x, degree + 1, increasing=True), target, weight)


def fit_erf(degree: int) -> tuple[list[float], float]:
    x = chebyshev_nodes(1e-4, ERF_SMALL + 0.001, 2000)
    ratio = [mpmath.erf(mpmath.mpf(v)) / v for v in x]
    c = 2 / mpmath.sqrt(mpmath.pi)
    z = x * x
    target = np.array([float((r - c) / mpmath.mpf(zv)) for r, zv in zip(ratio, z)])  # E(z)
    weight = z / np.array([float(r) for r in ratio])  # an error in E moves erf(x)/x by z dE
    return fit_float32(np.vander(z, degree + 1, increasing=True), target, weight)


if __name__ == "__main__":
    for name, fit, degree in (("_TANH32_SMALL", fit_tanh, 5), ("_ERF32_NEAR_0", fit_erf, 5)):
        c, err = fit(degree)
        print(f"# {name}, degree {degree} in x^2: max error {err:.3g} relative ({err / 2**-24:.3f} x 2^-24)")
        print(f"{name} = (" + ", ".join(repr(v) for v in c) + ")")
