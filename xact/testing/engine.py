"""The conformance engine: :func:`check` and :func:`assert_conforms`.

For each spec it builds the inputs (:mod:`xact.testing.inputs`), computes the
high-precision reference once on a subsample and reuses it for every dtype,
framework and mode (:mod:`xact.testing.oracles`), runs each framework
(:mod:`xact.testing.frameworks`), and turns every comparison into a
:class:`CheckResult` through one helper (:func:`_measure`), with its bound
looked up in the one table (:mod:`xact.testing.tolerances`).

Checks, per spec (``check`` is the record's ``check`` field):

* ``derivative``: the declared ``grad`` (and ``grad2``, parameter partials)
  against numerical differentiation of ``fn``; framework-free.
* ``kink``: at each declared kink, the spec's own ``grad`` equals the stated
  convention (framework ``spec``), and each framework's gradient does too.
* ``limit``: the value and derivative at +-inf agree with the limit where
  the function has one.
* ``accuracy``: each framework x mode x dtype x quantity against the
  reference over the grid (dense range + log-spaced magnitudes + kink
  neighbours).
* ``special``: the same at +-0, +-inf, NaN, subnormals, the smallest normal
  and the largest finite value.
* ``cross``: torch against TF, same mode and dtype; ``bridge``: native
  against the NumPy bridge, same framework and dtype.
* ``property:*``: Hypothesis-drawn arrays (shapes and values): dtype and
  shape preserved, NaN propagates through ``fn``, monotonic where declared,
  and the backward pass scales with the upstream gradient (chain rule).
"""

from __future__ import annotations

import contextvars
import copy
import json
import math
import os
import time
import warnings
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from xact._dtypes import FLOAT_DTYPES
from xact.errors import ConformanceError
from xact.spec import Spec, get, names
from xact.testing import frameworks as fw
from xact.testing import inputs, oracles
from xact.testing._floats import FORMATS, abs_error, round_to, ulp, ulp_distance
from xact.testing.tolerances import KnownFailure, Tolerance, known_failures, lookup

__all__ = ["CheckResult", "Report", "assert_conforms", "check"]

MODES: tuple[str, ...] = ("native", "numpy")
#: worst-case search per spec x framework x mode x dtype (float32, float64):
#: SEARCH_STARTS centres (the grid's worst points, then random restarts), each
#: refined SEARCH_ROUNDS times over SEARCH_OFFSETS ULP offsets either side;
#: SEARCH_SECONDS bounds the wall time per spec (0 turns the search off).
SEARCH_STARTS = 12
SEARCH_ROUNDS = 2
SEARCH_OFFSETS = tuple(4**k for k in range(0, 11, 2))
SEARCH_SECONDS = float(os.environ.get("XACT_SEARCH_SECONDS", "3"))
#: Hypothesis examples per (spec, framework, mode); each example checks every property.
PROPERTY_EXAMPLES = 8


@dataclass
class CheckResult:
    """One check: what was compared, the figures, and where it was worst.

    ``max_ulp``/``p999_ulp`` are ULP distances in the output dtype (from the
    correctly rounded reference, or between the two results compared);
    ``max_abs`` the largest absolute error. ``worst_x``, ``got``, ``want``
    describe the worst point; ``repro`` recomputes it. ``status`` is
    ``pass``, ``fail``, ``xfail`` (listed known failure), ``xpass`` (listed
    but passing: an error) or ``skip``.
    """

    name: str
    check: str
    framework: str
    mode: str
    dtype: str
    quantity: str
    passed: bool
    n: int = 0
    n_failed: int = 0
    max_ulp: float = 0.0
    p999_ulp: float = 0.0
    max_abs: float = 0.0
    tolerance: str = ""
    tolerance_reason: str = ""
    worst_x: float | None = None
    got: float | None = None
    want: float | None = None
    message: str = ""
    repro: str = ""
    status: str = ""
    reference: str = ""
    #: the smallest |x| among the failing points (None when none failed)
    failed_min_abs_x: float | None = None
    #: the smallest and largest failing x (None when none failed)
    failed_lo: float | None = None
    failed_hi: float | None = None
    #: absolute and relative error at the worst point
    worst_abs: float | None = None
    worst_rel: float | None = None

    def __post_init__(self) -> None:
        if not self.status:
            self.status = "pass" if self.passed else "fail"

    @property
    def key(self) -> str:
        return f"{self.name} {self.check} {self.framework}/{self.mode}/{self.dtype} {self.quantity}"

    def describe(self) -> str:
        """A readable multi-line account of a failure (or pass)."""
        from xact.testing.report import figure, short, where

        lines = [f"[{self.status.upper()}] {self.key}: {self.message}"]
        if self.n:
            lines.append(f"  {self.n_failed}/{self.n} points out of tolerance ({self.tolerance}); "
                         f"worst {figure(self)}; {where(self)}")
        if self.worst_x is not None:
            lines.append(f"  worst at x = {short(self.worst_x, 8)}: got {short(self.got, 8)}, "
                         f"expected {short(self.want, 8)}")
        if self.repro:
            lines.append("  reproduce:\n" + "\n".join("    " + ln for ln in self.repro.splitlines()))
        return "\n".join(lines)



@dataclass
class Report:
    """Everything a run found: one :class:`CheckResult` per check, plus notes.

    ``passed`` is True only when no check failed (``fail`` or ``xpass``).
    ``notes`` hold what the reader must know but that is not a failure
    (skipped frameworks, float64 fallbacks, undeclared kinks, subsample size).
    """

    results: list[CheckResult] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    plots: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.status in ("fail", "xpass")]

    def note(self, name: str, text: str) -> None:
        lst = self.notes.setdefault(name, [])
        if text not in lst:
            lst.append(text)

    def names(self) -> list[str]:
        return list(dict.fromkeys(r.name for r in self.results))

    def to_json(self) -> str:
        return json.dumps(
            {"passed": self.passed, "meta": self.meta, "notes": self.notes,
             "results": [_jsonable(asdict(r)) for r in self.results]},
            indent=1, allow_nan=False,
        )

    def diff(self, limit: int = 10) -> str:
        """The failures, readable, for :class:`ConformanceError`: grouped by cause,
        declared-derivative and kink failures first (they are the spec's own errors)."""
        from xact.testing.report import CAUSES, cause

        order = [c for c, _ in CAUSES]
        by: dict[str, list[CheckResult]] = {}
        for r in self.results:
            by.setdefault(r.name, []).append(r)
        fails = sorted(self.failures, key=lambda r: order.index(cause(r, by[r.name])))
        parts = [r.describe() for r in fails[:limit]]
        if len(fails) > limit:
            parts.append(f"... and {len(fails) - limit} more failing checks")
        return "\n".join(parts)

    def __repr__(self) -> str:
        return (f"Report(passed={self.passed}, checks={len(self.results)}, "
                f"failures={len(self.failures)}, specs={self.names()})")


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        if isinstance(v, (float, np.floating)):
            v = float(v)
            out[k] = v if math.isfinite(v) else repr(v)
        else:
            out[k] = v
    return out


# --------------------------------------------------------------------------- measuring


@dataclass
class _Measure:
    ulps: np.ndarray
    abs_err: np.ndarray
    ok: np.ndarray


