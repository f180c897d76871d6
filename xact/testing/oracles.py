"""Oracles that do not share code with what they judge.

1. **High precision** (:func:`reference`). The spec's own ``fn``/``grad`` are run
   on an ``xp`` namespace over mpmath numbers (:class:`MPNamespace`, object
   arrays of ``mpf``; Python operators work elementwise on them). mpmath has
   an unbounded exponent range, so nothing overflows or underflows: a forward
   that overflows in float32 where the function is finite is caught by the
   difference. Each point is evaluated at two working precisions and again
   at a much higher one where they disagree after rounding to float64, so
   cancellation inside a formula cannot fake the reference. The result is a
   double-double ``(hi, lo)`` per point. A spec that does not take ``xp``, or
   that fails on mpmath numbers, falls back to NumPy float64 (``lo = 0``) and
   the report says so.

2. **The declared derivative** (:func:`derivative_check`). ``grad`` is compared
   with a central difference of ``fn`` computed in mpmath with an absolute
   step ``h = 2**-48`` at a working precision wide enough to hold ``x +- h``
   exactly (truncation error ~ h**2 |f'''| / 6 ~ 1e-29 |f'''|). Where they
   disagree, one-sided second-order differences on each side decide: if both
   sides agree with each other the point is smooth and the declared
   derivative is wrong; if they differ the point is a kink, and the declared
   value must equal one side (relu'(0) = 0 is the left derivative, elu'(0) = 1
   the right one). A kink that the spec does not declare is reported as a
   note. The same machinery checks ``grad2`` against a difference of ``grad``
   and each parameter partial against a difference in that parameter. In the
   float64 fallback a Richardson-extrapolated central difference is used with
   a correspondingly looser bound.

Neither framework is imported here.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
from mpmath.libmp import libmpf

from xact._call import call_fn, call_grad
from xact.ops import VOCABULARY
from xact.spec import Spec
from xact.testing._floats import FORMATS, ulp_distance

__all__ = [
    "DerivativeFinding",
    "MPNamespace",
    "Reference",
    "derivative_check",
    "reference",
]

_MPF = mpmath.mpf
_NAN = _MPF("nan")
_INF = _MPF("inf")

#: Base working precision (bits) of the reference; doubled for the convergence
#: check and raised to HIGH_PREC where the two disagree.
BASE_PREC = 160
HIGH_PREC = 1536
#: Absolute step of the high-precision central difference.
STEP_EXP = -48
#: Derivative agreement, in float64 ULPs, and the absolute floor near a root of
#: the derivative: the float64 gradient's own escape in the tolerance table
#: (4 eps). A declared derivative is a float64 formula; where f' is a sum of O(1)
#: terms that cancel, float64 resolves it only to a few eps, so a difference below
#: that (quick_gelu at x = -0.75: 5.5e-18, the rest of the double-word 1.702 left
#: out of one term) is not a wrong derivative in any dtype xact computes in.
DERIV_ULPS = 64.0
DERIV_ATOL = 4 * float(np.finfo(np.float64).eps)
#: Points for the parameter-partial and grad2 checks (a strided subsample of
#: the x-derivative's points: each parameter costs two more evaluations per point).
PARAM_POINTS = 512
#: Relative agreement in the float64 fallback (Richardson extrapolation).
FALLBACK_RTOL = 2.0**-20
FALLBACK_ATOL = 1e-9


# --------------------------------------------------------------------------- namespace


def _real(v: Any) -> Any:
    """IEEE-style result: complex results (log of a negative) become NaN."""
    if isinstance(v, mpmath.mpc):
        return v.real if v.imag == 0 else _NAN
    return v


def _mp(v: Any) -> Any:
    if isinstance(v, mpmath.mpf):
        return v
    if isinstance(v, float) and v != v:
        return _NAN
    if isinstance(v, (bool, np.bool_)):
        return _MPF(int(v))
    return _MPF(float(v)) if not isinstance(v, int) else _MPF(v)


def _unary(f: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def g(v: Any) -> Any:
        v = _mp(v)
        if mpmath.isnan(v):
            return _NAN
        try:
            return _real(f(v))
        except (ValueError, ZeroDivisionError):
            return _NAN  # IEEE: a domain error is NaN

    return np.frompyfunc(g, 1, 1)  # type: ignore[no-any-return]


def _binary(f: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def g(a: Any, b: Any) -> Any:
        a, b = _mp(a), _mp(b)
        if mpmath.isnan(a) or mpmath.isnan(b):
            return _NAN
        try:
            return _real(f(a, b))
        except (ValueError, ZeroDivisionError):
            return _NAN

    return np.frompyfunc(g, 2, 1)  # type: ignore[no-any-return]


def _pred(f: Callable[[Any], bool]) -> Callable[[Any], Any]:
    u = np.frompyfunc(lambda v: bool(f(_mp(v))), 1, 1)

    def g(x: Any) -> Any:
        return np.asarray(u(x), dtype=bool)

    return g


def _remainder(a: Any, b: Any) -> Any:
    if mpmath.isinf(a) or b == 0:
        return _NAN
    if mpmath.isinf(b):
        return a if (a >= 0) == (b > 0) or a == 0 else b
    return a - b * mpmath.floor(a / b)


def _logaddexp(a: Any, b: Any) -> Any:
    if mpmath.isinf(a) and a == b:
        return a
    m = a if a >= b else b
    if mpmath.isinf(m):
        return m
    return m + mpmath.log(_exp(a - m) + _exp(b - m))


def _power(a: Any, b: Any) -> Any:
    if a == 0 and b < 0:
        return _INF
    if a != 0 and mpmath.isfinite(a) and mpmath.isfinite(b):
        size = abs(b) * abs(mpmath.log(abs(a), 2)) if abs(a) != 1 else 0
        if size > 1e300:  # the result's exponent alone would not fit in memory
            big = (abs(a) > 1) == (b > 0)
            if a < 0 and b != mpmath.floor(b):
                return _NAN
            mag = _INF if big else _MPF(0)
            odd = a < 0 and b == mpmath.floor(b) and int(b) % 2 == 1
            return -mag if odd else mag
    return mpmath.power(a, b)


#: exp and its kin stay exact (mpmath's exponent is unbounded, so e**1e38 is a
#: finite number and log(1 + e**x) comes back finite, as the function is) for
#: every argument a float can hold. Only beyond that, where the argument itself
#: came out of another exp (e**(e**1e308)), is the result taken as its limit:
#: computing it would exhaust memory, and no dtype could tell the difference.
_HUGE_ARG = _MPF("1e310")  # (a float would be inf)
#: tanh(v) for |v| > 1e5 is 1 - 2e**(-2e5): 1 to every dtype.
_TANH_ONE = 1e5


def _exp(v: Any) -> Any:
    if v > _HUGE_ARG:
        return _INF
    if v < -_HUGE_ARG:
        return _MPF(0)
    return mpmath.exp(v)


def _expm1(v: Any) -> Any:
    if abs(v) > _HUGE_ARG:
        return _INF if v > 0 else _MPF(-1)
    return mpmath.expm1(v)


def _sinh(v: Any) -> Any:
    if abs(v) > _HUGE_ARG:
        return mpmath.sign(v) * _INF
    return mpmath.sinh(v)


def _cosh(v: Any) -> Any:
    return _INF if abs(v) > _HUGE_ARG else mpmath.cosh(v)


def _tanh(v: Any) -> Any:
    return mpmath.sign(v) * 1 if abs(v) > _TANH_ONE else mpmath.tanh(v)


def _erfc(v: Any) -> Any:
    """mpmath's erfc overflows a float inside for |v| > ~1e150; use the asymptote there.

    erfc(v) = e^(-v^2) / (v sqrt(pi)) (1 - 1/(2v^2) + ...): relative error below
    1e-12 for |v| >= 1e6, far below any dtype's resolution... and mpmath's
    unbounded exponent holds e^(-v^2).
    """
    if mpmath.isinf(v):
        return _MPF(0) if v > 0 else _MPF(2)
    if abs(v) < 1e6:
        return mpmath.erfc(v)
    a = abs(v)
    t = _exp(-a * a) / (a * mpmath.sqrt(mpmath.pi)) * (1 - 1 / (2 * a * a))
    return t if v > 0 else 2 - t


def _erf(v: Any) -> Any:
    if mpmath.isinf(v) or abs(v) >= 1e6:
        return mpmath.sign(v) * (1 - _erfc(abs(v)))
    return mpmath.erf(v)


def _maximum(a: Any, b: Any) -> Any:
    return a if a >= b else b


def _minimum(a: Any, b: Any) -> Any:
    return a if a <= b else b


class MPNamespace:
    """The ``xp`` vocabulary over mpmath numbers, elementwise on object arrays.

    Arrays are NumPy object arrays of ``mpf``, so a spec's ``x * y``,
    ``1.0 + e``, ``-x``, ``abs(x)`` and comparisons work unchanged; functions
    follow IEEE conventions where mpmath would raise or go complex (NaN for
    log of a negative, NaN propagates). Constants stay Python floats, exactly
    as the spec wrote them, so the reference measures rounding error, not the
    spelling of pi. ``finfo`` describes float64. There is no signed zero.
    """

    backend = "mpmath"
    pi = math.pi
    e = math.e
    inf = math.inf
    nan = math.nan

    abs = staticmethod(_unary(abs))
    exp = staticmethod(_unary(_exp))
    expm1 = staticmethod(_unary(_expm1))
    log = staticmethod(_unary(lambda v: _NAN if v < 0 else mpmath.log(v)))
    log1p = staticmethod(_unary(lambda v: _NAN if v < -1 else mpmath.log1p(v)))
    sqrt = staticmethod(_unary(lambda v: _NAN if v < 0 else mpmath.sqrt(v)))
    square = staticmethod(_unary(lambda v: v * v))
    tanh = staticmethod(_unary(_tanh))
    sinh = staticmethod(_unary(_sinh))
    cosh = staticmethod(_unary(_cosh))
    sin = staticmethod(_unary(lambda v: _NAN if mpmath.isinf(v) else mpmath.sin(v)))
    cos = staticmethod(_unary(lambda v: _NAN if mpmath.isinf(v) else mpmath.cos(v)))
    tan = staticmethod(_unary(lambda v: _NAN if mpmath.isinf(v) else mpmath.tan(v)))
    arctan = staticmethod(_unary(mpmath.atan))
    arcsinh = staticmethod(_unary(mpmath.asinh))
    arctanh = staticmethod(
        _unary(lambda v: _NAN if abs(v) > 1 else (mpmath.sign(v) * _INF if abs(v) == 1 else mpmath.atanh(v)))
    )
    erf = staticmethod(_unary(_erf))
    erfc = staticmethod(_unary(_erfc))
    sign = staticmethod(_unary(mpmath.sign))
    floor = staticmethod(_unary(lambda v: v if mpmath.isinf(v) else mpmath.floor(v)))
    ceil = staticmethod(_unary(lambda v: v if mpmath.isinf(v) else mpmath.ceil(v)))
    isfinite = staticmethod(_pred(mpmath.isfinite))
    isnan = staticmethod(_pred(mpmath.isnan))
    isinf = staticmethod(_pred(mpmath.isinf))
    logical_and = staticmethod(np.logical_and)
    logical_or = staticmethod(np.logical_or)
    logical_not = staticmethod(np.logical_not)

    _power = staticmethod(_binary(_power))
    _remainder = staticmethod(_binary(_remainder))
    _logaddexp = staticmethod(_binary(_logaddexp))
    _maximum = staticmethod(_binary(_maximum))
    _minimum = staticmethod(_binary(_minimum))
    _to_mp_raw = staticmethod(np.frompyfunc(_mp, 1, 1))

    @classmethod
    def _to_mp(cls, a: Any) -> Any:
        with np.errstate(all="ignore"):  # NaN inputs set the invalid flag
            return cls._to_mp_raw(a)

    def asarray(self, v: Any) -> Any:
        a = np.asarray(v)
        return a if a.dtype == object else self._to_mp(a)

    def power(self, a: Any, b: Any) -> Any:
        return self._power(a, b)

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        return self.asarray(np.where(np.asarray(cond, dtype=bool), self.asarray(a), self.asarray(b)))

    def maximum(self, a: Any, b: Any) -> Any:
        return self._maximum(a, b)

    def minimum(self, a: Any, b: Any) -> Any:
        return self._minimum(a, b)

    def clip(self, x: Any, lo: Any, hi: Any) -> Any:
        if lo is not None:
            x = self._maximum(x, lo)
        if hi is not None:
            x = self._minimum(x, hi)
        return x

    def remainder(self, a: Any, b: Any) -> Any:
        return self._remainder(a, b)

    def logaddexp(self, a: Any, b: Any) -> Any:
        return self._logaddexp(a, b)

    def zeros_like(self, x: Any) -> Any:
        return self.full_like(x, 0.0)

    def ones_like(self, x: Any) -> Any:
        return self.full_like(x, 1.0)

    def full_like(self, x: Any, v: float) -> Any:
        out = np.empty(np.shape(x), dtype=object)
        out[...] = _mp(v)
        return out

    def finfo(self, dtype_or_array: Any = None) -> Any:
        return np.finfo(np.float64)


MP = MPNamespace()
_missing = [n for n in VOCABULARY if not hasattr(MP, n)]
assert not _missing, f"MPNamespace lacks {_missing}"  # the vocabulary grew


# --------------------------------------------------------------------------- evaluation


def _to_hi_lo(values: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Round mpmath values to nearest float64 ``hi`` plus the remainder ``lo``."""
    arr = np.asarray(values, dtype=object)
    if arr.shape != (n,):
        arr = np.broadcast_to(arr, (n,))
    hi = np.empty(n)
    lo = np.zeros(n)
    for i, v in enumerate(arr):
        v = _mp(v) if not isinstance(v, (mpmath.mpf, mpmath.mpc)) else _real(v)
        h = libmpf.to_float(v._mpf_, rnd=libmpf.round_nearest)
        hi[i] = h
        if math.isfinite(h) and mpmath.isfinite(v):
            lo[i] = libmpf.to_float((v - h)._mpf_, rnd=libmpf.round_nearest)
    return hi, lo


