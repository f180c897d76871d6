"""Presenting a :class:`~xact.testing.engine.Report`: terminal, Markdown, JSON, plots.

* Terminal: a progress bar while specs run and a compact table at the end
  (rich when installed, plain text otherwise), then every failure with its
  worst point and reproduction.
* ``report.md``: per activation, a table of every (framework, mode, dtype,
  quantity) with max and p99.9 ULP, max absolute error and tolerance, the
  worst points, the notes, and the failures in full.
* ``report.json``: machine readable, one record per check with the figures.
* ``plots/<name>.png``: fn and grad over the interesting range, and the ULP
  error of each framework/mode across it (matplotlib, Agg backend).
"""

from __future__ import annotations

import math
import os
import sys
from collections import defaultdict
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xact.testing.engine import CheckResult, Report

__all__ = ["Progress", "print_summary", "write_markdown", "write_outputs", "write_plots"]


class Progress:
    """A rich progress bar over specs; silent when disabled or rich is missing."""

    def __init__(self, *, enabled: bool, total: int) -> None:
        self.enabled = enabled and total > 0
        self.total = total
        self._bar: Any = None
        self._task: Any = None
        self.failed: list[str] = []

    def __enter__(self) -> Progress:
        if self.enabled:
            try:
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    TextColumn,
                    TimeElapsedColumn,
                )
                from rich.progress import Progress as RichProgress

                self._bar = RichProgress(
                    TextColumn("[bold]conformance[/]"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("{task.description}"),
                    transient=False, console=_console(),
                )
                self._bar.__enter__()
                self._task = self._bar.add_task("", total=self.total)
            except ImportError:
                self._bar = None
        return self

    def start(self, name: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=name)
        elif self.enabled:
            print(f"  checking {name} ...", file=sys.stderr, flush=True)

    def advance(self, name: str, ok: bool) -> None:
        if not ok:
            self.failed.append(name)
        if self._bar is not None:
            fails = f" [red]{len(self.failed)} failing[/]" if self.failed else ""
            self._bar.update(self._task, advance=1, description=f"{name}{fails}")

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.__exit__(et, ev, tb)


def _console() -> Any:
    from rich.console import Console

    return Console(stderr=False, highlight=False)


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "inf" if v > 0 else ("nan" if math.isnan(v) else "-inf")
        return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}"
    return str(v)


def _by_spec(report: Report) -> dict[str, list[CheckResult]]:
    out: dict[str, list[CheckResult]] = defaultdict(list)
    for r in report.results:
        out[r.name].append(r)
    return out


#: checks whose figures are errors against a reference (not torch vs TF, native vs bridge)
JUDGED = ("accuracy", "published", "search", "special")

#: failure causes, in the order the report lists them
CAUSES = (
    ("derivative", "declared derivative wrong"),
    ("kink", "kink convention"),
    ("adapter", "adapter disagrees with the same-dtype NumPy evaluation (xact's fault)"),
    ("ftz", "framework floating-point environment (TF flush-to-zero of subnormals)"),
    ("formula", "the formula overflows or cancels in that dtype, in every framework alike "
                "(the spec's numerics)"),
    ("published", "differs from the published definition (constants or formula)"),
    ("other", "other"),
)


def short(v: Any, digits: int = 4) -> str:
    """A number a reader can use: 4 significant digits, no 300-digit reprs."""
    if v is None:
        return "-"
    v = float(v)
    if not math.isfinite(v):
        return "inf" if v > 0 else ("nan" if math.isnan(v) else "-inf")
    if v == 0:
        return "-0" if math.copysign(1.0, v) < 0 else "0"
    return f"{v:.{digits}g}"


def figure(r: CheckResult) -> str:
    """The judged figure of a check: ULP where meaningful, abs/rel next to it."""
    if r.status == "skip" or not r.n:
        return "-"
    ulp = r.max_ulp
    parts = []
    if ulp is not None and math.isfinite(ulp) and ulp < 1e6:
        parts.append(f"{ulp:.3g} ULP")
    elif ulp is not None and math.isfinite(ulp):
        parts.append(">1e6 ULP")
    elif ulp is not None:
        parts.append("non-finite")
    if r.worst_abs is not None:
        parts.append(f"abs {r.worst_abs:.2g}")
    if r.worst_rel is not None:
        parts.append(f"rel {r.worst_rel:.2g}")
    return ", ".join(parts)


