"""The default fused path (xact/kernels): same numbers as the plain path, never an error.

Kernels are built synchronously here (``XACT_FUSE=sync`` semantics through
``configure``), so every test is deterministic; the background mode is tested
in a fresh subprocess with its own empty caches and a bounded wait. The plain
path is the oracle: it is the spec's code op by op, itself checked against
high precision by the conformance suite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import HAS_TF, HAS_TORCH

from xact import kernels

SPECS = [("silu", {}), ("gelu_tanh", {}), ("elu", {"alpha": 0.7}), ("leaky_relu", {"negative_slope": 0.2}),
         ("softplus", {}), ("mish", {})]
EPS = {"float32": 2.0**-23, "float64": 2.0**-52, "bfloat16": 2.0**-7}


@pytest.fixture
def fused():
    kernels.configure("sync")
    yield
    kernels.configure("off")


def _close(a, b, dtype, ulps=8):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    tol = ulps * EPS[dtype] * np.maximum(np.abs(b), 1e-30) + 4 * EPS[dtype] * 1e-6
    assert np.all((np.abs(a - b) <= tol) | (a == b)), np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-30))


def _env(tmp_path):
    env = dict(os.environ)
    env.update(XACT_CACHE_DIR=str(tmp_path / "xact"), TORCHINDUCTOR_CACHE_DIR=str(tmp_path / "inductor"),
               PYTHONPATH=os.pathsep.join([os.getcwd(), env.get("PYTHONPATH", "")]))
    env.pop("XACT_FUSE", None)  # the default a user gets
    return env


def test_background_builds_lower_the_switch_interval_and_restore_it():
    """While a kernel builds on the background thread, the caller's thread gets the GIL back
    within BUILD_SWITCH_INTERVAL after each framework op; afterwards the interval is the user's."""
    import threading

    cache = kernels.KernelCache("test")
    seen = []
    release = threading.Event()

    def build():
        seen.append(sys.getswitchinterval())
        release.wait(10)
        return lambda: "kernel"

    before = sys.getswitchinterval()
    kernels.configure("background")
    try:
        assert cache.get("k", build, lambda: False) is None  # not built yet: the plain path runs
        for _ in range(500):
            if seen:
                break
            threading.Event().wait(0.01)
        assert seen and seen[0] == pytest.approx(kernels.BUILD_SWITCH_INTERVAL)
        assert sys.getswitchinterval() == pytest.approx(kernels.BUILD_SWITCH_INTERVAL)  # process-wide
        release.set()
        assert cache.wait(timeout=10)
        assert cache.get("k", build, lambda: False)() == "kernel"
    finally:
        release.set()
        kernels.configure("off")
    for _ in range(500):  # the build thread restores it as it leaves the build, just after storing
        if sys.getswitchinterval() == pytest.approx(before):
            break
        threading.Event().wait(0.01)
    assert sys.getswitchinterval() == pytest.approx(before)


# ------------------------------------------------------------------ torch

torch_only = pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")


@torch_only
@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
@pytest.mark.parametrize("name, params", SPECS, ids=[s for s, _ in SPECS])
def test_torch_fused_equals_plain(fused, name, params, dtype):
    import torch

    import xact.torch as xt
    from xact.kernels.torch import CACHE

    tdt = getattr(torch, dtype)
    base = torch.linspace(-12, 12, 6 * 35, dtype=torch.float64).reshape(6, 35)
    up = torch.linspace(-1, 1, 6 * 35, dtype=torch.float64).reshape(6, 35).to(tdt)

    def run(fuse: str):
        kernels.configure(fuse)
        x = base.to(tdt).t().requires_grad_(True)  # non-contiguous on purpose
        y = xt.apply(name, x, **params)
        (g,) = torch.autograd.grad(y, x, up.t())
        return y.detach(), g

    y0, g0 = run("off")
    before = len(CACHE._ready)
    y1, g1 = run("sync")
    assert len(CACHE._ready) >= min(before + 2, CACHE.max_entries) or before >= 2
    assert not CACHE.failures()
    assert y1.dtype == tdt and y1.shape == y0.shape and g1.shape == g0.shape
    _close(y1.float().numpy() if dtype == "bfloat16" else y1.numpy(),
           y0.float().numpy() if dtype == "bfloat16" else y0.numpy(), dtype, ulps=1 if dtype == "bfloat16" else 8)
    _close(g1.float().numpy() if dtype == "bfloat16" else g1.numpy(),
           g0.float().numpy() if dtype == "bfloat16" else g0.numpy(), dtype, ulps=1 if dtype == "bfloat16" else 8)