Evaluator = Callable[[Any, Mapping[str, Any], Any], Sequence[Any]]


def _evaluator(spec: Spec, what: str) -> Evaluator:
    """``(x, params, xp) -> [arrays]`` for fn, grad (all partials) or grad2."""
    if what == "fn":
        return lambda x, p, xp: [call_fn(spec, x, p, xp)]
    if what == "grad":
        return lambda x, p, xp: list(call_grad(spec, x, p, xp))
    if what == "grad2":
        g2 = spec.grad2
        assert g2 is not None
        return lambda x, p, xp: [g2(x, **p, xp=xp) if spec.takes_xp else g2(x, **p)]
    raise ValueError(what)


def _mp_eval(ev: Evaluator, xs: np.ndarray, params: Mapping[str, Any], prec: int, nout: int) -> list[np.ndarray]:
    """Evaluate at ``prec`` bits; a point that raises is retried alone, then NaN-marked."""
    with mpmath.workprec(prec):
        x = MP._to_mp(np.asarray(xs, dtype=np.float64)) if not (
            isinstance(xs, np.ndarray) and xs.dtype == object
        ) else xs
        try:
            outs = ev(x, params, MP)
            return [np.asarray(np.broadcast_to(np.asarray(o, dtype=object), x.shape), dtype=object) for o in outs]
        except (ZeroDivisionError, OverflowError, ValueError, TypeError):
            if len(x) == 1:
                raise
        res = [np.empty(len(x), dtype=object) for _ in range(nout)]
        for i in range(len(x)):
            try:
                outs = ev(x[i : i + 1], params, MP)
                for k, o in enumerate(outs):
                    res[k][i] = np.broadcast_to(np.asarray(o, dtype=object), (1,))[0]
            except (ZeroDivisionError, OverflowError, ValueError, TypeError):
                for k in range(nout):
                    res[k][i] = None  # filled from float64 by the caller
        return res


