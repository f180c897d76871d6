"""Shared fixtures: one ``framework`` fixture with ids, dtypes, tolerances.

Tests take the ``framework`` fixture instead of looping over frameworks, so a
failure in one framework never hides the other. A framework that is not
installed is skipped (the nox ``tests`` session also runs with only torch or
only tensorflow installed). Tolerances come from the one table below.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The suite tests the plain path: deterministic and quick (a fused kernel costs a
# compilation of 0.1-5 s per spec and dtype). tests/test_kernels.py switches the
# default fused path on (synchronously) for a representative set of specs.
os.environ.setdefault("XACT_FUSE", "off")

HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_TF = importlib.util.find_spec("tensorflow") is not None
HAS_JAX = importlib.util.find_spec("jax") is not None

FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
MODES = ("native", "numpy")

# Mantissa bits and smallest normal exponent, for ULP sizes per dtype.
_FORMAT = {"float16": (10, -14), "bfloat16": (7, -126), "float32": (23, -126), "float64": (52, -1022)}


@dataclass(frozen=True)
class Tolerance:
    ulps: float
    atol: float  # in units of the dtype's epsilon, for results that cancel to ~0
    reason: str


#: The one tolerance table of the unit tests, keyed by (dtype, quantity).
#: The conformance suite (xact.testing) measures against high precision with
#: tighter, per-point figures; these only guard the adapters' plumbing.
TOLERANCES: dict[tuple[str, str], Tolerance] = {
    ("float64", "value"): Tolerance(16, 4, "torch/tf/numpy libm differ by a few ulp"),
    ("float64", "gradient"): Tolerance(32, 8, "declared grads sum several rounded terms"),
    ("float32", "value"): Tolerance(8, 4, "float32 libm (SLEEF/Eigen) vs float64 reference"),
    ("float32", "gradient"): Tolerance(16, 8, "grads sum rounded terms; near sign changes they cancel"),
    ("float16", "value"): Tolerance(1, 1, "computed in float32, rounded once: 1 ulp of half"),
    ("float16", "gradient"): Tolerance(1, 2, "computed in float32, rounded once: 1 ulp of half"),
    ("bfloat16", "value"): Tolerance(1, 1, "computed in float32, rounded once: 1 ulp of half"),
    ("bfloat16", "gradient"): Tolerance(1, 2, "computed in float32, rounded once: 1 ulp of half"),
}


def _numpy_dtype(dtype: str) -> np.dtype:
    if dtype == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(dtype)


def ulp(ref: np.ndarray, dtype: str) -> np.ndarray:
    """Size of one unit in the last place of ``dtype`` at each value of ``ref``."""
    mant, emin = _FORMAT[dtype]
    with np.errstate(divide="ignore", invalid="ignore"):
        exp = np.floor(np.log2(np.abs(ref.astype(np.float64))))
    exp = np.where(np.isfinite(exp), np.maximum(exp, emin), emin)
    return np.ldexp(1.0, (exp - mant).astype(int))


def tolerance(dtype: str, quantity: str, spec: Any = None) -> Tolerance:
    """The table's entry, or the spec's own override (``spec.tolerances``) with its reason.

    Override keys are those of xact.testing: ``"gradient"`` or ``"float32:gradient"``.
    """
    tol = TOLERANCES[(dtype, quantity)]
    overrides = dict(getattr(spec, "tolerances", None) or {})
    for key in (f"{dtype}:{quantity}", quantity):
        if key in overrides:
            ulps, why = overrides[key]
            return Tolerance(max(float(ulps), tol.ulps), tol.atol, f"spec override: {why}")
    return tol


def assert_matches(
    actual: Any, expected: Any, dtype: str, quantity: str, context: str = "", spec: Any = None
) -> None:
    """Assert ``actual`` equals the float64 ``expected`` within the table's tolerance.

    NaN and infinities must match exactly in position and sign.
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    # A finite reference beyond the dtype's range rounds to inf there.
    with np.errstate(over="ignore"):
        e = np.where(np.isfinite(e), np.asarray(e.astype(_numpy_dtype(dtype)), np.float64), e)
    assert a.shape == e.shape, f"{context}: shape {a.shape} != {e.shape}"
    tol = tolerance(dtype, quantity, spec)
    nan_a, nan_e = np.isnan(a), np.isnan(e)
    bad_nan = nan_a != nan_e
    both = ~(nan_a | nan_e)
    inf = both & (np.isinf(a) | np.isinf(e))
    bad_inf = inf & (a != e)
    fin = both & ~inf
    eps = float(np.ldexp(1.0, -_FORMAT[dtype][0]))
    allowed = tol.ulps * ulp(e, dtype) + tol.atol * eps
    bad_fin = fin & (np.abs(a - e) > allowed)
    bad = bad_nan | bad_inf | bad_fin
    if bad.any():
        i = np.flatnonzero(bad.ravel())
        err = np.abs(a - e).ravel()[i] / ulp(e, dtype).ravel()[i]
        w = i[np.argmax(np.where(np.isfinite(err), err, np.inf))]
        raise AssertionError(
            f"{context} {quantity} ({dtype}): {bad.sum()} of {a.size} points off "
            f"(tolerance {tol.ulps} ulp + {tol.atol} eps: {tol.reason}); worst at index {w}: "
            f"got {a.ravel()[w]!r}, expected {e.ravel()[w]!r}"
        )


