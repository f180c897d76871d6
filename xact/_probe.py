"""Validation of a spec at ``define`` time, on a small float32 probe.

Before a spec is registered, its ``fn`` and ``grad`` run once on a few
float32 points with the default parameters, through the NumPy namespace.
What would otherwise fail later, deep inside a framework, fails here with
a message that says what to fix: a signature that does not fit, an
exception, the wrong number of partials, a result that is not elementwise,
a native spec that turns float32 into float64. NaN for finite input is
legal (a function may be undefined somewhere) but usually a mistake, so it
warns. Nothing is registered unless the probe passes.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from xact._call import call_fn, call_grad
from xact.errors import SpecError, XactWarning
from xact.ops.numpy import namespace
from xact.spec import Spec

PROBE = np.array([-3.0, -1.25, -0.3, 0.4, 1.7, 2.5], dtype=np.float32)


def _check(spec: Spec, what: str, out: Any) -> None:
    arr = np.asarray(out)
    where = f"define({spec.name!r}): {what} on the probe x = {PROBE.tolist()}"
    if arr.dtype.kind not in "fiub":
        raise SpecError(f"{where} returned {arr.dtype} values; it must return real numbers")
    try:
        shape = np.broadcast_shapes(arr.shape, PROBE.shape)
    except ValueError:
        shape = None
    if shape != PROBE.shape:
        raise SpecError(
            f"{where} returned shape {arr.shape} for an input of shape {PROBE.shape}; "
            "an activation must be elementwise"
        )
    if spec.takes_xp and arr.dtype.kind == "f" and arr.dtype.itemsize > PROBE.dtype.itemsize:
        raise SpecError(
            f"{where} turned float32 into {arr.dtype}: a NumPy float64 constant or cast "
            "promotes; use Python scalars or xp.asarray(...) so every dtype is kept"
        )
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        warnings.warn(
            f"{where} gave NaN at x = {PROBE[np.broadcast_to(np.isnan(arr), PROBE.shape)].tolist()} "
            "(finite inputs); check the formula unless the function is undefined there",
            XactWarning,
            stacklevel=4,
        )


# Elementwise means each output depends on its own input only. Two cheap runs show
# it for the probe: changing two inputs (one to a new maximum, one to a new minimum,
# so sums, means, extremes and cumulative results all move) must leave every other
# output as it was, and rotating the input must rotate the output the same way
# (reversals, sorts and shifts do not). Comparisons allow rounding-level noise.
_CHANGED = (2, 3)
PERTURBED = PROBE.copy()
PERTURBED[list(_CHANGED)] = (3.5, -3.5)
_ROTATION = np.roll(np.arange(PROBE.size), 1)


def _readonly(a: np.ndarray) -> np.ndarray:
    """A private copy the spec cannot write into: an in-place write fails at define."""
    a = a.copy()
    a.flags.writeable = False
    return a


def _run(spec: Spec, what: str, run: Any, x: np.ndarray, params: dict[str, Any], xp: Any) -> list[np.ndarray]:
    try:
        with np.errstate(all="ignore"):
            out = run(spec, _readonly(x), params, xp)
    except SpecError as e:
        raise SpecError(f"define({spec.name!r}): {e}") from None
    except Exception as e:
        raise SpecError(
            f"define({spec.name!r}): {what}(x{''.join(f', {k}={v!r}' for k, v in params.items())}"
            f"{', xp=xp' if spec.takes_xp else ''}) raised {type(e).__name__}: {e} "
            f"on the probe x = {x.tolist()}"
        ) from e
    # A Python number (a constant derivative: `return 1.0`) is broadcast by the adapters
    # in the input's dtype, so it promotes nothing.
    return [
        np.asarray(p, dtype=x.dtype) if isinstance(p, (int, float)) and not isinstance(p, bool) else np.asarray(p)
        for p in (out if isinstance(out, tuple) else (out,))
    ]


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = a.astype(np.float64), b.astype(np.float64)
    with np.errstate(all="ignore"):
        close = np.abs(a - b) <= 1e-5 * np.maximum(np.abs(a), np.abs(b)) + 1e-30
    return close | (a == b) | (np.isnan(a) & np.isnan(b))


def _require_elementwise(spec: Spec, what: str, run: Any, base: list[np.ndarray], params: dict[str, Any], xp: Any) -> None:
    advice = (
        "an activation must be elementwise: each output may depend only on the input at "
        "the same position (no sum, mean, max, cumsum, sort, reversal or indexing across "
        "elements), and on nothing random"
    )
    full = [np.broadcast_to(b, PROBE.shape) for b in base]
    for kind, x in (("changed", PERTURBED), ("rotated", PROBE[_ROTATION])):
        try:
            outs = _run(spec, what, run, x, params, xp)
            outs = [np.broadcast_to(o, PROBE.shape) for o in outs]
        except (SpecError, ValueError):
            continue  # a failure off the probe points is not this check's business
        for i, (b, o) in enumerate(zip(full, outs)):
            part = f"{what}" if len(full) == 1 else f"{what} (partial {i})"
            if kind == "changed":
                keep = np.ones(PROBE.shape, dtype=bool)
                keep[list(_CHANGED)] = False
                bad = keep & ~_same(b, o)
                if bad.any():
                    j = int(np.argmax(bad))
                    raise SpecError(
                        f"define({spec.name!r}): {part} is not elementwise: changing x[2] and "
                        f"x[3] of the probe {PROBE.tolist()} changed the output at x[{j}] = "
                        f"{float(PROBE[j])} from {float(b[j])} to {float(o[j])}; {advice}"
                    )
            elif not _same(b[_ROTATION], o).all():
                raise SpecError(
                    f"define({spec.name!r}): {part} is not elementwise: rotating the probe "
                    f"input {PROBE.tolist()} by one place did not rotate the output "
                    f"{np.asarray(b, dtype=np.float64).tolist()} the same way; {advice}"
                )


# The declared derivative against central differences of fn, in float64, at ordinary
# points (off integers and halves, where kinks usually sit, and away from declared
# kinks). Two step sizes: the smaller is exact for smooth float64 formulas, the larger
# forgives a formula that is only float32-accurate. Cheap; `xact check` is thorough.
_FD_POINTS = np.linspace(-3.9, 3.9, 33) + 0.0123
_FD_STEPS = (1e-6, 1e-4)
_FD_RTOL = 1e-3  # a wrong derivative is usually wrong by far more
_GROSS = 0.05  # wrong by 5% or more at nearly every point: refused, not warned about
_GROSS_SHARE = 0.8
_MIN_POINTS = 8


def _fd_points(spec: Spec, params: dict[str, Any]) -> np.ndarray:
    try:
        kinks = [float(k) for k in spec.kinks_at(**params)]
    except Exception:
        kinks = []
    x = _FD_POINTS
    for k in kinks:
        x = x[np.abs(x - k) > 1e-2 * max(1.0, abs(k))]
    return x


def _central(spec: Spec, x: np.ndarray, params: dict[str, Any], xp: Any, name: str | None, h: float) -> np.ndarray:
    """(f(+h) - f(-h)) / 2h, stepping x (name None) or the parameter ``name``."""
    def f(sign: float) -> np.ndarray:
        if name is None:
            xs, ps, step = x + sign * h * np.maximum(1.0, np.abs(x)), params, None
        else:
            step = h * max(1.0, abs(float(params[name])))
            xs, ps = x, {**params, name: float(params[name]) + sign * step}
        return np.broadcast_to(np.asarray(call_fn(spec, _readonly(xs), ps, xp), dtype=np.float64), x.shape)

    width = 2 * h * np.maximum(1.0, np.abs(x)) if name is None else 2 * h * max(1.0, abs(float(params[name])))
    return (f(1.0) - f(-1.0)) / width


def _check_derivative(spec: Spec, params: dict[str, Any]) -> None:
    xp = namespace(np.dtype(np.float64))
    x = _fd_points(spec, params)
    try:
        with np.errstate(all="ignore"):
            declared = [np.broadcast_to(np.asarray(p, dtype=np.float64), x.shape)
                        for p in call_grad(spec, _readonly(x), params, xp)]
            wrt: list[str | None] = [None, *spec.params]
            numeric = [[_central(spec, x, params, xp, n, h) for h in _FD_STEPS] for n in wrt]
    except Exception:
        return  # the probe ran the spec already; points it cannot take are not our concern
    for n, g, fds in zip(wrt, declared, numeric):
        with np.errstate(all="ignore"):
            err = np.minimum(*(np.abs(g - fd) for fd in fds))
            scale = np.maximum(np.abs(fds[0]), np.abs(g))
        # Where fn is flat at both steps the declared value may be a surrogate on purpose
        # (straight-through round, spiking steps): nothing to compare against.
        ok = np.isfinite(err) & np.isfinite(fds[0]) & ~((fds[0] == 0) & (fds[1] == 0))
        if not ok.any():
            continue
        err, scale, gx, fx, xs = err[ok], scale[ok], g[ok], fds[0][ok], x[ok]
        bad = err > _FD_RTOL * (1.0 + np.abs(fx))
        if not bad.any():
            continue
        w = int(np.argmax(np.where(bad, err / (1.0 + np.abs(fx)), -1.0)))
        what, v = ("d/dx", "x") if n is None else (f"d/d{n}", n)
        where = (
            f"define({spec.name!r}): the declared grad's {what} disagrees with central "
            f"differences of fn at {int(bad.sum())} of {xs.size} ordinary points; worst at "
            f"x = {xs[w]:.6g}{''.join(f', {k}={v!r}' for k, v in params.items())}: grad gives "
            f"{gx[w]:.6g}, (f({v}+h) - f({v}-h))/2h gives {fx[w]:.6g}"
        )
        gross = err > _GROSS * scale + 1e-3
        if xs.size >= _MIN_POINTS and gross.mean() >= _GROSS_SHARE:
            raise SpecError(
                f"{where}; it is far off at {int(gross.sum())} of {xs.size} points, so it "
                "is refused. Check the formula "
                "(and the order of the partials: d/dx first, then one per parameter)"
            )
        warnings.warn(
            f"{where}. Check the formula; `xact check {spec.name}` tests it thoroughly",
            XactWarning,
            stacklevel=4,
        )
        return


def probe(spec: Spec) -> None:
    """Run ``spec`` on the probe; raise :class:`SpecError` on anything malformed."""
    xp = namespace(PROBE.dtype)
    params = dict(spec.params)
    for what, run in (("fn", call_fn), ("grad", call_grad)):
        parts = _run(spec, what, run, PROBE, params, xp)
        for part in parts:
            _check(spec, what, part)
        _require_elementwise(spec, what, run, parts, params, xp)
    _check_derivative(spec, params)
