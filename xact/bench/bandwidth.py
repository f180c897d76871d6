"""The memory-bandwidth bound of an elementwise forward+backward.

A fused forward+backward of an elementwise activation must at least read x
and write y (forward), then read x and gy and write gx (backward): five
arrays of n elements, whatever the formula (the input is re-read because
native mode saves only the input). Dividing those bytes by the copy
bandwidth of this machine gives the time no implementation can beat; each
implementation's ``bound_fraction`` is that time over its own.

The copy bandwidth is measured, not looked up: ``dst[:] = src`` on arrays
far larger than the caches, read and write both counted, the median of
several copies; with torch installed its multi-threaded ``copy_`` is
measured too and the faster of the two is used.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

ARRAYS_MOVED = 5  # x, y (forward); x, gy, gx (backward)
COPY_BYTES = 256 * 2**20


def fused_bytes(n: int, itemsize: int = 4) -> int:
    return ARRAYS_MOVED * n * itemsize


def _numpy_copy(nbytes: int, repeats: int) -> list[float]:
    src = np.ones(nbytes // 4, dtype=np.float32)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        out.append(2 * nbytes / (time.perf_counter() - t0))
    return out


def measure(repeats: int = 9, nbytes: int = COPY_BYTES, with_torch: bool = False) -> dict[str, Any]:
    """Copy bandwidth in bytes/s: per method (median) and the one used (the fastest)."""
    methods = {"numpy copyto (1 thread)": statistics.median(_numpy_copy(nbytes, repeats))}
    if with_torch:
        from xact.bench.torch_suite import copy_bandwidth

        methods["torch copy_ (intra-op threads)"] = statistics.median(copy_bandwidth(nbytes, repeats))
    best = max(methods, key=methods.__getitem__)
    return {"bytes_per_s": methods[best], "method": best, "methods": methods, "array_bytes": nbytes}
