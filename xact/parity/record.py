"""The parity record: every built-in measured under its declared arguments and its own defaults.

For each built-in (see :mod:`xact.parity.builtins`) and each spec it is
declared for:

1. ``twin``: the built-in with the declared kwargs against the spec at the
   spec's defaults: value and gradient ULPs in float32 and float64, the
   gradient at every declared kink, and every NaN/inf disagreement;
2. ``defaults``: when the built-in's own defaults (read from its signature)
   differ from the declared kwargs, the built-in called without them against
   the same spec; and ``defaults-as-spec``: against the spec at the
   parameters those defaults amount to (keras.layers.LeakyReLU() against
   leaky_relu(negative_slope=0.3));
3. ``probe``: for a parametric spec, the built-in with every parameter moved
   off its default (halved, or 0.5 for a zero), through the same argument
   mapping: kink conventions that follow a parameter (elu'(0) = alpha) show
   only there.

Then, under its defaults, the built-in is screened against *every* catalogue
spec at its defaults (and at the parameters its defaults amount to) on a
float64 grid: ``matches_under_defaults`` lists every spec it computes, found
by measurement. Per spec, the built-ins' default outputs are compared with
each other (``cross``): bit-identical ones are grouped, and each pair of
groups gets its max ULP apart.

Every statement in ``differences`` is generated from these numbers.
"""

from __future__ import annotations

import math
import re
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

import xact
from xact.parity import measure as M
from xact.parity.builtins import (
    REQUIRED,
    Builtin,
    Signature,
    arg_roles,
    as_number,
    builtins,
    installed,
    same_value,
    signature,
    spec_params_from,
    twin_args,
)
from xact.parity.runners import make
from xact.spec import Spec, Twin

__all__ = ["build_record"]

#: The float64 screen for "which spec does it compute under its defaults".
SCREEN_X = np.unique(np.concatenate([np.linspace(-10.0, 10.0, 2001), np.geomspace(1e-6, 10.0, 60),
                                     -np.geomspace(1e-6, 10.0, 60)]))
SCREEN_RTOL = 1e-6


# --------------------------------------------------------------------------- formatting


def jsonable(v: Any) -> Any:
    if v is REQUIRED:
        return "required"
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    if isinstance(v, Mapping):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    return repr(v)