@torch_only
def test_torch_fused_one_element_tensor_parameter_gets_its_gradient(fused):
    import torch

    import xact.torch as xt

    x = torch.linspace(-4, 4, 301)
    up = torch.cos(x)
    grads = []
    for mode in ("off", "sync"):
        kernels.configure(mode)
        beta = torch.tensor(1.3, requires_grad=True)
        xx = x.clone().requires_grad_(True)
        y = xt.apply("swish_beta", xx, beta=beta)
        grads.append([y.detach(), *torch.autograd.grad(y, [xx, beta], up)])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=64 * 2.0**-23, atol=1e-6)


@torch_only
def test_torch_double_backward_and_vmap_and_compile_with_kernels_on(fused):
    import torch

    import xact.torch as xt

    x = torch.linspace(-3, 3, 64, dtype=torch.float64, requires_grad=True)
    y = xt.gelu_tanh(x)  # forward through the kernel
    (g,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), x)
    kernels.configure("off")
    xp = x.detach().clone().requires_grad_(True)
    (gp,) = torch.autograd.grad(xt.gelu_tanh(xp).sum(), xp, create_graph=True)
    (hp,) = torch.autograd.grad(gp.sum(), xp)
    torch.testing.assert_close(h, hp)
    kernels.configure("sync")
    batched = torch.func.vmap(xt.silu)(x.detach().reshape(8, 8))
    torch.testing.assert_close(batched.reshape(-1), xt.silu(x.detach()))
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), xt.Activation("mish"))
    compiled = torch.compile(model, fullgraph=True)
    inp = torch.randn(3, 4)
    torch.testing.assert_close(compiled(inp), model(inp))


@torch_only
def test_torch_without_a_compiler_warns_once_and_runs_plain(tmp_path):
    code = textwrap.dedent("""
        import warnings, torch
        import torch._inductor.config as c
        c.cpp.cxx = ("/nonexistent/g++",)
        import xact.torch as xt
        from xact import kernels
        kernels.configure("sync")
        x = torch.linspace(-3, 3, 100, requires_grad=True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            ys = [xt.apply(n, x) for n in ("silu", "gelu_tanh", "elu", "silu")]
            for y in ys:
                y.sum().backward()
        kernels.configure("off")
        plain = xt.silu(x.detach())
        assert torch.equal(ys[0].detach(), plain)
        mine = [str(m.message) for m in w if "fused torch kernels are unavailable" in str(m.message)]
        assert len(mine) == 1, mine
        assert "C++ compiler" in mine[0] and "plain path" in mine[0], mine[0]
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-3000:]


@torch_only
def test_torch_background_build_serves_plain_first_then_fused(tmp_path):
    code = textwrap.dedent("""
        import logging, time, io, torch
        stream = io.StringIO()
        logging.basicConfig(level=logging.INFO, stream=stream)
        import xact.torch as xt
        from xact.kernels.torch import CACHE
        x = torch.linspace(-3, 3, 1000)
        t0 = time.perf_counter()
        first = xt.gelu_tanh(x)
        assert CACHE._pending, "the first call must not wait for the compiler"
        assert CACHE.wait(timeout=240), "the background build did not finish"
        fused = xt.gelu_tanh(x)
        torch.testing.assert_close(fused, first, rtol=8 * 2.0**-23, atol=1e-7)
        from xact.torch import _READY
        assert _READY, "after the build the kernel serves calls"
        log = stream.getvalue()
        assert log.count("fused torch kernel for 'gelu_tanh'") == 1, log
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-3000:]


