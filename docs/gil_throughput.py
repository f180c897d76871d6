"""Measure what the GIL means for the TF host bridge: 1 vs 2 threads.

Run:  python docs/gil_throughput.py

Each thread applies an activation (forward + gradient) to its own 1M-element
float32 tensor, N times. With a perfect 2x scaling on 2 cores, two threads
finish the same per-thread work in the same wall time as one. Printed: the
2-thread speed-up (total throughput of 2 threads / 1 thread) for native
mode, the bridge with a vectorised NumPy spec, and the bridge with an
np.vectorize (per-element Python) spec.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

import xact
import xact.tf as xtf

N_ELEMENTS = 1_000_000
REPEATS = 6


def _work(name: str, mode: str, n: int) -> None:
    x = tf.random.normal((n,), seed=1)
    for _ in range(REPEATS):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = xtf.apply(name, x, mode=mode)
        tape.gradient(y, x)


def speedup(name: str, mode: str, n: int) -> float:
    _work(name, mode, 1000)  # warm-up
    t0 = time.perf_counter()
    _work(name, mode, n)
    one = time.perf_counter() - t0
    t0 = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: _work(name, mode, n), range(2)))
    two = time.perf_counter() - t0
    return 2 * one / two


if __name__ == "__main__":
    xact.define("cube_vectorize", fn=np.vectorize(lambda v: v**3, otypes=[np.float32]),
                grad=np.vectorize(lambda v: 3 * v**2, otypes=[np.float32]))
    rows = [
        ("native, softplus", "softplus", "native", N_ELEMENTS),
        ("bridge, softplus (NumPy ufuncs)", "softplus", "numpy", N_ELEMENTS),
        ("bridge, np.vectorize spec", "cube_vectorize", "numpy", N_ELEMENTS // 20),
    ]
    print(f"2-thread speed-up on {os.cpu_count()} cores (2.0 = perfect, 1.0 = serialised)")
    for label, name, mode, n in rows:
        print(f"  {label:<34} {speedup(name, mode, n):.2f}x   ({n} elements per call)")
