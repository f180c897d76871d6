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


def _worst(rs: list[CheckResult], check: str, dtype: str, quantity: str) -> float | None:
    vals = [r.max_ulp for r in rs if r.check == check and r.dtype == dtype and r.quantity == quantity
            and r.status != "skip"]
    return max(vals) if vals else None


def summary_rows(report: Report) -> list[list[str]]:
    """Per spec: status, failing checks, worst value/gradient ULP per dtype."""
    rows = []
    dtypes = report.meta.get("dtypes", [])
    for name, rs in _by_spec(report).items():
        fails = [r for r in rs if r.status in ("fail", "xpass")]
        xf = [r for r in rs if r.status == "xfail"]
        status = "FAIL" if fails else ("xfail" if xf else "ok")
        kinds = sorted({r.check for r in fails})
        cells = [name, status, str(len(rs)), str(len(fails)), ", ".join(kinds) or "-"]
        for d in dtypes:
            v = _worst(rs, "accuracy", d, "value")
            g = _worst(rs, "accuracy", d, "gradient")
            cells.append(f"{_fmt(v)}/{_fmt(g)}")
        rows.append(cells)
    return rows


def print_summary(report: Report, *, file: Any = None, failures: int = 20) -> None:
    """The compact table, the failures (worst point, repro) and the wall time."""
    dtypes = report.meta.get("dtypes", [])
    header = ["activation", "status", "checks", "failed", "failing checks",
              *[f"{d} ULP val/grad" for d in dtypes]]
    rows = summary_rows(report)
    try:
        from rich.console import Console
        from rich.table import Table

        console = Console(file=file, highlight=False)
        table = Table(title="xact conformance", show_lines=False)
        for h in header:
            table.add_column(h, overflow="fold")
        for row in rows:
            style = "red" if row[1] == "FAIL" else None
            table.add_row(*row, style=style)
        console.print(table)
        emit = console.print
    except ImportError:
        out = file or sys.stdout
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
        print("  ".join(h.ljust(w) for h, w in zip(header, widths)), file=out)
        for row in rows:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths)), file=out)

        def emit(*a: Any, **k: Any) -> None:
            print(*a, file=out)

    for name, notes in report.notes.items():
        for n in notes:
            emit(f"note ({name}): {n}", markup=False) if _is_rich(emit) else emit(f"note ({name}): {n}")
    fails = report.failures
    for r in fails[:failures]:
        text = r.describe()
        emit(text, markup=False) if _is_rich(emit) else emit(text)
    if len(fails) > failures:
        emit(f"... {len(fails) - failures} more failing checks (see report.md / report.json)")
    m = report.meta
    line = (f"{len(report.results)} checks, {len(fails)} failed; "
            f"oracle subsample {m.get('oracle_points_mean', 0):.0f} points per spec "
            f"(max {m.get('oracle_points_max', 0)}); wall time {m.get('wall_seconds', 0):.1f} s")
    emit(line)


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


def write_markdown(report: Report, images: dict[str, str] | None = None) -> str:
    """The Markdown report: summary, then a section per activation."""
    images = images or {}
    m = report.meta
    lines = ["# xact conformance report", ""]
    lines.append(f"**{'PASSED' if report.passed else 'FAILED'}**: {len(report.results)} checks, "
                 f"{len(report.failures)} failed. Frameworks: {', '.join(m.get('frameworks', [])) or 'none'}; "
                 f"dtypes: {', '.join(m.get('dtypes', []))}; modes: {', '.join(m.get('modes', []))}.")
    lines.append("")
    lines.append(f"High-precision oracle (mpmath) on a subsample of {m.get('oracle_points_mean', 0):.0f} "
                 f"points per spec on average (max {m.get('oracle_points_max', 0)}), "
                 f"{m.get('oracle_seconds', 0):.1f} s in all; dense grids per dtype: "
                 f"{m.get('dense_points', {})}. Wall time {m.get('wall_seconds', 0):.1f} s.")
    lines.append("")
    lines.append("Errors are ULP distances in the output dtype from the correctly rounded "
                 "reference; `max` and `p99.9` over the points of each check.")
    lines.append("")
    for n in report.notes.get("*", []):
        lines.append(f"- note: {n}")
    lines.append("")
    dt = m.get("dtypes", [])
    lines.append("| activation | status | checks | failed | failing checks | "
                 + " | ".join(f"{d} val/grad" for d in dt) + " |")
    lines.append("|---" * (5 + len(dt)) + "|")
    for row in summary_rows(report):
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    for name, rs in _by_spec(report).items():
        lines.append(f"## {name}")
        lines.append("")
        if name in images:
            lines.append(f"![{name}]({images[name]})")
            lines.append("")
        for n in report.notes.get(name, []):
            lines.append(f"- note: {n}")
        if report.notes.get(name):
            lines.append("")
        lines.append("| check | framework | mode | dtype | quantity | status | max ULP | p99.9 ULP "
                     "| max abs | tolerance | worst x | got | expected |")
        lines.append("|---" * 13 + "|")
        for r in rs:
            lines.append("| " + " | ".join([
                r.check, r.framework, r.mode, r.dtype, r.quantity,
                f"**{r.status}**" if r.status in ("fail", "xpass") else r.status,
                _fmt(r.max_ulp), _fmt(r.p999_ulp), f"{r.max_abs:.3g}" if r.n else "-",
                r.tolerance or "-", _fmt(r.worst_x), _fmt_val(r.got), _fmt_val(r.want),
            ]) + " |")
        lines.append("")
        fails = [r for r in rs if r.status in ("fail", "xpass", "xfail")]
        for r in fails:
            lines.append(f"### {r.status}: {r.check} {r.framework}/{r.mode}/{r.dtype} {r.quantity}")
            lines.append("")
            lines.append(r.message)
            lines.append("")
            if r.tolerance_reason:
                lines.append(f"Tolerance: {r.tolerance} ({r.tolerance_reason})")
                lines.append("")
            if r.repro:
                lines += ["```python", r.repro, "```", ""]
        overrides = {r.tolerance_reason for r in rs if r.tolerance_reason.startswith("override:")}
        for o in sorted(overrides):
            lines.append(f"- tolerance {o}")
        lines.append("")
    return "\n".join(lines)


def _fmt_val(v: float | None) -> str:
    if v is None:
        return "-"
    return repr(float(v))


def write_plots(report: Report, folder: str | os.PathLike[str]) -> dict[str, str]:
    """One PNG per activation: fn and grad, and the ULP error of each run."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np
    except ImportError:
        report.note("*", "matplotlib is not installed: no plots")
        return {}
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, data in report.plots.items():
        fig, axes = plt.subplots(1, 3, figsize=(15, 4))
        x = data["x"]
        axes[0].plot(x, data["fn"], label="fn")
        axes[0].plot(x, data["grad"], label="grad", linestyle="--")
        axes[0].set_title(f"{name}: fn and grad (float64)")
        axes[0].legend()
        axes[0].grid(alpha=0.3)
        for k, q in ((1, "value"), (2, "gradient")):
            ax = axes[k]
            for label, (gx, e) in data["errors"].items():
                if not label.endswith(q):
                    continue
                e = np.where(np.isfinite(e), e, np.nan)
                ax.plot(gx, e, ".", markersize=1.5, label=label.rsplit(" ", 1)[0])
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
        out[name] = f"plots/{f.name}"
    return out
