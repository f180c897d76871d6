"""Interleaved timing: every implementation of one cell is sampled round-robin.

Rules, because the machine is shared and noisy:

* implementations of one (activation, size) cell are timed in the same rounds,
  in a rotating order, so a burst of load hits them alike and ratios within a
  cell stay meaningful even when absolute times drift;
* each sample times ``number`` back-to-back calls (chosen so a sample lasts at
  least ``min_sample_s``), which keeps microsecond calls above timer noise;
* the statistic is the median of the samples, with the quartiles kept as the
  noise indication;
* a slow implementation takes fewer samples (never fewer than ``min_reps``),
  so one slow baseline cannot eat the whole time budget.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Impl:
    """One way of computing forward+backward, ready to call."""

    key: str  # stable id in bench.json, e.g. "xact_native"
    label: str  # human name, e.g. "xact native (eager)"
    step: Callable[[], Any]  # one forward+backward, returns the input gradient
    kind: str = "xact"  # "xact" | "builtin" | "baseline"
    notes: list[str] = field(default_factory=list)


@dataclass
class Timing:
    median_s: float
    q1_s: float
    q3_s: float
    samples: int
    number: int  # calls per sample
    warmup_s: float  # first call (includes tracing/compilation where there is any)


def _quartiles(v: list[float]) -> tuple[float, float]:
    if len(v) < 2:
        return v[0], v[0]
    q = statistics.quantiles(v, n=4, method="inclusive")
    return q[0], q[2]


def time_interleaved(
    impls: list[Impl],
    *,
    budget_s: float,
    min_reps: int,
    max_reps: int,
    min_sample_s: float = 0.005,
    on_sample: Callable[[], None] | None = None,
) -> dict[str, Timing]:
    """Median time per call of each implementation, sampled round-robin.

    ``budget_s`` is the target time per implementation for this cell.
    """
    warm: dict[str, float] = {}
    est: dict[str, float] = {}
    for im in impls:
        t0 = time.perf_counter()
        im.step()
        warm[im.key] = time.perf_counter() - t0
        t0 = time.perf_counter()  # second call: the estimate (no compilation in it)
        im.step()
        est[im.key] = max(time.perf_counter() - t0, 1e-7)

    number = {k: max(1, int(min_sample_s / t)) for k, t in est.items()}
    reps = {
        k: int(min(max_reps, max(min_reps, budget_s / (est[k] * number[k])))) for k in est
    }
    samples: dict[str, list[float]] = {im.key: [] for im in impls}
    rounds = max(reps.values()) if reps else 0
    for r in range(rounds):
        shift = r % len(impls)
        for im in impls[shift:] + impls[:shift]:
            if r >= reps[im.key]:
                continue
            n = number[im.key]
            step = im.step
            t0 = time.perf_counter()
            for _ in range(n):
                step()
            samples[im.key].append((time.perf_counter() - t0) / n)
        if on_sample is not None:
            on_sample()
    out = {}
    for k, v in samples.items():
        q1, q3 = _quartiles(v)
        out[k] = Timing(statistics.median(v), q1, q3, len(v), number[k], warm[k])
    return out