def _measure(dtype: str, got: np.ndarray, hi: np.ndarray, lo: np.ndarray | None, tol: Tolerance) -> _Measure:
    """ULP distance from the correctly rounded ``hi + lo``, absolute error, pass mask.

    The one place where a comparison is made: a point passes when its ULP
    distance is within ``tol.ulps`` or its absolute error within ``tol.atol``;
    non-finite values must match exactly.
    """
    fmt = FORMATS[dtype]
    want = round_to(fmt, hi, lo)
    d = ulp_distance(fmt, got, want)
    a = abs_error(got, hi, lo)
    fin = np.isfinite(got) & np.isfinite(want)
    ok = (d <= tol.ulps) | (fin & (a <= tol.atol))
    return _Measure(d, a, ok)


#: the domain of the spec being checked, and the notes about points outside it
_DOMAIN: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar("xact_domain", default=None)
_OUTSIDE: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("xact_outside", default=None)


def _outside(xs: np.ndarray) -> np.ndarray:
    dom = _DOMAIN.get()
    xs = np.asarray(xs, dtype=np.float64)
    if dom is None:
        return np.zeros(xs.shape, dtype=bool)
    return ~((xs >= dom[0]) & (xs <= dom[1])) & ~np.isnan(xs)


def _note_outside(text: str) -> None:
    lst = _OUTSIDE.get()
    if lst is not None and text not in lst:
        lst.append(text)


def _result_from(
    m: _Measure, xs: np.ndarray, got: np.ndarray, want: np.ndarray, *, name: str, check: str,
    framework: str, mode: str, dtype: str, quantity: str, tol: Tolerance, override: str,
    repro: Callable[[float], str] | None, reference: str, what: str,
) -> CheckResult:
    n = len(xs)
    out = _outside(xs)
    if out.any():  # measured, reported as a note, never a failure
        bad_out = out & ~m.ok
        if bad_out.any():
            j = int(np.argmax(np.where(bad_out, np.nan_to_num(m.ulps, nan=np.inf), -1.0)))
            lo, hi = _DOMAIN.get() or (0.0, 0.0)
            _note_outside(
                f"outside the domain [{lo:g}, {hi:g}]: {check} {framework}/{mode}/{dtype} {quantity} "
                f"out of tolerance at {int(bad_out.sum())} of {int(out.sum())} points outside, "
                f"x in [{np.min(xs[bad_out]):.4g}, {np.max(xs[bad_out]):.4g}]; worst x={xs[j]:.6g}: "
                f"got {got[j]:.6g}, expected {want[j]:.6g} (not a failure)")
        m = _Measure(m.ulps, m.abs_err, m.ok | out)
    if n == 0:
        return CheckResult(name, check, framework, mode, dtype, quantity, True, status="skip",
                           message="no points", reference=reference)
    bad = ~m.ok
    # points within the absolute tolerance near zero do not count in the ULP figures
    # (there the absolute error is what is judged), nor do subnormal references
    # within it (ULPs of a subnormal mean little)
    with np.errstate(invalid="ignore"):
        tiny = FORMATS[dtype].tiny if dtype in FORMATS else 0.0
        rescued = m.ok & ((m.ulps > tol.ulps) | ((m.abs_err <= tol.atol) & (np.abs(want) < tiny)))
    score = np.where(np.isnan(m.ulps), np.inf, np.where(rescued, 0.0, m.ulps))
    i = int(np.argmax(np.where(bad, score, -1.0))) if bad.any() else int(np.argmax(score))
    passed = not bool(bad.any())
    with np.errstate(all="ignore"):
        p999 = float(np.quantile(score, 0.999, method="higher"))
    msg = f"{what} within tolerance" if passed else _explain(what, xs[i], got[i], want[i], int(bad.sum()), n)
    res = CheckResult(
        name=name, check=check, framework=framework, mode=mode, dtype=dtype, quantity=quantity,
        passed=passed, n=n, n_failed=int(bad.sum()), max_ulp=float(score.max()), p999_ulp=p999,
        max_abs=float(np.max(m.abs_err)),
        tolerance=f"{tol.ulps:g} ULP or abs <= {tol.atol:.3g}",
        tolerance_reason=(f"{override}" if override else tol.reason),
        worst_x=float(xs[i]), got=float(got[i]), want=float(want[i]), message=msg,
        repro=(repro(float(xs[i])) + f"\n# got {float(got[i])!r}, expected {float(want[i])!r}") if (repro and not passed) else "",
        reference=reference,
        failed_min_abs_x=float(np.min(np.abs(xs[bad]))) if bad.any() else None,
        failed_lo=float(np.min(xs[bad])) if bad.any() else None,
        failed_hi=float(np.max(xs[bad])) if bad.any() else None,
        worst_abs=float(m.abs_err[i]),
        worst_rel=_rel(float(m.abs_err[i]), float(want[i])),
    )
    return res


def _rel(a: float, want: float) -> float | None:
    if not (math.isfinite(a) and math.isfinite(want)) or want == 0:
        return None
    return a / abs(want)


def _explain(what: str, x: float, got: float, want: float, nbad: int, n: int) -> str:
    if np.isfinite(want) and np.isinf(got):
        kind = f"{what} overflows to {got} where the reference is finite ({want!r})"
    elif np.isnan(got) and not np.isnan(want):
        kind = f"{what} is NaN where the reference is {want!r}"
    elif np.isnan(want) and not np.isnan(got):
        kind = f"{what} is {got!r} where the reference is NaN"
    elif np.isinf(want) and not np.isinf(got):
        kind = f"{what} is {got!r} where the reference is {want}"
    else:
        kind = f"{what} out of tolerance"
    return f"{kind} at x={x!r} ({nbad} of {n} points)"


# --------------------------------------------------------------------------- planning


def _resolve_targets(target: Any) -> list[Spec]:
    if target is None:
        return [get(n) for n in names()]
    if isinstance(target, (str, Spec)):
        return [get(target)]
    return [get(t) for t in target]


def _preamble(spec: Spec) -> str:
    mod = getattr(spec.fn, "__module__", "") or ""
    if mod.startswith("xact.") or not mod or mod == "builtins":
        return ""
    if mod == "__main__":
        return f"# first define {spec.name!r} as in your script (it was defined in __main__)\n"
    return f"import {mod}  # defines {spec.name!r}\n"


@dataclass
class _SpecPlan:
    spec: Spec
    params: dict[str, float]
    dtypes: list[str]
    points: dict[str, inputs.Points]
    oracle_xs: np.ndarray


def _plan(spec: Spec, dtypes: Sequence[str], params: Mapping[str, float] | None) -> _SpecPlan:
    ps = {**spec.params, **(params or {})}
    kinks = spec.kinks_at(**ps)
    from xact.testing.bands import band_points

    pts = {d: inputs.points_for(d, kinks, band_points(spec, ps, d)) for d in dtypes}
    ox = inputs.oracle_points(list(pts.values()))
    ox = np.concatenate([ox, [np.inf, -np.inf, np.nan]])
    return _SpecPlan(spec, ps, list(dtypes), pts, ox)


# --------------------------------------------------------------------------- oracle checks


