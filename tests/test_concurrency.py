"""Defining and using activations from several threads at once.

Bounded: a fixed number of threads and iterations, each future waited on
with a timeout, so a deadlock fails the test instead of hanging CI.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import xact
import xact.numpy as xnp

THREADS = 6
ITERATIONS = 15
TIMEOUT_S = 120


def _define_scaled_square(name: str, c: float, native: bool) -> None:
    if native:
        xact.define(name, fn=lambda x, xp=np: c * x * x, grad=lambda x, xp=np: 2.0 * c * x)
    else:
        xact.define(name, fn=np.vectorize(lambda v: c * v * v), grad=np.vectorize(lambda v: 2.0 * c * v))


def test_threads_define_and_apply_consistently(framework, mode, request):
    prefix = f"thr_{framework.name}_{mode}_"
    names = [f"{prefix}{i}" for i in range(THREADS)]
    a = np.linspace(-2.0, 2.0, 9)
    start = threading.Barrier(THREADS)

    def work(i: int) -> list[str]:
        problems = []
        start.wait(timeout=TIMEOUT_S)
        _define_scaled_square(names[i], float(i + 1), native=(mode == "native"))
        for k in range(ITERATIONS):
            n = names[(i + k) % THREADS] if k else names[i]
            try:
                spec = xact.get(n)
            except xact.UnknownActivationError:
                continue  # another thread has not defined it yet
            c = float(names.index(spec.name) + 1)
            x = framework.tensor(a, "float64")
            y, g, _ = framework.value_and_grads(n, x, "auto")
            if not (np.allclose(y, c * a * a, rtol=1e-14) and np.allclose(g, 2 * c * a, rtol=1e-14)):
                problems.append(f"thread {i}, {n}: wrong values")
            xact.names()
        return problems

    try:
        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(work, i) for i in range(THREADS)]
            problems = [p for f in futures for p in f.result(timeout=TIMEOUT_S)]
        assert not problems
        for i, n in enumerate(names):
            np.testing.assert_allclose(xnp.apply(n, a), (i + 1) * a * a, rtol=1e-14)
    finally:
        for n in names:
            if n in xact.names():
                xact.unregister(n)


def test_racing_definitions_of_one_name_register_exactly_one(fresh_name):
    start = threading.Barrier(THREADS)

    def attempt(i: int) -> bool:
        start.wait(timeout=TIMEOUT_S)
        try:
            _define_scaled_square(fresh_name, float(i + 1), native=True)
            return True
        except xact.DuplicateActivationError:
            return False

    with ThreadPoolExecutor(THREADS) as pool:
        results = [f.result(timeout=TIMEOUT_S) for f in [pool.submit(attempt, i) for i in range(THREADS)]]
    assert sum(results) == 1
    winner = results.index(True) + 1
    np.testing.assert_allclose(xnp.apply(fresh_name, np.array([2.0])), [4.0 * winner])


@pytest.mark.parametrize("mode", ["native", "numpy"])
def test_torch_and_tf_threads_at_once(mode):
    torch = pytest.importorskip("torch")
    tf = pytest.importorskip("tensorflow")
    import xact.tf as xtf
    import xact.torch as xt

    a = np.linspace(-3, 3, 1001)
    expected = xnp.apply("mish", a)

    def run_torch() -> float:
        return max(float(np.abs(xt.apply("mish", torch.tensor(a), mode=mode).numpy() - expected).max()) for _ in range(ITERATIONS))

    def run_tf() -> float:
        return max(float(np.abs(xtf.apply("mish", tf.constant(a), mode=mode).numpy() - expected).max()) for _ in range(ITERATIONS))

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(run_torch), pool.submit(run_tf), pool.submit(run_torch), pool.submit(run_tf)]
        errors = [f.result(timeout=TIMEOUT_S) for f in futures]
    assert max(errors) < 1e-14