def _worst_of(rs: list[CheckResult], quantity: str) -> CheckResult | None:
    cand = [r for r in rs if r.check in JUDGED and r.quantity == quantity and r.status != "skip" and r.n]
    judged = [r for r in cand if r.status != "xfail"]  # known failures are listed on their own
    cand = judged or cand
    if not cand:
        return None
    return max(cand, key=lambda r: (r.status in ("fail", "xpass"),
                                    r.max_ulp if math.isfinite(r.max_ulp) else 1e300,
                                    r.worst_abs or 0.0))


def headline(rs: list[CheckResult], quantity: str) -> str:
    """'2 ULP, abs 1e-16, rel 2e-16 at x=-3.1 (published torch/native/float64)'."""
    r = _worst_of(rs, quantity)
    if r is None:
        return "-"
    if r.max_ulp == 0 and not r.worst_abs:
        return "exact at every point"
    return f"{figure(r)} at x={short(r.worst_x)} ({r.check} {r.framework}/{r.mode}/{r.dtype})"


def cause(r: CheckResult, rs: list[CheckResult]) -> str:
    """Why a check failed, from the pattern of results around it (a key of CAUSES)."""
    if r.check == "derivative" or r.check == "limit":
        return "derivative"
    if r.check == "kink":
        return "kink"
    if r.check == "bridge":
        return "ftz" if r.framework == "tf" and r.got == 0 and r.want not in (None, 0) else "adapter"
    if r.check == "subnormal" or (r.framework in ("tf", "torch~tf") and "flush" in r.message.lower()):
        return "ftz"
    if r.check in JUDGED:
        if r.framework == "tf" and r.mode == "native" and r.got == 0 and r.want not in (None, 0):
            return "ftz"
        peers = [p for p in rs if p.check == r.check and p.dtype == r.dtype and p.quantity == r.quantity
                 and p is not r]
        numpy_mode = [p for p in peers if p.framework == r.framework and p.mode == "numpy"]
        if r.mode == "native" and numpy_mode and all(p.status == "pass" for p in numpy_mode):
            return "adapter"
        if r.check == "published":
            own = [p for p in rs if p.check == "accuracy" and p.dtype == r.dtype and p.quantity == r.quantity
                   and p.framework == r.framework and p.mode == r.mode]
            if own and all(p.status == "pass" for p in own):
                return "published"
        if all(p.status != "pass" for p in peers if p.framework != r.framework) or r.mode == "numpy":
            return "formula"
    return "other"


def where(r: CheckResult) -> str:
    """The failing x range, short."""
    if r.failed_lo is None or r.failed_hi is None:
        return f"x={short(r.worst_x)}" if r.worst_x is not None else ""
    if r.failed_lo == r.failed_hi:
        return f"x={short(r.failed_lo)}"
    return f"x in [{short(r.failed_lo)}, {short(r.failed_hi)}]"


def summary_rows(report: Report) -> list[list[str]]:
    """Per spec: status, worst value and gradient error (the judged figure, where), causes."""
    rows = []
    for name, rs in _by_spec(report).items():
        fails = [r for r in rs if r.status in ("fail", "xpass")]
        xf = [r for r in rs if r.status == "xfail"]
        status = "FAIL" if fails else ("xfail" if xf else "pass")
        causes = sorted({cause(r, rs) for r in fails}, key=[c for c, _ in CAUSES].index)
        rows.append([name, status, _cell(rs, "value"), _cell(rs, "gradient"), ", ".join(causes) or "-"])
    return rows