def _spec_checks(plan: _SpecPlan, ref: oracles.Reference, report: Report) -> None:
    """Framework-free checks: declared derivatives, kink conventions, limits."""
    spec, ps = plan.spec, plan.params
    kinks = spec.kinks_at(**ps)
    findings, method = oracles.derivative_check(spec, plan.oracle_xs, ps, declared_kinks=list(kinks), ref=ref)
    pre = _preamble(spec)
    for f in findings:
        out = _outside(f.xs)
        if (out & f.bad).any():
            b = out & f.bad
            _note_outside(f"outside the domain: declared {f.quantity} disagrees with numerical "
                          f"differentiation at {int(b.sum())} point(s), x in [{np.min(f.xs[b]):.4g}, "
                          f"{np.max(f.xs[b]):.4g}] (not a failure)")
            f.bad = f.bad & ~out
        i = f.worst
        x = float(f.xs[i]) if f.n else None
        if f.passed:
            msg = f"declared {f.quantity} matches numerical differentiation ({method}) at {f.n} points"
        else:
            where = _ranges(f.xs[f.bad])
            msg = (f"declared {f.quantity} disagrees with numerical differentiation of "
                   f"{'grad' if f.quantity == 'grad2' else 'fn'} ({method}) at {int(f.bad.sum())} of "
                   f"{f.n} points ({where}); worst x={x!r}: declared {f.declared[i]!r}, "
                   f"numerical {f.numerical[i]!r}")
            if f.numerical[i] and np.isfinite(f.numerical[i]) and f.declared[i]:
                ratio = f.declared[i] / f.numerical[i]
                if abs(ratio - 1) < 0.5:
                    msg += f" (ratio {ratio:.6g})"
        repro = ""
        if not f.passed and x is not None:
            repro = _derivative_repro(spec.name, x, f.quantity, ps, pre)
        report.results.append(CheckResult(
            name=spec.name, check="derivative", framework="spec", mode="-",
            dtype="mpmath" if method == "mpmath" else "float64", quantity=f.quantity,
            passed=f.passed, n=f.n, n_failed=int(f.bad.sum()),
            max_ulp=_nanmax(f.err_ulps),
            p999_ulp=float(np.quantile(np.nan_to_num(f.err_ulps, nan=0.0), 0.999)) if f.n else 0.0,
            max_abs=_nanmax(np.abs(np.subtract(f.declared, f.numerical, where=np.isfinite(f.declared) & np.isfinite(f.numerical), out=np.zeros(f.n)))),
            tolerance=f.tolerance, tolerance_reason="numerical derivative of the spec's own fn",
            worst_x=x, got=float(f.declared[i]) if f.n else None,
            want=float(f.numerical[i]) if f.n else None, message=msg,
            repro=repro, reference=method,
        ))
        if f.undeclared_kinks:
            sample = ", ".join(f"{v:g}" for v in f.undeclared_kinks[:6])
            report.note(spec.name, (
                f"{f.quantity}: non-smooth at {len(f.undeclared_kinks)} point(s) not declared in "
                f"kinks ({sample}{', ...' if len(f.undeclared_kinks) > 6 else ''}); the declared "
                "value equals a one-sided derivative there, so this is not a failure"))
    # kink conventions on the spec itself
    for k, conv in kinks.items():
        hi, _, found = ref.lookup("gradient", np.array([k]))
        if not found[0]:
            continue
        got = float(hi[0])
        ok = bool(ulp_distance(FORMATS["float64"], np.array([got]), np.array([conv]))[0] <= oracles.DERIV_ULPS)
        report.results.append(CheckResult(
            name=spec.name, check="kink", framework="spec", mode="-", dtype=ref.kind,
            quantity="gradient", passed=ok, n=1, n_failed=int(not ok),
            tolerance=f"{oracles.DERIV_ULPS:g} float64 ULP", tolerance_reason="the stated convention is exact",
            worst_x=float(k), got=got, want=float(conv),
            message=(f"grad({k!r}) = {got!r} is the stated convention" if ok else
                     f"convention at kink x={k!r}: spec.grad gives {got!r} but kinks states {conv!r}"),
            repro="" if ok else (pre + f"import numpy as np, xact.numpy as xnp\n"
                                 f"print(xnp.grad({spec.name!r}, np.array([{k!r}])"
                                 f"{''.join(f', {n}={v!r}' for n, v in ps.items())}))  "
                                 f"# kinks says {conv!r}"),
            reference=ref.kind,
        ))
    # limits at +-inf
    lim = oracles.limit_values(spec, ps)
    for q, sides in lim.items():
        for inf, (a, b) in sides.items():
            if not (a == b or (np.isnan(a) and np.isnan(b))):
                continue  # no limit (e.g. oscillating): nothing to hold the spec to
            hi, _, found = ref.lookup(q, np.array([inf]))
            if not found[0]:
                continue
            at = float(hi[0])
            ok = (np.isnan(at) and np.isnan(a)) or at == a or (
                np.isfinite(a) and np.isfinite(at) and abs(at - a) <= 1e-12 * max(1.0, abs(a)))
            if ok:
                continue
            if _outside(np.array([inf]))[0]:  # outside the domain: a note, never a failure
                _note_outside(f"outside the domain: {q} at x={inf} is {at!r}, the limit is {a!r} "
                              "(not a failure)")
                continue
            report.results.append(CheckResult(
                name=spec.name, check="limit", framework="spec", mode="-", dtype=ref.kind,
                quantity=q, passed=False, n=1, n_failed=1, worst_x=inf, got=at, want=float(a),
                tolerance="exact", tolerance_reason="the value at +-inf is the limit",
                message=(f"{q} at x={inf} is {at!r} but the function tends to {a!r} "
                         "(e.g. inf * 0 or inf - inf inside the formula)"),
                repro=pre + f"import numpy as np, xact.numpy as xnp\n"
                f"print(xnp.{'apply' if q == 'value' else 'grads'}({spec.name!r}, np.array([{fw._literal(inf)}])))",
                reference=ref.kind,
            ))


def _nanmax(v: np.ndarray) -> float:
    v = np.asarray(v, dtype=np.float64)
    v = v[~np.isnan(v)]
    return float(v.max()) if len(v) else 0.0


def _ranges(xs: np.ndarray) -> str:
    xs = np.sort(xs)
    if not len(xs):
        return "-"
    return f"x in [{xs[0]:.4g}, {xs[-1]:.4g}]" if len(xs) > 1 else f"x = {xs[0]:.6g}"


def _derivative_repro(name: str, x: float, quantity: str, ps: Mapping[str, float], pre: str) -> str:
    kw = "".join(f", {k}={v!r}" for k, v in ps.items())
    if quantity == "gradient":
        return (pre + "import numpy as np, xact.numpy as xnp\n"
                f"x = np.array([{x!r}]); h = 1e-6 * max(1.0, abs(x[0]))\n"
                f"print(xnp.grad({name!r}, x{kw}))  # declared\n"
                f"print((xnp.apply({name!r}, x + h{kw}) - xnp.apply({name!r}, x - h{kw})) / (2 * h))  # numerical")
    if quantity == "grad2":
        return (pre + "import numpy as np, xact, xact.numpy as xnp\n"
                f"x = np.array([{x!r}]); h = 1e-6 * max(1.0, abs(x[0]))\n"
                f"print(xact.get({name!r}).grad2(x{kw}))  # declared\n"
                f"print((xnp.grad({name!r}, x + h{kw}) - xnp.grad({name!r}, x - h{kw})) / (2 * h))  # numerical")
    p = quantity.split(":", 1)[1]
    idx = 1 + list(ps).index(p)
    plus = "".join(f", {k}={(v + 1e-6) if k == p else v!r}" for k, v in ps.items())
    minus = "".join(f", {k}={(v - 1e-6) if k == p else v!r}" for k, v in ps.items())
    return (pre + "import numpy as np, xact.numpy as xnp\n"
            f"x = np.array([{x!r}])\n"
            f"print(xnp.grads({name!r}, x{kw})[{idx}])  # declared d/d{p}\n"
            f"print((xnp.apply({name!r}, x{plus}) - xnp.apply({name!r}, x{minus})) / 2e-6)  # numerical")


# --------------------------------------------------------------------------- framework checks


