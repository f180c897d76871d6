"""Numerically careful building blocks shared by catalogue specs.

Each takes the array namespace ``xp`` like a spec does. They exist so that a
formula such as the logistic sigmoid is written once and reused by sigmoid,
softplus', silu, gelu_tanh and the rest.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def sigmoid(x: Any, xp: Any = np) -> Any:
    """1 / (1 + e^-x) without overflow: e = e^-|x|, then 1/(1+e) or e/(1+e)."""
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_prime(x: Any, xp: Any = np) -> Any:
    """sigmoid(x) * (1 - sigmoid(x)) = e / (1 + e)^2 with e = e^-|x|; no cancellation."""
    e = xp.exp(-xp.abs(x))
    return e / xp.square(1.0 + e)


def softplus(x: Any, xp: Any = np) -> Any:
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|); finite for every finite x."""
    return xp.maximum(x, 0.0) + xp.log1p(xp.exp(-xp.abs(x)))


def zero_at_neg_inf(x: Any, y: Any, xp: Any = np) -> Any:
    """``y`` with the limit 0 at x = -inf, where x * (something -> 0) gives NaN."""
    return xp.where(x == -xp.inf, 0.0, y)


def times_vanishing(x: Any, v: Any, xp: Any = np) -> Any:
    """``x * v`` for a factor ``v`` that decays faster than ``x`` grows; 0 at +-inf."""
    return xp.where(xp.isinf(x), 0.0, x * v)