@torch_only
def test_torch_second_process_loads_kernels_from_the_compile_cache_without_stalling(tmp_path):
    # Without xact's saved programs (removed here), the second process must find all
    # four programs in Inductor's FX-graph cache (no bypass, no miss). Its first known
    # kernel loads on the background thread (that load imports Inductor: seconds), so
    # its first call runs plain; once the compiler is loaded, the next known kernel
    # loads on the caller's thread and serves that call.
    code = textwrap.dedent("""
        import sys, torch
        from torch._dynamo.utils import counters
        import xact.torch as xt
        from xact.torch import _READY
        from xact.kernels.torch import CACHE
        x = torch.linspace(-3, 3, 1000, requires_grad=True)
        if sys.argv[1] == "first":
            from xact import kernels
            kernels.configure("sync")
            xt.leaky_relu(x).sum().backward()
            xt.silu(x).sum().backward()
        else:
            xt.leaky_relu(x)
            assert not _READY and CACHE._pending, "the first call must not wait for the loader"
            assert CACHE.wait(timeout=240)
            xt.leaky_relu(x).sum().backward()
            assert CACHE.wait(timeout=240)
            n = len(_READY)
            xt.silu(x)
            assert len(_READY) == n + 1, "a known kernel loads on the caller's thread once Inductor is loaded"
            xt.silu(x).sum().backward()
        print(sys.argv[1], len(_READY), dict(counters["inductor"]))
    """)
    env = _env(tmp_path)
    first = subprocess.run([sys.executable, "-c", code, "first"], env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-3000:]
    saved = tmp_path / "xact" / "torch-programs"
    assert len(list(saved.glob("*/program.json"))) == 4, list(saved.iterdir())
    shutil.rmtree(saved)
    second = subprocess.run([sys.executable, "-c", code, "second"], env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-3000:]
    first, second = (o.stdout.strip().splitlines()[-1] for o in (first, second))
    assert first.startswith("first 4") and "fxgraph_cache_miss': 4" in first, first
    assert second.startswith("second 4"), second
    assert "fxgraph_cache_hit': 4" in second and "miss" not in second and "bypass" not in second, second


@torch_only
def test_torch_second_process_runs_saved_programs_from_its_first_call_without_inductor(tmp_path):
    # xact keeps what Inductor built (xact/kernels/torch_saved.py): a second process
    # with the same cache directory runs fused from its very first call, never imports
    # Inductor, and computes the same bits as the process that compiled.
    import torch

    import xact.torch as xt

    code = textwrap.dedent("""
        import sys, torch
        import xact.torch as xt
        from xact.torch import _READY
        from xact.kernels.torch import CACHE
        if sys.argv[1] == "first":
            from xact import kernels
            kernels.configure("sync")
        out = []
        for n in (1000, 100000):  # one program: one thread, then the team
            x = torch.linspace(-9, 9, n, requires_grad=True)
            y = xt.gelu(x)
            y.backward(torch.cos(x.detach()))
            out += [y.detach(), x.grad]
        if sys.argv[1] == "second":
            assert not CACHE._pending, "saved programs load on the caller's thread"
            assert "torch._inductor.compile_fx" not in sys.modules, "loading a saved program imports Inductor"
        torch.save(out, sys.argv[2])
        print(sys.argv[1], len(_READY))
    """)
    env = _env(tmp_path)
    results = []
    for role in ("first", "second"):
        path = tmp_path / f"{role}.pt"
        out = subprocess.run([sys.executable, "-c", code, role, str(path)], env=env, capture_output=True, text=True,
                             timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        assert out.stdout.strip().splitlines()[-1] == f"{role} 2", out.stdout  # forward and backward
        results.append(torch.load(path))
    assert all(torch.equal(a, b) for a, b in zip(*results))
    # the plain path agrees too (the saved programs are the spec's code)
    x = torch.linspace(-9, 9, 1000).double()  # the float32 points, evaluated in float64
    plain = xt.gelu(x).to(torch.float32)
    assert torch.allclose(results[1][0], plain, rtol=5e-7, atol=1e-30)


# ------------------------------------------------------------------ tensorflow

tf_only = pytest.mark.skipif(not HAS_TF, reason="tensorflow not installed")


@tf_only
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, params", SPECS, ids=[s for s, _ in SPECS])
def test_tf_fused_equals_plain_eager_and_in_tf_function(fused, name, params, dtype):
    import tensorflow as tf

    import xact.tf as xtf
    from xact.kernels.tf import CACHE

    x = tf.constant(np.linspace(-12, 12, 210).reshape(6, 35), dtype=dtype)
    up = tf.constant(np.linspace(-1, 1, 210).reshape(6, 35), dtype=dtype)

    def step():
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = xtf.apply(name, x, **params)
        return y, tape.gradient(y, x, up)

    kernels.configure("off")
    y0, g0 = step()
    kernels.configure("sync")
    y1, g1 = step()
    y2, g2 = tf.function(step)()
    assert not CACHE.failures()
    for y, g in ((y1, g1), (y2, g2)):
        assert y.dtype == x.dtype and y.shape == x.shape
        _close(y.numpy(), y0.numpy(), dtype)
        _close(g.numpy(), g0.numpy(), dtype)


@tf_only
def test_tf_nested_tape_and_trainable_layer_with_kernels_on(fused):
    import keras
    import tensorflow as tf

    import xact.tf as xtf

    x = tf.constant(np.linspace(-3, 3, 50), dtype=tf.float64)
    results = []
    for mode in ("off", "sync"):
        kernels.configure(mode)
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = xtf.gelu_tanh(x)
            g = inner.gradient(y, x)
        results.append(outer.gradient(g, x).numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12, atol=1e-14)

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), xtf.Activation("swish_beta", trainable=True)])
    model.compile(optimizer="sgd", loss="mse", jit_compile=False)
    before = model.layers[-1].get_weights()[0].copy()
    model.fit(np.ones((8, 3), "float32"), np.zeros((8, 4), "float32"), epochs=1, verbose=0)
    assert not np.allclose(model.layers[-1].get_weights()[0], before)


