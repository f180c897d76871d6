"""Measuring one built-in against a spec: ULPs, kink gradients, non-finite behaviour.

Rules:

* The reference is the conformance engine's: points from
  :func:`xact.testing.inputs.points_for` (dense grid, log-spaced magnitudes
  up to the largest finite value, +-0, +-inf, NaN, kink neighbours), the
  mpmath oracle of :func:`xact.testing.oracles.reference` on its subsample,
  and NumPy float64 elsewhere for float32. Float64 figures use the mpmath
  points only (a float64 reference cannot judge float64).
* Errors are ULP distances from the correctly rounded reference
  (:mod:`xact.testing._floats`); a point within the engine's absolute escape
  for that dtype and quantity (:func:`xact.testing.tolerances.lookup`) scores
  0. A built-in *differs* where its worst point is beyond the bound xact
  holds its own adapters to.
* Subnormal inputs are left out (TensorFlow flushes them to zero on CPU;
  the conformance report covers them).
* Non-finite results are never given a ULP figure: each point where the
  built-in and the spec disagree on NaN/inf is listed instead.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from xact.spec import Spec
from xact.testing import inputs, oracles
from xact.testing._floats import FORMATS, abs_error, round_to, ulp_distance
from xact.testing.tolerances import lookup

__all__ = ["DTYPES", "QUANTITIES", "Ref", "RefCache", "compare_outputs", "kink_points", "measure_run"]

DTYPES = ("float32", "float64")
QUANTITIES = ("value", "gradient")
#: A declared twin "computes something else" when it is this far off in float64,
#: relative to max(|reference|, 1): far beyond any rounding or constant difference.
FORMULA_RTOL = 1e-6
FORMULA_RANGE = 1e3
#: The dense grid covers [-WIDE_RANGE, WIDE_RANGE] (or the kinks, if wider).
WIDE_RANGE = 40.0
MAX_LISTED = 6
#: Two derivative values are "the same side" of a kink within this relative
#: difference (wide enough for constants rounded to float32, e.g. torch's 1/6).
KINK_RTOL = 1e-6


def _key(params: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
    return tuple(sorted((k, float(v)) for k, v in params.items()))


@dataclass
class DtypeRef:
    xs: np.ndarray  # grid (no subnormals) then specials
    n_grid: int
    use: np.ndarray  # points with a reference good enough for ULP figures
    want: dict[str, tuple[np.ndarray, np.ndarray]]  # quantity -> (hi, lo)


@dataclass
class Ref:
    spec: Spec
    params: dict[str, float]
    kinks: dict[float, float]
    by_dtype: dict[str, DtypeRef]
    kind: str
    notes: list[str] = field(default_factory=list)


def _subnormal(dtype: str, x: np.ndarray) -> np.ndarray:
    a = np.abs(x)
    return (a > 0) & (a < FORMATS[dtype].tiny)


def _lookup(ref: oracles.Reference, q: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    hi, lo, found = ref.lookup(q, x)
    nan_at = np.nonzero(np.isnan(ref.xs))[0]
    if len(nan_at):  # the oracle's value at NaN (lookup matches by equality, so finds none)
        hi_all, lo_all = ref.values[q]
        isn = np.isnan(x)
        hi = np.where(isn, hi_all[nan_at[0]], hi)
        lo = np.where(isn, lo_all[nan_at[0]], lo)
        found = found | isn
    return hi, lo, found


class RefCache:
    """High-precision references per (spec, params), computed once."""

    def __init__(self) -> None:
        self._refs: dict[tuple[str, Any], Ref] = {}
        self.seconds = 0.0

    def get(self, spec: Spec, params: Mapping[str, float]) -> Ref:
        ps = {**spec.params, **params}
        k = (spec.name, _key(ps))
        if k not in self._refs:
            import time

            t0 = time.perf_counter()
            self._refs[k] = self._build(spec, ps)
            self.seconds += time.perf_counter() - t0
        return self._refs[k]

    @staticmethod
    def _build(spec: Spec, ps: dict[str, float]) -> Ref:
        from xact._call import call_fn, call_grad
        from xact.ops.numpy import namespace

        kinks = spec.kinks_at(**ps)
        # a wider dense range than conformance's R = 10: built-ins switch formulas out
        # there (torch's softplus returns x beyond 20), and a fake far kink widens it
        widen = {WIDE_RANGE / 1.25: 0.0} if max((abs(k) for k in kinks if math.isfinite(k)), default=0.0) < WIDE_RANGE / 1.25 else {}
        pts = {d: inputs.points_for(d, {**kinks, **widen}) for d in DTYPES}
        ox = np.concatenate([inputs.oracle_points(list(pts.values())), [np.inf, -np.inf, np.nan]])
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            ref = oracles.reference(spec, ox, ps)
        by: dict[str, DtypeRef] = {}
        for d, p in pts.items():
            grid = p.grid()
            grid = grid[~_subnormal(d, grid)]
            specials = p.specials[~_subnormal(d, p.specials)]
            xs = np.concatenate([grid, specials])
            want = {}
            use = np.ones(len(xs), dtype=bool)
            dense: dict[str, np.ndarray] = {}
            if d != "float64":
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    x64 = np.asarray(xs, dtype=np.float64)
                    ns = namespace(np.float64)
                    outs = [call_fn(spec, x64, ps, ns), call_grad(spec, x64, ps, ns)[0]]
                dense = {q: np.broadcast_to(np.asarray(o, dtype=np.float64), xs.shape) for q, o in zip(QUANTITIES, outs)}
            for q in QUANTITIES:
                hi, lo, found = _lookup(ref, q, xs)
                if d == "float64":
                    use &= found
                else:
                    hi = np.where(found, hi, dense[q])
                    lo = np.where(found, lo, 0.0)
                want[q] = (hi, lo)
            by[d] = DtypeRef(xs, len(grid), use, want)
        notes = list(ref.notes)
        if ref.kind != "mpmath":
            notes.append(f"reference is NumPy float64 ({ref.why})")
        return Ref(spec, ps, kinks, by, ref.kind, notes)


def kink_points(ref: Ref, dtype: str) -> list[tuple[float, float]]:
    """(x, convention) for each declared kink exactly representable in ``dtype``; 0 also as -0."""
    out = []
    for k, conv in ref.kinks.items():
        if not math.isfinite(k) or float(round_to(FORMATS[dtype], np.array([k]))[0]) != k:
            continue
        out.append((float(k), float(conv)))
        if k == 0.0:
            out.append((-0.0, float(conv)))
    return out


# --------------------------------------------------------------------------- one run


def _fmt(v: float) -> float | str:
    """JSON-safe number: NaN and infinities as strings."""
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return float(v)


def _ulps(dtype: str, got: np.ndarray, hi: np.ndarray, lo: np.ndarray, atol: float) -> tuple[np.ndarray, np.ndarray]:
    """(ULP score with the absolute escape, mask of finite-vs-finite points)."""
    fmt = FORMATS[dtype]
    want = round_to(fmt, hi, lo)
    fin = np.isfinite(got) & np.isfinite(want)
    d = ulp_distance(fmt, got, want)
    a = abs_error(got, hi, lo)
    score = np.where(fin & (a <= atol), 0.0, d)
    return np.where(fin, score, 0.0), fin


def _quantity(spec: Spec, dtype: str, q: str, xs: np.ndarray, got: np.ndarray,
              hi: np.ndarray, lo: np.ndarray) -> dict[str, Any]:
    """ULP figures over finite inputs; every NaN/inf disagreement (and any at +-inf/NaN inputs) listed."""
    tol, _ = lookup(spec, dtype, q)
    score, fin = _ulps(dtype, got, hi, lo, tol.atol)
    want = round_to(FORMATS[dtype], hi, lo)
    fin_in = np.isfinite(xs)
    stats = fin & fin_in
    odd = (fin_in & ~fin & ~_same(got, want)) | (~fin_in & ~_same(got, want))
    res: dict[str, Any] = {"n": int(stats.sum()), "bound_ulp": tol.ulps, "max_ulp": 0.0, "max_rel": 0.0}
    if stats.any():
        i = int(np.argmax(np.where(stats, score, -1.0)))
        rel = np.where(stats, _scaled_diff(got, want), 0.0)
        j = int(np.argmax(rel))
        res.update(max_ulp=float(score[i]), worst_x=_fmt(float(xs[i])), got=_fmt(float(got[i])),
                   want=_fmt(float(want[i])), max_rel=float(rel[j]), max_rel_x=_fmt(float(xs[j])))
    res["differs"] = bool(res["max_ulp"] > tol.ulps)
    res["nonfinite"] = [
        {"x": _fmt(float(xs[j])), "got": _fmt(float(got[j])), "want": _fmt(float(want[j]))}
        for j in np.nonzero(odd)[0][:MAX_LISTED]
    ]
    res["n_nonfinite"] = int(odd.sum())
    return res


def _scaled_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| / max(|b|, 1): an error measure that tails underflowing to 0 cannot inflate."""
    with np.errstate(all="ignore"):
        d = np.abs(a - b) / np.maximum(np.abs(b), 1.0)
    return np.where(np.isfinite(d), d, 0.0)


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Both NaN, the same infinity, or finite and within :data:`KINK_RTOL` relative."""
    both_nan = np.isnan(a) & np.isnan(b)
    with np.errstate(all="ignore"):
        close = np.isfinite(a) & np.isfinite(b) & (np.abs(a - b) <= KINK_RTOL * np.maximum(np.abs(a), np.abs(b)))
    return both_nan | (a == b) | close


def _side(at: float, left: float, right: float) -> str:
    """Which one-sided value the derivative at a kink is: left, right, both (equal), or other."""
    def close(a: float, b: float) -> bool:
        return bool(a == b or abs(a - b) <= KINK_RTOL * max(abs(a), abs(b), 1e-300))
    if not math.isfinite(at):
        return "other"
    on_left, on_right = close(at, left), close(at, right)
    return "both" if on_left and on_right else "left" if on_left else "right" if on_right else "other"


@dataclass
class RunOutput:
    """Raw outputs of one built-in run on a reference's points, kept for cross comparisons."""

    xs: dict[str, np.ndarray]
    value: dict[str, np.ndarray]
    gradient: dict[str, np.ndarray | None]


