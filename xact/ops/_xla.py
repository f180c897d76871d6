"""Accurate elementary functions for XLA-compiled code (shared by ops/jax.py and ops/tf.py).

XLA's own float32 tanh, erf and expm1 are 4-5 ULP off and its float64 erfc up
to 509 ULP; these are XLA's accurate kernels (exp, erfc at an exact square)
plus arithmetic. Written with operators only, on arrays of either framework;
the caller passes that framework's functions (or its ``xp`` namespace).
"""

from __future__ import annotations

import math
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


# ---------------------------------------------------------------- float32
# Measured on 400,001 points of [-10, 10] against mpmath, XLA's float32 tanh is
# 4.31 ULP off and its erf 4.98: each alone uses up the 4 ULP that torch, TF and
# jax may be apart (tanhexp and serf failed jax~TF). These use exp and
# arithmetic only, so they fuse like the rest of a body.

# tanh(x) = x + x^3 T(x^2) for |x| < 0.625 (tools/fit_xla32.py: 0.003 x 2^-24
# relative); beyond, 1 - 2 / (e^(2|x|) + 1), where the quotient is at most 1/2
# and carries exp's ~1 ULP, so the difference does not cancel.
_TANH32_SMALL_BELOW = 0.625
_TANH32_SMALL = (-0.3333333134651184, 0.13333220779895782, -0.05394817888736725, 0.021706894040107727,
                 -0.008190013468265533, 0.0021526836790144444)
# erf(x) = x (c + x^2 E(x^2)) for |x| < 1, c = 2/sqrt(pi) as two float32 numbers
# so its rounding does not show (tools/fit_xla32.py: 0.025 x 2^-24 relative);
# beyond, 1 - erfc(|x|) with xact's float32 erfc (3.8 ULP of erfc <= 0.157, so
# under one ULP of erf).
_ERF32_SMALL_BELOW = 1.0
_ERF32_NEAR_0 = (-0.3761262893676758, 0.11283603310585022, -0.026854202151298523, 0.005188598297536373,
                 -0.0008009398588910699, 7.842548802727833e-05)
_TWO_OVER_SQRT_PI_32 = (1.128379225730896, -5.8635382771399236e-08)
# expm1: XLA's float32 expm1 measured up to 5.2 ULP off (x = -0.133) and the
# float64 detour costs 2x (16.1 vs 8.1 ms per 4M elements in TF, where this costs
# 8.1). On |x| < 1/2 the Taylor series to x^10/10! (remainder below 3e-11
# relative, well under a float32 ULP; summed by Horner with terms that shrink,
# so rounding stays near one ULP); elsewhere e^x - 1, whose relative error is at
# most (e^x / |e^x - 1|) ULP of XLA's exp (about 1), below 1.6 there. Measured
# against NumPy float64 on 800,000 points of [-20, 20], +-[1e-30, 32]: at most
# 1.69 ULP (x = 1.0825), against 0.5 for the float64 detour.
_EXPM1_TAYLOR = tuple(1.0 / math.factorial(k) for k in range(1, 11))


def _horner(coefficients: tuple[float, ...], z: Any) -> Any:
    acc = 0.0 * z + coefficients[-1]
    for c in reversed(coefficients[:-1]):
        acc = acc * z + c
    return acc


def tanh_float32(x: Any, exp: Callable[[Any], Any], where: Callable[[Any, Any, Any], Any],
                 abs: Callable[[Any], Any]) -> Any:
    """tanh of a float32 array from XLA's exp: a polynomial near 0, 1 - 2/(e^(2|x|) + 1) beyond."""
    a = abs(x)
    small = a < _TANH32_SMALL_BELOW
    xs = where(small, x, 0.0 * x)
    z = xs * xs
    near = xs + xs * (z * _horner(_TANH32_SMALL, z))
    near = where(xs == 0.0, xs, near)  # at -0 the sum is -0 + +0 = +0
    far = 1.0 - 2.0 / (exp(2.0 * a) + 1.0)
    return where(small, near, where(x < 0.0, -far, far))


def erf_float32(x: Any, xp: Any) -> Any:
    """erf of a float32 array: a polynomial for |x| < 1, 1 - erfc(|x|) beyond (``xp``: the namespace)."""
    from xact.catalogue._blocks import erfc32_parts  # the catalogue's float32 erfc, one source

    a = xp.abs(x)
    small = a < _ERF32_SMALL_BELOW
    xs = xp.where(small, x, 0.0 * x)
    z = xs * xs
    hi, lo = _TWO_OVER_SQRT_PI_32
    near = xs * hi + xs * (lo + z * _horner(_ERF32_NEAR_0, z))
    near = xp.where(xs == 0.0, xs, near)  # at -0 the sum is -0 + +0 = +0
    far = 1.0 - erfc32_parts(xp.where(small, 1.0 + 0.0 * a, a), xp)[0]
    return xp.where(small, near, xp.where(x < 0.0, -far, far))


def erfc_float32(x: Any, xp: Any) -> Any:
    """erfc of a float32 array: the catalogue's float32 erfc (XLA's own is ~60 ULP off in the tail)."""
    from xact.catalogue._blocks import erfc32_parts

    return erfc32_parts(x, xp)[0]


def expm1_float32(x: Any, exp: Callable[[Any], Any], where: Callable[[Any, Any, Any], Any],
                  abs: Callable[[Any], Any]) -> Any:
    """expm1 of a float32 array: a Taylor series on |x| < 1/2, XLA's e^x - 1 beyond."""
    small = abs(x) < 0.5
    xs = where(small, x, 0.0 * x)
    return where(small, xs * _horner(_EXPM1_TAYLOR, xs), exp(x) - 1.0)