@tf_only
def test_tf_kernels_log_no_retracing_warning_for_several_activations_and_shapes(fused, caplog):
    """TF counts retraces per code object: one per op and shape must not read as excessive retracing."""
    import logging

    import tensorflow as tf

    import xact.tf as xtf

    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        for name in ("silu", "elu", "softplus", "tanh", "sigmoid", "mish"):
            for width in (3, 5):
                x = tf.constant(np.linspace(-2, 2, 4 * width).reshape(4, width), tf.float32)
                for _ in range(2):
                    with tf.GradientTape() as tape:
                        tape.watch(x)
                        y = getattr(xtf, name)(x)
                    tape.gradient(y, x)
        # one activation in every dtype and several shapes: a dtype is its own program
        for dtype in (tf.float16, tf.bfloat16, tf.float32, tf.float64):
            for n in (7, 30, 61):
                x = tf.cast(tf.linspace(-2.0, 2.0, n), dtype)
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    y = xtf.gelu_tanh(x)
                tape.gradient(y, x)
    assert not [r for r in caplog.records if "retracing" in r.getMessage()]


@torch_only
def test_torch_fused_backward_takes_an_expanded_upstream_gradient(fused):
    """``y.sum().backward()`` hands backward a stride-0 tensor of ones: the kernel gets a dense copy."""
    import torch

    import xact.torch as xt

    grads = []
    for mode in ("off", "sync"):
        kernels.configure(mode)
        x = torch.linspace(-5, 5, 78, requires_grad=True)
        xt.gelu_tanh(x).sum().backward()
        grads.append(x.grad)
    torch.testing.assert_close(grads[1], grads[0], rtol=8 * 2.0**-23, atol=1e-7)


@torch_only
def test_torch_off_means_off_after_kernels_were_built(fused, monkeypatch):
    import torch

    import xact.torch as xt
    from xact.kernels import torch as tk

    x = torch.linspace(-5, 5, 64)
    xt.silu(x)  # builds (sync) and caches the kernel
    kernels.configure("off")
    monkeypatch.setattr(tk, "usable", lambda t: pytest.fail("the fused path was consulted with fusion off"))
    calls = []
    real = xt._READY.get
    monkeypatch.setattr(xt, "_READY", type("D", (dict,), {"get": lambda self, k: calls.append(k) or real(k)})())
    xt.silu(x)
    assert calls == []


