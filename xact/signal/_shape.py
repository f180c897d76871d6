"""What a spec's graph looks like, found numerically from its NumPy reference.

Jumps (discontinuities of phi), the largest slope, boundedness and the
Gaussian mass where the declared derivative is zero. Everything here reads
the spec through ``xact.numpy`` in float64 and nothing else, so it works for
any spec that the NumPy adapter runs, declared kinks or not.

A jump is found in two steps: a scan on a fine grid flags steps of phi much
larger than the declared slope allows, then each flagged step is bisected
down to two adjacent floats. A real jump keeps its size all the way down; a
steep but continuous stretch shrinks to nothing and is dropped. So a jump the
declared derivative ignores (spiky at k + 1/2) is found, and a wrong declared
derivative cannot invent one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from xact.errors import DiagnosisError
from xact.signal._quad import normal_mass
from xact.spec import Spec

SCAN = 64.0  # jumps are looked for in [-SCAN, SCAN]; beyond, quadrature copes unaided
_STEP = 1.0 / 512.0


@dataclass(frozen=True)
class Fn:
    """phi and phi' of one spec at fixed parameter values, on float64 arrays."""

    spec: Spec
    params: tuple[tuple[str, float], ...]

    def phi(self, x: np.ndarray) -> np.ndarray:
        from xact import numpy as xnp

        params: dict[str, Any] = dict(self.params)
        return xnp.apply(self.spec, np.asarray(x, dtype=np.float64), **params)

    def dphi(self, x: np.ndarray) -> np.ndarray:
        from xact import numpy as xnp

        params: dict[str, Any] = dict(self.params)
        return xnp.grad(self.spec, np.asarray(x, dtype=np.float64), **params)

    @property
    def label(self) -> str:
        ps = ", ".join(f"{k}={v:g}" for k, v in self.params)
        return f"{self.spec.name}({ps})" if ps else self.spec.name

    @functools.cached_property
    def kinks(self) -> tuple[float, ...]:
        return tuple(sorted(self.spec.kinks_at(**dict(self.params))))

    @functools.cached_property
    def jumps(self) -> tuple[tuple[float, float], ...]:
        return find_jumps(self.phi, self.dphi)

    @property
    def breaks(self) -> tuple[float, ...]:
        """Points in x where phi or phi' may be non-smooth."""
        return tuple(sorted({*self.kinks, *(x for x, _ in self.jumps)}))


@functools.lru_cache(maxsize=256)
def function(spec: Spec, params: tuple[tuple[str, float], ...]) -> Fn:
    return Fn(spec, params)


def resolve(activation: str | Spec, params: dict[str, Any]) -> Fn:
    """The spec and its parameter values (defaults filled, numbers only)."""
    from xact._call import resolve as resolve_call

    call = resolve_call(activation, "auto", params)
    values = []
    for k, v in call.params.items():
        try:
            values.append((k, float(v)))
        except (TypeError, ValueError):
            raise DiagnosisError(
                f"{call.spec.name!r}: parameter {k}={v!r} must be a number for a diagnosis "
                "(a per-channel tensor has no single gain; diagnose one value at a time)"
            ) from None
    return function(call.spec, tuple(values))