def _cell(rs: list[CheckResult], quantity: str) -> str:
    r = _worst_of(rs, quantity)
    if r is None:
        return "-"
    if r.max_ulp == 0 and not r.worst_abs:
        return "0 (exact)"
    ulp = r.max_ulp
    u = f"{ulp:.3g}" if math.isfinite(ulp) and ulp < 1e6 else (">1e6" if math.isfinite(ulp) else "nf")
    return f"{u} @{short(r.worst_x, 3)} {r.dtype.replace('float', 'f')}"


def print_summary(report: Report, *, file: Any = None, failures: int = 12, width: int = 100) -> None:
    """Summary first (one line per activation, fits ``width`` columns), then the
    failures grouped by cause with their worst point, then the wall time."""
    header = ["activation", "status", "worst value ULP", "worst grad ULP", "failure causes"]
    rows = summary_rows(report)
    try:
        from rich.console import Console
        from rich.table import Table

        console = Console(file=file, highlight=False, width=width)
        table = Table(title="xact conformance", show_lines=False, pad_edge=False)
        for h in header:
            table.add_column(h, overflow="fold", no_wrap=h != "failure causes")
        for row in rows:
            style = "red" if row[1] == "FAIL" else None
            table.add_row(*row, style=style)
        console.print(table)
        emit = console.print
    except ImportError:
        out = file or sys.stdout
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
        print("  ".join(h.ljust(w) for h, w in zip(header, widths))[:width], file=out)
        for row in rows:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths))[:width], file=out)

        def emit(*a: Any, **k: Any) -> None:
            print(*a, file=out)

    def say(text: str) -> None:
        emit(text, markup=False) if _is_rich(emit) else emit(text)

    for name, notes in report.notes.items():
        for n in notes[:3]:
            say(f"note ({name}): {n}")
    fails = report.failures
    by_spec = _by_spec(report)
    groups: dict[str, list[CheckResult]] = defaultdict(list)
    for r in fails:
        groups[cause(r, by_spec[r.name])].append(r)
    shown = 0
    for key, title in CAUSES:
        if key not in groups:
            continue
        say(f"-- {title}: {len(groups[key])} failing check(s)")
        for r in groups[key][: max(1, failures // max(1, len(groups)))]:
            say(f"   {r.name} {r.check} {r.framework}/{r.mode}/{r.dtype} {r.quantity}: "
                f"{figure(r)}, {where(r)} ({r.n_failed}/{r.n} points)")
            shown += 1
        rest = len(groups[key]) - min(len(groups[key]), max(1, failures // max(1, len(groups))))
        if rest:
            say(f"   ... {rest} more of this cause (report.md, report.json)")
    m = report.meta
    say(f"{len(report.results)} checks, {len(fails)} failed; oracle subsample "
        f"{m.get('oracle_points_mean', 0):.0f} points per spec (max {m.get('oracle_points_max', 0)}); "
        f"wall time {m.get('wall_seconds', 0):.1f} s")


def _is_rich(emit: Any) -> bool:
    return getattr(emit, "__self__", None).__class__.__name__ == "Console"


# --------------------------------------------------------------------------- files


def write_outputs(report: Report, out: str | os.PathLike[str], *, plots: bool = True) -> Path:
    """report.md, report.json and (when the data was kept) plots/ under ``out``."""
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    (path / "report.json").write_text(report.to_json())
    images = write_plots(report, path / "plots") if plots and report.plots else {}
    (path / "report.md").write_text(write_markdown(report, images))
    return path


#: report.md lines per activation at most (the rest is in report.json)
MD_LINES_PER_SPEC = 60


def write_markdown(report: Report, images: dict[str, str] | None = None) -> str:
    """The Markdown report: the summary first, then per activation (at most
    :data:`MD_LINES_PER_SPEC` lines): worst figures, a row per dtype, the
    failures grouped by cause, notes, the plot."""
    images = images or {}
    m = report.meta
    lines = ["# xact conformance report", ""]
    lines.append(f"**{'PASSED' if report.passed else 'FAILED'}**: {len(report.results)} checks, "
                 f"{len(report.failures)} failed. Frameworks: {', '.join(m.get('frameworks', [])) or 'none'}; "
                 f"dtypes: {', '.join(m.get('dtypes', []))}; modes: {', '.join(m.get('modes', []))}. "
                 f"Wall time {m.get('wall_seconds', 0):.1f} s.")
    lines.append("")
    lines.append("Figures are the ones the tolerance judged: ULP distance in the output dtype from "
                 "the correctly rounded reference (points inside the near-zero absolute escape count "
                 "as 0), with the absolute and relative error at that point. References: the spec's "
                 "own formula in mpmath (`accuracy`) and, for catalogue specs, the published "
                 "definition with exact constants (`published`, `search`).")
    lines.append("")
    for n in report.notes.get("*", []):
        lines.append(f"- note: {n}")
    lines.append("| activation | status | worst value | worst gradient | failure causes |")
    lines.append("|---|---|---|---|---|")
    by_spec = _by_spec(report)
    for row in summary_rows(report):
        rs = by_spec[row[0]]
        lines.append(f"| {row[0]} | {row[1]} | {headline(rs, 'value')} | {headline(rs, 'gradient')} | {row[4]} |")
    lines.append("")
    for name, rs in by_spec.items():
        lines += _spec_section(report, name, rs, images.get(name))
    return "\n".join(lines)


def _spec_section(report: Report, name: str, rs: list[CheckResult], image: str | None) -> list[str]:
    fails = [r for r in rs if r.status in ("fail", "xpass")]
    xfails = [r for r in rs if r.status == "xfail"]
    status = "FAIL" if fails else ("pass (known failures listed)" if xfails else "pass")
    out = [f"## {name}: {status}", ""]
    out.append(f"{len(rs)} checks, {len(fails)} failed, {len(xfails)} known failures. "
               f"Worst value: {headline(rs, 'value')}. Worst gradient: {headline(rs, 'gradient')}.")
    out.append("")
    dtypes = list(dict.fromkeys(r.dtype for r in rs if r.check in JUDGED))
    if dtypes:
        out += ["| dtype | worst value | worst gradient | failed |", "|---|---|---|---|"]
        for d in dtypes:
            sub = [r for r in rs if r.dtype == d]
            v, g = _worst_of(sub, "value"), _worst_of(sub, "gradient")
            nf = sum(r.status in ("fail", "xpass") for r in sub)
            out.append(f"| {d} | {_row_fig(v)} | {_row_fig(g)} | {nf} |")
        out.append("")
    groups: dict[str, list[CheckResult]] = defaultdict(list)
    for r in fails:
        groups[cause(r, rs)].append(r)
    budget = MD_LINES_PER_SPEC - len(out) - 8
    for key, title in CAUSES:
        if key not in groups or budget <= 0:
            continue
        g = groups[key]
        out.append(f"**{title}** ({len(g)} check{'s' if len(g) > 1 else ''})")
        out.append("")
        budget -= 2
        for i, r in enumerate(g):
            if budget <= 2:
                out.append(f"- ... {len(g) - i} more (report.json)")
                budget -= 1
                break
            out.append(f"- {r.check} {r.framework}/{r.mode}/{r.dtype} {r.quantity}: {figure(r)}, "
                       f"{where(r)} ({r.n_failed}/{r.n} points); worst x={short(r.worst_x, 8)}: "
                       f"got {short(r.got, 8)}, expected {short(r.want, 8)}")
            budget -= 1
        if g[0].repro and budget > 6:
            rep = g[0].repro.splitlines()[:4]
            out += ["", "```python", *rep, "```"]
            budget -= len(rep) + 3
        out.append("")
        budget -= 1
    if xfails and budget > 1:
        kinds = sorted({f"{r.check} {r.framework}/{r.dtype}" for r in xfails})
        out.append(f"- known failures (tolerances.py KNOWN_FAILURES): {', '.join(kinds[:6])}"
                   + (f", ... ({len(kinds) - 6} more)" if len(kinds) > 6 else ""))
        budget -= 1
    for n in report.notes.get(name, [])[: max(0, min(3, budget - 3))]:
        out.append(f"- note: {n if len(n) < 300 else n[:297] + '...'}")
    overrides = sorted({r.tolerance_reason for r in rs if r.tolerance_reason.startswith("override:")})
    for o in overrides[:2]:
        out.append(f"- tolerance {o}")
    if image:
        out += ["", f"![{name}]({image})"]
    out.append("")
    return out


def _row_fig(r: CheckResult | None) -> str:
    if r is None:
        return "-"
    if r.max_ulp == 0 and not r.worst_abs:
        return "exact"
    return f"{figure(r)} at x={short(r.worst_x)} ({r.check}, {r.framework}/{r.mode})"


def _fmt_val(v: float | None) -> str:
    if v is None:
        return "-"
    return repr(float(v))


def write_plots(report: Report, folder: str | os.PathLike[str]) -> dict[str, str]:
    """One PNG per activation: fn and grad, and the ULP error of each run."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot  # fails here, not in a worker, when it is broken
    except ImportError:
        report.note("*", "matplotlib is not installed: no plots")
        return {}
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = list(report.plots)
    if _can_fork_plots(len(names)):
        # each plot takes about half a second: two forked processes halve a catalogue's
        # worth (a forked child is only safe while no framework has started threads)
        import multiprocessing

        _PLOT_JOB.update(plots=report.plots, folder=folder)
        try:
            with multiprocessing.get_context("fork").Pool(2) as pool:
                files = pool.map(_plot_job, names)
        finally:
            _PLOT_JOB.clear()
    else:
        files = [_plot_one(name, report.plots[name], folder) for name in names]
    return {name: f"plots/{f}" for name, f in zip(names, files)}


_PLOT_JOB: dict[str, Any] = {}


def _plot_job(name: str) -> str:
    return _plot_one(name, _PLOT_JOB["plots"][name], _PLOT_JOB["folder"])


def _can_fork_plots(n: int) -> bool:
    from xact.testing._processes import fork_is_safe

    return n >= 8 and (os.cpu_count() or 1) >= 2 and fork_is_safe()


def _plot_one(name: str, data: dict[str, Any], folder: Path) -> str:
    """The PNG of one activation in ``folder``; returns its file name."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    x = data["x"]
    axes[0].plot(x, data["fn"], label="fn")
    axes[0].plot(x, data["grad"], label="grad", linestyle="--")
    axes[0].set_title(f"{name}: fn and grad (float64)")
    axes[0].legend()
    axes[0].grid(alpha=0.3)
    for k, q in ((1, "value"), (2, "gradient")):
        ax = axes[k]
        shaded = False
        for label, entry in data["errors"].items():
            if not label.endswith(q):
                continue
            gx, e = entry[0], entry[1]
            esc = entry[2] if len(entry) > 2 else np.zeros(len(gx), dtype=bool)
            e = np.where(np.isfinite(e), e, np.nan)
            ax.plot(gx[~esc], e[~esc], ".", markersize=1.5, label=label.rsplit(" ", 1)[0])
            if esc.any():
                ax.plot(gx[esc], e[esc], ".", markersize=1.0, color="0.7")
                # shade the x ranges where the near-zero absolute escape passes the point
                edges = np.diff(np.concatenate([[0], esc.astype(np.int8), [0]]))
                for a, b in zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0] - 1):
                    ax.axvspan(gx[a], gx[b], color="0.9", zorder=0,
                               label=None if shaded else "passed by the absolute escape")
                    shaded = True
        try:
            from xact.spec import get
            from xact.testing.tolerances import lookup

            tol = lookup(get(name), data["dtype"], q)[0].ulps
            ax.axhline(tol, color="k", linewidth=0.8, linestyle=":", label=f"tolerance {tol:g} ULP")
        except Exception:  # a plot without its line is still worth having
            pass
        # symlog: 0-8 ULP stay readable next to points the near-zero
        # absolute escape lets through with large ULP counts.
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_ylim(bottom=0)
        ax.set_title(f"{q}: ULP error ({data['dtype']})")
        ax.set_xlabel("x")
        ax.set_ylabel("ULP (symlog)")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(markerscale=6)
    fig.tight_layout()
    f = folder / f"{name}.png"
    fig.savefig(f, dpi=80)
    plt.close(fig)
    return f.name