@torch_only
@pytest.mark.parametrize("shape", [(300,), (6, 50), (2, 3, 50)])
def test_torch_fast_path_serves_ready_calls_and_equals_plain(fused, shape, monkeypatch):
    """Once a call's kernels exist, later calls go through the plan (``_Fast``), with the plain path's numbers."""
    import torch

    import xact.torch as xt

    x0 = torch.linspace(-9, 9, int(np.prod(shape)), dtype=torch.float64).reshape(shape)
    up = torch.cos(x0).float()

    def run(mode):
        kernels.configure(mode)
        x = x0.float().requires_grad_(True)
        y = xt.apply("elu", x, alpha=0.7)
        y.backward(up)
        return y.detach(), x.grad, y.grad_fn

    y_plain, g_plain, _ = run("off")
    run("sync")  # builds both kernels and the plan
    served = []
    real = xt._fast_values
    monkeypatch.setattr(xt, "_fast_values", lambda x, plan: served.append(plan) or real(x, plan))
    y_fast, g_fast, fn = run("sync")
    assert served and type(fn).__name__ == "_FastBackward"
    _close(y_fast, y_plain, "float32", ulps=4)
    _close(g_fast, g_plain, "float32", ulps=4)
    with torch.no_grad():  # no autograd node at all, same values
        _close(xt.apply("elu", x0.float(), alpha=0.7), y_plain, "float32", ulps=4)


@torch_only
def test_torch_fast_path_keeps_double_backward_and_refuses_what_the_full_path_refuses(fused):
    import torch

    import xact.torch as xt
    from xact.errors import ParameterError

    x = torch.linspace(-4, 4, 40, dtype=torch.float64, requires_grad=True)
    for _ in range(2):  # the second call runs on the plan
        (g,) = torch.autograd.grad(xt.silu(x).sum(), x, create_graph=True)
    (gg,) = torch.autograd.grad(g.sum(), x)
    s = torch.sigmoid(x.detach())  # silu'' = s(1-s)(2 + x(1-2s)), from torch's own sigmoid
    torch.testing.assert_close(gg, s * (1 - s) * (2 + x.detach() * (1 - 2 * s)), rtol=1e-12, atol=1e-14)
    xt.apply("elu", x, alpha=1.0)
    xt.apply("elu", x, alpha=1.0)
    with pytest.raises(ParameterError):
        xt.apply("elu", x, alpha=True)  # equal to 1.0 as a key; refused like any bool


@torch_only
def test_torch_fast_path_output_never_aliases_the_input(fused, fresh_name):
    import torch

    import xact
    import xact.torch as xt

    # fresh_name: unregistered afterwards, so other tests never see a user spec in the registry
    xact.define(fresh_name, fn=lambda x, xp=np: x * 1.0, grad=lambda x, xp=np: xp.ones_like(x), replace=True)
    x = torch.linspace(-1, 1, 16)
    for _ in range(3):
        y = xt.apply(fresh_name, x)
        assert y.data_ptr() != x.data_ptr()
        torch.testing.assert_close(y, x)


@torch_only
def test_warmup_builds_the_kernels_and_says_so(capsys):
    import argparse

    from xact.cli import _cmd_warmup
    from xact.kernels.torch import CACHE

    before = kernels.mode()
    try:
        assert _cmd_warmup(argparse.Namespace(names=["relu"], dtype=["float64"])) == 0
    finally:
        kernels.configure(before)
    out = capsys.readouterr().out
    assert "relu" in out and "ready" in out
    assert any(k[0].name == "relu" and k[1] == "forward" and k[2] == "float64" for k in CACHE._ready)


@torch_only
def test_torch_kernels_keep_expm1_atanh_asinh_accurate_near_zero(fused):
    """Inductor's vector code writes expm1 as exp(x) - 1 (0 for celu(-2.97e-8) in float32); xact's kernels do not."""
    import torch

    import xact
    import xact.torch as xt
    from xact.kernels.torch import CACHE

    xact.define("kernels_near_zero_user", fn=lambda x, xp=np: xp.arctanh(0.5 * x) + xp.arcsinh(x) + xp.expm1(x),
                grad=lambda x, xp=np: 0.5 / (1 - 0.25 * x * x) + 1 / xp.sqrt(1 + x * x) + xp.exp(x), replace=True)
    x64 = np.array([-2.97e-8, -1e-10, 3e-9, 1e-30, -0.25, 0.4] * 4)
    x = torch.tensor(x64, dtype=torch.float32)
    ref = np.arctanh(0.5 * x64) + np.arcsinh(x64) + np.expm1(x64)  # NumPy float64 of the same formula
    got = xt.kernels_near_zero_user(x)
    assert not CACHE.failures() and any(k[0].name == "kernels_near_zero_user" for k in CACHE._ready)
    _close(got, ref.astype(np.float32), "float32", ulps=4)
    torch.testing.assert_close(xt.celu(x[:2]), torch.nn.functional.celu(x[:2]), rtol=2.0**-22, atol=0)


