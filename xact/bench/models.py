"""``xact bench --model``: one training epoch of a small MLP, xact activations against the built-ins.

The model is the one the speed issue measured: 64-128-128-10 (two hidden
activations), cross-entropy, SGD with momentum, on 1,797 samples of 64
features (the size of scikit-learn's 8x8 digits). The data are synthetic
(a fixed random teacher labels Gaussian inputs): an epoch's time does not
depend on the values, and the benchmark needs no data set.

Forms, each timed for the xact activation and the framework's own built-in,
epochs interleaved round-robin in the same rounds (``timing``):

* torch eager, batch 32 and batch 256 (target: xact / built-in <= 1.3);
* torch.compile of the whole model, batch 32 (target <= 1.1);
* Keras ``model.fit``, batch 32, without and with ``jit_compile``
  (targets <= 1.2 and <= 1.1).

xact's fused kernels are built on the first epoch (``XACT_FUSE=sync`` for
the run, so the timed epochs see the path a training loop settles on); the
first epoch of each model is reported separately. Writes ``model.json``
and ``model.md`` under ``--out``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from xact.bench.timing import Impl, time_interleaved

ACTIVATIONS = ("gelu_tanh", "silu", "leaky_relu")
QUICK_ACTIVATIONS = ("gelu_tanh",)
SAMPLES, FEATURES, HIDDEN, CLASSES = 1797, 64, 128, 10

#: (form id, framework, target limit, what)
FORMS = (
    ("torch-eager-b32", "torch", 1.3, "torch eager, batch 32"),
    ("torch-eager-b256", "torch", 1.3, "torch eager, batch 256"),
    ("torch-compile-b32", "torch", 1.1, "torch.compile(model), batch 32"),
    ("keras-fit-b32", "tf", 1.2, "Keras model.fit, batch 32, no jit_compile"),
    ("keras-fit-xla-b32", "tf", 1.1, "Keras model.fit, batch 32, jit_compile=True"),
)
QUICK_FORMS = ("torch-eager-b32", "torch-eager-b256", "keras-fit-b32")


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((SAMPLES, FEATURES)).astype(np.float32)
    teacher = rng.standard_normal((FEATURES, CLASSES))
    return x, np.argmax(x @ teacher, axis=1).astype(np.int64)


# ---------------------------------------------------------------- torch


def _torch_activation(name: str, xact: bool) -> Callable[[], Any]:
    import torch

    import xact.torch as xt

    if xact:
        return lambda: xt.Activation(name)
    builtins: dict[str, Callable[[], Any]] = {
        "gelu_tanh": lambda: torch.nn.GELU(approximate="tanh"),
        "gelu": torch.nn.GELU,
        "silu": torch.nn.SiLU,
        "leaky_relu": lambda: torch.nn.LeakyReLU(0.01),
        "elu": torch.nn.ELU,
        "softplus": torch.nn.Softplus,
        "mish": torch.nn.Mish,
        "sigmoid": torch.nn.Sigmoid,
        "tanh": torch.nn.Tanh,
    }
    return builtins[name]


def torch_epoch(make_act: Callable[[], Any], batch: int, compiled: bool) -> Callable[[], float]:
    """One epoch of the MLP with ``make_act()`` as its hidden activations, ready to call."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(FEATURES, HIDDEN), make_act(), torch.nn.Linear(HIDDEN, HIDDEN), make_act(),
        torch.nn.Linear(HIDDEN, CLASSES),
    )
    forward = torch.compile(model) if compiled else model
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xs, ys = (torch.from_numpy(a) for a in data())

    def epoch() -> float:
        loss = torch.zeros(())
        for i in range(0, SAMPLES, batch):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(forward(xs[i : i + batch]), ys[i : i + batch])
            loss.backward()
            opt.step()
        return float(loss.detach())

    return epoch


# ---------------------------------------------------------------- keras


def _keras_activation(name: str, xact: bool) -> Callable[[], Any]:
    import keras

    import xact.tf as xtf

    if xact:
        return lambda: xtf.Activation(name)
    fns: dict[str, Any] = {
        "gelu_tanh": lambda t: keras.activations.gelu(t, approximate=True),
        "gelu": lambda t: keras.activations.gelu(t, approximate=False),
        "silu": "silu", "elu": "elu", "softplus": "softplus", "mish": "mish",
        "sigmoid": "sigmoid", "tanh": "tanh",
    }
    if name == "leaky_relu":
        return lambda: keras.layers.LeakyReLU(negative_slope=0.01)
    return lambda: keras.layers.Activation(fns[name])


def keras_epoch(make_act: Callable[[], Any], batch: int, jit: bool) -> Callable[[], float]:
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((FEATURES,)), keras.layers.Dense(HIDDEN), make_act(), keras.layers.Dense(HIDDEN),
        make_act(), keras.layers.Dense(CLASSES),
    ])
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=jit,
    )
    xs, ys = data()

    def epoch() -> float:
        hist = model.fit(xs, ys, batch_size=batch, epochs=1, verbose=0, shuffle=False)
        return float(hist.history["loss"][-1])

    return epoch