@dataclass
class _Run:
    xs: np.ndarray
    n_grid: int
    out: dict[str, np.ndarray]
    #: per quantity: (x, ULP error) of the accuracy check's points, for the search
    err: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def _dense_reference(plan: _SpecPlan, dtype: str, xs: np.ndarray) -> dict[str, np.ndarray]:
    from xact.ops.numpy import namespace

    spec, ps = plan.spec, plan.params
    with np.errstate(all="ignore"):
        x = np.asarray(xs, dtype=np.float64)
        outs = [oracles.call_fn(spec, x, ps, namespace(np.float64)),
                *oracles.call_grad(spec, x, ps, namespace(np.float64))]
    return {q: np.broadcast_to(np.asarray(o, dtype=np.float64), x.shape).copy()
            for q, o in zip(oracles.quantities(spec), outs)}


def _framework_checks(
    plan: _SpecPlan, ref: oracles.Reference, framework: str, mode: str, dtype: str,
    report: Report, runs: dict[tuple[str, str, str], _Run], dense_ref: dict[str, dict[str, np.ndarray]],
) -> None:
    spec, ps = plan.spec, plan.params
    pts = plan.points[dtype]
    grid = pts.grid()
    xs = np.concatenate([grid, pts.specials])
    n_grid = len(grid)
    pre = _preamble(spec)
    base: dict[str, Any] = dict(name=spec.name, framework=framework, mode=mode, dtype=dtype)
    try:
        out = fw.run(framework, spec, xs, dtype, mode, ps)
        if spec.params:
            out.update({k: v for k, v in fw.run(framework, spec, xs, dtype, mode, ps, tensor_params=True).items()
                        if k.startswith("param_gradient")})
    except Exception as e:
        report.results.append(CheckResult(
            **base, check="run", quantity="value", passed=False,
            message=f"{framework} raised {type(e).__name__}: {e}",
            repro=fw.repro(framework, spec.name, 0.5, dtype, mode, ps, "gradient", pre)))
        return
    runs[(framework, mode, dtype)] = _Run(xs, n_grid, out)
    sub = _subnormal(dtype, grid)
    if dtype not in dense_ref and dtype != "float64":
        dense_ref[dtype] = _dense_reference(plan, dtype, grid)
    for q in oracles.quantities(spec):
        # a parameter's gradient has the parameter's dtype (float32 for half inputs)
        qd = fw.param_dtype(dtype) if q.startswith("param_gradient") else dtype
        tol, override = lookup(spec, qd, q)
        got = out[q]
        hi, lo, found = ref.lookup(q, xs)
        # accuracy over the grid: high precision where the oracle ran, float64 elsewhere
        g_hi, g_lo, g_found = hi[:n_grid], lo[:n_grid], found[:n_grid]
        if dtype == "float64":
            sel = g_found
            r_hi, r_lo = g_hi, g_lo
            refname = f"mpmath on {int(sel.sum())} points" if ref.kind == "mpmath" else "float64"
        else:
            sel = np.ones(n_grid, dtype=bool)
            d = dense_ref[dtype][q]
            r_hi = np.where(g_found, g_hi, d)
            r_lo = np.where(g_found, g_lo, 0.0)
            refname = (f"{ref.kind} on {int(g_found.sum())} points, float64 on {int((~g_found).sum())}")
        sel = sel & ~sub
        m = _measure(qd, got[:n_grid][sel], r_hi[sel], r_lo[sel], tol)
        runs[(framework, mode, dtype)].err[q] = (grid[sel], np.where(m.ok, 0.0, m.ulps))
        rp = (lambda x, q=q: fw.repro(framework, spec.name, x, dtype, mode, ps, q, pre))  # noqa: E731  (called at once)
        report.results.append(_result_from(
            m, grid[sel], got[:n_grid][sel], round_to(FORMATS[qd], r_hi[sel], r_lo[sel]),
            check="accuracy", quantity=q, tol=tol, override=override, repro=rp,
            reference=refname, what=q, **base))
        # special values, and subnormal inputs on their own (TF reads them as 0)
        is_sub = np.concatenate([sub, _subnormal(dtype, pts.specials)])
        is_special = np.concatenate([np.zeros(n_grid, dtype=bool), ~is_sub[n_grid:]])
        for kind, mask in (("special", is_special & found), ("subnormal", is_sub & found)):
            if not mask.any():
                continue
            m = _measure(qd, got[mask], hi[mask], lo[mask], tol)
            report.results.append(_result_from(
                m, xs[mask], got[mask], round_to(FORMATS[qd], hi[mask], lo[mask]),
                check=kind, quantity=q, tol=tol, override=override, repro=rp,
                reference=ref.kind, what=f"{q} at {'a subnormal input' if kind == 'subnormal' else 'a special value'}",
                **base))
        # against the published definition (exact constants), where there is one
        if q in ref.published:
            p_hi, p_lo, p_found = ref.lookup_published(q, xs)
            mask = p_found & ~np.concatenate([sub, _subnormal(dtype, pts.specials)])
            if q == "gradient" and pts.kink_conventions:
                mask &= ~np.isin(xs, np.array(list(pts.kink_conventions), dtype=np.float64))
            if mask.any():
                m = _measure(qd, got[mask], p_hi[mask], p_lo[mask], tol)
                report.results.append(_result_from(
                    m, xs[mask], got[mask], round_to(FORMATS[qd], p_hi[mask], p_lo[mask]),
                    check="published", quantity=q, tol=tol, override=override, repro=rp,
                    reference=f"published: {ref.published_source}",
                    what=f"{q} vs the published definition", **base))
    # the derivative at each declared kink is the stated convention
    if pts.kink_conventions:
        tol, override = lookup(spec, dtype, "gradient")
        kx = np.array(list(pts.kink_conventions), dtype=np.float64)
        conv = np.array(list(pts.kink_conventions.values()), dtype=np.float64)
        idx = np.searchsorted(grid, kx)
        got = out["gradient"][idx]
        m = _measure(dtype, got, conv, None, tol)
        res = _result_from(
            m, kx, got, round_to(FORMATS[dtype], conv), check="kink", quantity="gradient",
            tol=tol, override=override,
            repro=lambda x: fw.repro(framework, spec.name, x, dtype, mode, ps, "gradient", pre),
            reference="spec.kinks_at", what="gradient at a declared kink", **base)
        if not res.passed:
            res.message = (f"convention at kink x={res.worst_x!r}: {framework} gives {res.got!r}, "
                           f"the spec states {res.want!r}")
        report.results.append(res)


def _search_reference(plan: _SpecPlan, ref: oracles.Reference, dtype: str, xs: np.ndarray,
                      ) -> tuple[dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], str]:
    """Reference values at new points: the published definition (mpmath) where there
    is one, else NumPy float64 of the spec for float32 (none for float64)."""
    from xact.testing import references

    pub = references.published_for(plan.spec.name) if ref.published else None
    if pub is not None:
        return ({q: references.evaluate(pub, xs, plan.params, q) for q in ("value", "gradient")},
                f"published: {ref.published_source}")
    if dtype == "float64":
        return {}, ""
    d = _dense_reference(plan, dtype, xs)
    return {q: (d[q], np.zeros(len(xs)), np.ones(len(xs), dtype=bool)) for q in ("value", "gradient")}, "float64"