def _f64_eval(ev: Evaluator, xs: np.ndarray, params: Mapping[str, Any]) -> list[np.ndarray]:
    from xact.ops.numpy import namespace

    with np.errstate(all="ignore"):
        outs = ev(np.asarray(xs, dtype=np.float64), dict(params), namespace(np.float64))
    return [np.broadcast_to(np.asarray(o, dtype=np.float64), np.shape(xs)).copy() for o in outs]


@dataclass
class Reference:
    """High-precision values of one spec at one parameter setting, by point.

    ``values[q]`` is ``(hi, lo)`` aligned with ``xs`` (sorted unique float64)
    for q in ``"value"``, ``"gradient"``, ``"param_gradient:<p>"``.
    ``kind`` is ``"mpmath"`` or ``"float64"`` (the fallback, with ``why``);
    ``fallback_points`` counts points that mpmath could not evaluate.
    """

    spec: Spec
    params: dict[str, float]
    xs: np.ndarray
    values: dict[str, tuple[np.ndarray, np.ndarray]]
    kind: str
    why: str = ""
    fallback_points: int = 0
    unconverged: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    #: the published definition (:mod:`xact.testing.references`) at ``xs``:
    #: ``{"value" | "gradient": (hi, lo, ok)}``; empty when the spec has none
    published: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    published_source: str = ""

    def lookup_published(self, quantity: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(hi, lo, found)`` of the published definition at ``x`` (found False where absent)."""
        hi_all, lo_all, ok_all = self.published[quantity]
        x = np.asarray(x, dtype=np.float64)
        idx = np.clip(np.searchsorted(self.xs, x), 0, len(self.xs) - 1)
        found = (self.xs[idx] == x) & ok_all[idx]
        return np.where(found, hi_all[idx], np.nan), np.where(found, lo_all[idx], 0.0), found

    def lookup(self, quantity: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(hi, lo, found)`` for points ``x``; ``found`` is False where not in ``xs``."""
        hi_all, lo_all = self.values[quantity]
        x = np.asarray(x, dtype=np.float64)
        idx = np.clip(np.searchsorted(self.xs, x), 0, len(self.xs) - 1)
        found = self.xs[idx] == x
        return np.where(found, hi_all[idx], np.nan), np.where(found, lo_all[idx], 0.0), found


def quantities(spec: Spec) -> list[str]:
    """The measured quantities of a spec: value, gradient and one per parameter."""
    return ["value", "gradient", *[f"param_gradient:{p}" for p in spec.params]]


def _can_run_mp(spec: Spec, params: Mapping[str, Any]) -> str:
    """Empty string when the spec runs on mpmath; otherwise why not."""
    if not spec.takes_xp:
        return "fn/grad take no `xp`, so they cannot run on mpmath numbers"
    try:
        for what in ("fn", "grad"):
            _mp_eval(_evaluator(spec, what), np.array([0.5, -1.25]), params, 64, 1 + len(spec.params))
    except Exception as e:  # the spec uses something outside the vocabulary
        return f"the spec fails on mpmath numbers ({type(e).__name__}: {e})"
    return ""


def reference(spec: Spec, xs: np.ndarray, params: Mapping[str, float] | None = None) -> Reference:
    """High-precision value, gradient and parameter partials of ``spec`` at ``xs``."""
    import time

    t0 = time.perf_counter()
    ps = {**spec.params, **(params or {})}
    xs = np.unique(np.asarray(xs, dtype=np.float64))  # sorted; NaN last
    qs = quantities(spec)
    why = _can_run_mp(spec, ps)
    f64 = {}
    f64_fn = _f64_eval(_evaluator(spec, "fn"), xs, ps)
    f64_gr = _f64_eval(_evaluator(spec, "grad"), xs, ps)
    for q, arr in zip(qs, [*f64_fn, *f64_gr]):
        f64[q] = arr
    if why:
        vals = {q: (f64[q], np.zeros_like(f64[q])) for q in qs}
        return Reference(spec, ps, xs, vals, "float64", why, seconds=time.perf_counter() - t0)
    nq = len(qs)
    out_hi = {q: np.empty(len(xs)) for q in qs}
    out_lo = {q: np.zeros(len(xs)) for q in qs}
    fallback = np.zeros(len(xs), dtype=bool)
    unconverged = np.zeros(len(xs), dtype=bool)

    def eval_all(sel: np.ndarray, prec: int) -> list[np.ndarray]:
        outs = _mp_eval(_evaluator(spec, "fn"), xs[sel], ps, prec, 1)
        outs += _mp_eval(_evaluator(spec, "grad"), xs[sel], ps, prec, nq - 1)
        return outs

    def split(outs: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
        his, los, bad = [], [], np.zeros(len(outs[0]), dtype=bool)
        for o in outs:
            missing = np.array([v is None for v in o], dtype=bool)
            bad |= missing
            o = np.where(missing, _MPF(0), o)
            hi, lo = _to_hi_lo(o, len(o))
            his.append(hi)
            los.append(lo)
        return his, los, bad

    every = np.ones(len(xs), dtype=bool)
    h1, _, bad1 = split(eval_all(every, BASE_PREC))
    h2, l2, bad2 = split(eval_all(every, 2 * BASE_PREC))
    differs = bad1 | bad2
    for a, b in zip(h1, h2):
        differs |= ulp_distance(FORMATS["float64"], a, b) > 1
    for k, q in enumerate(qs):
        out_hi[q][:] = h2[k]
        out_lo[q][:] = l2[k]
    if differs.any():
        sel = np.nonzero(differs)[0]
        h3, l3, bad3 = split(eval_all(differs, HIGH_PREC))
        for k, q in enumerate(qs):
            out_hi[q][sel] = h3[k]
            out_lo[q][sel] = l3[k]
            unconverged[sel] |= ulp_distance(FORMATS["float64"], h3[k], h2[k][sel]) > 1
        fallback[sel] = bad3
    if fallback.any():
        for q in qs:
            out_hi[q][fallback] = f64[q][fallback]
            out_lo[q][fallback] = 0.0
    unconverged &= ~fallback
    ref = Reference(
        spec, ps, xs, {q: (out_hi[q], out_lo[q]) for q in qs}, "mpmath",
        fallback_points=int(fallback.sum()), unconverged=int(unconverged.sum()),
        seconds=time.perf_counter() - t0,
    )
    if fallback.any():
        ref.notes.append(
            f"{int(fallback.sum())} point(s) raised on mpmath numbers (e.g. a division by "
            f"an exact zero) and use the float64 value, e.g. x={xs[fallback][0]!r}"
        )
    if unconverged.any():
        ref.notes.append(
            f"{int(unconverged.sum())} point(s) still change between {2 * BASE_PREC} and "
            f"{HIGH_PREC} bits (catastrophic cancellation in the formula), e.g. "
            f"x={xs[unconverged][0]!r}; the {HIGH_PREC}-bit value is used"
        )
    return ref


# --------------------------------------------------------------------------- derivatives


@dataclass
class DerivativeFinding:
    """Declared vs numerical derivative over a set of points, for one quantity.

    ``quantity`` is ``"gradient"``, ``"grad2"`` or ``"param_gradient:<p>"``.
    ``bad`` holds the points where the declared value is wrong, with
    ``declared`` and ``numerical`` there; ``worst`` indexes the worst one.
    ``undeclared_kinks`` lists non-smooth points the spec does not declare
    (where the declared value equals one one-sided derivative: not an error).
    """

    quantity: str
    method: str
    n: int
    xs: np.ndarray
    declared: np.ndarray
    numerical: np.ndarray
    err_ulps: np.ndarray
    bad: np.ndarray
    undeclared_kinks: list[float]
    tolerance: str

    @property
    def passed(self) -> bool:
        return not bool(self.bad.any())

    @property
    def worst(self) -> int:
        bad = self.bad
        both = bad & np.isfinite(self.declared) & np.isfinite(self.numerical)
        if both.any():  # a finite disagreement says more (its ratio) than an overflow at the edge
            bad = both
        e = np.where(bad, self.err_ulps, -1.0) if bad.any() else self.err_ulps
        e = np.where(np.isnan(e), np.inf, e)
        return int(np.argmax(e)) if len(e) else 0


def _close_hp(a_hi: np.ndarray, b_hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = ulp_distance(FORMATS["float64"], a_hi, b_hi)
    with np.errstate(all="ignore"):
        ok = (d <= DERIV_ULPS) | (np.abs(a_hi - b_hi) <= DERIV_ATOL)
    return ok, d


def _hp_stencil(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, offsets: Sequence[int], step: Any
) -> list[np.ndarray]:
    return [f(x + k * step) if k else f(x) for k in offsets]


def derivative_check(
    spec: Spec,
    xs: np.ndarray,
    params: Mapping[str, float] | None = None,
    *,
    declared_kinks: Sequence[float] = (),
    ref: Reference | None = None,
) -> tuple[list[DerivativeFinding], str]:
    """Check ``grad`` (and ``grad2``, and each parameter partial) numerically at ``xs``.

    Returns the findings and the method used (``"mpmath"`` or ``"float64"``).
    Non-finite points are skipped (their limits are checked elsewhere).
    """
    ps = {**spec.params, **(params or {})}
    xs = np.asarray(xs, dtype=np.float64)
    xs = np.unique(xs[np.isfinite(xs)])
    why = _can_run_mp(spec, ps)
    if why:
        return _derivative_check_f64(spec, xs, ps, declared_kinks), "float64"
    return _derivative_check_mp(spec, xs, ps, declared_kinks, ref), "mpmath"


def _exponent(v: np.ndarray) -> np.ndarray:
    """Binary exponent of float64 values; inf counts as huge, 0 and NaN as tiny."""
    v = np.abs(np.asarray(v, dtype=np.float64))
    _, e = np.frexp(np.where(np.isfinite(v) & (v > 0), v, 1.0))
    return np.where(np.isinf(v), 1100, np.where((v == 0) | np.isnan(v), -1100, e)).astype(np.int64)


def _precisions(xs: np.ndarray, e_f: np.ndarray, e_d: np.ndarray, wrt_param: bool) -> list[tuple[np.ndarray, int]]:
    """Index groups with a working precision that resolves the difference.

    Two needs: ``x +- h`` (or ``p +- h_p``) must be exact, and
    ``f(x+h) - f(x-h) ~ 2 h f'`` must keep 53+ bits next to ``|f|``; 64 bits
    of margin on top. Rounded up to multiples of 128 bits to form groups.
    """
    ex = np.maximum(_exponent(xs), 0)
    ratio = np.clip(e_f - e_d, 0, 3000)
    need = 64 + 53 + (-STEP_EXP) + np.maximum(ex, ratio) + (ex if wrt_param else 0)
    prec = (np.ceil(need / 128.0) * 128).astype(int)
    return [(np.nonzero(prec == p)[0], int(p)) for p in np.unique(prec)]


def _derivative_check_mp(
    spec: Spec, xs: np.ndarray, ps: dict[str, Any], kinks: Sequence[float], ref: Reference | None
) -> list[DerivativeFinding]:
    fn = _evaluator(spec, "fn")
    gr = _evaluator(spec, "grad")
    names = list(spec.params)
    jobs: list[tuple[str, Callable[[Any, dict[str, Any]], Any], Callable[[Any, dict[str, Any]], Any], str | None, str, str]] = [
        ("gradient", lambda x, p: fn(x, p, MP)[0], lambda x, p: gr(x, p, MP)[0], None, "value", "gradient")
    ]
    for i, pn in enumerate(names):
        jobs.append((f"param_gradient:{pn}", lambda x, p: fn(x, p, MP)[0],
                     (lambda i: lambda x, p: gr(x, p, MP)[1 + i])(i), pn, "value", f"param_gradient:{pn}"))  # noqa: B023  (called at once)
    if spec.grad2 is not None:
        g2 = _evaluator(spec, "grad2")
        jobs.append(("grad2", lambda x, p: gr(x, p, MP)[0], lambda x, p: g2(x, p, MP)[0], None, "gradient", ""))
    findings = []
    for quantity, f, d, wrt, fq, dq in jobs:
        pts = xs if quantity == "gradient" else _thin(xs, PARAM_POINTS)
        mags = []
        for q, fun in ((fq, f), (dq, d)):
            e = np.full(len(pts), np.iinfo(np.int64).min // 4, dtype=np.int64)
            todo = np.ones(len(pts), dtype=bool)
            if ref is not None and q in ref.values:
                hi, _, found = ref.lookup(q, pts)
                known = found & np.isfinite(hi)  # beyond float64, ask mpmath
                e[known] = _exponent(hi[known])
                todo = ~known
            if todo.any():
                with mpmath.workprec(64):
                    vals = _safe(functools.partial(fun, MP._to_mp(pts[todo]), ps), int(todo.sum()))
                e[todo] = [_mp_exponent(v) for v in vals]
            mags.append(e)
        findings.append(_one_derivative_mp(quantity, f, d, wrt, pts, ps, kinks, mags[0], mags[1]))
    return findings


def _mp_exponent(v: Any) -> int:
    """Binary exponent of an mpmath number (unbounded); tiny for 0 and NaN."""
    v = _mp(v) if not isinstance(v, mpmath.mpf) else v
    if mpmath.isinf(v):
        return 1 << 20
    if v == 0 or mpmath.isnan(v):
        return -(1 << 20)
    _, _, exp, bc = v._mpf_
    return int(max(-(1 << 20), min(1 << 20, exp + bc)))


def _thin(xs: np.ndarray, n: int) -> np.ndarray:
    """At most about ``n`` evenly strided points of the sorted ``xs``."""
    return xs[:: max(1, len(xs) // n)]


def _safe(f: Callable[[], Any], n: int) -> np.ndarray:
    try:
        out = f()
        return np.asarray(np.broadcast_to(np.asarray(out, dtype=object), (n,)), dtype=object)
    except (ZeroDivisionError, OverflowError, ValueError):
        return np.full(n, _NAN, dtype=object)


def _one_derivative_mp(
    quantity: str,
    f: Callable[[Any, dict[str, Any]], Any],
    d: Callable[[Any, dict[str, Any]], Any],
    wrt: str | None,
    xs: np.ndarray,
    ps: dict[str, Any],
    kinks: Sequence[float],
    e_f: np.ndarray,
    e_d: np.ndarray,
) -> DerivativeFinding:
    n = len(xs)
    declared = np.full(n, np.nan)
    central = np.full(n, np.nan)
    left = np.full(n, np.nan)
    right = np.full(n, np.nan)
    for idx, prec in _precisions(xs, e_f, e_d, wrt is not None):
        m = len(idx)
        with mpmath.workprec(prec):
            x = MP._to_mp(xs[idx])
            if wrt is None:
                h: Any = mpmath.ldexp(1, STEP_EXP)

                def shifted(sel: np.ndarray, k: int) -> np.ndarray:
                    xx = x[sel]  # noqa: B023  (called at once)
                    return _safe(lambda: f(xx + k * h if k else xx, ps), len(xx))  # noqa: B023  (called at once)
            else:
                # the step shrinks with |x|: a parameter usually scales x (sin(w x))
                p0 = _MPF(float(ps[wrt]))
                h = np.array([mpmath.ldexp(max(_MPF(1), abs(p0)), STEP_EXP) / max(_MPF(1), abs(v)) for v in x],
                             dtype=object)

                def shifted(sel: np.ndarray, k: int) -> np.ndarray:
                    xx, hh = x[sel], h[sel]  # noqa: B023  (called at once)
                    return _safe(lambda: f(xx, {**ps, wrt: p0 + k * hh if k else p0}), len(xx))  # noqa: B023  (called at once)

            every = np.ones(m, dtype=bool)
            dec = _safe(lambda: d(x, ps), m)  # noqa: B023  (called at once)
            cen = (shifted(every, 1) - shifted(every, -1)) / (2 * h)
            dh, _ = _to_hi_lo(dec, m)
            ch, _ = _to_hi_lo(cen, m)
            ok, _ = _close_hp(dh, ch)
            # an infinite derivative where f itself is infinite cannot be differenced
            ok |= np.isinf(dh) & np.isnan(ch)
            declared[idx], central[idx] = dh, ch
            sel = ~ok
            if sel.any():
                hb = h if wrt is None else h[sel]
                f0, f1, f2 = shifted(sel, 0), shifted(sel, 1), shifted(sel, 2)
                fm1, fm2 = shifted(sel, -1), shifted(sel, -2)
                r = (-3 * f0 + 4 * f1 - f2) / (2 * hb)
                lft = (3 * f0 - 4 * fm1 + fm2) / (2 * hb)
                k = int(sel.sum())
                right[idx[sel]] = _to_hi_lo(r, k)[0]
                left[idx[sel]] = _to_hi_lo(lft, k)[0]
    ok_c, d_c = _close_hp(declared, central)
    ok_c |= np.isinf(declared) & np.isnan(central)
    ok_l, _ = _close_hp(declared, left)
    ok_r, _ = _close_hp(declared, right)
    lr_agree, _ = _close_hp(left, right)
    # Wrong only if it matches neither the central difference nor a one-sided
    # one: the central stencil straddles a kink near one (or is fooled by a
    # piece that is exactly quadratic), a one-sided stencil on the far side is not.
    bad = ~ok_c & ~ok_l & ~ok_r
    kinkish = ~ok_c & ~lr_agree
    numerical = np.where(~ok_c & ~bad, np.where(ok_l, left, right), central)
    err = np.where(ok_c, d_c, ulp_distance(FORMATS["float64"], declared, numerical))
    step = 2.0 ** (STEP_EXP + 2)
    kinks_arr = np.asarray(list(kinks), dtype=np.float64)
    undeclared = []
    if wrt is None:
        for xv in xs[kinkish & ~bad]:
            if not len(kinks_arr) or np.min(np.abs(kinks_arr - xv)) > step:
                undeclared.append(float(xv))
    return DerivativeFinding(
        quantity=quantity, method="mpmath", n=n, xs=xs, declared=declared,
        numerical=numerical, err_ulps=err, bad=bad,
        undeclared_kinks=undeclared,
        tolerance=f"{DERIV_ULPS:g} float64 ULP or {DERIV_ATOL:g} absolute",
    )


def _richardson(shifted: Callable[[Any], np.ndarray], h0: Any, side: int) -> np.ndarray:
    """Richardson-extrapolated difference: central (side 0) or one-sided (+-1).

    ``shifted(t)`` is the function at the point moved by ``t``.
    """
    levels = 5
    f0 = shifted(0.0) if side else None
    table = []
    for i in range(levels):
        h = h0 / 2.0**i
        if side == 0:
            table.append((shifted(h) - shifted(-h)) / (2 * h))
        else:
            table.append(side * (shifted(side * h) - f0) / h)
    for k in range(1, levels):
        fac = 4.0**k if side == 0 else 2.0**k
        table = [(fac * table[i + 1] - table[i]) / (fac - 1) for i in range(len(table) - 1)]
    return table[0]


def _derivative_check_f64(
    spec: Spec, xs: np.ndarray, ps: dict[str, Any], kinks: Sequence[float]
) -> list[DerivativeFinding]:
    fn = _evaluator(spec, "fn")
    gr = _evaluator(spec, "grad")
    xs = xs[np.abs(xs) < 1e150]  # the difference needs f(x +- h) finite and resolvable
    findings = []
    jobs: list[tuple[str, int, str | None]] = [("gradient", 0, None)]
    jobs += [(f"param_gradient:{p}", 1 + i, p) for i, p in enumerate(spec.params)]
    if spec.grad2 is not None:
        jobs.append(("grad2", 0, None))
    kinks_arr = np.asarray(list(kinks), dtype=np.float64)

    def close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.abs(a - b) <= FALLBACK_ATOL + FALLBACK_RTOL * np.abs(b)

    for quantity, k, wrt in jobs:
        with np.errstate(all="ignore"):
            if quantity == "grad2":
                declared = _f64_eval(_evaluator(spec, "grad2"), xs, ps)[0]
                base = gr
            else:
                declared = _f64_eval(gr, xs, ps)[k]
                base = fn
            shifted: Callable[[Any], np.ndarray]
            if wrt is None:
                h0: Any = 2.0**-6 * np.maximum(1.0, np.abs(xs))
                shifted = functools.partial(_shift_x, base, xs, ps)
            else:
                p0 = float(ps[wrt])
                h0 = 2.0**-6 * max(1.0, abs(p0))
                shifted = functools.partial(_shift_param, fn, xs, ps, wrt, p0)

            cen = _richardson(shifted, h0, 0)
            ok = close(declared, cen) | (np.isnan(declared) & np.isnan(cen))
            left = np.full_like(xs, np.nan)
            right = np.full_like(xs, np.nan)
            kinkish = np.zeros(len(xs), dtype=bool)
            if (~ok).any() and wrt is None:
                # one-sided differences over all points, read where needed
                left = _richardson(shifted, h0 / 64, -1)
                right = _richardson(shifted, h0 / 64, 1)
                kinkish = ~ok & ~close(left, right)
            bad = ~ok & ~(kinkish & (close(declared, left) | close(declared, right)))
            numerical = np.where(kinkish & ~ok, np.where(close(declared, left), left, right), cen)
            err = ulp_distance(FORMATS["float64"], declared, numerical)
        undeclared = []
        for xv in xs[kinkish & ~bad]:
            if not len(kinks_arr) or np.min(np.abs(kinks_arr - xv)) > 2.0**-6 * max(1, abs(xv)):
                undeclared.append(float(xv))
        findings.append(DerivativeFinding(
            quantity=quantity, method="float64 Richardson", n=len(xs), xs=xs,
            declared=declared, numerical=np.where(bad & kinkish, cen, numerical),
            err_ulps=err, bad=bad, undeclared_kinks=undeclared,
            tolerance=f"relative {FALLBACK_RTOL:.1e} + absolute {FALLBACK_ATOL:g}",
        ))
    return findings


def limit_values(spec: Spec, params: Mapping[str, float] | None = None) -> dict[str, dict[float, tuple[float, float]]]:
    """The value and derivative as ``x -> +-inf``, from two huge finite points.

    For each quantity, ``{+inf: (a, b), -inf: (...)}``: ``a == b`` is the
    limit when 16 huge samples (around 2**1100 and 2**1101, beyond float64's
    range and not integers) all
    round to the same float64, as far as any dtype can tell; otherwise
    ``(nan, 0)``. Empty for specs that cannot run on mpmath.
    """
    ps = {**spec.params, **(params or {})}
    if _can_run_mp(spec, ps):
        return {}
    out: dict[str, dict[float, tuple[float, float]]] = {}
    # Huge but not integers (a huge float always is, which would fool a periodic
    # spec into a "limit"); beyond every dtype's range, so monotone functions
    # round to the same infinity at both.
    # 8 offsets spanning 7 units at two scales: an oscillation (sin(x), a
    # saw tooth) shows up as disagreement, so only true limits are held.
    with mpmath.workprec(1300):
        # offsets j * golden ratio: fractional parts spread over [0, 1), so a
        # function of period 1 (or any rational period) is sampled at many phases
        phi = (mpmath.sqrt(5) - 1) / 2
        pos = [mpmath.ldexp(1, e) + j * phi + _MPF(1) / 3 for e in (1100, 1101) for j in range(8)]
        big = np.array(pos + [-v for v in pos], dtype=object)
        try:
            vals = [*_evaluator(spec, "fn")(big, ps, MP), *_evaluator(spec, "grad")(big, ps, MP)]
        except Exception:
            return {}
    n = len(pos)
    for q, v in zip(quantities(spec), vals):
        hi, _ = _to_hi_lo(v, 2 * n)
        out[q] = {math.inf: _agreed(hi[:n]), -math.inf: _agreed(hi[n:])}
    return out


def _agreed(v: np.ndarray) -> tuple[float, float]:
    """(value, value) when every sample rounds to the same float64, else (nan, 0)."""
    same = bool(np.all(v == v[0])) or bool(np.all(np.isnan(v)))
    return (float(v[0]), float(v[0])) if same else (math.nan, 0.0)


def _shift_x(f: Evaluator, xs: np.ndarray, ps: Mapping[str, Any], t: Any) -> np.ndarray:
    """f(xs + t) in float64 (the step of a numerical derivative in x)."""
    return _f64_eval(f, xs + t, ps)[0]


def _shift_param(f: Evaluator, xs: np.ndarray, ps: Mapping[str, Any], wrt: str, p0: float, t: Any) -> np.ndarray:
    """f(xs) with parameter ``wrt`` moved to p0 + t, in float64."""
    return _f64_eval(f, xs, {**ps, wrt: p0 + float(t)})[0]