def _epoch(form: str, name: str, xact: bool) -> Callable[[], float]:
    if form.startswith("torch"):
        batch = 256 if form.endswith("b256") else 32
        return torch_epoch(_torch_activation(name, xact), batch, compiled="compile" in form)
    return keras_epoch(_keras_activation(name, xact), 32, jit="xla" in form)


# ---------------------------------------------------------------- run


def measure(activations: tuple[str, ...], forms: tuple[str, ...], *, budget_s: float, min_reps: int,
            max_reps: int, log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Median epoch times, xact and built-in interleaved, one row per (form, activation)."""
    from xact import kernels

    before = kernels.mode()
    kernels.configure("sync")  # kernels built on the first epoch, inside its time
    rows = []
    try:
        for form_id, fw, limit, what in FORMS:
            if form_id not in forms:
                continue
            for name in activations:
                impls = [Impl(k, k, _epoch(form_id, name, k == "xact")) for k in ("xact", "builtin")]
                t0 = time.perf_counter()
                tm = time_interleaved(impls, budget_s=budget_s, min_reps=min_reps, max_reps=max_reps)
                x, b = tm["xact"], tm["builtin"]
                rows.append({
                    "form": form_id, "framework": fw, "what": what, "activation": name,
                    "xact_epoch_s": x.median_s, "builtin_epoch_s": b.median_s,
                    "xact_q": [x.q1_s, x.q3_s], "builtin_q": [b.q1_s, b.q3_s],
                    "samples": x.samples, "ratio": x.median_s / b.median_s, "limit": limit,
                    "met": x.median_s / b.median_s <= limit,
                    "xact_first_epoch_s": x.warmup_s, "builtin_first_epoch_s": b.warmup_s,
                })
                r = rows[-1]
                log(f"{what}, {name}: xact {r['xact_epoch_s'] * 1e3:.1f} ms / built-in "
                    f"{r['builtin_epoch_s'] * 1e3:.1f} ms per epoch = {r['ratio']:.2f}x "
                    f"(target <= {limit}); first epoch {r['xact_first_epoch_s']:.2f} s vs "
                    f"{r['builtin_first_epoch_s']:.2f} s ({time.perf_counter() - t0:.0f} s)")
    finally:
        kernels.configure(before)
    return rows


def markdown(rows: list[dict[str, Any]], machine: str) -> str:
    out = [f"Machine: {machine}. One epoch of the 64-128-128-10 MLP ({SAMPLES} samples), float32, "
           "median of interleaved epochs.\n\n",
           "| form | activation | xact | built-in | ratio | target | | first epoch xact / built-in |\n",
           "|---|---|---|---|---|---|---|---|\n"]
    for r in rows:
        out.append(f"| {r['what']} | {r['activation']} | {r['xact_epoch_s'] * 1e3:.1f} ms | "
                   f"{r['builtin_epoch_s'] * 1e3:.1f} ms | {r['ratio']:.2f} | <= {r['limit']} | "
                   f"{'met' if r['met'] else 'MISSED'} | {r['xact_first_epoch_s']:.2f} s / "
                   f"{r['builtin_first_epoch_s']:.2f} s |\n")
    return "".join(out)


def run(args: Any, console: Any) -> int:
    """``xact bench --model``: returns the exit status."""
    from xact.bench import _machine

    quick = bool(getattr(args, "quick", False))
    activations = tuple(getattr(args, "activations", None) or (QUICK_ACTIVATIONS if quick else ACTIVATIONS))
    wanted = set(getattr(args, "framework", None) or ("torch", "tf"))
    have = {fw for fw, mod in (("torch", "torch"), ("tf", "tensorflow")) if importlib.util.find_spec(mod)}
    forms = tuple(f for f, fw, _, _ in FORMS if fw in wanted & have and (not quick or f in QUICK_FORMS))
    if not forms:
        console.print("[red]no framework installed to benchmark[/red]")
        return 2
    m = _machine()
    machine = f"{m['cpu']}, {m['logical_cpus']} logical CPUs, load {m['load_average']}"
    console.log(f"machine: {machine}")
    out_dir = getattr(args, "out", None) or "bench-out"
    start = time.perf_counter()
    rows = measure(activations, forms, budget_s=0.8 if quick else 3.0, min_reps=3 if quick else 5,
                   max_reps=10 if quick else 30, log=console.log)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump({"machine": m, "rows": rows, "wall_s": time.perf_counter() - start}, f, indent=1)
    with open(os.path.join(out_dir, "model.md"), "w") as f:
        f.write(markdown(rows, machine))
    console.print(markdown(rows, machine))
    console.log(f"wall time: {time.perf_counter() - start:.0f} s; results in {out_dir}/model.md")
    return 0
