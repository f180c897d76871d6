"""The parity record: what each framework built-in computes, measured against the specs.

``xact parity [--out DIR]`` (or :func:`run_parity`) runs every built-in that a
catalogue spec declares as its twin (plus a few that users write, such as
``keras.ops.gelu``), with the declared arguments and with its own defaults,
against the spec's high-precision reference, and writes ``DIR/parity.json``
(one record per built-in) and ``DIR/parity.md`` (the same, for people,
grouped per spec). :func:`build_record` returns the record as data.

Rules:

* measure, never assume: a built-in's defaults are read from its signature
  (or docstring, or ONNX schema), which spec it computes under them is found
  by running it, and every stated difference is generated from the numbers;
* a framework is imported only to measure its built-ins; one that is not
  installed is skipped and the record says so;
* the record is not a pass/fail check: ``xact parity`` exits 0 unless it crashes.

Modules: ``builtins`` (the list, signatures, argument mapping), ``runners``
(one per framework: call string + kwargs -> values and gradients),
``measure`` (ULPs, kinks, NaN/inf against the reference), ``record`` (the
runs per built-in and the statements), ``report`` (JSON, Markdown, table).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

__all__ = ["build_record", "run_parity"]


def build_record(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """See :func:`xact.parity.record.build_record`."""
    from xact.parity.record import build_record as _build

    return _build(*args, **kwargs)


def run_parity(args: argparse.Namespace) -> int:
    """``xact parity``: measure, print a compact table, write parity.md and parity.json."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from xact.parity.report import summary_rows, write_json, write_markdown

    out = Path(getattr(args, "out", None) or "conformance/report")
    specs = getattr(args, "specs", None) or None
    frameworks = getattr(args, "framework", None) or None
    console = Console()
    if console.width < 150:  # the table has seven columns; a pipe reports 80
        console = Console(width=150)
    t0 = time.perf_counter()
    with Progress(TextColumn("[bold]parity[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("importing frameworks", total=None)

        def progress(call: str, i: int, n: int) -> None:
            bar.update(task, description=call, completed=i, total=n)

        record = build_record(specs, frameworks=frameworks, progress=progress)
    table = Table(title="built-ins against their specs (ULP float32/float64: worst over declared twins)",
                  show_lines=False, header_style="bold")
    for col in ("framework", "call", "computes under its defaults", "value ULP", "grad ULP", "kinks", "differences"):
        table.add_column(col, no_wrap=col == "call")
    for row in summary_rows(record):
        table.add_row(row["framework"], row["call"], row["defaults"], row["value"], row["gradient"],
                      row["kinks"], row["differences"])
    console.print(table)
    out.mkdir(parents=True, exist_ok=True)
    write_json(record, out / "parity.json")
    write_markdown(record, out / "parity.md")
    n_diff = sum(len(b["differences"]) for b in record["builtins"])
    console.print(f"{len(record['builtins'])} built-ins, {n_diff} differences stated; "
                  f"wrote {out / 'parity.md'} and {out / 'parity.json'} in {time.perf_counter() - t0:.0f} s")
    return 0