def fmt_num(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        if v == int(v) and abs(v) < 1e6:
            return str(int(v)) if v != 0 or math.copysign(1, v) > 0 else "-0"
        return f"{v:.9g}"
    return repr(v)


def fmt_x(v: Any) -> str:
    """An input point, exactly (shortest repr), so that 3 and the float below 3 are told apart."""
    if isinstance(v, float) and math.isfinite(v) and not (v == int(v) and abs(v) < 1e6):
        return repr(v)
    return fmt_num(v)


def fmt_ulp(v: float) -> str:
    if not math.isfinite(v):
        return "inf"
    return f"{v:.0f}" if v < 1e5 else f"{v:.2g}"


def fmt_args(kwargs: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={_py(v)}" for k, v in kwargs.items())


def _py(v: Any) -> str:
    if isinstance(v, float):
        return fmt_num(v) if math.isfinite(v) else f"float({str(v)!r})"
    if isinstance(v, Mapping) and as_number(v) is not None:
        return f"Constant({fmt_num(as_number(v))})"
    return repr(v)


def spec_call(spec: Spec, params: Mapping[str, float]) -> str:
    ps = {k: v for k, v in params.items()}
    return f"{spec.name}({fmt_args(ps)})" if ps else spec.name


# --------------------------------------------------------------------------- screen


class Screen:
    """Every catalogue spec on :data:`SCREEN_X` in float64, computed on demand."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, Any], tuple[np.ndarray, np.ndarray] | None] = {}

    def spec_out(self, spec: Spec, params: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray] | None:
        from xact._call import call_fn, call_grad
        from xact.ops.numpy import namespace

        key = (spec.name, M._key({**spec.params, **params}))
        if key not in self._cache:
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    ps = {**spec.params, **params}
                    ns = namespace(np.float64)
                    v = np.broadcast_to(np.asarray(call_fn(spec, SCREEN_X, ps, ns), dtype=np.float64), SCREEN_X.shape)
                    g = np.broadcast_to(np.asarray(call_grad(spec, SCREEN_X, ps, ns)[0], dtype=np.float64), SCREEN_X.shape)
                self._cache[key] = (v, g)
            except Exception:
                self._cache[key] = None
        return self._cache[key]

    def matches(self, y: np.ndarray, g: np.ndarray | None, candidates: Iterable[tuple[Spec, Mapping[str, float]]]) -> list[dict[str, Any]]:
        found = []
        seen = set()
        for spec, params in candidates:
            ps = {**spec.params, **params}
            key = (spec.name, M._key(ps))
            if key in seen:
                continue
            seen.add(key)
            ref = self.spec_out(spec, ps)
            if ref is None:
                continue
            kinks = [k for k in spec.kinks_at(**ps) if math.isfinite(k)]
            near_kink = np.zeros(SCREEN_X.shape, dtype=bool)
            for k in kinks:
                near_kink |= np.abs(SCREEN_X - k) <= 1e-6 * max(1.0, abs(k))
            worst = 0.0
            ok = True
            for got, want, skip in ((y, ref[0], np.zeros_like(near_kink)), (g, ref[1], near_kink)):
                if got is None:
                    continue
                with np.errstate(all="ignore"):
                    err = np.abs(got - want) / np.maximum(np.abs(want), 1.0)
                same_nonfinite = (np.isnan(got) & np.isnan(want)) | (np.isinf(got) & (got == want))
                err = np.where(same_nonfinite | skip, 0.0, err)
                err = np.where(np.isnan(err), np.inf, err)
                worst = max(worst, float(err.max()))
                ok &= bool(worst <= SCREEN_RTOL)
            if ok:
                found.append({"spec": spec.name, "params": dict(ps), "max_rel_diff": worst})
        return found


# --------------------------------------------------------------------------- one built-in


@dataclass
class Measured:
    record: dict[str, Any]
    defaults_outputs: dict[str, M.RunOutput]  # spec name -> outputs under the built-in's defaults


def _probe_params(spec: Spec) -> dict[str, float]:
    return {p: (v / 2.0 if v != 0 else 0.5) for p, v in spec.params.items()}


def _run_entry(label: str, spec: Spec, params: Mapping[str, float], kwargs: Mapping[str, Any],
               measured: Mapping[str, Any]) -> dict[str, Any]:
    return {"label": label, "spec": spec.name, "params": dict(params), "kwargs": jsonable(dict(kwargs)), **measured}


def _measure(b: Builtin, kwargs: Mapping[str, Any], ref: M.Ref) -> tuple[dict[str, Any], M.RunOutput]:
    try:
        run = make(b.framework, b.call, kwargs)
    except Exception as e:
        err = f"{type(e).__name__}: {e}"[:300]
        return {d: {"error": err} for d in M.DTYPES} | {"kinks": []}, M.RunOutput({}, {}, {})
    return M.measure_run(run, ref)


def _call_text(b: Builtin, kwargs: Mapping[str, Any]) -> str:
    lead = "" if b.module_form or b.framework == "onnx" else "x" + (", " if kwargs else "")
    return f"{b.call}({lead}{fmt_args(kwargs)})"


def measure_builtin(b: Builtin, cache: M.RefCache, screen: Screen) -> Measured:
    rec: dict[str, Any] = {"framework": b.framework, "call": b.call, "extra": b.extra,
                           "declared_for": [], "runs": [], "differences": [], "notes": []}
    outs: dict[str, M.RunOutput] = {}
    if not installed(b.framework):
        rec["status"] = "skipped"
        rec["skipped"] = f"{b.framework} is not installed here: not measured"
        rec["declared_for"] = [{"spec": s.name, "kwargs": jsonable(dict(t.kwargs)), "note": t.note} for s, t in b.twins]
        return Measured(rec, outs)
    rec["status"] = "measured"
    sig = signature(b.framework, b.call)
    rec["signature"] = {"known": sig.known, "source": sig.source, "why": sig.why,
                        "arguments": jsonable(sig.params)}
    if not sig.known:
        rec["notes"].append(f"own defaults unknown ({sig.why}); measured with the declared arguments only")
    if b.framework == "onnx":
        rec["notes"].append("forward only: ONNX defines no gradient; evaluated with onnx.reference.ReferenceEvaluator")

    defaults_kwargs_for_screen: dict[str, Any] | None = None
    derived_candidates: list[tuple[Spec, dict[str, float]]] = []
    for spec, twin in b.twins:
        decl = _declaration(b, spec, twin, sig)
        rec["declared_for"].append(decl)
        roles = arg_roles(spec, twin, sig)
        required = {k: v for k, v in twin.kwargs.items() if sig.known and sig.params.get(k) is REQUIRED}
        if defaults_kwargs_for_screen is None:
            defaults_kwargs_for_screen = required
        ref = cache.get(spec, spec.params)
        m, raw = _measure(b, twin.kwargs, ref)
        rec["runs"].append(_run_entry("twin", spec, spec.params, twin.kwargs, m))
        suspect = M.formula_mismatch(m, raw, ref) if raw.value else ""
        if suspect:
            decl["declaration_suspect"] = suspect
            rec["differences"] += _tag(spec, "twin", [("formula", f"the declared twin `{_call_text(b, twin.kwargs)}` "
                                                                  f"does not compute {spec.name}: {suspect}")])
        rec["differences"] += _tag(spec, "twin", _run_differences(b, spec, spec.params, twin.kwargs, m, "twin"))
        defaults_raw: M.RunOutput | None = raw if decl["defaults_match"] in (True,) else None
        if decl["defaults_match"] is False:
            m2, raw2 = _measure(b, required, ref)
            rec["runs"].append(_run_entry("defaults", spec, spec.params, required, m2))
            defaults_raw = raw2
            fixed_ok = all(
                same_value(sig.params[a], v) for a, v in roles.fixed.items()
                if a in sig.params and sig.params[a] is not REQUIRED
            )
            own = {**sig.defaults(), **required}
            derived = spec_params_from(spec, roles, own) if fixed_ok else None
            decl["computes_under_defaults"] = None
            if derived is not None:
                derived_candidates.append((spec, derived))
                if derived != dict(spec.params):
                    ref3 = cache.get(spec, derived)
                    m3, _ = _measure(b, required, ref3)
                    rec["runs"].append(_run_entry("defaults-as-spec", spec, derived, required, m3))
                    decl["computes_under_defaults"] = {"spec": spec.name, "params": derived,
                                                       "value_max_ulp": _max_ulps(m3, "value")}
            rec["differences"] += _tag(spec, "defaults", _defaults_differences(
                b, spec, twin, decl, m2, required,
                rec["runs"][-1] if derived and derived != dict(spec.params) else None))
        if defaults_raw is not None and defaults_raw.value:
            outs[spec.name] = defaults_raw
        if spec.params and not roles.unmapped:
            probe = _probe_params(spec)
            kw = twin_args(spec, twin, roles, probe)
            ref4 = cache.get(spec, probe)
            m4, raw4 = _measure(b, kw, ref4)
            rec["runs"].append(_run_entry("probe", spec, probe, kw, m4))
            found = [(k, t) for k, t in _run_differences(b, spec, probe, kw, m4, "probe") if k in ("kink", "error")]
            off = M.formula_mismatch(m4, raw4, ref4) if raw4.value else ""
            if off:
                found.append(("formula", f"`{_call_text(b, kw)}` does not compute {spec_call(spec, probe)}: {off}"))
            rec["differences"] += _tag(spec, "probe", found)
        elif spec.params and roles.unmapped:
            rec["notes"].append(
                f"{b.call} has no argument for {spec.name}'s {', '.join(roles.unmapped)}: it computes "
                f"{spec.name} only at {fmt_args({p: spec.params[p] for p in roles.unmapped})}")
    # which spec(s) it computes under its own defaults, found by measurement
    if sig.known or all(not t.kwargs for _, t in b.twins):
        rec["matches_under_defaults"] = _screen(b, defaults_kwargs_for_screen or {}, screen, derived_candidates)
    else:
        rec["matches_under_defaults"] = None
    unique: dict[str, dict[str, str]] = {}
    for d in rec["differences"]:
        unique.setdefault(d["text"], d)
    rec["differences"] = list(unique.values())
    return Measured(rec, outs)


#: what a reader is told a difference is, by kind (value/gradient: see _cause)
CAUSES = {"defaults": "defaults differ", "formula": "formula differs", "kink": "kink convention",
          "nonfinite": "NaN/inf handling", "error": "cannot run"}


def _cause(kind: str, text: str) -> str:
    """Classify a finding: defaults differ, formula differs, kink convention, tail underflow, NaN/inf."""
    if kind in CAUSES:
        return CAUSES[kind]
    # a value/gradient gap whose worst point has one side 0 (or subnormal) is an underflowing tail
    if re.search(r"x=[^:]*: (-?0(\.0)?|[-0-9.]+e-3\d\d?) vs |vs (-?0(\.0)?|[-0-9.]+e-3\d\d?)[;)]", text):
        return "tail underflow"
    return "formula differs"


def _tag(spec: Spec, run: str, items: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"spec": spec.name, "run": run, "kind": k, "cause": _cause(k, t), "text": t} for k, t in items]


def _declaration(b: Builtin, spec: Spec, twin: Twin, sig: Signature) -> dict[str, Any]:
    roles = arg_roles(spec, twin, sig)
    decl: dict[str, Any] = {
        "spec": spec.name, "kwargs": jsonable(dict(twin.kwargs)), "note": twin.note,
        "source": "xact.parity extra" if "listed by xact.parity" in twin.note else "declared on the spec",
        "arguments_to_params": dict(roles.params), "fixed_arguments": jsonable(roles.fixed),
        "params_without_argument": list(roles.unmapped),
    }
    diffs = []
    if sig.known:
        for k, v in twin.kwargs.items():
            d = sig.params.get(k, REQUIRED)
            if k in sig.params and d is not REQUIRED and not same_value(d, v):
                p = roles.params.get(k)
                diffs.append({"argument": k, "default": jsonable(d), "declared": jsonable(v),
                              "spec_param": p, "spec_default": spec.params.get(p) if p else None})
        decl["defaults_match"] = not diffs
    else:
        decl["defaults_match"] = True if not twin.kwargs else None
    decl["default_differences"] = diffs
    return decl


def _max_ulps(m: Mapping[str, Any], q: str) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for d in M.DTYPES:
        r = m.get(d, {})
        out[d] = None if "error" in r or r.get(q) is None else r[q]["max_ulp"]
    return out


def _screen(b: Builtin, kwargs: Mapping[str, Any], screen: Screen,
            derived: list[tuple[Spec, dict[str, float]]]) -> list[dict[str, Any]]:
    try:
        run = make(b.framework, b.call, kwargs)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                y, g = run(SCREEN_X, "float64")
            except Exception:
                y, g = run(SCREEN_X, "float32")
    except Exception:
        return []
    declared = [s for s, _ in b.twins]
    rest = [xact.get(n) for n in xact.names() if xact.get(n) not in declared]
    cands = [(s, dict(s.params)) for s in declared] + derived + [(s, dict(s.params)) for s in rest]
    return screen.matches(y, g, cands)


# --------------------------------------------------------------------------- statements


def _where(r: Mapping[str, Any]) -> str:
    return f"x={fmt_x(r['worst_x'])}: {fmt_x(r['got'])} vs {fmt_x(r['want'])}"


def _dtypes(ds: Iterable[str]) -> str:
    return "/".join(dict.fromkeys(ds))


_SIDE = {"left": "the left-hand value", "right": "the right-hand value",
         "both": "as on both sides next to it", "other": "neither one-sided value"}


def _ulp_parts(m: Mapping[str, Any], q: str, only_differing: bool = True) -> list[str]:
    parts = []
    for d in M.DTYPES:
        r = m.get(d, {}).get(q) if "error" not in m.get(d, {}) else None
        if r and (r["differs"] or not only_differing):
            parts.append(f"largest difference {r['max_rel']:.2g} of max(|spec|, 1) in {d} "
                         f"({fmt_ulp(r['max_ulp'])} ULP; {_where(r)})" if "worst_x" in r else f"no difference in {d}")
    return parts


def _run_differences(b: Builtin, spec: Spec, params: Mapping[str, float], kwargs: Mapping[str, Any],
                     m: Mapping[str, Any], label: str) -> list[tuple[str, str]]:
    call = _call_text(b, kwargs)
    target = spec_call(spec, params)
    out: list[tuple[str, str]] = []
    for d in M.DTYPES:
        if "error" in m.get(d, {}):
            out.append(("error", f"`{call}` cannot be run in {d}: {m[d]['error']}"))
    for q, what in (("value", "values"), ("gradient", "gradients")):
        parts = _ulp_parts(m, q)
        if parts:
            bound = next((m[d][q]["bound_ulp"] for d in M.DTYPES if "error" not in m.get(d, {}) and m[d].get(q)), "?")
            out.append((q, f"`{call}`: {what} up to " + "; ".join(parts) + f" from {target} "
                       f"(xact's own bound: {fmt_num(bound)} ULP)"))
    nf: dict[tuple[str, Any, Any, Any], list[str]] = {}
    for d in M.DTYPES:
        for q in M.QUANTITIES:
            r = m.get(d, {}).get(q) if "error" not in m.get(d, {}) else None
            for p in (r or {}).get("nonfinite", []):
                nf.setdefault((q, p["x"], p["got"], p["want"]), []).append(d)
    if nf and label != "probe":
        items = [f"{q} at x={fmt_x(x)} is {fmt_num(g)} (spec {fmt_num(w)}; {_dtypes(ds)})"
                 for (q, x, g, w), ds in list(nf.items())[:8]]
        more = "" if len(nf) <= 8 else f"; and {len(nf) - 8} more"
        out.append(("nonfinite", f"`{call}` NaN/inf behaviour differs from {target}: " + "; ".join(items) + more))
    kinks: dict[tuple[Any, ...], list[str]] = {}
    for k in m.get("kinks", []):
        if k["differs"]:
            x = k["x"] if k["x"] != 0 else 0.0  # +0 and -0 said once when they agree
            kinks.setdefault((x, k["got"], k["got_side"], k["spec"], k["spec_side"]), []).append(k["dtype"])
    for (x, got, got_side, conv, spec_side), ds in kinks.items():
        out.append(("kink", f"`{call}`: gradient at the kink x={fmt_x(x)} is {fmt_num(got)} ({_SIDE[got_side]}); "
                   f"{target} takes {fmt_num(conv)} ({_SIDE[spec_side]}) [{_dtypes(ds)}]"))
    return out


def _defaults_differences(b: Builtin, spec: Spec, twin: Twin, decl: Mapping[str, Any], m2: Mapping[str, Any],
                          required: Mapping[str, Any], as_spec: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    bare = _call_text(b, required)
    dd = decl["default_differences"]
    said = "; ".join(
        f"{x['argument']}={fmt_num(x['default'])}" for x in dd
    )
    decl_txt = "; ".join(
        f"{x['argument']}={fmt_num(x['declared'])}"
        + (f" (xact {spec.name}'s default {x['spec_param']}={fmt_num(x['spec_default'])})" if x["spec_param"] else "")
        for x in dd
    )
    u = _max_ulps(m2, "value")
    rels = [m2[d]["value"]["max_rel"] for d in M.DTYPES if "error" not in m2.get(d, {}) and m2[d].get("value")]
    apart = ", ".join(f"{fmt_ulp(v)} ULP in {d}" for d, v in u.items() if v is not None)
    if rels:
        apart += f" (largest difference {max(rels):.2g} of max(|spec|, 1))"
    s = (f"`{bare}` defaults to {said} (its signature); the {spec.name} twin needs {decl_txt}. "
         f"Under its defaults its values are up to {apart} from {spec.name} at xact's defaults")
    if as_spec is not None:
        uu = _max_ulps(as_spec, "value")
        s += (f"; it computes {spec_call(spec, as_spec['params'])} instead (measured: "
              + ", ".join(f"{fmt_ulp(v)} ULP in {d}" for d, v in uu.items() if v is not None) + ")")
    return [("defaults", s)]


# --------------------------------------------------------------------------- cross-framework


def cross_section(spec: Spec, entries: list[tuple[str, str, M.RunOutput]]) -> dict[str, Any]:
    """Group bit-identical built-ins (under their defaults), then compare each pair of groups."""
    groups: list[list[int]] = []
    for i, (_, _, out) in enumerate(entries):
        for grp in groups:
            if M.identical(entries[grp[0]][2], out):
                grp.append(i)
                break
        else:
            groups.append([i])

    def rep(grp: list[int]) -> int:  # prefer a member with gradients
        with_grad = [i for i in grp if any(g is not None for g in entries[i][2].gradient.values())]
        return (with_grad or grp)[0]

    pairs = []
    for a in range(len(groups)):
        for c in range(a + 1, len(groups)):
            ia, ic = rep(groups[a]), rep(groups[c])
            cmp = M.compare_outputs(spec, entries[ia][2], entries[ic][2])
            pairs.append({"a": entries[ia][1], "b": entries[ic][1], "group_a": a, "group_b": c, **cmp})
    return {
        "groups": [[entries[i][1] for i in g] for g in groups],
        "frameworks": [sorted({entries[i][0] for i in g}) for g in groups],
        "pairs": pairs,
    }


def cross_statements(spec: Spec, cross: Mapping[str, Any]) -> list[str]:
    out = []
    for p in cross["pairs"]:
        parts = []
        for q, what in (("value", "values"), ("gradient", "gradients")):
            per = [f"{fmt_ulp(p[d][q]['max_ulp'])} ULP in {d}" for d in M.DTYPES
                   if d in p and q in p[d] and (p[d][q]["max_ulp"] > p[d][q]["bound_ulp"])]
            nonfin = sum(p[d][q]["n_nonfinite"] for d in M.DTYPES if d in p and q in p[d])
            if per:
                d0 = next(d for d in reversed(M.DTYPES) if d in p and q in p[d])
                w = p[d0][q]
                rel = max(p[d][q]["max_rel"] for d in M.DTYPES if d in p and q in p[d])
                parts.append(f"{what} up to " + ", ".join(per)
                             + f" apart (x={fmt_x(w['worst_x'])}: {fmt_x(w['a'])} vs {fmt_x(w['b'])} in {d0}; "
                             f"largest difference {rel:.2g} of max(|b|, 1))")
            if nonfin:
                ex = next(p[d][q]["nonfinite"][0] for d in M.DTYPES if d in p and q in p[d] and p[d][q]["nonfinite"])
                parts.append(f"{what} disagree on NaN/inf at {nonfin} point(s) (x={fmt_x(ex['x'])}: "
                             f"{fmt_num(ex['a'])} vs {fmt_num(ex['b'])})")
        if parts:
            out.append(f"{spec.name}: `{p['a']}` and `{p['b']}` under their defaults: " + "; ".join(parts))
    return out


# --------------------------------------------------------------------------- everything


def build_record(
    specs: Iterable[str] | None = None,
    *,
    frameworks: Iterable[str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Measure every built-in (of these specs / frameworks) and return the record as data."""
    t0 = time.perf_counter()
    wanted = None if specs is None else {xact.get(s).name for s in specs}
    fw = None if frameworks is None else set(frameworks)
    todo = []
    for b in builtins():
        if wanted is not None:
            b.twins = [(s, t) for s, t in b.twins if s.name in wanted]
            if not b.twins:
                continue
        if fw is not None and b.framework not in fw:
            continue
        todo.append(b)
    cache, screen = M.RefCache(), Screen()
    records = []
    per_spec: dict[str, list[tuple[str, str, M.RunOutput]]] = {}
    for i, b in enumerate(todo):
        if progress:
            progress(b.call, i, len(todo))
        m = measure_builtin(b, cache, screen)
        records.append(m.record)
        for name, out in m.defaults_outputs.items():
            per_spec.setdefault(name, []).append((b.framework, b.call, out))
    cross = {}
    for name in sorted(per_spec):
        spec = xact.get(name)
        c = cross_section(spec, per_spec[name])
        c["statements"] = cross_statements(spec, c)
        cross[name] = c
    return {
        "meta": _meta(time.perf_counter() - t0, cache),
        "builtins": records,
        "cross": cross,
    }


def _meta(seconds: float, cache: M.RefCache) -> dict[str, Any]:
    import importlib.metadata as md
    import platform

    versions = {}
    for fw, dist in (("torch", "torch"), ("tf", "tensorflow-cpu"), ("keras", "keras"), ("onnx", "onnx"), ("jax", "jax")):
        v = None
        for d in (dist, "tensorflow") if fw == "tf" else (dist,):
            try:
                v = md.version(d)
                break
            except md.PackageNotFoundError:
                continue
        versions[fw] = v if installed(fw) else None
    return {
        "xact": xact.__version__,
        "python": platform.python_version(),
        "frameworks": versions,
        "dtypes": list(M.DTYPES),
        "seconds": round(seconds, 1),
        "reference_seconds": round(cache.seconds, 1),
        "method": {
            "points": f"xact.testing.inputs.points_for per dtype: dense grid on [-R, R] (R = {M.WIDE_RANGE:g}, "
                      "or 1.25x the farthest kink), log-spaced magnitudes to the largest finite value, +-0, +-inf, NaN, "
                      "largest finite values, kink neighbours; subnormal inputs left out (TF flushes them)",
            "reference": "mpmath (xact.testing.oracles.reference) on the oracle subsample; NumPy float64 "
                         "for the rest of the float32 grid; float64 figures on the mpmath points only",
            "ulp": "distance in representable values from the correctly rounded reference; points within "
                   "the conformance engine's absolute escape (xact.testing.tolerances) count as 0",
            "differs": "max ULP beyond the bound xact holds its own adapters to (xact.testing.tolerances)",
            "kinks": "the gradient exactly at each declared kink (0 also as -0) against spec.kinks_at",
            "probe": "parametric specs: every parameter halved (0 -> 0.5), mapped to the built-in's arguments",
            "matches_under_defaults": f"float64 screen on {len(SCREEN_X)} points in [-10, 10] against every "
                                      f"catalogue spec: values and gradients (off kinks) within "
                                      f"{SCREEN_RTOL:g} relative to max(|spec|, 1)",
            "formula_mismatch": f"a declared twin whose float64 grid values are off by more than "
                                f"{M.FORMULA_RTOL:g} relative to max(|spec|, 1) computes a different function",
        },
    }