def find_jumps(
    phi: Callable[[np.ndarray], np.ndarray], dphi: Callable[[np.ndarray], np.ndarray]
) -> tuple[tuple[float, float], ...]:
    """(x, phi(x+) - phi(x-)) for every jump of phi in [-SCAN, SCAN]."""
    x = np.arange(-SCAN, SCAN + _STEP / 2, _STEP)
    with np.errstate(all="ignore"):
        y = np.asarray(phi(x), dtype=np.float64)
        dy = np.abs(np.asarray(dphi(x), dtype=np.float64))
        step = np.abs(np.diff(y))  # inf - inf where phi overflows: NaN, not flagged
    slope = np.fmax(dy[:-1], dy[1:])
    slope = np.where(np.isfinite(slope), slope, 0.0)
    scale = 1e-9 * (1.0 + np.fmax(np.abs(y[:-1]), np.abs(y[1:])))
    flagged = np.nonzero(np.isfinite(step) & (step > 4.0 * _STEP * slope + scale))[0]
    if flagged.size == 0:
        return ()
    a, b = x[flagged].copy(), x[flagged + 1].copy()
    ya, yb = y[flagged].copy(), y[flagged + 1].copy()
    for _ in range(80):
        m = 0.5 * (a + b)
        moving = (m > a) & (m < b)
        if not moving.any():
            break
        with np.errstate(all="ignore"):
            ym = np.asarray(phi(m), dtype=np.float64)
        left = np.abs(ym - ya) >= np.abs(yb - ym)
        b = np.where(moving & left, m, b)
        yb = np.where(moving & left, ym, yb)
        a = np.where(moving & ~left, m, a)
        ya = np.where(moving & ~left, ym, ya)
    size = yb - ya
    real = np.abs(size) > 1e-6 * (1.0 + np.fmax(np.abs(ya), np.abs(yb)))
    # A jump at a float x: report the nicer of the two adjacent floats.
    where = np.where(np.abs(np.round(a * 2**20) - a * 2**20) <= np.abs(np.round(b * 2**20) - b * 2**20), a, b)
    return tuple((float(w), float(s)) for w, s in zip(where[real], size[real]))


_REACH = np.array([1.0, 4.0, 16.0, 64.0, 1e3, 1e5, 1e8])


def _wide_grid(fn: Fn, limit: float) -> np.ndarray:
    core = np.linspace(-min(limit, 64.0), min(limit, 64.0), 2**15 + 1)
    far = np.geomspace(1.0, limit, 400)
    eps = np.array([k + d for k in fn.kinks for d in (-1e-9, 0.0, 1e-9)])
    return np.concatenate([core, far, -far, eps])


def lipschitz(fn: Fn) -> float:
    """max |phi'(x)| over the line (declared derivative; ``inf`` when it grows unbounded)."""
    near = _sup(fn.dphi, fn, 1e3, absolute=True)
    far = _sup(fn.dphi, fn, 1e8, absolute=True)
    if not np.isfinite(far) or far > near * (1 + 1e-6) + 1e-12:
        return float("inf")
    return float(far)


def _sup(f: Callable[[np.ndarray], np.ndarray], fn: Fn, limit: float, *, absolute: bool = False, sign: float = 1.0) -> float:
    x = _wide_grid(fn, limit)
    with np.errstate(all="ignore"):
        v = np.asarray(f(x), dtype=np.float64)
    v = np.abs(v) if absolute else sign * v
    v = v[~np.isnan(v)]
    return float(v.max()) if v.size else float("nan")


def bounded(fn: Fn) -> tuple[bool, bool]:
    """(bounded above, bounded below): the sup does not keep growing out to |x| = 1e8."""
    out = []
    for sign in (1.0, -1.0):
        near = _sup(fn.phi, fn, 1e3, sign=sign)
        far = _sup(fn.phi, fn, 1e8, sign=sign)
        out.append(bool(np.isfinite(far) and far <= near + 1e-6 * (1.0 + abs(near))))
    return out[0], out[1]


def dead_fraction(fn: Fn) -> float:
    """P(phi'(z) == 0) for z ~ N(0, 1), from the declared derivative."""
    x = np.linspace(-12.0, 12.0, 2**16 + 1)
    with np.errstate(all="ignore"):
        dead = np.asarray(fn.dphi(x), dtype=np.float64) == 0.0
    if not dead.any():
        return 0.0
    if dead.all():
        return 1.0
    change = np.nonzero(dead[1:] != dead[:-1])[0]
    edges = [_refine(fn, x[i], x[i + 1], bool(dead[i])) for i in change]
    bounds = [-np.inf, *edges, np.inf]
    start_dead = bool(dead[0])
    total = 0.0
    for k in range(len(bounds) - 1):
        if (k % 2 == 0) == start_dead:
            total += normal_mass(bounds[k], bounds[k + 1])
    return total


def _refine(fn: Fn, a: float, b: float, dead_at_a: bool) -> float:
    for _ in range(60):
        m = 0.5 * (a + b)
        if not a < m < b:
            break
        with np.errstate(all="ignore"):
            d = float(np.asarray(fn.dphi(np.array([m])))[0]) == 0.0
        if d == dead_at_a:
            a = m
        else:
            b = m
    return 0.5 * (a + b)