@torch_only
def test_torch_kernels_compute_erf_accurately_for_small_arguments(fused):
    """ATen's vector erf is 1 - t p(t) e^(-x^2) (absolute error ~1e-7): 0 for erf(7.2e-8); xact's kernels are not."""
    import math

    import torch

    import xact.torch as xt
    from xact.kernels.torch import CACHE

    x64 = np.array([7.2e-8, -3e-12, 1e-30, 0.01, -0.3, 1.5, -2.5, 4.0] * 4)
    got = xt.apply("serf", torch.tensor(x64, dtype=torch.float32))  # x erf(softplus(x))
    assert not CACHE.failures() and any(k[0].name == "serf" for k in CACHE._ready)
    sp = np.log1p(np.exp(x64.astype(np.float32).astype(np.float64)))
    ref = x64.astype(np.float32).astype(np.float64) * np.array([math.erf(v) for v in sp])
    _close(got, ref.astype(np.float32), "float32", ulps=4)
    small = torch.tensor([-16.447332, -30.0, -60.0] * 8)  # erf argument 7e-8 .. 9e-27
    y = xt.apply("serf", small)
    ref_small = [v * math.erf(math.log1p(math.exp(v))) for v in small.double().tolist()]
    torch.testing.assert_close(y.double(), torch.tensor(ref_small, dtype=torch.float64), rtol=2e-6, atol=0)


@torch_only
@pytest.mark.parametrize("name", ["silu", "hard_elish", "tanh_shrink"])
def test_torch_small_and_large_inputs_share_one_program_and_its_numbers(fused, name):
    """One program per role: its OpenMP region runs on one thread below 32,768 CPU elements.

    hard_elish and tanh_shrink are the specs whose numbers differed between the
    serial and parallel programs xact used to compile separately.
    """
    import torch

    import xact.torch as xt
    from xact.kernels.torch import CACHE, PARALLEL_FROM

    for dtype in (torch.float32, torch.float64):
        large = torch.linspace(-6, 6, PARALLEL_FROM + 5, dtype=dtype, requires_grad=True)
        upstream = torch.cos(large.detach())
        small = large.detach()[:1000].clone().requires_grad_()
        results = []
        for x, gy in ((small, upstream[:1000]), (large, upstream)):
            y = xt.apply(name, x)
            (g,) = torch.autograd.grad(y, x, gy)
            results.append((y.detach()[:1000], g[:1000]))
        assert torch.equal(results[0][0], results[1][0]) and torch.equal(results[0][1], results[1][1])
        built = sorted(k[1] for k in CACHE._ready if k[0].name == name and k[2] == str(dtype)[6:])
        assert built == ["backward", "forward"], built
    # the silu numbers themselves against torch's own float64 pieces
    x = torch.linspace(-6, 6, PARALLEL_FROM + 5, dtype=torch.float64, requires_grad=True)
    y = xt.silu(x)
    (g,) = torch.autograd.grad(y, x, torch.ones_like(y))
    s = torch.sigmoid(x.detach())
    torch.testing.assert_close(y, x.detach() * s, rtol=1e-14, atol=1e-300)
    torch.testing.assert_close(g, s * (1 + x.detach() * (1 - s)), rtol=1e-13, atol=1e-14)  # f' has a root


@torch_only
def test_torch_programs_open_their_parallel_region_only_for_large_inputs():
    from xact.kernels.torch import PARALLEL_FROM, _parallel_only_when_large

    source = ("extern \"C\" void kernel(float* out_ptr0, const float* in_ptr0, const int64_t ks0)\n"
              "{\n    #pragma omp parallel num_threads(2)\n    {\n        #pragma omp for\n")
    rewritten = _parallel_only_when_large(source)
    assert f"#pragma omp parallel if(ks0 >= {PARALLEL_FROM}) num_threads(2)" in rewritten
    assert "#pragma omp for" in rewritten
    assert _parallel_only_when_large(rewritten) == rewritten
    no_size = source.replace("const int64_t ks0", "const int64_t n")
    assert _parallel_only_when_large(no_size) == no_size  # no length to test: left as Inductor wrote it