def grid(dtype: str) -> np.ndarray:
    """Points across the interesting range, plus large and tiny magnitudes."""
    dense = np.linspace(-6.0, 6.0, 241)
    big = 40.0 if dtype in ("float16",) else 200.0
    mags = np.geomspace(1e-3, big, 25)
    return np.concatenate([dense, mags, -mags, [0.0, -0.0]])


# ------------------------------------------------------------------ frameworks


class TorchFramework:
    """Uniform test access to ``xact.torch``."""

    name = "torch"

    def __init__(self) -> None:
        import torch

        import xact.torch as adapter

        self.torch = torch
        self.adapter = adapter

    def dtype(self, name: str) -> Any:
        return getattr(self.torch, name)

    def tensor(self, a: Any, dtype: str) -> Any:
        return self.torch.tensor(np.asarray(a, dtype=np.float64)).to(self.dtype(dtype))

    def to_numpy(self, t: Any) -> np.ndarray:
        return t.detach().to(self.torch.float64).cpu().numpy()

    def dtype_name(self, t: Any) -> str:
        return str(t.dtype).removeprefix("torch.")

    def apply(self, name: str, t: Any, mode: str = "auto", **params: Any) -> Any:
        return self.adapter.apply(name, t, mode=mode, **params)

    def param(self, value: Any, dtype: str = "float32") -> Any:
        return self.tensor(value, dtype).requires_grad_(True)

    def value_and_grads(
        self, name: str, x: Any, mode: str, upstream: Any = None, **params: Any
    ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Forward, then gradients w.r.t. x and every tensor parameter."""
        x = x.detach().clone().requires_grad_(True)
        y = self.apply(name, x, mode=mode, **params)
        u = self.torch.ones_like(y) if upstream is None else upstream
        tensors = {k: v for k, v in params.items() if isinstance(v, self.torch.Tensor)}
        grads = self.torch.autograd.grad(y, [x, *tensors.values()], u)
        pgrads = {k: self.to_numpy(g) for k, g in zip(tensors, grads[1:])}
        return self.to_numpy(y), self.to_numpy(grads[0]), pgrads


class TfFramework:
    """Uniform test access to ``xact.tf``."""

    name = "tf"

    def __init__(self) -> None:
        import tensorflow as tf

        import xact.tf as adapter

        self.tf = tf
        self.adapter = adapter

    def dtype(self, name: str) -> Any:
        return self.tf.as_dtype(name)

    def tensor(self, a: Any, dtype: str) -> Any:
        return self.tf.cast(self.tf.constant(np.asarray(a, dtype=np.float64)), self.dtype(dtype))

    def to_numpy(self, t: Any) -> np.ndarray:
        return self.tf.cast(t, self.tf.float64).numpy()

    def dtype_name(self, t: Any) -> str:
        return str(t.dtype.name)

    def apply(self, name: str, t: Any, mode: str = "auto", **params: Any) -> Any:
        return self.adapter.apply(name, t, mode=mode, **params)

    def param(self, value: Any, dtype: str = "float32") -> Any:
        return self.tf.Variable(self.tensor(value, dtype))

    def value_and_grads(
        self, name: str, x: Any, mode: str, upstream: Any = None, **params: Any
    ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        tf = self.tf
        tensors = {k: v for k, v in params.items() if isinstance(v, (tf.Tensor, tf.Variable))}
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = self.apply(name, x, mode=mode, **params)
        u = tf.ones_like(y) if upstream is None else upstream
        grads = tape.gradient(y, [x, *tensors.values()], output_gradients=u)
        pgrads = {k: self.to_numpy(g) for k, g in zip(tensors, grads[1:])}
        return self.to_numpy(y), self.to_numpy(grads[0]), pgrads


_FRAMEWORKS = {"torch": (HAS_TORCH, TorchFramework), "tf": (HAS_TF, TfFramework)}


@pytest.fixture(
    scope="session",
    params=[pytest.param("torch", marks=pytest.mark.torch), pytest.param("tf", marks=pytest.mark.tf)],
)
def framework(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Each installed framework's test helper; ids ``torch`` and ``tf``."""
    installed, cls = _FRAMEWORKS[request.param]
    if not installed:
        pytest.skip(f"{request.param} is not installed in this environment")
    yield cls()


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=FLOAT_DTYPES)
def dtype(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fresh_name(request: pytest.FixtureRequest) -> Iterator[str]:
    """A unique activation name for this test, unregistered afterwards."""
    import xact

    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name)[:60]
    yield name
    for n in (name, name + "_b"):
        if n in xact.names():
            xact.unregister(n)
