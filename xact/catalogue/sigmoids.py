"""Sigmoid-shaped squashing functions."""

from __future__ import annotations

from typing import Any

import numpy as np

from xact.catalogue import _blocks
from xact.spec import define


def sigmoid(x: Any, xp: Any = np) -> Any:
    """Logistic sigmoid: f(x) = 1 / (1 + e^-x).

    Careful form: with e = e^-|x|, f = 1/(1+e) for x >= 0 and e/(1+e)
    otherwise, so nothing overflows and small outputs keep full precision.
    Derivative: f'(x) = f(x)(1 - f(x)), computed as e / (1 + e)^2 to avoid
    the cancellation in 1 - f for large x. Smooth everywhere.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.sigmoid(np.array([0.0]))
        array([0.5])
    """
    return _blocks.sigmoid(x, xp)


def d_sigmoid(x: Any, xp: Any = np) -> Any:
    return _blocks.sigmoid_prime(x, xp)


def tanh(x: Any, xp: Any = np) -> Any:
    """Hyperbolic tangent: f(x) = tanh(x).

    Derivative: f'(x) = 1 - tanh(x)^2 = sech(x)^2, computed as
    4e / (1 + e)^2 with e = e^(-2|x|), which neither cancels nor overflows.
    Smooth everywhere.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.tanh(np.array([0.0]))
        array([0.])
    """
    return xp.tanh(x)


def d_tanh(x: Any, xp: Any = np) -> Any:
    e = xp.exp(-2.0 * xp.abs(x))
    return 4.0 * e / xp.square(1.0 + e)


define("sigmoid", fn=sigmoid, grad=d_sigmoid, aliases=("logistic",), family="sigmoids", monotonic=True)
define("tanh", fn=tanh, grad=d_tanh, family="sigmoids", monotonic=True)
