"""Mean-field signal propagation through a deep random network (Poole et al. 2016).

Weights W ~ N(0, sigma_w^2 / fan_in), biases b ~ N(0, sigma_b^2). The
pre-activation second moment of one input follows the variance map

    q' = V(q) = sigma_w^2 M(q) + sigma_b^2,   M(q) = E[phi(sqrt(q) z)^2],

and the gradient's per-layer growth at the fixed point q* is

    chi1 = sigma_w^2 D(q*),   D(q) = E[phi'(sqrt(q) z)^2].

The slope of the map is written without phi': substituting x = sqrt(q) z and
differentiating the density instead of phi,

    V'(q) = sigma_w^2 E[phi(sqrt(q) z)^2 (z^2 - 1)] / (2 q),

which is exact for functions with jumps too (spiky), where the declared
derivative ignores the jumps. Everything here is float64 NumPy over the
spec's reference.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from xact.errors import DiagnosisError
from xact.signal._quad import NotFinite, expect
from xact.signal._shape import Fn

Q_LO, Q_HI = 1e-8, 1e8
_TABLE_Q = np.geomspace(Q_LO, Q_HI, 65)  # four points a decade


def _integral(fn: Fn, q: float, kind: str) -> float:
    s = math.sqrt(q)
    breaks = [x / s for x in fn.breaks]
    if kind == "M":
        def g(z: np.ndarray) -> np.ndarray:
            return fn.phi(s * z) ** 2
    elif kind == "D":
        def g(z: np.ndarray) -> np.ndarray:
            return fn.dphi(s * z) ** 2
    else:  # "S": the density-derivative form of dM/dq, times 2q
        def g(z: np.ndarray) -> np.ndarray:
            return fn.phi(s * z) ** 2 * (z * z - 1.0)
    try:
        return expect(g, breaks)
    except NotFinite as e:
        x = np.unique(s * e.z.ravel())[:4]
        what = "phi" if kind != "D" else "its declared derivative"
        raise DiagnosisError(
            f"{fn.label}: {what} is NaN at x = {x.tolist()} (inside the Gaussian's reach at "
            f"variance q = {q:g}), so its Gaussian moments are undefined; define the activation "
            "on the whole real line (e.g. clamp the input) to diagnose it"
        ) from None


@functools.lru_cache(maxsize=4096)
def moment(fn: Fn, q: float, kind: str = "M") -> float:
    """M(q), D(q) or S(q) = E[phi(sqrt(q) z)^2 (z^2 - 1)] (kind "M", "D", "S")."""
    return _integral(fn, float(q), kind)


def second_moment(fn: Fn) -> float:
    m = moment(fn, 1.0)
    if not m > 0:
        raise DiagnosisError(f"{fn.label}: E[phi(z)^2] = {m:g}; phi vanishes almost everywhere, so no gain makes a signal pass")
    if not math.isfinite(m):
        raise DiagnosisError(
            f"{fn.label}: E[phi(z)^2] is infinite (phi grows too fast for the Gaussian's tails, or "
            "overflows float64), so no gain exists; bound the activation's growth (clamp its input)"
        )
    return m


@dataclass(frozen=True)
class MeanField:
    """The variance map of one activation at one (sigma_w, sigma_b)."""

    fn: Fn
    sigma_w: float
    sigma_b: float

    def V(self, q: float) -> float:
        return self.sigma_w**2 * moment(self.fn, q) + self.sigma_b**2

    def slope(self, q: float) -> float:
        return self.sigma_w**2 * moment(self.fn, q, "S") / (2.0 * q)

    def chi1(self, q: float) -> float:
        return self.sigma_w**2 * moment(self.fn, max(q, Q_LO), "D")

    def F(self, q: float) -> float:
        return self.V(q) - q

    def neutral(self) -> bool:
        """V(q) = q at every scale: positively homogeneous phi at its gain (relu at sqrt 2)."""
        return all(abs(self.F(q)) <= 1e-9 * q for q in (1e-4, 1e-2, 1.0, 1e2, 1e4))

    @functools.cached_property
    def fixed_points(self) -> tuple[float, ...]:
        """Every q* > 0 with V(q*) = q* between 1e-8 and 1e8 (simple roots, found by sign change)."""
        qs = np.unique(np.concatenate([_TABLE_Q, [1.0]]))
        f = np.array([self.F(q) for q in qs])
        roots = [float(q) for q, v in zip(qs, f) if v == 0.0 or (np.isfinite(v) and abs(v) <= 1e-12 * q)]
        for i in range(len(qs) - 1):
            fa, fb = f[i], f[i + 1]
            if np.isnan(fa) or np.isnan(fb) or np.isinf(fa) or fa == 0 or fb == 0:
                continue
            if np.sign(fa) != np.sign(fb):
                r = self._root(qs[i], qs[i + 1], fa)
                if all(abs(math.log(r / o)) > 1e-9 for o in roots):
                    roots.append(r)
        return tuple(sorted(roots))

    def _root(self, lo: float, hi: float, f_lo: float) -> float:
        a, b = math.log(lo), math.log(hi)
        for _ in range(60):
            m = 0.5 * (a + b)
            fm = self.F(math.exp(m))
            if fm == 0:
                return math.exp(m)
            if np.sign(fm) == np.sign(f_lo):
                a = m
            else:
                b = m
            if b - a < 1e-13:
                break
        return math.exp(0.5 * (a + b))

    def settle(self, q0: float = 1.0) -> tuple[float | None, str]:
        """Where a stack started at q0 goes: (q*, "fixed"), (None, "grows") or (None, "collapses").

        With a repelling fixed point exactly at q0 (the default gain puts one
        at q = 1), the answer is (q0, "fixed") and the caller looks at the slope.
        """
        if self.neutral():
            return q0, "neutral"
        roots = self.fixed_points
        for r in roots:
            if abs(math.log(r / q0)) < 1e-9:
                return r, "fixed"
        f0 = self.F(q0)
        if f0 > 0:
            up = [r for r in roots if r > q0]
            return (up[0], "fixed") if up else (None, "grows")
        down = [r for r in roots if r < q0]
        return (down[-1], "fixed") if down else (None, "collapses")

    def trajectory(self, q0: float, depth: int) -> np.ndarray:
        """q_0 .. q_depth under the map (inf once it overflows, 0 once it underflows)."""
        out = [q0]
        q = q0
        for _ in range(depth):
            if not (math.isfinite(q) and q > 0):
                out.append(q)
                continue
            if q > 1e300:
                q = math.inf
            elif q < 1e-300:
                q = 0.0
            else:
                try:
                    q = self.V(q)
                except DiagnosisError:  # NaN far out (e.g. inf - inf): call it overflow
                    q = math.inf
            out.append(q)
        return np.array(out)


def depth_to_drift(mf: MeanField, q_star: float, factor: float = 10.0, rel: float = 0.01, limit: int = 10_000) -> int | None:
    """Layers until q, started ``rel`` off q*, is ``factor`` away from q* (the faster side)."""
    best: int | None = None
    for q0 in (q_star * (1 + rel), q_star * (1 - rel)):
        q = q0
        for n in range(1, limit + 1):
            q = mf.V(q) if 0 < q < 1e300 else q
            if not (q > 0) or not math.isfinite(q) or q > factor * q_star or q < q_star / factor:
                best = n if best is None else min(best, n)
                break
            if abs(math.log(q / q_star)) < 1e-3 * rel:  # came back: attracted on this side
                break
    return best


@dataclass(frozen=True)
class Curve:
    """The fixed points of every sigma_w at one sigma_b, parameterised by q*.

    q* is a fixed point of sigma_w(q*) = sqrt((q* - sigma_b^2) / M(q*)); along
    it chi1(q*) = sigma_w^2 D(q*) and the map's slope is sigma_w^2 S(q*) / (2 q*).
    No root finding per sigma_w: three moments per q, shared by every sigma_w.
    """

    q: np.ndarray
    sigma_w: np.ndarray
    chi1: np.ndarray
    slope: np.ndarray
    zero_branch: float | None  # sigma_w where q* = 0 stops attracting (sigma_b = 0, phi(0) = 0)


def curve(fn: Fn, sigma_b: float) -> Curve:
    qs = _TABLE_Q[_TABLE_Q > sigma_b**2 * (1 + 1e-9)]
    m = np.array([moment(fn, q) for q in qs])
    d = np.array([moment(fn, q, "D") for q in qs])
    s = np.array([moment(fn, q, "S") for q in qs])
    with np.errstate(all="ignore"):
        sw2 = (qs - sigma_b**2) / m
        ok = np.isfinite(sw2) & (sw2 > 0)
        sw = np.sqrt(np.where(ok, sw2, np.nan))
        chi = sw2 * d
        slope = sw2 * s / (2 * qs)
    zero = None
    phi0 = float(np.asarray(fn.phi(np.array([0.0])))[0])
    if sigma_b == 0 and phi0 == 0:
        # Only where phi'(0) is a slope (D has a limit at q -> 0); x^2 has D ~ q, no edge.
        d0, d1 = moment(fn, 1e-16, "D"), moment(fn, 1e-14, "D")
        zero = 1.0 / math.sqrt(d0) if d0 > 0 and abs(d1 / d0 - 1) < 1e-3 else None
    return Curve(qs[ok], sw[ok], chi[ok], slope[ok], zero)


def critical_sigma_w(fn: Fn, sigma_b: float) -> float | None:
    """sigma_w at which chi1 = 1 at an attracting fixed point (the order-to-chaos edge)."""
    c = curve(fn, sigma_b)
    att = np.abs(c.slope) < 1 - 1e-6
    dev = c.chi1 - 1.0
    for i in range(len(c.q) - 1):
        if att[i] and att[i + 1] and np.isfinite(dev[i]) and np.isfinite(dev[i + 1]) and (dev[i] < 0) != (dev[i + 1] < 0):
            a, b, fa = math.log(c.q[i]), math.log(c.q[i + 1]), dev[i]
            for _ in range(50):
                mid = 0.5 * (a + b)
                q = math.exp(mid)
                sw2 = (q - sigma_b**2) / moment(fn, q)
                fm = sw2 * moment(fn, q, "D") - 1.0
                if (fm < 0) == (fa < 0):
                    a, fa = mid, fm
                else:
                    b = mid
                if b - a < 1e-12:
                    break
            q = math.exp(0.5 * (a + b))
            return float(math.sqrt((q - sigma_b**2) / moment(fn, q)))
    return c.zero_branch