def _search(plan: _SpecPlan, ref: oracles.Reference, framework: str, mode: str, dtype: str,
            report: Report, run: _Run, seconds: float, rng: np.random.Generator) -> None:
    """Budgeted worst-case search: random restarts and local refinement on the ULP error."""
    spec, ps = plan.spec, plan.params
    fmt = FORMATS[dtype]
    t_end = time.perf_counter() + seconds
    r = inputs.interesting_range(spec.kinks_at(**ps))
    kinks = np.array([k for k in spec.kinks_at(**ps) if np.isfinite(k)], dtype=np.float64)
    centres: list[float] = []
    for q in ("value", "gradient"):
        if q in run.err:
            xq, eq = run.err[q]
            order = np.argsort(-np.nan_to_num(eq, nan=np.inf))[: SEARCH_STARTS // 4]
            centres += [float(v) for v in xq[order] if np.isfinite(v)]
    n_rand = max(0, SEARCH_STARTS - len(centres))
    mags = np.exp(rng.uniform(np.log(2.0**-10), np.log(2.0**14), n_rand // 2))
    rand = np.concatenate([rng.uniform(-r, r, n_rand - n_rand // 2), mags * rng.choice([-1.0, 1.0], len(mags))])
    dom = _DOMAIN.get()
    if dom is not None:
        lo, hi = max(dom[0], -fmt.max), min(dom[1], fmt.max)
        rand = rng.uniform(lo, hi, len(rand)) if np.isfinite(hi - lo) else rand
    centres += list(round_to(fmt, rand))
    best: dict[str, tuple[float, float, float, float, float, float]] = {}  # q -> (ulps, x, got, want, abs, rel)
    tested = 0
    offs = np.array(SEARCH_OFFSETS, dtype=np.float64)
    offs = np.concatenate([-offs[::-1], offs])
    c = np.array(centres, dtype=np.float64)
    source = ""
    for _ in range(SEARCH_ROUNDS):
        if time.perf_counter() > t_end or not len(c):
            break
        u = ulp(fmt, np.abs(c))
        cand = round_to(fmt, (c[:, None] + offs[None, :] * u[:, None]).ravel())
        cand = np.unique(cand[np.isfinite(cand) & (np.abs(cand) >= fmt.tiny)])
        cand = cand[~_outside(cand)]  # the search looks for failures, and only the domain has them
        if not len(cand):
            break
        if len(kinks):
            cand = cand[np.min(np.abs(cand[:, None] - kinks[None, :]), axis=1) > 0]
        refs, source = _search_reference(plan, ref, dtype, cand)
        if not refs:
            return
        try:
            out = fw.run(framework, spec, cand, dtype, mode, ps)
        except Exception:
            return
        tested += len(cand)
        nxt = []
        for q in ("value", "gradient"):
            hi, lo, ok = refs[q]
            tol, _ = lookup(spec, dtype, q)
            m = _measure(dtype, out[q][ok], hi[ok], lo[ok], tol)
            score = np.where(m.ok, 0.0, np.nan_to_num(m.ulps, nan=np.inf))
            if not len(score):
                continue
            i = int(np.argmax(score))
            xs_ok = cand[ok]
            want = float(round_to(fmt, hi[ok][i:i + 1], lo[ok][i:i + 1])[0])
            if q not in best or score[i] > best[q][0]:
                best[q] = (float(score[i]), float(xs_ok[i]), float(out[q][ok][i]), want,
                           float(m.abs_err[i]), _rel(float(m.abs_err[i]), want) or 0.0)
            nxt += [float(v) for v in xs_ok[np.argsort(-score)[: SEARCH_STARTS // 2]]]
        c = np.array(sorted(set(nxt)), dtype=np.float64)
    pre = _preamble(spec)
    for q, (score, x, got, want, a, rel) in best.items():
        tol, override = lookup(spec, dtype, q)
        passed = score <= tol.ulps
        report.results.append(CheckResult(
            name=spec.name, check="search", framework=framework, mode=mode, dtype=dtype, quantity=q,
            passed=passed, n=tested, n_failed=int(not passed), max_ulp=score, p999_ulp=score, max_abs=a,
            tolerance=f"{tol.ulps:g} ULP or abs <= {tol.atol:.3g}", tolerance_reason=override or tol.reason,
            worst_x=x, got=got, want=want,
            message=(f"worst-case search ({tested} points): within tolerance" if passed else
                     f"worst-case search found {q} out of tolerance at x={x!r} ({tested} points searched)"),
            repro="" if passed else fw.repro(framework, spec.name, x, dtype, mode, ps, q, pre),
            reference=source, failed_min_abs_x=None if passed else abs(x),
            failed_lo=None if passed else x, failed_hi=None if passed else x, worst_abs=a, worst_rel=rel))


def _subnormal(dtype: str, x: np.ndarray) -> np.ndarray:
    """Inputs that are subnormal in the dtype the spec computes in (float32 for halves)."""
    tiny = FORMATS["float32" if dtype in ("float16", "bfloat16") else dtype].tiny
    a = np.abs(x)
    return (a > 0) & (a < tiny)


def _pair_checks(plan: _SpecPlan, report: Report, runs: dict[tuple[str, str, str], _Run],
                 frameworks: Sequence[str], modes: Sequence[str]) -> None:
    """Framework pairs (torch~tf, torch~jax, tf~jax; same mode, dtype) and native vs bridge."""
    spec, ps = plan.spec, plan.params
    pre = _preamble(spec)
    pairs: list[tuple[str, tuple[str, str, str], tuple[str, str, str]]] = []
    for d in plan.dtypes:
        ordered = [f for f in fw.FRAMEWORKS if f in frameworks]  # torch~tf, never tf~torch
        for i, f1 in enumerate(ordered):
            for f2 in ordered[i + 1:]:
                pairs += [("cross", (f1, m, d), (f2, m, d)) for m in modes]
        if "native" in modes and "numpy" in modes:
            pairs += [("bridge", (f, "native", d), (f, "numpy", d)) for f in frameworks]
    for kind, a, b in pairs:
        if a not in runs or b not in runs:
            continue
        ra, rb = runs[a], runs[b]
        d = a[2]
        sub = _subnormal(d, ra.xs)
        for q in oracles.quantities(spec):
            qd = fw.param_dtype(d) if q.startswith("param_gradient") else d
            tol, override = lookup(spec, qd, f"{kind}:{q}")
            fwname = f"{a[0]}~{b[0]}" if kind == "cross" else a[0]
            mode = a[1] if kind == "cross" else "native~numpy"

            def rp(x: float, a: tuple[str, str, str] = a, b: tuple[str, str, str] = b, q: str = q) -> str:
                return (fw.repro(a[0], spec.name, x, d, a[1], ps, q, pre) + "\n"  # noqa: B023  (called at once)
                        + fw.repro(b[0], spec.name, x, d, b[1], ps, q, ""))  # noqa: B023  (called at once)

            for check_kind, mask in ((kind, ~sub), ("subnormal", sub)):
                if not mask.any():
                    continue
                ga, gb = ra.out[q][mask], rb.out[q][mask]
                m = _measure(qd, ga, gb, None, tol)
                report.results.append(_result_from(
                    m, ra.xs[mask], ga, gb, name=spec.name, check=check_kind, framework=fwname,
                    mode=mode, dtype=d, quantity=q, tol=tol, override=override, repro=rp,
                    reference=f"{b[0]}/{b[1]}", what=f"{q} ({a[0]}/{a[1]} vs {b[0]}/{b[1]})"))


# --------------------------------------------------------------------------- properties


def _property_checks(plan: _SpecPlan, framework: str, mode: str, report: Report, examples: int) -> None:
    """Hypothesis-drawn arrays: dtype/shape kept, NaN propagates, monotonic, chain rule."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    spec, ps = plan.spec, plan.params
    dtypes = plan.dtypes
    failures: dict[str, tuple[str, str]] = {}
    pre = _preamble(spec)

    @st.composite
    def arrays(draw: Any) -> tuple[str, np.ndarray, np.ndarray]:
        dtype = draw(st.sampled_from(dtypes))
        shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
        elems = st.one_of(
            st.floats(width=64 if dtype == "float64" else 32, allow_nan=False, allow_infinity=False, allow_subnormal=False),
            st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, -1.0]),
        )
        x = draw(hnp.arrays(np.float64, shape, elements=elems))
        x = round_to(FORMATS[dtype], x)
        up = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.5, 1.0, 2.0, -1.0, 0.25])))
        return dtype, x, up

    def record(prop: str, msg: str, x: np.ndarray, dtype: str) -> None:
        flat = ", ".join(fw._literal(v) for v in np.ravel(x)[:8])
        repro = (pre + f"# input of shape {x.shape}, dtype {dtype}: [{flat}{', ...' if x.size > 8 else ''}]\n"
                 + fw.repro(framework, spec.name, float(np.ravel(x)[0]) if x.size else 0.0, dtype, mode, ps, "value", ""))
        failures[prop] = (msg, repro)

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
    @given(arrays())
    def prop(case: tuple[str, np.ndarray, np.ndarray]) -> None:
        dtype, x, up = case
        out, gx, dt_name, shape = _run_shaped(framework, spec, x, dtype, mode, ps, up)
        if dt_name != dtype:
            record("dtype", f"input {dtype} gave output {dt_name}", x, dtype)
        if shape != x.shape:
            record("shape", f"input shape {x.shape} gave output shape {shape}", x, dtype)
            return
        nan_in = np.isnan(x)
        if (nan_in & ~np.isnan(out)).any():
            i = int(np.argmax(nan_in & ~np.isnan(out)))
            record("nan", f"fn(NaN) = {np.ravel(out)[i]!r}; NaN must propagate", x, dtype)
        if spec.monotonic:
            fin = np.isfinite(x) & np.isfinite(out)
            xv, yv = np.ravel(x)[np.ravel(fin)], np.ravel(out)[np.ravel(fin)]
            order = np.argsort(xv, kind="stable")
            xv, yv = xv[order], yv[order]
            drop = (np.diff(yv) < 0) & (np.diff(xv) > 0)
            if drop.any():
                j = int(np.argmax(drop))
                record("monotonic", f"declared monotonic but f({xv[j]!r}) = {yv[j]!r} > "
                       f"f({xv[j + 1]!r}) = {yv[j + 1]!r}", x, dtype)
        if dtype in ("float32", "float64"):
            _, g1, _, _ = _run_shaped(framework, spec, x, dtype, mode, ps, np.ones_like(x))
            want = (up * g1).astype(np.float32 if dtype == "float32" else np.float64).astype(np.float64)
            d = ulp_distance(FORMATS[dtype], gx, want)
            bad = d > 1
            if bad.any():
                i = int(np.argmax(np.ravel(bad)))
                record("chain_rule", f"backward with upstream {np.ravel(up)[i]!r} gave "
                       f"{np.ravel(gx)[i]!r}, expected upstream * grad = {np.ravel(want)[i]!r}", x, dtype)
        if failures:
            raise AssertionError("; ".join(m for m, _ in failures.values()))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            prop()
        except AssertionError:
            pass
        except Exception as e:  # a crash on some shape (e.g. 0-d) is a failure too
            failures.setdefault("run", (f"{type(e).__name__}: {e}", ""))
    props = ["dtype", "shape", "nan", "chain_rule"] + (["monotonic"] if spec.monotonic else [])
    if "run" in failures:
        props.append("run")
    for p in props:
        msg, repro = failures.get(p, ("holds on Hypothesis-drawn arrays", ""))
        report.results.append(CheckResult(
            name=spec.name, check=f"property:{p}", framework=framework, mode=mode,
            dtype=",".join(dtypes), quantity="value" if p != "chain_rule" else "gradient",
            passed=p not in failures, n=examples, n_failed=int(p in failures),
            tolerance="exact" if p != "chain_rule" else "1 ULP",
            tolerance_reason="structural property", message=msg, repro=repro, reference="hypothesis"))


def _run_shaped(framework: str, spec: Spec, x: np.ndarray, dtype: str, mode: str,
                ps: Mapping[str, float], up: np.ndarray) -> tuple[np.ndarray, np.ndarray, str, tuple[int, ...]]:
    """Run on an array of any shape; returns value, grad (with upstream ``up``), dtype, shape."""
    if framework == "torch":
        import torch

        import xact.torch as xt

        t = torch.from_numpy(np.array(x, dtype=np.float64)).to(getattr(torch, dtype)).requires_grad_(True)
        y = xt.apply(spec, t, mode=mode, **ps)
        u = torch.from_numpy(np.array(up, dtype=np.float64)).to(y.dtype)
        (g,) = torch.autograd.grad(y, [t], grad_outputs=u)
        return (y.detach().double().numpy(), g.double().numpy(), str(y.dtype).removeprefix("torch."),
                tuple(y.shape))
    if framework == "jax":
        import jax
        import jax.numpy as jnp

        import xact.jax as xj

        with fw._jax_x64():
            t = jnp.asarray(np.array(x, dtype=np.float64)).astype(dtype)
            y, vjp = jax.vjp(lambda v: xj.apply(spec, v, mode=mode, **ps), t)
            (g,) = vjp(jnp.asarray(np.array(up, dtype=np.float64)).astype(y.dtype))
            return (np.asarray(y.astype(jnp.float64)), np.asarray(g.astype(jnp.float64)), y.dtype.name,
                    tuple(y.shape))
    import tensorflow as tf

    import xact.tf as xtf

    t = tf.cast(tf.constant(np.array(x, dtype=np.float64)), getattr(tf, dtype))
    with tf.GradientTape() as tape:
        tape.watch(t)
        y = xtf.apply(spec, t, mode=mode, **ps)
    u = tf.cast(tf.constant(np.array(up, dtype=np.float64)), y.dtype)
    g = tape.gradient(y, t, output_gradients=u)
    return (tf.cast(y, tf.float64).numpy(), tf.cast(g, tf.float64).numpy(), y.dtype.name, tuple(y.shape))


# --------------------------------------------------------------------------- driver


def _covers(kf: KnownFailure, r: Any) -> bool:
    """Whether entry ``kf`` covers result ``r`` (its ``beyond`` and ``band`` limits included)."""
    if kf.beyond is not None and (r.failed_min_abs_x is None or r.failed_min_abs_x < kf.beyond):
        return False  # the entry covers only |x| >= beyond: a failure below it stays a failure
    if kf.band is not None and r.status == "fail" and not (
            r.failed_lo is not None and r.failed_hi is not None
            and kf.band[0] <= r.failed_lo and r.failed_hi <= kf.band[1]):
        return False  # the entry covers only failures inside its measured band
    return True


def _apply_known_failures(report: Report, start: int) -> None:
    for r in report.results[start:]:
        covering = [kf for kf in known_failures(r.name, r.check, r.framework, r.mode, r.dtype, r.quantity)
                    if _covers(kf, r)]
        if not covering:
            continue
        kf = covering[0]
        if r.status == "fail":
            r.status = "xfail"
            r.message += f"  [known failure: {kf.reason}]"
        elif r.status == "pass" and kf.strict:
            r.status = "xpass"
            r.passed = False
            r.message = f"listed as a known failure ({kf.reason}) but passes: remove it from KNOWN_FAILURES"


# The high-precision oracle is pure Python (mpmath) and independent of the
# frameworks, so with two or more cores it runs in a forked worker, one spec
# ahead of the framework checks in this process. Fork (not spawn) because
# specs are closures that cannot be pickled; the worker is forked before any
# framework is imported by check() and touches only NumPy and mpmath.
_JOB: dict[str, Any] = {}


def _oracle_job(i: int) -> tuple[str, Any, list[CheckResult], dict[str, list[str]]]:
    spec = _JOB["specs"][i]
    plan = _plan(spec, _JOB["dtypes"], _JOB["params"])
    rep = Report()
    dom = _JOB.get("domain") or spec.domain
    t1, t2 = _DOMAIN.set(dom), _OUTSIDE.set([])
    try:
        return _oracle_job_inner(spec, plan, rep)
    finally:
        for n in _OUTSIDE.get() or []:
            rep.note(spec.name, n)
        _DOMAIN.reset(t1)
        _OUTSIDE.reset(t2)


def _oracle_job_inner(spec: Spec, plan: _SpecPlan, rep: Report) -> tuple[str, Any, list[CheckResult], dict[str, list[str]]]:
    try:
        ref = oracles.reference(spec, plan.oracle_xs, plan.params)
        _spec_checks(plan, ref, rep)
    except Exception as e:
        return "error", f"{type(e).__name__}: {e}", rep.results, rep.notes
    published, source = _published(spec, ref.xs, plan.params)
    payload = dict(xs=ref.xs, values=ref.values, kind=ref.kind, why=ref.why,
                   fallback_points=ref.fallback_points, unconverged=ref.unconverged,
                   seconds=ref.seconds, notes=ref.notes, published=published,
                   published_source=source)
    return "ok", payload, rep.results, rep.notes


def _published(spec: Spec, xs: np.ndarray, params: Mapping[str, float]) -> tuple[dict[str, Any], str]:
    """The published definition of a catalogue spec at ``xs`` (none for user specs).

    Matched by name, for specs with a catalogue family (not ``"user"``):
    a user spec registered under a catalogue name is not held to the paper.
    """
    from xact.testing import references

    pub = references.published_for(spec.name)
    if pub is None or spec.family == "user":
        return {}, ""
    return {q: references.evaluate(pub, xs, params, q) for q in ("value", "gradient")}, pub.source


class _Oracles:
    """Yields ``(reference, spec-level results, notes)`` per spec, in order.

    With ``cache`` (a dict the caller keeps), a spec whose oracle job ran before
    with the same dtypes, parameters and domain is answered from it (a copy),
    and new jobs are stored in it: a second check of the same specs (the plain
    torch pass of ``conformance/run.py``) skips the mpmath work.
    """

    def __init__(self, specs: list[Spec], dtypes: list[str], params: Mapping[str, float] | None, jobs: int,
                 cache: dict[Any, Any] | None = None, domain: tuple[float, float] | None = None) -> None:
        self.specs = specs
        self._it: Any = None
        self._pool: Any = None
        self._cache = cache
        self._keys = [(id(s), s.name, tuple(dtypes), tuple(sorted((params or {}).items())), domain)
                      for s in specs]
        todo = [i for i, k in enumerate(self._keys) if cache is None or k not in cache]
        if jobs > 1 and len(todo) > 1:
            import multiprocessing

            try:
                ctx = multiprocessing.get_context("fork")
            except ValueError:  # no fork on this platform: run in-process
                ctx = None
            if ctx is not None:
                _JOB.update(specs=specs, dtypes=dtypes, params=params)  # domain: set by check()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    self._pool = ctx.Pool(jobs - 1)
                self._it = self._pool.imap(_oracle_job, todo)
        _JOB.update(specs=specs, dtypes=dtypes, params=params)

    def next(self, i: int) -> tuple[str, Any, list[CheckResult], dict[str, list[str]]]:
        key = self._keys[i]
        if self._cache is not None and key in self._cache:
            return copy.deepcopy(self._cache[key])  # type: ignore[no-any-return]
        job = self._it.next() if self._it is not None else _oracle_job(i)
        if self._cache is not None:
            self._cache[key] = copy.deepcopy(job)
        return job  # type: ignore[no-any-return]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()


def _modes_for(spec: Spec, modes: Sequence[str]) -> list[str]:
    return [m for m in modes if m == "numpy" or spec.takes_xp]


def check(
    target: str | Spec | Iterable[str | Spec] | None = None,
    *,
    frameworks: Sequence[str] | None = None,
    dtypes: Sequence[str] | None = None,
    modes: Sequence[str] | None = None,
    progress: bool = False,
    params: Mapping[str, float] | None = None,
    properties: bool = True,
    property_examples: int = PROPERTY_EXAMPLES,
    plots: bool = False,
    jobs: int | None = None,
    search: float | None = None,
    domain: tuple[float, float] | None = None,
    oracle_cache: dict[Any, Any] | None = None,
    _on_spec: Callable[[str, str, bool], None] | None = None,
) -> Report:
    """Run the conformance checks on one spec, several, or (``None``) the whole catalogue.

    Args:
        target: a registered name or alias, a :class:`xact.Spec`, an iterable
            of those, or None for every registered spec.
        frameworks: subset of ``("torch", "tf", "jax")``; default: all. One that is
            not installed is skipped with a note (not a failure).
        dtypes: subset of float16, bfloat16, float32, float64; default: all.
        modes: subset of ``("native", "numpy")``; default: both (native only
            for specs that take ``xp``).
        progress: show a progress bar (rich) on the terminal.
        params: parameter values to check at (default: the spec's defaults).
        properties: run the Hypothesis property checks.
        property_examples: Hypothesis examples per spec x framework x mode.
        plots: keep per-point data for :func:`xact.testing.report.write_plots`.
        search: seconds per spec for the worst-case search (random restarts
            and local refinement on the ULP error, float32 and float64);
            default :data:`SEARCH_SECONDS`; 0 turns it off.
        domain: ``(lo, hi)``: judge only inputs in it (default: each spec's
            ``domain``, else the whole line). Points outside are still
            measured and reported as notes, never as failures.
        oracle_cache: a dict kept by the caller: high-precision references
            (and the spec-level checks made with them) computed by this call
            are stored in it, and those already in it for the same spec,
            dtypes, parameters and domain are reused. A second check of the
            same specs, for another framework or path, then skips the mpmath work.
        jobs: processes to use. With 2 or more, at least two specs per
            process and no framework imported yet in this process, the specs
            are split across that many forked processes and the reports merged
            (``xact/testing/_processes.py``); otherwise, with 2 or more, the
            high-precision oracle runs in a forked worker alongside the
            framework checks. Default: the number of cores, at most 2, when 4
            or more specs are checked, else 1.

    Returns:
        A :class:`Report`; ``report.passed`` is True only when every check passed.
    """
    t0 = time.perf_counter()
    specs = _resolve_targets(target)
    frameworks = list(fw.FRAMEWORKS if frameworks is None else frameworks)
    dtypes = list(dtypes or FLOAT_DTYPES)
    modes = list(modes or MODES)
    for d in dtypes:
        if d not in FLOAT_DTYPES:
            raise ValueError(f"unknown dtype {d!r}; choose from {', '.join(FLOAT_DTYPES)}")
    for m in modes:
        if m not in MODES:
            raise ValueError(f"unknown mode {m!r}; choose from {', '.join(MODES)}")
    report = Report()
    if jobs is None:
        jobs = min(2, os.cpu_count() or 1) if len(specs) >= 4 else 1
    if domain is not None:
        domain = (float(domain[0]), float(domain[1]))
        if not domain[0] < domain[1]:
            raise ValueError(f"domain {domain!r} needs lo < hi")
    from xact.testing import _processes

    if _on_spec is None and _processes.can_split(specs, jobs):
        return _processes.check_split(specs, jobs, dict(
            frameworks=frameworks, dtypes=dtypes, modes=modes, params=params, properties=properties,
            property_examples=property_examples, plots=plots, search=search, domain=domain,
            oracle_cache=oracle_cache,
        ), progress=progress)  # type: ignore[no-any-return]
    _JOB["domain"] = domain
    oracle_jobs = _Oracles(specs, dtypes, params, jobs, oracle_cache, domain)
    usable = []
    for f in frameworks:
        if f not in fw.FRAMEWORKS:
            raise ValueError(f"unknown framework {f!r}; choose from {', '.join(fw.FRAMEWORKS)}")
        why = fw.available(f)
        if why:
            report.note("*", f"framework {f} skipped: {why}")
        else:
            usable.append(f)
    report.meta.update(frameworks=usable, dtypes=dtypes, modes=modes, specs=[s.name for s in specs])
    from xact.testing.report import Progress

    phases = {"oracle": 0.0, "oracle (waiting)": 0.0, "frameworks": 0.0, "search": 0.0,
              "properties": 0.0, "pairs": 0.0}
    search_seconds = SEARCH_SECONDS if search is None else float(search)
    oracle_sizes: list[int] = []
    oracle_seconds = 0.0
    with Progress(enabled=progress, total=len(specs)) as bar:
        for k, spec in enumerate(specs):
            start = len(report.results)
            bar.start(spec.name)
            if _on_spec is not None:
                _on_spec("start", spec.name, True)
            plan = _plan(spec, dtypes, params)
            # seeded per spec: the search does not depend on which specs ran before it
            rng = np.random.default_rng([20261202, zlib.crc32(spec.name.encode())])
            tp = time.perf_counter()
            status, payload, spec_results, spec_notes = oracle_jobs.next(k)
            report.results.extend(spec_results)
            for nm, ns in spec_notes.items():
                for n in ns:
                    report.note(nm, n)
            if status != "ok":
                report.results.append(CheckResult(
                    name=spec.name, check="run", framework="spec", mode="-", dtype="-",
                    quantity="value", passed=False,
                    message=f"evaluating the spec for the reference failed: {payload}"))
                bar.advance(spec.name, False)
                if _on_spec is not None:
                    _on_spec("done", spec.name, False)
                continue
            ref = oracles.Reference(spec=spec, params=plan.params, **payload)
            dom = domain or spec.domain
            tok = (_DOMAIN.set(dom), _OUTSIDE.set([]))
            if dom is not None:
                report.note(spec.name, f"domain [{dom[0]:g}, {dom[1]:g}]: points outside are measured "
                            "and reported here as notes, never as failures")
            oracle_sizes.append(len(ref.xs))
            oracle_seconds += ref.seconds
            if ref.kind != "mpmath":
                report.note(spec.name, f"high-precision oracle unavailable ({ref.why}); "
                            "the reference is NumPy float64 and the derivative check uses "
                            "Richardson extrapolation in float64")
            for n in ref.notes:
                report.note(spec.name, n)
            phases["oracle (waiting)" if oracle_jobs._it is not None else "oracle"] += time.perf_counter() - tp
            runs: dict[tuple[str, str, str], _Run] = {}
            dense_ref: dict[str, dict[str, np.ndarray]] = {}
            smodes = _modes_for(spec, modes)
            if not smodes:
                report.note(spec.name, f"no requested mode can run it (modes {modes}; native needs xp)")
            for f in usable:
                for m in smodes:
                    tp = time.perf_counter()
                    for d in dtypes:
                        _framework_checks(plan, ref, f, m, d, report, runs, dense_ref)
                    phases["frameworks"] += time.perf_counter() - tp
                    tp = time.perf_counter()
                    searched = [d for d in dtypes if d in ("float32", "float64") and (f, m, d) in runs]
                    for d in searched if search_seconds > 0 else ():
                        _search(plan, ref, f, m, d, report, runs[(f, m, d)],
                                search_seconds / (len(usable) * len(smodes) * len(searched)), rng)
                    phases["search"] += time.perf_counter() - tp
                    tp = time.perf_counter()
                    if properties and property_examples > 0:
                        _property_checks(plan, f, m, report, property_examples)
                    phases["properties"] += time.perf_counter() - tp
            tp = time.perf_counter()
            _pair_checks(plan, report, runs, usable, smodes)
            phases["pairs"] += time.perf_counter() - tp
            if plots:
                report.plots[spec.name] = _plot_data(plan, ref, runs, dense_ref)
            for n in _OUTSIDE.get() or []:
                report.note(spec.name, n)
            _DOMAIN.reset(tok[0])
            _OUTSIDE.reset(tok[1])
            _apply_known_failures(report, start)
            ok = all(r.status not in ("fail", "xpass") for r in report.results[start:])
            bar.advance(spec.name, ok)
            if _on_spec is not None:
                _on_spec("done", spec.name, ok)
    oracle_jobs.close()
    report.meta.update(
        wall_seconds=time.perf_counter() - t0,
        oracle_points_mean=float(np.mean(oracle_sizes)) if oracle_sizes else 0.0,
        oracle_points_max=int(max(oracle_sizes, default=0)),
        oracle_seconds=oracle_seconds,
        phase_seconds={k: round(v, 2) for k, v in phases.items()},
        dense_points={d: len(inputs.points_for(d, {}).grid()) for d in dtypes},
    )
    return report


def _plot_data(plan: _SpecPlan, ref: oracles.Reference, runs: dict[tuple[str, str, str], _Run],
               dense_ref: dict[str, dict[str, np.ndarray]]) -> dict[str, Any]:
    """Per-point data for the plots: the range, fn and grad, and ULP errors per run."""
    data: dict[str, Any] = {"errors": {}}
    d0 = "float32" if "float32" in plan.dtypes else plan.dtypes[0]
    r = inputs.interesting_range(plan.spec.kinks_at(**plan.params))
    x = np.linspace(-r, r, 801)
    from xact.ops.numpy import namespace

    with np.errstate(all="ignore"):
        data["x"] = x
        data["fn"] = np.asarray(oracles.call_fn(plan.spec, x, plan.params, namespace(np.float64)), dtype=float) * np.ones_like(x)
        data["grad"] = np.asarray(oracles.call_grad(plan.spec, x, plan.params, namespace(np.float64))[0], dtype=float) * np.ones_like(x)
    for (f, m, d), run in runs.items():
        if d != d0 or d not in dense_ref:
            continue
        grid = run.xs[: run.n_grid]
        inside = np.abs(grid) <= r
        for q in ("value", "gradient"):
            hi = dense_ref[d][q]
            want = round_to(FORMATS[d], hi)
            got = run.out[q][: run.n_grid]
            e = ulp_distance(FORMATS[d], got, want)
            tol, _ = lookup(plan.spec, d, q)
            with np.errstate(all="ignore"):
                escaped = (e > tol.ulps) & (np.abs(got - hi) <= tol.atol)
            data["errors"][f"{f}/{m} {q}"] = (grid[inside], e[inside], escaped[inside])
    data["dtype"] = d0
    return data


def assert_conforms(target: str | Spec | Iterable[str | Spec] | None = None, **kwargs: Any) -> Report:
    """Like :func:`check`, but raise :class:`xact.ConformanceError` on any failure.

    The error message lists each failing check with its worst point, the
    two values and a reproduction. Returns the report when everything passes.
    """
    report = check(target, **kwargs)
    if not report.passed:
        raise ConformanceError(
            f"{len(report.failures)} conformance check(s) failed:\n{report.diff()}"
        )
    return report
