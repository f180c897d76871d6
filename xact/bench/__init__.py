"""``xact bench``: forward+backward timings of xact against built-ins and baselines.

Run with ``python -m xact bench --out bench-out`` (or ``nox -s bench``). For
each framework, activation and size it times one forward ``y = act(x)`` and
one backward with a fixed upstream tensor on float32 CPU tensors, for every
implementation in ``torch_suite`` / ``tf_suite``, interleaved round-robin
(``timing``), and writes a terminal table, ``bench.json``, ``bench.md`` and
PNG plots (``report``).

Rules:

* a framework is imported only when its suite runs; ``import xact`` never
  imports this package;
* ratios compare implementations timed in the same rounds only;
* the seed-style recipe (per-element ``np.vectorize``) is measured up to
  ``SEED_MAX_ELEMENTS`` and extrapolated linearly beyond, marked as such;
* memory (saved-for-backward and peak bytes) is measured on one extra,
  untimed call at the memory size (4M elements by default).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

#: The issue's list (each has a built-in in both frameworks) and spiky (none: its
#: own formula under autograd stands in).
ACTIVATIONS = ("gelu_tanh", "gelu", "silu", "softplus", "mish", "elu", "leaky_relu", "sigmoid",
               "tanh", "spiky")
QUICK_ACTIVATIONS = ("gelu_tanh", "silu", "leaky_relu")
SIZES = (1_000, 4_096, 256_000, 4_000_000)
QUICK_SIZES = (1_000, 4_096, 1_000_000)
REFERENCE_SIZE = 4_000_000  # the targets are stated at this size
SEED_MAX_ELEMENTS = 256_000  # np.vectorize costs ~1 us per element and call
FRAMEWORKS = ("torch", "tf")
_MODULES = {"torch": ("torch", "xact.bench.torch_suite"), "tf": ("tensorflow", "xact.bench.tf_suite")}


@dataclass
class Config:
    activations: tuple[str, ...]
    frameworks: tuple[str, ...]
    sizes: tuple[int, ...]
    quick: bool
    out: str
    compiled: bool  # torch.compile and XLA forms (slow to build; off only in smoke tests)
    budget_s: float  # sampling time per implementation and cell
    min_reps: int
    max_reps: int
    seed_max: int
    memory_size: int
    reference_size: int


def _config(args: argparse.Namespace) -> Config:
    quick = bool(getattr(args, "quick", False))
    sizes = (
        tuple(int(float(s)) for s in args.sizes.split(",") if s.strip())
        if getattr(args, "sizes", None)
        else (QUICK_SIZES if quick else SIZES)
    )
    sizes = tuple(sorted(set(sizes)))
    ref = REFERENCE_SIZE if REFERENCE_SIZE in sizes else max(sizes)
    return Config(
        activations=tuple(getattr(args, "activations", None) or (QUICK_ACTIVATIONS if quick else ACTIVATIONS)),
        frameworks=tuple(getattr(args, "framework", None) or FRAMEWORKS),
        sizes=sizes,
        quick=quick,
        out=getattr(args, "out", None) or "bench-out",
        # The compiled forms take seconds each to build: not in a quick run.
        compiled=not (quick or getattr(args, "no_compile", False)),
        budget_s=0.1 if quick else 0.6,
        min_reps=3 if quick else 5,
        max_reps=10 if quick else 30,
        seed_max=min(SEED_MAX_ELEMENTS, 16_000) if quick else SEED_MAX_ELEMENTS,
        memory_size=ref,
        reference_size=ref,
    )


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = None
    try:
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "memory_bytes": mem,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def import_time(repeats: int = 7) -> dict[str, Any]:
    """``import xact`` in a fresh interpreter: median seconds, and whether a framework came along."""
    code = (
        "import sys, time; t = time.perf_counter(); import xact; "
        "d = time.perf_counter() - t; "
        "print(d, int(any(m in sys.modules for m in ('torch', 'tensorflow', 'keras'))))"
    )
    times, frameworks = [], False
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        d, fw = out.stdout.split()
        times.append(float(d))
        frameworks = frameworks or fw == "1"
    return {"median_s": statistics.median(times), "min_s": min(times), "repeats": repeats,
            "imports_framework": frameworks}


def _row(fw: str, name: str, n: int, key: str, label: str, kind: str, t: Any) -> dict[str, Any]:
    return {
        "framework": fw, "activation": name, "size": n, "impl": key, "label": label, "kind": kind,
        "median_s": t.median_s, "q1_s": t.q1_s, "q3_s": t.q3_s, "samples": t.samples,
        "calls_per_sample": t.number, "warmup_s": t.warmup_s,
        "ns_per_element": t.median_s / n * 1e9, "extrapolated": False,
    }


def _checkpoint(cfg: Config, rows: list[dict[str, Any]]) -> None:
    """Rows measured so far, rewritten after every cell: an interrupted run keeps them."""
    import json

    os.makedirs(cfg.out, exist_ok=True)
    tmp = os.path.join(cfg.out, "bench.partial.json.tmp")
    with open(tmp, "w") as f:
        json.dump({"config": asdict(cfg), "rows": rows}, f, indent=1, default=str)
    os.replace(tmp, os.path.join(cfg.out, "bench.partial.json"))


def _run_framework(fw: str, cfg: Config, progress: Any, task: Any, console: Any,
                   rows: list[dict[str, Any]]) -> None:
    """Time every cell of ``fw``, appending to ``rows`` (kept when interrupted)."""
    suite = importlib.import_module(_MODULES[fw][1])
    for name in cfg.activations:
        seed_rate: float | None = None  # seconds per element, from the largest measured size
        seed_keys: dict[str, tuple[str, str]] = {}
        for n in cfg.sizes:
            progress.update(task, description=f"{fw} {name} n={n:,}")
            cell_start = time.perf_counter()
            x, gy = suite.inputs(n)
            with_seed = n <= cfg.seed_max
            impls = suite.implementations(name, x, gy, compiled=cfg.compiled, seed=with_seed)
            big = n >= 16_000_000
            timings = _time(impls, cfg, big)
            for im in impls:
                rows.append(_row(fw, name, n, im.key, im.label, im.kind, timings[im.key]))
                if im.key.startswith("seed"):
                    seed_keys[im.key] = (im.label, im.kind)
            if with_seed:
                seed_rate = {k: timings[k].median_s / n for k in seed_keys}  # type: ignore[assignment]
            elif seed_rate:
                for k, rate in seed_rate.items():  # type: ignore[attr-defined]
                    label, kind = seed_keys[k]
                    rows.append({
                        "framework": fw, "activation": name, "size": n, "impl": k,
                        "label": label + " (extrapolated)", "kind": kind,
                        "median_s": rate * n, "q1_s": None, "q3_s": None, "samples": 0,
                        "calls_per_sample": 0, "warmup_s": None,
                        "ns_per_element": rate * 1e9, "extrapolated": True,
                    })
            if n == cfg.memory_size:
                by_key = {r["impl"]: r for r in rows if r["size"] == n and r["activation"] == name
                          and r["framework"] == fw}
                for im in impls:
                    try:
                        by_key[im.key]["memory"] = suite.memory(im, x, gy, name)
                    except Exception as e:  # a probe failing must not lose the timings
                        by_key[im.key]["memory"] = {"error": f"{type(e).__name__}: {e}"}
            del impls, x, gy
            _checkpoint(cfg, rows)
            progress.advance(task)
            fast = min((k for k in timings if k.startswith("xact_native")),
                       key=lambda k: timings[k].median_s)
            console.log(f"{fw} {name} n={n:,}: {len(timings)} implementations in "
                        f"{time.perf_counter() - cell_start:.0f} s (fastest xact: {fast} "
                        f"{timings[fast].median_s * 1e3:.2f} ms)")


def _time(impls: list[Any], cfg: Config, big: bool) -> dict[str, Any]:
    from xact.bench.timing import time_interleaved

    return time_interleaved(
        impls,
        budget_s=cfg.budget_s,
        min_reps=max(2, cfg.min_reps - 2) if big else cfg.min_reps,
        max_reps=cfg.max_reps,
    )


def run_bench(args: argparse.Namespace) -> int:
    """Entry point of ``xact bench``; returns the exit status."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from xact import get
    from xact.bench import bandwidth, report

    console = Console()
    if not console.is_terminal:  # logs and CI: keep the tables unwrapped
        console = Console(width=180)
    cfg = _config(args)
    for name in cfg.activations:
        get(name)  # unknown names fail before any framework is imported
    unknown = [a for a in cfg.activations if a not in ACTIVATIONS]
    if getattr(args, "model", False):
        from xact.bench import models

        return models.run(args, console)
    if getattr(args, "startup", False):
        from xact.bench import startup

        return startup.run(args, console)
    if unknown:
        console.print(f"[red]xact bench has baselines for {', '.join(ACTIVATIONS)} only; "
                      f"got {', '.join(unknown)}[/red]")
        return 2
    frameworks = []
    for fw in cfg.frameworks:
        if importlib.util.find_spec(_MODULES[fw][0]) is None:
            console.print(f"[yellow]{fw}: not installed, skipped[/yellow]")
        else:
            frameworks.append(fw)
    if not frameworks:
        console.print("[red]no framework installed to benchmark[/red]")
        return 2

    start = time.perf_counter()
    machine = _machine()
    console.log(f"machine: {machine['cpu']}, {machine['logical_cpus']} logical CPUs, "
                f"load {machine['load_average']}")
    imp = import_time()
    console.log(f"import xact: {imp['median_s'] * 1e3:.1f} ms (median of {imp['repeats']}), "
                f"framework imported: {imp['imports_framework']}")
    bw = bandwidth.measure(with_torch="torch" in frameworks)
    console.log(f"copy bandwidth: {bw['bytes_per_s'] / 1e9:.2f} GB/s ({bw['method']})")
    if max(cfg.sizes) > cfg.seed_max:
        console.log(f"seed recipe (np.vectorize): measured up to {cfg.seed_max:,} elements, "
                    "extrapolated linearly beyond (marked 'extrapolated')")

    rows: list[dict[str, Any]] = []
    versions: dict[str, Any] = {}
    cells = len(frameworks) * len(cfg.activations) * len(cfg.sizes)
    interrupted = False
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task("bench", total=cells)
            for fw in frameworks:
                suite = importlib.import_module(_MODULES[fw][1])
                versions[fw] = suite.info()
                _run_framework(fw, cfg, progress, task, console, rows)
    except KeyboardInterrupt:
        interrupted = True
        console.log(f"[yellow]interrupted: writing the {len(rows)} timings measured so far[/yellow]")
    if not rows:
        return 130 if interrupted else 1

    bw_end = bandwidth.measure(with_torch="torch" in frameworks)
    machine["load_average_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    wall = time.perf_counter() - start
    result = report.assemble(
        rows=rows, config=asdict(cfg), machine=machine, versions=versions,
        bandwidth={"start": bw, "end": bw_end}, import_time=imp, wall_s=wall,
    )
    result["interrupted"] = interrupted
    report.emit(result, cfg.out, console)
    partial = os.path.join(cfg.out, "bench.partial.json")
    if os.path.exists(partial):
        os.remove(partial)
    console.log(f"wall time: {wall:.0f} s; results in {cfg.out}/"
                + (" (interrupted: partial)" if interrupted else ""))
    return 130 if interrupted else 0