def _neighbours(dtype: str, k: float) -> tuple[float, float]:
    """The values of ``dtype`` either side of ``k``; the smallest normals around 0 (TF flushes subnormals)."""
    if k == 0.0:
        t = FORMATS[dtype].tiny
        return -t, t
    dt = np.dtype(dtype).type
    return float(np.nextafter(dt(k), dt(-np.inf))), float(np.nextafter(dt(k), dt(np.inf)))


def _spec_grad(ref: Ref, xs: np.ndarray) -> np.ndarray:
    from xact._call import call_grad
    from xact.ops.numpy import namespace

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        g = call_grad(ref.spec, np.asarray(xs, dtype=np.float64), ref.params, namespace(np.float64))[0]
    return np.broadcast_to(np.asarray(g, dtype=np.float64), np.shape(xs))


def measure_run(run: Any, ref: Ref) -> tuple[dict[str, Any], RunOutput]:
    """Run the built-in on the reference's points in each dtype and measure it."""
    res: dict[str, Any] = {}
    raw = RunOutput({}, {}, {})
    kinks_out: list[dict[str, Any]] = []
    for d in DTYPES:
        r = ref.by_dtype[d]
        kp = kink_points(ref, d)
        kx = [v for k, _ in kp for v in (_neighbours(d, k)[0], k, _neighbours(d, k)[1])]
        xs_all = np.concatenate([r.xs, np.array(kx, dtype=np.float64)])
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                y, g = run(xs_all, d)
        except Exception as e:
            res[d] = {"error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:300]}
            continue
        n = len(r.xs)
        raw.xs[d], raw.value[d], raw.gradient[d] = r.xs, y[:n], None if g is None else g[:n]
        sel = r.use
        out: dict[str, Any] = {}
        for q, got in (("value", y[:n]), ("gradient", None if g is None else g[:n])):
            if got is None:
                out[q] = None
                continue
            hi, lo = r.want[q]
            out[q] = _quantity(ref.spec, d, q, r.xs[sel], got[sel], hi[sel], lo[sel])
        res[d] = out
        if g is not None and kp:
            sg = _spec_grad(ref, np.array(kx))
            gk = g[n:]
            for i, (k, conv) in enumerate(kp):
                gl, g0, gr = (float(v) for v in gk[3 * i: 3 * i + 3])
                sl, _, sr = (float(v) for v in sg[3 * i: 3 * i + 3])
                spec_side, got_side = _side(conv, sl, sr), _side(g0, gl, gr)
                if spec_side == "both" or got_side == "both" or spec_side == got_side == "other":
                    differs = _side(g0, conv, conv) != "both"  # compare the values themselves
                else:
                    differs = spec_side != got_side
                kinks_out.append({"x": _fmt(k), "dtype": d, "spec": _fmt(conv), "spec_side": spec_side,
                                  "got": _fmt(g0), "got_side": got_side,
                                  "left": _fmt(gl), "right": _fmt(gr), "differs": bool(differs)})
    res["kinks"] = kinks_out
    return res, raw


def formula_mismatch(measured: Mapping[str, Any], raw: RunOutput, ref: Ref) -> str:
    """Non-empty when the run computes a different function (not a rounding difference)."""
    for d in ("float64", "float32"):
        if d not in raw.value:
            continue
        r = ref.by_dtype[d]
        sel = r.use.copy()
        sel[r.n_grid:] = False
        sel &= np.abs(r.xs) <= FORMULA_RANGE  # moderate inputs: overflow is NaN/inf behaviour, said elsewhere
        hi, lo = r.want["value"]
        want = round_to(FORMATS[d], hi, lo)[sel]
        got = raw.value[d][sel]
        x = r.xs[sel]
        fin = np.isfinite(want) & np.isfinite(got)
        with np.errstate(all="ignore"):
            bad = fin & ~(np.abs(got - want) <= FORMULA_RTOL * np.maximum(np.abs(want), 1.0))
        if bad.any():
            j = int(np.nonzero(bad)[0][len(np.nonzero(bad)[0]) // 2])
            return (f"{int(bad.sum())} of {int(fin.sum())} {d} grid values with |x| <= {FORMULA_RANGE:g} differ "
                    f"by more than {FORMULA_RTOL:g} of max(|spec|, 1), e.g. x={float(x[j]):.9g}: got "
                    f"{float(got[j]):.9g}, spec {float(want[j]):.9g}")
        return ""
    return ""


# --------------------------------------------------------------------------- two built-ins


def compare_outputs(spec: Spec, a: RunOutput, b: RunOutput) -> dict[str, Any]:
    """Max ULP apart between two built-ins' outputs on the same points, per dtype and quantity."""
    out: dict[str, Any] = {}
    for d in DTYPES:
        if d not in a.value or d not in b.value or len(a.xs[d]) != len(b.xs[d]):
            continue
        fmt = FORMATS[d]
        per: dict[str, Any] = {}
        for q in QUANTITIES:
            va = a.value[d] if q == "value" else a.gradient[d]
            vb = b.value[d] if q == "value" else b.gradient[d]
            if va is None or vb is None:
                continue
            tol, _ = lookup(spec, d, f"cross:{q}")
            fin_in = np.isfinite(a.xs[d])
            fin = np.isfinite(va) & np.isfinite(vb) & fin_in
            dist = ulp_distance(fmt, va, vb)
            with np.errstate(all="ignore"):
                dist = np.where(fin & (np.abs(va - vb) <= tol.atol), 0.0, dist)
            score = np.where(fin, dist, 0.0)
            rel = np.where(fin, _scaled_diff(va, vb), 0.0)
            i = int(np.argmax(score))
            nonfin = ~_same(va, vb) & ~fin
            per[q] = {
                "max_ulp": float(score[i]), "worst_x": _fmt(float(a.xs[d][i])),
                "a": _fmt(float(va[i])), "b": _fmt(float(vb[i])), "bound_ulp": tol.ulps,
                "max_rel": float(rel.max()),
                "n_nonfinite": int(nonfin.sum()),
                "nonfinite": [{"x": _fmt(float(a.xs[d][j])), "a": _fmt(float(va[j])), "b": _fmt(float(vb[j]))}
                              for j in np.nonzero(nonfin)[0][:MAX_LISTED]],
            }
        out[d] = per
    return out


def identical(a: RunOutput, b: RunOutput) -> bool:
    """Bit-for-bit the same values (and gradients, where both have them) in every dtype."""
    for d in DTYPES:
        if (d in a.value) != (d in b.value):
            return False
        if d not in a.value:
            continue
        for va, vb in ((a.value[d], b.value[d]), (a.gradient[d], b.gradient[d])):
            if (va is None) != (vb is None):
                return False
            if va is not None and vb is not None and not np.array_equal(va, vb, equal_nan=True):
                return False
    return True
