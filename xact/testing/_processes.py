"""Conformance over many specs split across forked worker processes.

One process checking the catalogue keeps one core busy: its framework checks
(and, cold, each torch kernel's Inductor build) run one after another, while
the forked oracle worker of :func:`xact.testing.check` sits mostly idle (it
used 12% of a core in a full run, measured). With ``jobs`` processes each
takes every ``jobs``-th spec and runs the whole check on it (oracle
in-process), and the reports are merged in catalogue order.

Fork, not spawn: specs are closures that cannot be pickled, and a forked
child starts with the registry (user specs included) as the parent has it.
So the split is only taken while no framework is imported in this process
(forking after TensorFlow, torch or JAX started their threads is unsafe);
otherwise :func:`check` runs in-process as before.
"""

from __future__ import annotations

import multiprocessing
import queue as queue_module
import sys
import time
import traceback
from typing import Any

from xact.spec import Spec

_FRAMEWORK_MODULES = ("torch", "tensorflow", "jax", "keras")


def fork_is_safe() -> bool:
    """Whether this process may fork workers: fork exists and no framework is imported yet."""
    if any(m in sys.modules for m in _FRAMEWORK_MODULES):
        return False
    return "fork" in multiprocessing.get_all_start_methods()


def can_split(specs: list[Spec], jobs: int) -> bool:
    """Whether :func:`check_split` may run: 2+ jobs, 2+ specs per job, :func:`fork_is_safe`."""
    return jobs >= 2 and len(specs) >= 2 * jobs and fork_is_safe()


def _worker(index: int, specs: list[Spec], kwargs: dict[str, Any], out: Any) -> None:
    from xact.testing.engine import check

    try:
        cache = kwargs.get("oracle_cache")
        known = set(cache) if cache is not None else set()
        report = check(specs, jobs=1, progress=False,
                       _on_spec=lambda event, name, ok: out.put((event, name, ok)), **kwargs)
        # the oracle jobs this worker ran, for the parent's cache (the fork's copy dies with it)
        new = {k: v for k, v in cache.items() if k not in known} if cache is not None else {}
        out.put(("report", index, (report, new)))
    except BaseException:  # the parent reports it as the run's failure
        out.put(("error", index, traceback.format_exc()))


def check_split(specs: list[Spec], jobs: int, kwargs: dict[str, Any], *, progress: bool) -> Any:
    """:func:`xact.testing.check` of ``specs`` in ``jobs`` forked processes, merged."""
    from xact.testing.engine import Report
    from xact.testing.report import Progress

    t0 = time.perf_counter()
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    groups = [specs[i::jobs] for i in range(jobs)]
    procs = [ctx.Process(target=_worker, args=(i, g, kwargs, out), name=f"xact-check-{i}")
             for i, g in enumerate(groups)]
    for p in procs:
        p.start()
    reports: dict[int, Any] = {}
    errors: dict[int, str] = {}
    try:
        with Progress(enabled=progress, total=len(specs)) as bar:
            while len(reports) + len(errors) < len(procs):
                try:
                    event, key, value = out.get(timeout=2.0)
                except queue_module.Empty:
                    for i, p in enumerate(procs):
                        if not p.is_alive() and i not in reports and i not in errors and out.empty():
                            errors[i] = f"worker {i} exited with status {p.exitcode} before reporting"
                    continue
                if event == "start":
                    bar.start(key)
                elif event == "done":
                    bar.advance(key, value)
                elif event == "report":
                    reports[key] = value
                else:
                    errors[key] = value
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
    if errors:
        detail = "\n".join(errors[i] for i in sorted(errors))
        raise RuntimeError(f"conformance worker process(es) failed:\n{detail}")
    cache = kwargs.get("oracle_cache")
    if cache is not None:
        for i in range(jobs):
            cache.update(reports[i][1])
    return _merge([reports[i][0] for i in range(jobs)], specs, jobs, time.perf_counter() - t0, Report)


def _merge(parts: list[Any], specs: list[Spec], jobs: int, wall: float, report_type: type) -> Any:
    order = {s.name: k for k, s in enumerate(specs)}
    merged = report_type()
    results = [r for part in parts for r in part.results]
    merged.results = sorted(results, key=lambda r: order.get(r.name, -1))  # stable: a spec's own order kept
    for name in sorted({n for part in parts for n in part.notes}, key=lambda n: order.get(n, -1)):
        for part in parts:
            for text in part.notes.get(name, []):
                merged.note(name, text)
    for part in parts:
        merged.plots.update(part.plots)
    meta = dict(parts[0].meta)
    n_specs = [len(part.meta.get("specs", [])) for part in parts]
    total = max(sum(n_specs), 1)
    phases: dict[str, float] = {}
    for part in parts:
        for k, v in part.meta.get("phase_seconds", {}).items():
            phases[k] = round(phases.get(k, 0.0) + v, 2)
    meta.update(
        specs=[s.name for s in specs],
        wall_seconds=wall,
        processes=jobs,
        oracle_points_mean=sum(p.meta.get("oracle_points_mean", 0.0) * n for p, n in zip(parts, n_specs)) / total,
        oracle_points_max=max(p.meta.get("oracle_points_max", 0) for p in parts),
        oracle_seconds=sum(p.meta.get("oracle_seconds", 0.0) for p in parts),
        phase_seconds=phases,  # summed over the processes: CPU-side seconds, not wall time
    )
    merged.meta = meta
    return merged
