"""The elementary activations of Keras and JAX: linear (identity) and exponential."""

from __future__ import annotations

from typing import Any

import numpy as np

from xact.spec import Twin, define


def linear(x: Any, xp: Any = np) -> Any:
    """Linear (identity) activation: f(x) = x.

    Derivative: f'(x) = 1. Smooth everywhere.
    Reference: keras.activations.linear, jax.nn.identity, torch.nn.Identity.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.linear(np.array([-1.5, 2.0]))
        array([-1.5,  2. ])
    """
    return x + 0.0


def d_linear(x: Any, xp: Any = np) -> Any:
    return xp.ones_like(x)


def exponential(x: Any, xp: Any = np) -> Any:
    """Exponential activation: f(x) = e^x.

    Derivative: f'(x) = e^x. Both overflow to inf for x above log(max) of
    the dtype, where the exact value is beyond the dtype's range.
    Reference: keras.activations.exponential.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.exponential(np.array([0.0]))
        array([1.])
    """
    return xp.exp(x)


def d_exponential(x: Any, xp: Any = np) -> Any:
    return xp.exp(x)


define(
    "linear",
    fn=linear,
    grad=d_linear,
    aliases=("identity",),
    family="basic",
    monotonic=True,
    twins=(
        Twin("torch", "torch.nn.Identity"),
        Twin("keras", "keras.activations.linear"),
        Twin("jax", "jax.nn.identity"),
    ),
)
define(
    "exponential",
    fn=exponential,
    grad=d_exponential,
    aliases=("exp",),
    family="basic",
    monotonic=True,
    twins=(
        Twin("torch", "torch.exp"),
        Twin("tf", "tf.math.exp"),
        Twin("keras", "keras.activations.exponential"),
        Twin("onnx", "ai.onnx.Exp", {}, "ONNX operator; no gradient is defined by ONNX"),
        Twin("jax", "jax.numpy.exp"),
    ),
)
