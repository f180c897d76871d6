"""Defining and using activations from several threads at once.

Bounded: a fixed number of threads and iterations, each future waited on
with a timeout, so a deadlock fails the test instead of hanging CI.
"""

from __future__ import annotations

import os
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


# ------------------------------------------------------------------ the first registry call
# Each scenario runs in a fresh interpreter, where the catalogue is not loaded yet.

_FIRST_CALL = r"""
import threading, numpy as np, xact
n = 8
start = threading.Barrier(n)
errors = []
def first():
    start.wait()
    try:
        assert xact.get("relu").name == "relu" and len(xact.names()) > 50
    except Exception as e:
        errors.append(repr(e))
threads = [threading.Thread(target=first) for _ in range(n)]
for t in threads: t.start()
for t in threads: t.join()
print("ERRORS", errors)
"""

# The catalogue's define (bound at its import) made slow, so the load is in progress
# when the main thread acts; `started` says it is.
_SLOW_LOAD = r"""
import os, sys, threading, time, numpy as np, xact, xact.spec
real, started = xact.spec.define, threading.Event()
def slow(*a, **k):
    started.set(); time.sleep(0.005); return real(*a, **k)
xact.spec.define = slow
loader = threading.Thread(target=xact.names); loader.start()
assert started.wait(30)
"""


def _run_fresh(code: str) -> str:
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT_S)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


@pytest.mark.parametrize("attempt", range(3))
def test_threads_racing_to_the_first_registry_call_all_see_the_catalogue(attempt):
    assert "ERRORS []" in _run_fresh(_FIRST_CALL)


def test_define_during_the_catalogue_load_is_probed():
    out = _run_fresh(_SLOW_LOAD + r"""
try:
    xact.define("promotes", fn=lambda x, xp=np: x * np.float64(2.0), grad=lambda x, xp=np: 2.0 + 0 * x)
    print("ACCEPTED")
except xact.SpecError:
    print("REFUSED")
loader.join()
print("LOADED", "relu" in xact.names(), "promotes" in xact.names())
""")
    assert "REFUSED" in out and "LOADED True False" in out


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_during_the_catalogue_load_gives_a_child_with_the_whole_catalogue():
    out = _run_fresh(_SLOW_LOAD + r"""
pid = os.fork()
if pid == 0:
    import signal
    signal.alarm(20)  # a hang becomes a failure
    os._exit(0 if len(xact.names()) == len(xact.names()) > 50 and xact.get("gelu") else 3)
_, status = os.waitpid(pid, 0)
loader.join()
print("CHILD", os.waitstatus_to_exitcode(status))
""")
    assert "CHILD 0" in out


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_while_other_threads_use_the_registry_never_hangs_the_child():
    out = _run_fresh(r"""
import os, threading, signal, numpy as np, xact
xact.names()
stop = threading.Event()
def busy(i):
    k = 0
    while not stop.is_set():
        name = f"busy_{i}_{k}"
        xact.define(name, fn=lambda x, xp=np: x * 1.0, grad=lambda x, xp=np: xp.ones_like(x))
        xact.unregister(name); xact.names(); k += 1
threads = [threading.Thread(target=busy, args=(i,)) for i in range(3)]
for t in threads: t.start()
codes = []
for _ in range(15):
    pid = os.fork()
    if pid == 0:
        signal.alarm(3)
        os._exit(0 if "relu" in xact.names() and xact.get("relu") else 3)
    codes.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
stop.set()
for t in threads: t.join()
print("CODES", sorted(set(codes)))
""")
    assert "CODES [0]" in out
