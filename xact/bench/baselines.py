"""The two host-NumPy baselines the issue compares xact against.

* ``VECTORIZED``: a hand-written, textbook NumPy forward and derivative per
  activation, as someone would write for ``tf.numpy_function`` without xact.
  It is the yardstick for xact's host bridge (same host round trip, simpler
  formula, no careful forms).
* ``SEED``: the classic recipe the issue starts from: per-element Python
  functions (``math.tanh`` and an ``if``) lifted with ``np.vectorize``, called
  once for the forward and once for the derivative.

These formulas exist only to be timed; they are not specs and nothing else
in xact uses them (the one source of truth for a formula is its spec).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

_C = math.sqrt(2.0 / math.pi)
_K = 0.044715
_SLOPE = 0.01

Pair = tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]


def _np_sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(_C * (x + _K * x**3)))


def _d_gelu_tanh(x: np.ndarray) -> np.ndarray:
    t = np.tanh(_C * (x + _K * x**3))
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _C * (1.0 + 3.0 * _K * x * x)


def _silu(x: np.ndarray) -> np.ndarray:
    return x * _np_sigmoid(x)


def _d_silu(x: np.ndarray) -> np.ndarray:
    s = _np_sigmoid(x)
    return s * (1.0 + x * (1.0 - s))


def _mish(x: np.ndarray) -> np.ndarray:
    return x * np.tanh(np.logaddexp(0.0, x))


def _d_mish(x: np.ndarray) -> np.ndarray:
    t = np.tanh(np.logaddexp(0.0, x))
    return t + x * (1.0 - t * t) * _np_sigmoid(x)


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _elu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))


def _d_elu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, 1.0, np.exp(np.minimum(x, 0.0)))


def _leaky_relu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, _SLOPE * x)


def _d_leaky_relu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, 1.0, _SLOPE)


def _spiky(x: np.ndarray) -> np.ndarray:
    r = np.remainder(x, 1.0)
    return np.where(r > 0.5, 0.0, r)


def _d_spiky(x: np.ndarray) -> np.ndarray:
    return np.where(np.remainder(x, 1.0) > 0.5, 0.0, 1.0)


VECTORIZED: dict[str, Pair] = {
    "gelu_tanh": (_gelu_tanh, _d_gelu_tanh),
    "silu": (_silu, _d_silu),
    "mish": (_mish, _d_mish),
    "softplus": (_softplus, _np_sigmoid),
    "elu": (_elu, _d_elu),
    "leaky_relu": (_leaky_relu, _d_leaky_relu),
    "spiky": (_spiky, _d_spiky),
}


# ----------------------------------------------------------------- seed-style


def _sig(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))


def _sp(v: float) -> float:
    return max(v, 0.0) + math.log1p(math.exp(-abs(v)))


def _s_gelu(v: float) -> float:
    return 0.5 * v * (1.0 + math.tanh(_C * (v + _K * v**3)))


def _s_d_gelu(v: float) -> float:
    t = math.tanh(_C * (v + _K * v**3))
    return 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * _C * (1.0 + 3.0 * _K * v * v)


def _s_d_mish(v: float) -> float:
    t = math.tanh(_sp(v))
    return t + v * (1.0 - t * t) * _sig(v)


def _s_spiky(v: float) -> float:
    r = v % 1.0
    return 0.0 if r > 0.5 else r


_SEED_SCALAR: dict[str, tuple[Callable[[float], float], Callable[[float], float]]] = {
    "gelu_tanh": (_s_gelu, _s_d_gelu),
    "silu": (lambda v: v * _sig(v), lambda v: _sig(v) * (1.0 + v * (1.0 - _sig(v)))),
    "mish": (lambda v: v * math.tanh(_sp(v)), _s_d_mish),
    "softplus": (_sp, _sig),
    "elu": (lambda v: v if v > 0 else math.expm1(v), lambda v: 1.0 if v > 0 else math.exp(v)),
    "leaky_relu": (lambda v: v if v > 0 else _SLOPE * v, lambda v: 1.0 if v > 0 else _SLOPE),
    "spiky": (_s_spiky, lambda v: 0.0 if v % 1.0 > 0.5 else 1.0),
}


def seed(name: str) -> Pair:
    """The np.vectorize'd per-element forward and derivative (float32 out)."""
    f, df = _SEED_SCALAR[name]
    return (
        np.vectorize(f, otypes=[np.float32]),
        np.vectorize(df, otypes=[np.float32]),
    )


def vectorized(name: str) -> Pair:
    """The hand-written NumPy forward and derivative, cast back to the input dtype."""
    f, df = VECTORIZED[name]

    def fwd(x: np.ndarray) -> Any:
        return np.asarray(f(x), dtype=x.dtype)

    def der(x: np.ndarray) -> Any:
        return np.asarray(df(x), dtype=x.dtype)

    return fwd, der


NAMES = tuple(VECTORIZED)
