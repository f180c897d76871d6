"""XLA's own functions where one input transform makes them accurate (shared by ops/jax.py and ops/tf.py).

Written with arithmetic operators only, on arrays of either framework; the
caller passes that framework's ``erfc`` and ``exp``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# XLA's float64 erfc evaluates e^(-x*x) with x*x rounded, and erfc's tail multiplies
# that rounding by 2 x^2: up to 369 ULP at x = 26 (gelu's tail under jax, measured
# against mpmath; the same kernel serves TF's XLA-compiled bodies). At arguments with
# at most 26 significant bits x*x is exact and XLA's erfc is within 2 ULP (measured
# at x = 1.5, 3, 5, 10, 20, 26). So erfc(x) = erfc(a + d), with a = x rounded to 26
# bits (Veltkamp's split) and |d| <= 2^-27 |x|, is XLA's erfc(a) minus the Taylor
# term (2/sqrt pi) e^(-a^2) (d - a d^2 + 2/3 a^2 d^3): for |x| <= 28 the next term is
# below 1e-20 of the value. Clipped to [-6, 28], where erfc is 2 and 0 to the last bit.
# With the series below: within 5 ULP on [-6, 27] (12,000 points against mpmath,
# jax.jit and TF's jit_compile alike; XLA's own erfc was 509 ULP off there).
_SPLIT_26 = 134217729.0  # 2^27 + 1
_TWO_OVER_SQRT_PI = 1.1283791670955126
_UP, _DOWN = 2.0**512, 2.0**-512


# Below 1 XLA's float64 erfc is 1 - erf(x), which cancels as erf nears 1: 8 ULP on
# [0.875, 1) (8,001 points on [0, 2] against mpmath). There the Taylor series of erfc
# at 3/4, degree 18 (tools/taylor_erfc.py: truncation 2.4e-19 relative, 1.2e-16 with
# the coefficients rounded to doubles), serves x in [1/2, 1].
_TAYLOR_AT_3_4 = (0.28884436634648486, -0.6429310691952074, 0.4821983018964055, -0.026788794549800304,
                  -0.1506869693426267, 0.053242729167728105, 0.026872509532768433, -0.018435235177909452,
                  -0.0023017883040209273, 0.00396826044637477, -0.00018603225735249506,
                  -0.0006239836743132585, 0.00010618466494862627, 7.57456209347206e-05,
                  -2.2117975642824626e-05, -7.166231694301993e-06, 3.252264713003685e-06,
                  5.034286680771006e-07, -3.820585027845882e-07)


def erfc_float64(x: Any, erfc: Callable[[Any], Any], exp: Callable[[Any], Any],
                 clip: Callable[[Any, float, float], Any], where: Callable[[Any, Any, Any], Any]) -> Any:
    """erfc of a float64 array: XLA's ``erfc`` at an argument whose square is exact, a series on [1/2, 1]."""
    x = clip(x, -6.0, 28.0)
    near = (x >= 0.5) & (x <= 1.0)
    t = where(near, x - 0.75, 0.0 * x)
    acc = 0.0 * x + _TAYLOR_AT_3_4[-1]
    for c in reversed(_TAYLOR_AT_3_4[:-1]):
        acc = acc * t + c
    return where(near, acc, _erfc_split(x, erfc, exp))


def _erfc_split(x: Any, erfc: Callable[[Any], Any], exp: Callable[[Any], Any]) -> Any:
    c = x * _SPLIT_26
    a = c - (c - x)
    d = x - a
    ad = a * d
    series = d * (1.0 - ad + (2.0 / 3.0) * (ad * ad))
    # The Taylor term is ~1e-5 of the value: near erfc's underflow (x > 26.3) it is
    # subnormal and XLA flushes it, so both terms are taken 2^512 times larger (exact).
    return (erfc(a) * _UP - (_TWO_OVER_SQRT_PI * (exp(-(a * a)) * _UP)) * series) * _DOWN
