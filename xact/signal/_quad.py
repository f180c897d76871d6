"""Gaussian expectations E[g(z)], z ~ N(0, 1), of piecewise-smooth functions.

The integral runs over panels between break points (the spec's kinks and
jumps, mapped to z), each panel integrated by 20-point Gauss-Legendre and
bisected until the whole-panel and two-half estimates agree. Splitting at the
break points keeps every panel smooth, so convergence is geometric and 1e-13
relative is reached in a few rounds; a jump nobody declared is still found by
the bisection, only more slowly.

Why not ``numpy.polynomial.hermite_e.hermegauss``: Gauss-Hermite converges
geometrically only for functions smooth on the whole line; at a kink (relu)
it converges like n^-1.5, and it cannot be split. Why not ``scipy.integrate``
or ``mpmath.quad``: neither is a dependency of xact, both call the integrand
point by point (a spec costs a NumPy call per evaluation), and mpmath is
slow; the tests use mpmath as the independent reference instead.

The tails: the standard normal density is below 1e-320 beyond |z| = 38.5, so
the line is cut there; a function that grows so fast that its Gaussian
moments overflow float64 in that range gives ``inf`` (the moment is
numerically infinite), never NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

Z_MAX = 38.5
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(20)
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)
# Initial panels: 1 wide where the mass is, wider in the tails.
_BASE = np.concatenate([[-Z_MAX, -24.0, -16.0, -12.0], np.arange(-10.0, 10.5, 1.0), [12.0, 16.0, 24.0, Z_MAX]])


class NotFinite(ArithmeticError):
    """The integrand was NaN where the density is not zero (carries the z values)."""

    def __init__(self, z: np.ndarray) -> None:
        super().__init__(z)
        self.z = z


def _panels(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nodes (panels x 20) and weights including the Gaussian density."""
    half = 0.5 * (b - a)
    mid = 0.5 * (a + b)
    z = mid[:, None] + half[:, None] * _NODES[None, :]
    w = half[:, None] * _WEIGHTS[None, :] * _INV_SQRT_2PI * np.exp(-0.5 * z * z)
    return z, w


def expect(
    g: Callable[[np.ndarray], np.ndarray],
    breaks: Iterable[float] = (),
    *,
    rtol: float = 1e-13,
    max_rounds: int = 60,
) -> float:
    """E[g(z)] for z ~ N(0, 1); ``g`` is vectorised over float64 arrays.

    ``breaks`` are points in z where g may be non-smooth. The tolerance is
    relative to E[|g(z)|], so an integral that cancels to ~0 is still judged
    against the size of its integrand.
    """
    edges = np.unique(np.concatenate([_BASE, [b for b in breaks if -Z_MAX < b < Z_MAX]]))
    a, b = edges[:-1], edges[1:]
    done = done_abs = 0.0
    for _ in range(max_rounds):
        m = 0.5 * (a + b)
        za, wa = _panels(a, b)
        zl, wl = _panels(a, m)
        zr, wr = _panels(m, b)
        z = np.concatenate([za, zl, zr])
        w = np.concatenate([wa, wl, wr])
        with np.errstate(all="ignore"):
            gz = np.asarray(g(z.ravel()), dtype=np.float64).reshape(z.shape)
            live = w > 0
            if np.isnan(gz[live]).any():
                raise NotFinite(z[live & np.isnan(gz)])
            if np.isinf(gz[live]).any():
                return float(np.sign(gz[live][np.isinf(gz[live])][0]) * np.inf)
            terms = np.where(live, gz * w, 0.0)
        n = len(a)
        whole = terms[:n].sum(axis=1)
        halves = terms[n:2 * n].sum(axis=1) + terms[2 * n:].sum(axis=1)
        size = np.abs(terms[n:]).sum(axis=1)
        size = size[:n] + size[n:]
        total_abs = done_abs + size.sum()
        err = np.abs(whole - halves)
        ok = err <= rtol * total_abs / (4.0 * n) + 1e-300
        done += halves[ok].sum()
        done_abs += size[ok].sum()
        if ok.all():
            return _guard_tails(g, float(done), done_abs)
        a, m, b = a[~ok], m[~ok], b[~ok]
        a, b = np.concatenate([a, m]), np.concatenate([m, b])
        if len(a) > 1500:  # only a function rough everywhere (spiky, siren at huge q) gets here; take what we have
            break
    mid_a, mid_b = a, b
    z, w = _panels(mid_a, mid_b)
    with np.errstate(all="ignore"):
        rest = np.where(w > 0, np.asarray(g(z.ravel()), dtype=np.float64).reshape(z.shape) * w, 0.0)
    return _guard_tails(g, float(done + rest.sum()), done_abs + float(np.abs(rest).sum()))


_EDGE = np.array([-37.0, 37.0])
_EDGE_DENSITY = _INV_SQRT_2PI * np.exp(-0.5 * 37.0**2)


def _guard_tails(g: Callable[[np.ndarray], np.ndarray], total: float, total_abs: float) -> float:
    """inf when the integrand has not died out at the cut (phi ~ exp(x^2/4): a divergent moment).

    Any integrand that grows slower than exp(z^2/2) is below 1e-280 of its peak by |z| = 37;
    one that is still of the size of the integral there would diverge on the whole line.
    """
    with np.errstate(all="ignore"):
        edge = np.abs(np.asarray(g(_EDGE), dtype=np.float64)) * _EDGE_DENSITY
    if np.isnan(edge).any() or np.any(edge > 1e-10 * max(total_abs, 1e-300)):
        return math.inf
    return total


def normal_mass(lo: float, hi: float) -> float:
    """P(lo < z < hi) for z ~ N(0, 1), accurate in the tails."""
    from math import erfc, sqrt

    if lo >= hi:
        return 0.0
    if lo >= 0:
        return 0.5 * (erfc(lo / sqrt(2)) - erfc(hi / sqrt(2)))
    if hi <= 0:
        return 0.5 * (erfc(-hi / sqrt(2)) - erfc(-lo / sqrt(2)))
    return 1.0 - 0.5 * (erfc(hi / sqrt(2)) + erfc(-lo / sqrt(2)))
