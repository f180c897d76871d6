"""Run a spec through one framework and mode, returning plain float64 NumPy arrays.

One small function per framework, same shape in each (as the adapters
mirror each other): inputs are float64 arrays holding values of the target
dtype, outputs are ``{"value": ..., "gradient": ..., "param_gradient:p": ...}``
as float64 arrays holding values of that dtype. Gradients come from the
framework's autograd with an upstream gradient of ones (``torch.autograd.grad``
/ ``tf.GradientTape`` / ``jax.vjp`` under ``jax.jit``), so what is measured is
what a user's backward pass sees. Parameter gradients come from a second call with each parameter given
as a tensor of the input's shape (float32 for half inputs, as a trainable
layer holds them), so each element's partial is observed separately.

A framework is imported only when asked for; :func:`available` says whether
it can be, without importing it.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from xact.spec import Spec

__all__ = ["FRAMEWORKS", "available", "param_dtype", "repro", "run"]

FRAMEWORKS: tuple[str, ...] = ("torch", "tf", "jax")
_MODULE = {"torch": "torch", "tf": "tensorflow", "jax": "jax"}


def available(framework: str) -> str:
    """Empty string when ``framework`` can be imported, else why not."""
    mod = _MODULE[framework]
    if importlib.util.find_spec(mod) is None:
        return f"{mod} is not installed"
    try:
        importlib.import_module(f"xact.{framework}")
    except Exception as e:  # broken install: report, don't crash the run
        return f"importing xact.{framework} failed: {type(e).__name__}: {e}"
    return ""


def param_dtype(dtype: str) -> str:
    """The dtype parameter tensors are given in: float32 for half inputs."""
    return "float32" if dtype in ("float16", "bfloat16") else dtype


_half_param_dtype = param_dtype


def _run_torch(spec: Spec, x: np.ndarray, dtype: str, mode: str, params: Mapping[str, float], tensor_params: bool) -> dict[str, np.ndarray]:
    import torch

    import xact.torch as xt

    tdt = getattr(torch, dtype)
    xt_in = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64)).to(tdt).requires_grad_(True)
    kw: dict[str, Any] = dict(params)
    leaves = [xt_in]
    if tensor_params:
        pdt = getattr(torch, _half_param_dtype(dtype))
        for n, v in params.items():
            t = torch.full(xt_in.shape, float(v), dtype=pdt, requires_grad=True)
            kw[n] = t
            leaves.append(t)
    y = xt.apply(spec, xt_in, mode=mode, **kw)
    grads = torch.autograd.grad(y, leaves, grad_outputs=torch.ones_like(y), allow_unused=True)
    out = {"value": y.detach().to(torch.float64).numpy()}
    names = ["gradient", *[f"param_gradient:{n}" for n in params]] if tensor_params else ["gradient"]
    for name, g in zip(names, grads):
        out[name] = (
            g.detach().to(torch.float64).numpy() if g is not None else np.zeros_like(x, dtype=np.float64)
        )
    if out["value"].dtype != np.float64 or y.dtype != tdt:
        raise TypeError(f"torch returned {y.dtype} for {tdt} input")
    return out


def _run_tf(spec: Spec, x: np.ndarray, dtype: str, mode: str, params: Mapping[str, float], tensor_params: bool) -> dict[str, np.ndarray]:
    import tensorflow as tf

    import xact.tf as xtf

    tdt = getattr(tf, dtype)
    x_in = tf.cast(tf.constant(np.ascontiguousarray(x, dtype=np.float64)), tdt)
    kw: dict[str, Any] = dict(params)
    sources = [x_in]
    if tensor_params:
        pdt = getattr(tf, _half_param_dtype(dtype))
        for n, v in params.items():
            t = tf.fill(tf.shape(x_in), tf.constant(float(v), dtype=pdt))
            kw[n] = t
            sources.append(t)
    with tf.GradientTape() as tape:
        for s in sources:
            tape.watch(s)
        y = xtf.apply(spec, x_in, mode=mode, **kw)
    grads = tape.gradient(y, sources, output_gradients=tf.ones_like(y))
    if y.dtype != tdt:
        raise TypeError(f"tf returned {y.dtype.name} for {dtype} input")
    out = {"value": tf.cast(y, tf.float64).numpy()}
    names = ["gradient", *[f"param_gradient:{n}" for n in params]] if tensor_params else ["gradient"]
    for name, g in zip(names, grads):
        out[name] = tf.cast(g, tf.float64).numpy() if g is not None else np.zeros_like(x, dtype=np.float64)
    return out


@contextlib.contextmanager
def _jax_x64() -> Iterator[None]:
    """JAX's global 64-bit flag on for one run (float64, and the bridge's host thread), then back."""
    import jax

    before = jax.config.jax_enable_x64  # type: ignore[attr-defined]
    jax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", before)


def _run_jax(spec: Spec, x: np.ndarray, dtype: str, mode: str, params: Mapping[str, float], tensor_params: bool) -> dict[str, np.ndarray]:
    import jax
    import jax.numpy as jnp

    import xact.jax as xj

    with _jax_x64():
        x_in = jnp.asarray(np.ascontiguousarray(x, dtype=np.float64)).astype(dtype)
        arrays: dict[str, Any] = {}
        if tensor_params:
            pdt = _half_param_dtype(dtype)
            arrays = {n: jnp.full(x_in.shape, float(v), dtype=pdt) for n, v in params.items()}
        numbers = {n: v for n, v in params.items() if n not in arrays}

        def value_and_grads(v: Any, ps: dict[str, Any]) -> Any:
            y, vjp = jax.vjp(lambda v, ps: xj.apply(spec, v, mode=mode, **numbers, **ps), v, ps)
            return (y, *vjp(jnp.ones_like(y)))

        y, gx, gps = jax.jit(value_and_grads)(x_in, arrays)
        if y.dtype != jnp.dtype(dtype):
            raise TypeError(f"jax returned {y.dtype} for {dtype} input")
        out = {"value": np.asarray(y.astype(jnp.float64)), "gradient": np.asarray(gx.astype(jnp.float64))}
        for n, g in gps.items():
            out[f"param_gradient:{n}"] = np.asarray(g.astype(jnp.float64))
    return out


_RUNNERS = {"torch": _run_torch, "tf": _run_tf, "jax": _run_jax}


def run(
    framework: str,
    spec: Spec,
    x: np.ndarray,
    dtype: str,
    mode: str,
    params: Mapping[str, float],
    *,
    tensor_params: bool = False,
) -> dict[str, np.ndarray]:
    """Values and gradients of ``spec`` at ``x`` in ``framework``, as float64 arrays."""
    return _RUNNERS[framework](spec, x, dtype, mode, params, tensor_params)


def repro(framework: str, spec_name: str, x: float, dtype: str, mode: str, params: Mapping[str, float],
          quantity: str, preamble: str = "") -> str:
    """A copy-pasteable snippet that recomputes one point in ``framework``."""
    lit = _literal(x)
    pname = quantity.split(":", 1)[1] if quantity.startswith("param_gradient:") else None
    if framework == "torch":
        pdt = _half_param_dtype(dtype)
        lines = [preamble + "import torch, xact.torch as xt",
                 f"x = torch.tensor([{lit}], dtype=torch.float64).to(torch.{dtype}).requires_grad_()"]
        kw = []
        for n, v in params.items():
            if n == pname:
                lines.append(f"{n} = torch.tensor([{v!r}], dtype=torch.{pdt}, requires_grad=True)")
                kw.append(f"{n}={n}")
            else:
                kw.append(f"{n}={v!r}")
        args = ", ".join([repr(spec_name), "x", f"mode={mode!r}", *kw])
        lines.append(f"y = xt.apply({args})")
        if quantity == "value":
            lines.append("print(y.item())")
        else:
            lines.append("y.backward(torch.ones_like(y))")
            lines.append(f"print({pname if pname else 'x'}.grad.item())")
        return "\n".join(lines)
    if framework == "jax":
        return _repro_jax(spec_name, lit, dtype, mode, params, quantity, pname, preamble)
    pdt = _half_param_dtype(dtype)
    lines = [preamble + "import tensorflow as tf, xact.tf as xtf",
             f"x = tf.cast(tf.constant([{lit}], dtype=tf.float64), tf.{dtype})"]
    kw = []
    for n, v in params.items():
        if n == pname:
            lines.append(f"{n} = tf.constant([{v!r}], dtype=tf.{pdt})")
            kw.append(f"{n}={n}")
        else:
            kw.append(f"{n}={v!r}")
    args = ", ".join([repr(spec_name), "x", f"mode={mode!r}", *kw])
    src = pname if pname else "x"
    lines += ["with tf.GradientTape() as tape:",
              f"    tape.watch({src})",
              f"    y = xtf.apply({args})"]
    if quantity == "value":
        lines.append("print(float(y[0]))")
    else:
        lines.append(f"print(float(tape.gradient(y, {src})[0]))")
    return "\n".join(lines)


def _repro_jax(spec_name: str, lit: str, dtype: str, mode: str, params: Mapping[str, float],
               quantity: str, pname: str | None, preamble: str) -> str:
    pdt = _half_param_dtype(dtype)
    lines = [preamble + "import jax, jax.numpy as jnp, xact.jax as xj",
             'jax.config.update("jax_enable_x64", True)',
             f"x = jnp.array([{lit}], dtype=jnp.float64).astype(jnp.{dtype})"]
    kw = []
    for n, v in params.items():
        if n == pname:
            lines.append(f"{n} = jnp.array([{v!r}], dtype=jnp.{pdt})")
            kw.append(f"{n}={n}")
        else:
            kw.append(f"{n}={v!r}")
    src = pname if pname else "x"
    args = ", ".join([repr(spec_name), "x", f"mode={mode!r}", *kw])
    lines.append(f"f = lambda {src}: xj.apply({args})")
    if quantity == "value":
        lines.append(f"print(float(jax.jit(f)({src})[0]))")
    else:
        lines.append(f"print(float(jax.jit(jax.grad(lambda v: f(v).sum()))({src})[0]))")
    return "\n".join(lines)


def _literal(v: float) -> str:
    if np.isnan(v):
        return "float('nan')"
    if np.isinf(v):
        return "float('inf')" if v > 0 else "-float('inf')"
    return repr(float(v))
