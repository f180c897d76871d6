"""Function-driven sampling: where a spec's intermediates cross the dtype's thresholds.

A fixed grid misses the narrow bands where one intermediate of a formula is
subnormal (flushed to zero by TensorFlow's CPU kernels), overflows, or
underflows to zero while the result is still a normal number: silu's ``e^x``
on [-103.9, -87.3] in float32, gelu_tanh's ``e^(2u)`` near x = -10. This
module finds them from the spec itself: it runs ``fn`` and ``grad`` on the
NumPy namespace of the compute dtype with every intermediate array recorded
(:class:`_Traced`, through ``__array_ufunc__`` and the namespace's functions),
classifies each intermediate value as zero, subnormal, normal, inf or NaN on
a coarse logarithmic grid of both signs, refines every interval where a class
changes, and returns dense points over each band where some intermediate is
subnormal or zero while the output is not, plus points next to every class
boundary. Framework-free: NumPy only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from xact._call import call_fn, call_grad
from xact.spec import Spec
from xact.testing._floats import FORMATS, round_to

__all__ = ["band_points"]

#: coarse grid: log-spaced magnitudes per sign; refinement: points per interval, passes
COARSE = 600
REFINE = 24
PASSES = 2
#: points per band, and at most this many in all per dtype
PER_BAND = 96
MAX_POINTS = 1024


class _Traced(np.ndarray):
    """An ndarray that records every floating result computed from it."""

    log: list[np.ndarray]

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        args = [np.asarray(a) if isinstance(a, _Traced) else a for a in inputs]
        out = getattr(ufunc, method)(*args, **kwargs)
        return _wrap(out)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return _wrap(func(*_strip(args), **_strip(kwargs)))


_LOG: list[np.ndarray] = []
_SHAPE: list[tuple[int, ...]] = [()]


def _strip(v: Any) -> Any:
    if isinstance(v, _Traced):
        return np.asarray(v)
    if isinstance(v, (list, tuple)):
        return type(v)(_strip(a) for a in v)
    if isinstance(v, dict):
        return {k: _strip(a) for k, a in v.items()}
    return v


def _wrap(out: Any) -> Any:
    if isinstance(out, tuple):
        return tuple(_wrap(o) for o in out)
    if isinstance(out, np.ndarray) and out.dtype.kind == "f":
        if out.shape == _SHAPE[0]:
            _LOG.append(np.array(out, dtype=np.float64))
        return out.view(_Traced)
    return out


class _TracingNamespace:
    """The NumPy namespace with every function's result recorded and kept traced."""

    def __init__(self, ns: Any) -> None:
        self._ns = ns

    def __getattr__(self, name: str) -> Any:
        v = getattr(self._ns, name)
        if not callable(v) or isinstance(v, type):
            return v

        def f(*args: Any, **kwargs: Any) -> Any:
            return _wrap(v(*_strip(args), **_strip(kwargs)))

        return f


def _classes(v: np.ndarray, tiny: float) -> np.ndarray:
    a = np.abs(v)
    return np.select([np.isnan(v), np.isinf(v), a == 0, a < tiny], [4, 3, 0, 1], default=2).astype(np.int8)


def _trace(spec: Spec, x: np.ndarray, params: Mapping[str, float], dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """(intermediate classes (k, n), output classes (2, n)) at ``x`` in ``dtype``."""
    from xact.ops.numpy import namespace

    tiny = float(np.finfo(dtype).tiny)
    ns = _TracingNamespace(namespace(dtype))
    xt = np.asarray(x, dtype=dtype).view(_Traced)
    _LOG.clear()
    _SHAPE[0] = xt.shape
    with np.errstate(all="ignore"):
        try:
            v = call_fn(spec, xt, params, ns)
            g = call_grad(spec, xt, params, ns)[0]
        except Exception:  # a spec the tracer cannot run: no bands, the fixed grid still runs
            _LOG.clear()
            return np.zeros((0, len(x)), np.int8), np.zeros((2, len(x)), np.int8)
    inter = np.array([_classes(a, tiny) for a in _LOG]) if _LOG else np.zeros((0, len(x)), np.int8)
    outs = np.array([_classes(np.broadcast_to(np.asarray(o, dtype=np.float64), x.shape), tiny) for o in (v, g)])
    _LOG.clear()
    return inter, outs


def _fill_zeros(c: np.ndarray) -> np.ndarray:
    """Each zero class replaced by the last nonzero class before it (per row).

    Exact zeros are common and harmless (the low part of an exact product, an
    unused branch), so only transitions between subnormal, normal, inf and NaN
    count; a value that underflows shows as its subnormal band.
    """
    if not c.size:
        return c
    n = c.shape[1]
    idx = np.where(c != 0, np.arange(n)[None, :], 0)
    np.maximum.accumulate(idx, axis=1, out=idx)
    return np.take_along_axis(c, idx, axis=1)


def _coarse(fmt_max: float) -> np.ndarray:
    m = np.geomspace(2.0**-20, fmt_max * (1 - 2.0**-20), COARSE)
    return np.concatenate([-m[::-1], [0.0], m])


def band_points(spec: Spec, params: Mapping[str, float], dtype: str) -> np.ndarray:
    """Points of ``dtype`` (as float64) in every threshold band of ``spec``'s intermediates."""
    compute = np.dtype("float32" if dtype in ("float16", "bfloat16") else dtype)
    cmax = float(np.finfo(compute).max)
    x = _coarse(cmax)
    inter, outs = _trace(spec, x, params, compute)
    inter = _fill_zeros(inter)
    if not inter.size:
        return np.zeros(0)
    # refine every interval where some intermediate changes class
    for _ in range(PASSES):
        change = (inter[:, 1:] != inter[:, :-1]).any(axis=0)
        idx = np.nonzero(change)[0]
        if not len(idx) or len(idx) > 400:
            idx = idx[:400]
        if not len(idx):
            break
        t = np.linspace(0.0, 1.0, REFINE + 2)[1:-1]
        new = (x[idx, None] + (x[idx + 1, None] - x[idx, None]) * t[None, :]).ravel()
        x = np.unique(np.concatenate([x, new]))
        inter, outs = _trace(spec, x, params, compute)
        inter = _fill_zeros(inter)
    # bands: some intermediate subnormal while an output is a normal nonzero number
    weak = (inter == 1).any(axis=0) & (outs == 2).any(axis=0)
    # and a result that under/overflows where a neighbour does not (boundaries)
    boundary = np.zeros(len(x), dtype=bool)
    ch = (inter[:, 1:] != inter[:, :-1]).any(axis=0) | (outs[:, 1:] != outs[:, :-1]).any(axis=0)
    boundary[:-1] |= ch
    boundary[1:] |= ch
    pts: list[np.ndarray] = []
    # contiguous runs of `weak`
    edges = np.diff(np.concatenate([[0], weak.astype(np.int8), [0]]))
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0] - 1
    for s, e in zip(starts, ends):
        lo, hi = x[max(s - 1, 0)], x[min(e + 1, len(x) - 1)]
        pts.append(np.linspace(lo, hi, PER_BAND))
    bx = x[boundary]
    pts.append(bx)
    if not pts:
        return np.zeros(0)
    out = np.concatenate(pts)
    out = round_to(FORMATS[dtype], out)
    out = np.unique(out[np.isfinite(out) & (np.abs(out) <= FORMATS[dtype].max)])
    if len(out) > MAX_POINTS:
        out = out[np.linspace(0, len(out) - 1, MAX_POINTS).astype(int)]
    return out
