"""Writing the parity record: ``parity.json`` (data), ``parity.md`` (people), a terminal table.

Nothing here measures or decides anything: every sentence and number comes
from the record built by :mod:`xact.parity.record`.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from xact.parity.measure import DTYPES
from xact.parity.record import fmt_args, fmt_num, fmt_ulp, fmt_x

__all__ = ["summary_rows", "write_json", "write_markdown"]

_KIND_TITLES = {
    "defaults": "Defaults that differ from the spec's",
    "kink": "Gradients at kinks",
    "nonfinite": "NaN and infinity behaviour",
    "value": "Values beyond xact's bound",
    "gradient": "Gradients beyond xact's bound",
    "formula": "Declared arguments that compute a different function",
    "error": "Built-ins that cannot run in a dtype",
}


def write_json(record: Mapping[str, Any], path: Path) -> None:
    path.write_text(json.dumps(record, indent=1, allow_nan=False, default=str) + "\n")


def _twin_run(b: Mapping[str, Any], spec: str) -> Mapping[str, Any] | None:
    return next((r for r in b["runs"] if r["label"] == "twin" and r["spec"] == spec), None)


def _ulp_cell(run: Mapping[str, Any] | None, q: str) -> str:
    if run is None:
        return "not run"
    cells = []
    for d in DTYPES:
        r = run.get(d, {})
        if "error" in r:
            cells.append("error")
        elif r.get(q) is None:
            cells.append("—")
        else:
            v = r[q]
            mark = " ✗" if v["differs"] else ""
            nonfin = f" +{v['n_nonfinite']} NaN/inf" if v.get("n_nonfinite") else ""
            cells.append(f"{fmt_ulp(v['max_ulp'])}{mark}{nonfin}")
    if all(c == "—" for c in cells):
        return "no gradient" if q == "gradient" else "—"
    return " / ".join(cells)


def _kink_cell(run: Mapping[str, Any] | None) -> str:
    if run is None or not run.get("kinks"):
        return "—"
    by_x: dict[Any, list[Mapping[str, Any]]] = {}
    for k in run["kinks"]:
        by_x.setdefault(k["x"] if k["x"] != 0 else 0.0, []).append(k)
    parts = []
    for x, ks in by_x.items():
        bad = [k for k in ks if k["differs"]]
        if bad:
            vals = "/".join(dict.fromkeys(fmt_num(k["got"]) for k in bad))
            parts.append(f"x={fmt_x(x)}: {vals} ✗ (spec {fmt_num(bad[0]['spec'])})")
        else:
            parts.append(f"x={fmt_x(x)}: {fmt_num(ks[0]['got'])} ✓")
    return "; ".join(parts)


def _defaults_cell(decl: Mapping[str, Any]) -> str:
    m = decl.get("defaults_match")
    if m is None:
        return "unknown"
    if m:
        return "yes"
    diffs = ", ".join(f"{d['argument']}={fmt_num(d['default'])} (twin {fmt_num(d['declared'])})"
                      for d in decl["default_differences"])
    return f"no: {diffs}"


def _esc(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def _matches_text(b: Mapping[str, Any]) -> str:
    ms = b.get("matches_under_defaults")
    if ms is None:
        return "unknown (own defaults unknown)"
    if not ms:
        return "no catalogue spec"
    return ", ".join(f"`{m['spec']}({fmt_args(m['params'])})`" if m["params"] else f"`{m['spec']}`" for m in ms)


def summary_rows(record: Mapping[str, Any]) -> list[dict[str, str]]:
    """One row per built-in for the terminal: the worst figures over its declared twins."""
    rows = []
    for b in record["builtins"]:
        if b.get("status") != "measured":
            rows.append({"call": b["call"], "framework": b["framework"], "defaults": "skipped",
                         "value": "—", "gradient": "—", "kinks": "—", "differences": "not installed"})
            continue
        twins = [r for r in b["runs"] if r["label"] == "twin"]

        def worst(q: str, twins: list[Mapping[str, Any]] = twins) -> str:
            out = []
            for d in DTYPES:
                vals = [r[d][q]["max_ulp"] for r in twins if "error" not in r.get(d, {}) and r.get(d, {}).get(q)]
                out.append(fmt_ulp(max(vals)) if vals else "—")
            return "/".join(out)

        kink_bad = sum(1 for r in twins for k in r.get("kinks", []) if k["differs"])
        ms = b.get("matches_under_defaults")
        dflt = "?" if ms is None else ", ".join(
            m["spec"] + ("(" + ", ".join(f"{k}={fmt_num(v)}" for k, v in m["params"].items()) + ")"
                         if m["params"] and m["spec"] in {d["spec"] for d in b["declared_for"]} else "")
            for m in ms[:2]) + (" …" if len(ms) > 2 else "") or "none"
        rows.append({"call": b["call"], "framework": b["framework"], "defaults": dflt,
                     "value": worst("value"), "gradient": worst("gradient"),
                     "kinks": "✗" if kink_bad else "✓" if any(r.get("kinks") for r in twins) else "—",
                     "differences": str(len(b["differences"]))})
    return rows


def write_markdown(record: Mapping[str, Any], path: Path) -> None:
    meta = record["meta"]
    L: list[str] = []
    fw = meta["frameworks"]
    have = ", ".join(f"{k} {v}" for k, v in fw.items() if v)
    missing = [k for k, v in fw.items() if not v]
    L += [
        "# Parity record: framework built-ins against xact specs",
        "",
        f"Generated by `xact parity` on {_dt.date.today().isoformat()} with xact {meta['xact']}, "
        f"Python {meta['python']}, {have}. Took {meta['seconds']} s.",
    ]
    if missing:
        L.append(f"Not installed, so their built-ins are listed but **not measured**: {', '.join(missing)}.")
    L += ["", "Everything below is measured; nothing is written in by hand. How:", ""]
    for k, v in meta["method"].items():
        L.append(f"- **{k}**: {v}")
    L += ["", "Columns of the tables: *defaults match?* compares the built-in's own defaults (from its "
          "signature) with the arguments declared for the twin; *value / gradient max ULP* are "
          "float32 / float64 for the declared twin call against the spec at its defaults (✗: beyond "
          "the bound xact holds itself to; +N NaN/inf: points where they disagree on NaN or "
          "infinity); *kink gradients* are the built-in's gradient exactly at each declared kink "
          "(✓ same convention as the spec, ✗ different).", ""]

    measured = [b for b in record["builtins"] if b.get("status") == "measured"]
    # headline differences, by kind
    L += ["## Differences found", ""]
    for kind, title in _KIND_TITLES.items():
        items = [(b, d) for b in measured for d in b["differences"] if d["kind"] == kind and d["run"] != "probe"]
        if kind == "kink":
            items += [(b, d) for b in measured for d in b["differences"] if d["kind"] == "kink" and d["run"] == "probe"]
        if kind == "formula":
            items = [(b, d) for b in measured for d in b["differences"] if d["kind"] == "formula"]
        if not items:
            continue
        L += [f"### {title}", ""]
        for _, d in items:
            L.append(f"- {d['text']}" + (" *(with every parameter off its default)*" if d["run"] == "probe" else ""))
        L.append("")
    cross_lines = [s for c in record["cross"].values() for s in c["statements"]]
    if cross_lines:
        L += ["### Built-ins of one spec compared with each other, under their own defaults", ""]
        L += [f"- {s}" for s in cross_lines] + [""]

    # per spec
    L += ["## Per spec", ""]
    by_spec: dict[str, list[tuple[Mapping[str, Any], Mapping[str, Any]]]] = {}
    for b in record["builtins"]:
        for decl in b["declared_for"]:
            by_spec.setdefault(decl["spec"], []).append((b, decl))
    for spec in sorted(by_spec):
        L += [f"### {spec}", ""]
        L += ["| framework | call | defaults match? | value max ULP f32 / f64 | grad max ULP f32 / f64 "
              "| kink gradients | under its defaults it computes | notes |",
              "|---|---|---|---|---|---|---|---|"]
        for b, decl in by_spec[spec]:
            if b.get("status") != "measured":
                L.append(f"| {b['framework']} | `{b['call']}` | — | not measured | not measured | — | — | "
                         f"{_esc(b.get('skipped', ''))} |")
                continue
            run = _twin_run(b, spec)
            notes = [n for n in [decl.get("note", "")] if n]
            if decl.get("source") == "xact.parity extra":
                notes = ["not declared on the spec; listed by xact.parity"]
            if decl.get("declaration_suspect"):
                notes.append("**declared arguments compute a different function**")
            if b["framework"] == "onnx":
                notes.append("forward only (ReferenceEvaluator)")
            L.append(
                f"| {b['framework']} | `{b['call']}({_esc(_kw(decl['kwargs']))})` | {_esc(_defaults_cell(decl))} | "
                f"{_ulp_cell(run, 'value')} | {_ulp_cell(run, 'gradient')} | {_esc(_kink_cell(run))} | "
                f"{_esc(_matches_text(b))} | {_esc('; '.join(notes))} |")
        diffs = [d for b, _ in by_spec[spec] for d in b.get("differences", []) if d["spec"] == spec]
        if diffs:
            L += ["", "Differences:", ""]
            L += [f"- {d['text']}" + (" *(parameters off their defaults)*" if d["run"] == "probe" else "")
                  for d in diffs]
        c = record["cross"].get(spec)
        if c and len(c["groups"]) > 1:
            L += ["", "Under their own defaults, the built-ins fall into groups with bit-identical results: "
                  + "; ".join("{" + ", ".join(f"`{x}`" for x in g) + "}" for g in c["groups"]) + "."]
            if c["statements"]:
                L += [""] + [f"- {s}" for s in c["statements"]]
        elif c:
            L += ["", "Under their own defaults, all measured built-ins give bit-identical results."]
        L.append("")
    path.write_text("\n".join(L) + "\n")


def _kw(kwargs: Mapping[str, Any]) -> str:
    def py(v: Any) -> str:
        if isinstance(v, float) and math.isfinite(v):
            return fmt_num(v)
        if isinstance(v, Mapping) and "config" in v:
            return f"Constant({fmt_num(v['config'].get('value'))})"
        return repr(v)

    return ", ".join(f"{k}={py(v)}" for k, v in kwargs.items())
