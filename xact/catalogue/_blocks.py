"""Numerically careful building blocks shared by catalogue specs.

Each takes the array namespace ``xp`` like a spec does. They exist so that a
formula such as the logistic sigmoid is written once and reused by sigmoid,
softplus', silu, gelu_tanh and the rest.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def sigmoid(x: Any, xp: Any = np) -> Any:
    """1 / (1 + e^-x) without overflow: e = e^-|x|, r = 1/(1+e), then r or e*r.

    One division per element (a division costs several multiplications);
    measured against mpmath on 15,000 points per dtype, the worst error is the
    same as with two (2.8 ULP float32, 2 ULP float64, through NumPy's exp).
    """
    e = xp.exp(-xp.abs(x))
    r = 1.0 / (1.0 + e)
    return xp.where(x >= 0, r, e * r)


def sigmoid_prime(x: Any, xp: Any = np) -> Any:
    """sigmoid(x) * (1 - sigmoid(x)) = e / (1 + e)^2 with e = e^-|x|; no cancellation."""
    e = xp.exp(-xp.abs(x))
    return e / xp.square(1.0 + e)


def softplus(x: Any, xp: Any = np) -> Any:
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|); finite for every finite x."""
    return xp.maximum(x, 0.0) + xp.log1p(xp.exp(-xp.abs(x)))


def zero_at_neg_inf(x: Any, y: Any, xp: Any = np) -> Any:
    """``y`` with the limit 0 at x = -inf, where x * (something -> 0) gives NaN."""
    return xp.where(x == -xp.inf, 0.0, y)


def times_vanishing(x: Any, v: Any, xp: Any = np) -> Any:
    """``x * v`` for a factor ``v`` that decays faster than ``x`` grows; 0 at +-inf."""
    return xp.where(xp.isinf(x), 0.0, x * v)


def sech2(x: Any, xp: Any = np) -> Any:
    """sech(x)^2 = 1 - tanh(x)^2 as 4e / (1 + e)^2 with e = e^(-2|x|); no cancellation."""
    e = xp.exp(-2.0 * xp.abs(x))
    return 4.0 * e / xp.square(1.0 + e)


def polyval(coefficients: tuple[float, ...], x: Any, xp: Any = np) -> Any:
    """c0 + c1 x + c2 x^2 + ... by Horner's rule (coefficients in ascending order)."""
    acc = xp.full_like(x, coefficients[-1])
    for c in reversed(coefficients[:-1]):
        acc = acc * x + c
    return acc


def polyval_estrin(coefficients: tuple[float, ...], x: Any, xp: Any = np) -> Any:
    """c0 + c1 x + ... by Estrin's scheme: pairs c_k + c_(k+1) x, then powers x^2, x^4, ...

    The same value as :func:`polyval` to rounding, with a dependency chain of
    ~2 log2(n) operations instead of 2n: inside one fused kernel a long Horner
    chain is latency-bound (measured: a degree-11 Horner made a torch Inductor
    erfc kernel 2x slower than the same kernel with Estrin).
    """
    terms = [coefficients[k] + coefficients[k + 1] * x if k + 1 < len(coefficients) else xp.full_like(x, coefficients[k])
             for k in range(0, len(coefficients), 2)]
    power = x * x
    while len(terms) > 1:
        paired = [terms[k] + terms[k + 1] * power if k + 1 < len(terms) else terms[k] for k in range(0, len(terms), 2)]
        terms = paired
        if len(terms) > 1:
            power = power * power
    return terms[0]


# Beyond this |x|, x^2 + b rounds to x^2 in float64 for any b below 1e14, and
# x^2 still fits in float32; the asymptotic form below takes over.
_HYPOT_BIG = 1e15


def sqrt_x2_plus(x: Any, b: Any, xp: Any = np) -> Any:
    """sqrt(x^2 + b) without overflow of x^2: |x| sqrt(1 + b/x^2) for |x| >= 1e15."""
    ax = xp.abs(x)
    small = xp.sqrt(xp.square(xp.minimum(ax, _HYPOT_BIG)) + b)
    big = ax * xp.sqrt(1.0 + b / xp.square(xp.maximum(ax, _HYPOT_BIG)))
    return xp.where(ax < _HYPOT_BIG, small, big)


def inv_sqrt_1_plus(x: Any, alpha: Any, xp: Any = np) -> Any:
    """1 / sqrt(1 + alpha x^2); for |x| > 1 as |u| / sqrt(u^2 + alpha), u = 1/x (no overflow)."""
    big = xp.abs(x) > 1.0
    u = 1.0 / xp.where(big, x, 1.0)
    xs = xp.where(big, 0.0, x)
    return xp.where(big, xp.abs(u) / xp.sqrt(xp.square(u) + alpha), 1.0 / xp.sqrt(1.0 + alpha * xp.square(xs)))


def isru(x: Any, alpha: Any, xp: Any = np) -> Any:
    """x / sqrt(1 + alpha x^2); for |x| > 1 as sign(x) / sqrt(1/x^2 + alpha), finite at +-inf."""
    big = xp.abs(x) > 1.0
    u = 1.0 / xp.where(big, x, 1.0)
    xs = xp.where(big, 0.0, x)
    return xp.where(big, xp.sign(x) / xp.sqrt(xp.square(u) + alpha), xs / xp.sqrt(1.0 + alpha * xp.square(xs)))


def hard_clip(x: Any, lo: Any, hi: Any, xp: Any = np) -> Any:
    """min(max(x, lo), hi): the saturating linear piece shared by relu6 and hard_tanh."""
    return xp.minimum(xp.maximum(x, lo), hi)


def hard_clip_inside(x: Any, lo: Any, hi: Any, xp: Any = np) -> Any:
    """1 strictly inside (lo, hi), else 0: the slope of :func:`hard_clip`, 0 at both corners."""
    return xp.where((x > lo) & (x < hi), 1.0, 0.0)


# u e^u - expm1(u) = sum_{n>=2} (n - 1) u^n / n!; the series is used for |u| <= 1,
# where the direct form loses up to all digits to cancellation.
_UEU_SERIES = tuple(0.0 if n < 2 else (n - 1) / math.factorial(n) for n in range(22))


def u_exp_minus_expm1(u: Any, xp: Any = np) -> Any:
    """u e^u - (e^u - 1) without cancellation near 0; 1 at u = -inf, inf at +inf."""
    small = xp.abs(u) <= 1.0
    us = xp.where(small, u, 0.0)
    series = polyval(_UEU_SERIES, us, xp)
    direct = times_vanishing(u, xp.exp(u), xp) - xp.expm1(u)
    return xp.where(small, series, xp.where(u == xp.inf, xp.inf, direct))


# log1p(w) - w/(1 + w) = 2t^2/(1 + t) + 2 (atanh(t) - t) with t = w/(2 + w): the
# first term carries the value and the second never cancels it. atanh(t) - t
# = sum_{k>=1} t^(2k+1)/(2k+1) is summed as a series for |t| <= 1/4; for w > 1
# (t near 1, where atanh loses digits) the plain difference costs <= 2 bits.
_ATANH_SERIES = tuple(1.0 / (2 * k + 1) for k in range(1, 16))


def log1p_minus_ratio(w: Any, xp: Any = np) -> Any:
    """log(1 + w) - w / (1 + w) without cancellation near w = 0 (w > -1); inf at w = inf."""
    t = w / (2.0 + w)
    small = xp.abs(t) <= 0.25
    ts = xp.where(small, t, 0.0)
    tail = xp.where(small, ts * xp.square(ts) * polyval(_ATANH_SERIES, xp.square(ts), xp), xp.arctanh(t) - t)
    moderate = 2.0 * xp.square(t) / (1.0 + t) + 2.0 * tail
    wl = xp.maximum(w, 1.0)
    large = xp.log1p(wl) - (1.0 - 1.0 / (1.0 + wl))
    return xp.where(w > 1.0, large, moderate)


def _finfo(xp: Any, *likes: Any) -> Any:
    """The working precision: ``xp.finfo`` of the first array among ``likes``.

    xact's namespaces know their dtype and ignore the argument; plain NumPy
    (``xp=np``, the documented way to call a spec directly) needs the dtype.
    """
    for v in likes:
        dtype = getattr(v, "dtype", None)
        if dtype is not None:
            return xp.finfo(dtype)
    return np.finfo(np.float64)  # Python floats only


def _split_constant(info: Any) -> float:
    """Veltkamp's 2^ceil(p/2) + 1 for the precision p of ``info`` (a finfo)."""
    p = info.nmant + 1
    return float(2 ** ((p + 1) // 2) + 1)


def _split(a: Any, info: Any) -> tuple[Any, Any]:
    if isinstance(a, float):  # a Python constant: split it in the working dtype, not in float64
        t = info.dtype.type
        a = t(a)
        c = t(_split_constant(info)) * a
        hi = c - (c - a)
        return float(hi), float(a - hi)
    c = _split_constant(info) * a
    hi = c - (c - a)
    return hi, a - hi


def two_prod(a: Any, b: Any, xp: Any = np) -> tuple[Any, Any]:
    """(p, e) with p = fl(a*b) and p + e = a*b exactly (Dekker), for |a|, |b| well inside the range."""
    info = _finfo(xp, b, a)
    p = a * b
    ah, al = _split(a, info)
    bh, bl = _split(b, info)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def scale_exact(c: float, x: Any, xp: Any = np, c_lo: float = 0.0) -> tuple[Any, Any]:
    """(hi, lo) with hi + lo = (c + c_lo) * x to about twice the working precision.

    ``c`` is a Python float and ``c_lo`` the rest of a constant that no double
    holds (1/sqrt 2 = c + c_lo, c_lo ~ 1e-17): the constant is split at the
    working precision first, so neither its float64 rounding nor its working
    dtype rounding leaks into a result that amplifies it (e^(c x) for large
    |c x|). Keep |x| well inside the range (clamp first).
    """
    c_hi = float(np.asarray(c, dtype=_finfo(xp, x).dtype))
    hi, lo = two_prod(x, c_hi, xp)
    return hi, lo + ((c - c_hi) + c_lo) * x


def two_sum(a: Any, b: Any) -> tuple[Any, Any]:
    """(s, e) with s = fl(a + b) and s + e = a + b exactly (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def split_constant(c: Any, xp: Any, like: Any) -> tuple[Any, Any]:
    """A coefficient as hi + lo at the working precision (a tensor is its own hi)."""
    if isinstance(c, float):
        hi = float(np.asarray(c, dtype=_finfo(xp, like).dtype))
        return hi, c - hi
    return c, 0.0


def polyval_compensated(coefficients: tuple[Any, ...], x: Any, xp: Any = np) -> Any:
    """c0 + c1 x + ... by compensated Horner (Graillat et al.): as accurate as Horner in twice
    the precision, so a polynomial keeps its relative accuracy next to its roots.

    Coefficients (ascending) may be Python floats (split at the working
    precision, so their own rounding does not count) or arrays. Keep |x|
    moderate (the products are split).
    """
    # The leading coefficient stays a Python number (split in the working dtype by
    # two_prod) rather than a constant array: a compiler folds arithmetic on a
    # constant array in float64 (Inductor does), which turns Veltkamp's split of it
    # into (c, 0) and the product's error term into garbage (rational, fused, 977 ULP).
    h, err = split_constant(coefficients[-1], xp, x)
    for c in reversed(coefficients[:-1]):
        c_hi, c_lo = split_constant(c, xp, x)
        p, pe = two_prod(h, x, xp)
        h, se = two_sum(p, c_hi)
        err = err * x + (pe + se + c_lo)
    if len(coefficients) == 1:  # a constant: still an array of x's shape
        return xp.full_like(x, 0.0) + (h + err)
    return h + err


# (1 + 2a) erfcx(a) - 1 = R(q), q = (a - 2)/(a + 2), for a in [0, 10.1]: degree 11,
# fitted by tools/fit_erfc.py (max error 0.11 x 2^-24 relative to 1 + R).
_ERFCX32_R = (0.27697837352752686, -0.09276382625102997, -0.16602985560894012, 0.16405130922794342,
              -0.05422583222389221, -0.008034723810851574, 0.00874327216297388, 0.001272867782972753,
              -0.0014805160462856293, -0.00044211256317794323, 0.00020541013509500772,
              0.00010734285024227574)
# erfc(a) rounds to 0 in float32 from a = 10.06; the clip keeps a^2 and q finite
# (e^(-a^2) is 0 there, so the polynomial's value past its range never shows).
_ERFC32_CLIP = 16.0
# erf(h) / h = P(h^2) for |h| < 1/8, where erfc(h) = 1 - h P(h^2) is within 1/8 of 1
# and has its finest ULPs (tools/fit_erfc.py, degree 3: 0.02 x 2^-24 relative to erfc).
_ERFC32_SMALL_BELOW = 0.125
_ERF32_SMALL = (1.128379225730896, -0.37615516781806946, 0.1164112463593483, -0.15421882271766663)
_INV_SQRT_PI = 0.5641895835477563


def erfc32_parts(h: Any, xp: Any = np, lo: Any = None, scale: Any = None) -> tuple[Any, Any, Any]:
    """(erfc(h), g, e) in float32 from exp, abs, minimum, where, + - * / only.

    For |h| < 1/8, erfc(h) = 1 - h P(h^2) (a polynomial for erf; no cancellation
    within 1/8 of 1). Otherwise, with a = |h| (clipped at 16) and a^2 = s + e exactly (Dekker), g = e^(-s)
    and erfc(a) = g (1 - e) (1 + R(q)) / (1 + 2a), q = (a - 2)/(a + 2) (Juffa's
    erfcx form, no cancellation anywhere in [0, 10.06], beyond which float32
    erfc is 0); erfc(h) = 2 - erfc(a) for h < 0. The quotient is corrected by
    its exact residual (1 + R and 1 + 2a carried as hi + lo, the product
    y (1 + 2a) by two_prod), so only e^(-s) and the last product round
    visibly. g (1 - e) is e^(-h^2) for the caller (0 for |h| >= 16). NaN propagates.

    With ``lo`` (an array, |lo| << |h|), the first value is erfc(h + lo) to
    first order, erfc(h) - lo (2/sqrt pi) e^(-h^2), the correction folded into
    erfcx before the product with e^(-s). With ``scale`` (an array) it is
    scale * erfc, and for h >= 0 the scale multiplies e^(-s) first: erfc(h) is
    subnormal from h = 9.19 while x/2 erfc(-x/sqrt 2) is normal down to
    x = -13.2, and XLA on CPU flushes subnormal intermediates to 0.
    """
    a = xp.abs(h)
    ac = xp.minimum(a, _ERFC32_CLIP)
    s, e = two_prod(ac, ac, xp)
    g = xp.exp(-s)
    # Two independent reciprocals (their latencies overlap) instead of two
    # divisions in series; the residual below makes y exact to rounding anyway.
    d, d_lo = two_sum(1.0, 2.0 * ac)
    inv_d = 1.0 / d
    r = polyval_estrin(_ERFCX32_R, (ac - 2.0) * (1.0 / (ac + 2.0)), xp)
    n = 1.0 + r
    n_lo = (1.0 - n) + r  # exact: 0 <= r < 1
    y = n * inv_d
    p, p_lo = two_prod(y, d, xp)
    rho = ((n - p) - p_lo) + (n_lo - y * d_lo)  # (n + n_lo) - y (d + d_lo); n - p is exact
    # erfcx(a) (1 - e) = y (1 + rho / n - e); 1/n = 1/(1 + r) to r^3 (r < 0.25) suffices.
    erfcx = y + y * (rho * (1.0 - r + r * r) - e)
    small = a < _ERFC32_SMALL_BELOW
    hs = xp.where(small, h, 0.0)
    erf_small = hs * polyval(_ERF32_SMALL, hs * hs, xp)
    if lo is None:
        far, near = erfcx, erfcx
    else:  # erfc(h + lo) = erfc(h) - lo (2/sqrt pi) e^(-h^2); erfc(h) = 2 - e^(-s) erfcx for h < 0
        shift = lo * (2.0 * _INV_SQRT_PI)
        far, near = erfcx - shift, erfcx + shift
        erf_small = erf_small + shift  # e^(-h^2) = 1 to 2^-6 there; lo is ~2^-24 h
    if scale is None:
        return xp.where(small, 1.0 - erf_small, xp.where(h < 0.0, 2.0 - g * near, g * far)), g, e
    big = xp.where(h < 0.0, scale * (2.0 - g * near), (scale * g) * far)
    return xp.where(small, scale * (1.0 - erf_small), big), g, e


def erfc(h: Any, xp: Any = np) -> Any:
    """erfc(h): :func:`erfc32_parts` when the working dtype is float32, else ``xp.erfc``.

    float32 erfc as the frameworks compute it is slow (torch's vectorised
    Sleef erfcf) or up to ~60 ULP off (XLA); this one is exp and arithmetic
    that every framework fuses. Half types compute in float32.
    """
    if _finfo(xp, h).dtype == np.float32:
        return erfc32_parts(h, xp)[0]
    return xp.erfc(h)
