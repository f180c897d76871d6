"""``xact.gain`` and ``xact.diagnose``: why an activation will (not) train in a deep stack."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from xact.signal import _shape, _theory
from xact.spec import Spec

__all__ = ["Bounded", "DepthScale", "Diagnosis", "Verdict", "diagnose", "gain", "mean_field_trajectory", "verdict"]

# Depth the summary quotes drift and gradient growth over (the MLPs are shallower).
REFERENCE_DEPTH = 48
_NEUTRAL_TOL = 1e-6


def gain(activation: str | Spec, **params: Any) -> float:
    """1 / sqrt(E[phi(z)^2]) for z ~ N(0, 1), from the spec's NumPy reference.

    The weight scale that keeps a unit second moment through one layer:
    initialise W ~ N(0, gain^2 / fan_in). relu gives sqrt(2), leaky_relu(a)
    sqrt(2 / (1 + a^2)), selu 1 (to 1e-3: its constants are rounded), tanh
    1.5925 (torch's ``calculate_gain`` says 5/3, an empirical choice; see
    docs/diagnose.md).

    Example:
        >>> import xact
        >>> round(xact.gain("relu") ** 2, 12)
        2.0
    """
    fn = _shape.resolve(activation, params)
    return 1.0 / math.sqrt(_theory.second_moment(fn))


class Verdict(NamedTuple):
    """The short verdict at sigma_w = gain, sigma_b = 0, where q* = 1 by construction."""

    gain: float
    slope: float
    stable: bool
    neutral: bool


def verdict(activation: str | Spec, **params: Any) -> Verdict:
    """Gain and stability at the gain, without the rest of :func:`diagnose` (a few integrals).

    At sigma_w = gain and sigma_b = 0, q* = 1 is a fixed point and its slope is
    E[phi(z)^2 (z^2 - 1)] / (2 E[phi(z)^2]): stable when below 1, i.e. when the
    phi^2-weighted fourth moment of z is below the Gaussian's 3.
    """
    fn = _shape.resolve(activation, params)
    m = _theory.second_moment(fn)
    mf = _theory.MeanField(fn, 1.0 / math.sqrt(m), 0.0)
    if mf.neutral():
        return Verdict(1.0 / math.sqrt(m), 1.0, True, True)
    slope = mf.slope(1.0)
    return Verdict(1.0 / math.sqrt(m), slope, abs(slope) < 1.0, False)


def mean_field_trajectory(activation: str | Spec, q0: float, depth: int, *, sigma_w: float | None = None,
                          sigma_b: float = 0.0, **params: Any) -> list[float]:
    """q_0, q_1, ..., q_depth under the variance map (sigma_w defaults to the gain)."""
    fn = _shape.resolve(activation, params)
    sw = 1.0 / math.sqrt(_theory.second_moment(fn)) if sigma_w is None else float(sigma_w)
    return _theory.MeanField(fn, sw, float(sigma_b)).trajectory(q0, depth).tolist()


class DepthScale(NamedTuple):
    """How fast depth moves the variance away from (or back to) its fixed point.

    ``e_fold``: layers over which a small deviation from q* grows or shrinks by
    e, -1 / ln|slope| (inf when neutral). ``drift_10x``: layers until the
    variance, started 1 % off q*, is 10x away from it (None: it never gets
    there, the fixed point attracts).
    """

    e_fold: float
    drift_10x: int | None


class Bounded(NamedTuple):
    above: bool
    below: bool


@dataclass(frozen=True)
class Diagnosis:
    """Mean-field verdict on one activation at one initialisation (sigma_w, sigma_b).

    q is the pre-activation second moment; the network's input is taken at
    q = 1, the scale the gain is built for. See docs/diagnose.md.
    """

    activation: str
    params: dict[str, float]
    sigma_w: float
    sigma_b: float
    gain: float
    fixed_point: float | None
    stable: bool
    slope: float | None
    chi1: float
    critical_sigma_w: float | None
    depth_scale: DepthScale
    lipschitz: float
    bounded: Bounded
    dead_fraction: float
    discontinuities: tuple[tuple[float, float], ...]
    advice: tuple[str, ...]
    fate: str = "fixed"  # "fixed", "neutral", "grows", "collapses": the variance from q = 1
    fixed_points: tuple[tuple[float, float], ...] = ()  # every (q*, slope) found in 1e-8..1e8
    no_stable_init: bool = False  # no sigma_w at this sigma_b gives an attracting fixed point
    growth: tuple[float, float] = (math.nan, math.nan)  # M(q)/q at the ends of the q table, 1e-8 and 1e8

    def __str__(self) -> str:
        return _summary(self)


def diagnose(activation: str | Spec, *, sigma_w: float | None = None, sigma_b: float = 0.0, **params: Any) -> Diagnosis:
    """Signal propagation, stability and shape of an activation in a deep random network.

    Args:
        activation: a registered name, alias or Spec.
        sigma_w: weight scale, W ~ N(0, sigma_w^2 / fan_in); default: the gain.
        sigma_b: bias scale, b ~ N(0, sigma_b^2).
        **params: the spec's parameters (numbers).

    Example:
        >>> import xact
        >>> d = xact.diagnose("square")
        >>> d.stable, round(d.slope, 6)
        (False, 2.0)
    """
    fn = _shape.resolve(activation, params)
    g = 1.0 / math.sqrt(_theory.second_moment(fn))
    sw = g if sigma_w is None else float(sigma_w)
    sb = float(sigma_b)
    mf = _theory.MeanField(fn, sw, sb)
    q_star, fate = mf.settle(1.0)
    slope: float | None
    if fate == "neutral":
        slope, stable = 1.0, True
    elif q_star is not None:
        slope = mf.slope(q_star)
        stable = abs(slope) < 1.0
    else:
        slope, stable = None, False
        near = sorted(mf.fixed_points, key=lambda r: abs(math.log(r)))
        if near:  # report the fixed point the stack is leaving
            q_star, slope = near[0], mf.slope(near[0])
    chi1 = mf.chi1(q_star if q_star is not None else 1.0)
    if slope is None or fate == "neutral" or abs(abs(slope) - 1.0) < _NEUTRAL_TOL:
        e_fold = math.inf
    else:
        e_fold = 1.0 / abs(math.log(abs(slope))) if slope != 0 else 0.0
    drift = None
    if not stable and q_star is not None:
        drift = _theory.depth_to_drift(mf, q_star, limit=2000)
    elif q_star is None:
        traj = mf.trajectory(1.0, 2000)
        far = [i for i, q in enumerate(traj) if not (0.1 < q < 10.0)]
        drift = far[0] if far else None
    c = _theory.curve(fn, sb)
    att = abs(c.slope) < 1 - _NEUTRAL_TOL
    no_stable = not bool(att.any()) and fate != "neutral"
    ratio = (float(c.sigma_w[0] ** -2), float(c.sigma_w[-1] ** -2)) if len(c.q) else (math.nan, math.nan)
    d = Diagnosis(
        activation=fn.spec.name,
        params=dict(fn.params),
        sigma_w=sw,
        sigma_b=sb,
        gain=g,
        fixed_point=q_star,
        stable=stable,
        slope=slope,
        chi1=chi1,
        critical_sigma_w=_theory.critical_sigma_w(fn, sb),
        depth_scale=DepthScale(e_fold, drift),
        lipschitz=_shape.lipschitz(fn),
        bounded=Bounded(*_shape.bounded(fn)),
        dead_fraction=_shape.dead_fraction(fn),
        discontinuities=tuple(j for j in fn.jumps if abs(j[0]) <= 10.0),
        advice=(),
        fate=fate,
        fixed_points=((1.0, 1.0),) if fate == "neutral" else tuple((r, mf.slope(r)) for r in mf.fixed_points),
        no_stable_init=no_stable,
        growth=ratio,
    )
    return _with_advice(d, fn)


def _fmt(v: float | None) -> str:
    if v is None:
        return "-"
    if math.isinf(v):
        return "inf"
    return f"{v:.4g}" if 1e-3 <= abs(v) < 1e5 or v == 0 else f"{v:.2e}"


def _with_advice(d: Diagnosis, fn: _shape.Fn) -> Diagnosis:
    from dataclasses import replace

    a: list[str] = []
    L = REFERENCE_DEPTH
    if d.fate == "neutral":
        a.append(
            "Every variance is a fixed point (phi is positively homogeneous and sigma_w is its gain): "
            "the second moment is kept exactly in the mean-field limit, at any depth."
        )
    elif d.stable:
        a.append(
            f"Stable: the variance map's fixed point q* = {_fmt(d.fixed_point)} attracts "
            f"(slope {d.slope:.3f}); a deviation shrinks by e every {_fmt(d.depth_scale.e_fold)} layers."
        )
    elif d.fixed_point is not None and d.slope is not None:
        drift = d.depth_scale.drift_10x
        a.append(
            f"Unstable: the fixed point q* = {_fmt(d.fixed_point)} repels (slope {d.slope:.3f}"
            f"{' > 1' if d.slope > 1 else ' < -1'}): a deviation grows by e every "
            f"{_fmt(d.depth_scale.e_fold)} layers"
            + (f"; a bias-free stack drifts 10x from q* after about {drift} layers (from a 1 % start)" if drift else "")
            + "."
        )
        lo, hi = d.growth
        superlinear = not math.isfinite(hi) or hi > 1e3 * max(lo, 1e-300)
        if d.no_stable_init:
            why = (
                "phi grows faster than linearly, so q' grows like a power of q above 1 "
                "(for x^2, q' = 3 sigma_w^2 q^2) and the variance runs away or dies doubly "
                "exponentially with depth"
                if superlinear else
                f"E[phi(sqrt(q) z)^2] / q rises with q (from {_fmt(lo)} to {_fmt(hi)}), so wherever "
                "q' = q it crosses upwards: above q* each layer multiplies q by more than 1, below by less"
            )
            a.append(
                f"No initialisation gives a stable variance: at every sigma_w (sigma_b = {_fmt(d.sigma_b)}) "
                f"the fixed point of q' = sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2 repels, because {why}."
            )
        if superlinear:
            a.append(
                "What to do: put a normalisation between layers (LayerNorm / BatchNorm reset q to 1 "
                "every layer, so the repelling point never acts), clip gradients and lower the "
                "learning rate; or use a bounded variant (one that saturates, e.g. tanh-shaped), "
                "whose fixed point attracts."
            )
        else:
            a.append(
                "Normalisation (LayerNorm / BatchNorm) or residual connections fix it: both hold the "
                "second moment near its start whatever the map does; so does a shallower stack."
            )
    else:
        where = {"grows": "grows without bound", "collapses": "collapses to 0"}.get(d.fate, d.fate)
        a.append(
            f"No fixed point near q = 1 at sigma_w = {_fmt(d.sigma_w)}: the variance {where}"
            + (f" (10x after {d.depth_scale.drift_10x} layers)" if d.depth_scale.drift_10x else "")
            + f". Use sigma_w = {_fmt(d.gain)} (the gain)."
        )
    if d.chi1 > 1.05:
        a.append(
            f"Gradients explode: chi1 = {_fmt(d.chi1)} per layer, about {_fmt(d.chi1 ** L)}x over {L} layers "
            f"(critical sigma_w = {_fmt(d.critical_sigma_w)}); clip gradients or lower sigma_w."
        )
    elif d.chi1 < 0.95:
        a.append(
            f"Gradients vanish: chi1 = {_fmt(d.chi1)} per layer, about {_fmt(d.chi1 ** L)}x over {L} layers "
            f"(critical sigma_w = {_fmt(d.critical_sigma_w)})."
        )
    else:
        a.append(f"Gradients keep their size through depth (chi1 = {d.chi1:.3f}, near the edge of chaos).")
    if d.discontinuities:
        xs = [x for x, _ in d.discontinuities]
        shown = ", ".join(f"{x:g}" for x in xs[:4]) + (", ..." if len(xs) > 4 else "")
        a.append(
            f"phi jumps ({len(xs)} jumps in [-10, 10], at {shown}); the declared derivative "
            "ignores them, so gradient descent cannot see what the jumps do to the loss: "
            "expect steps that raise the loss. A continuous (e.g. triangle-wave) variant avoids it."
        )
    if not d.bounded.above or not d.bounded.below:
        side = " and ".join(s for s, b in (("above", d.bounded.above), ("below", d.bounded.below)) if not b)
        if math.isinf(d.lipschitz):
            a.append(
                f"phi is unbounded {side} and its slope grows without bound: a large input gives a larger "
                "gradient, which gives a larger input; watch training (xact.torch.watch / xact.tf.WatchCallback)."
            )
    if d.dead_fraction >= 0.25:
        a.append(f"{d.dead_fraction:.0%} of unit-variance inputs get a zero derivative (dead units).")
    return replace(d, advice=tuple(a))


def _summary(d: Diagnosis) -> str:
    ps = ", ".join(f"{k}={v:g}" for k, v in d.params.items())
    name = f"{d.activation}({ps})" if ps else d.activation
    verdict = "STABLE" if d.stable else "UNSTABLE"
    if d.fate == "neutral":
        verdict = "STABLE (neutral)"
    grads = "gradients explode" if d.chi1 > 1.05 else "gradients vanish" if d.chi1 < 0.95 else "gradients kept"
    extra = f"; {len(d.discontinuities)} jumps" if d.discontinuities else ""
    lines = [
        f"{name}: {verdict} variance at sigma_w = {_fmt(d.sigma_w)}, sigma_b = {_fmt(d.sigma_b)}"
        f"{' (the gain)' if math.isclose(d.sigma_w, d.gain, rel_tol=1e-12) else ''}; "
        f"{grads} (chi1 {_fmt(d.chi1)}){extra}",
        "",
        f"  gain               {d.gain:.10g}    (1/sqrt(E[phi(z)^2]); init W ~ N(0, gain^2/fan_in))",
        f"  fixed point q*     {_fmt(d.fixed_point)}    slope dq'/dq = {_fmt(d.slope)}",
        f"  depth scale        e-fold {_fmt(d.depth_scale.e_fold)} layers; 10x drift after "
        f"{d.depth_scale.drift_10x if d.depth_scale.drift_10x else 'never'}",
        f"  chi1               {_fmt(d.chi1)}    critical sigma_w = {_fmt(d.critical_sigma_w)}",
        f"  lipschitz          {_fmt(d.lipschitz)}    bounded above {d.bounded.above}, below {d.bounded.below}",
        f"  dead fraction      {d.dead_fraction:.3g}    jumps in [-10, 10]: {len(d.discontinuities)}",
        "",
    ]
    import textwrap

    for s in d.advice:
        lines += textwrap.wrap(s, width=92, initial_indent="- ", subsequent_indent="  ")
    return "\n".join(lines)
