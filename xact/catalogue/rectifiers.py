"""Rectifiers: piecewise-linear or piecewise-exponential units with a kink at 0."""

from __future__ import annotations

from typing import Any

import numpy as np

from xact.spec import define


def relu(x: Any, xp: Any = np) -> Any:
    """Rectified linear unit: f(x) = max(x, 0).

    Derivative: f'(x) = 1 for x > 0, 0 for x < 0.
    Convention at the kink: relu'(0) = 0 (as torch, TF and JAX).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.relu(np.array([-1.0, 0.0, 2.0]))
        array([0., 0., 2.])
    """
    return xp.maximum(x, 0.0)


def d_relu(x: Any, xp: Any = np) -> Any:
    return xp.where(x > 0, 1.0, 0.0)


def leaky_relu(x: Any, negative_slope: float = 0.01, xp: Any = np) -> Any:
    """Leaky ReLU: f(x) = x for x > 0, negative_slope * x otherwise.

    Parameter: negative_slope (default 0.01, as torch.nn.LeakyReLU and
    jax.nn.leaky_relu; Keras defaults differ, see the parity record).

    Derivatives: df/dx = 1 for x > 0, negative_slope for x < 0;
    df/d(negative_slope) = 0 for x > 0, x otherwise.
    Convention at the kink: f'(0) = negative_slope (as torch and TF).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.leaky_relu(np.array([-2.0, 3.0]), negative_slope=0.5)
        array([-1.,  3.])
    """
    return xp.where(x > 0, x, negative_slope * x)


def d_leaky_relu(x: Any, negative_slope: float = 0.01, xp: Any = np) -> Any:
    pos = x > 0
    dx = xp.where(pos, 1.0, negative_slope)
    return dx, xp.where(pos, 0.0, x)


def elu(x: Any, alpha: float = 1.0, xp: Any = np) -> Any:
    """Exponential linear unit: f(x) = x for x > 0, alpha * (e^x - 1) otherwise.

    ``expm1`` keeps small negative inputs accurate.
    Derivatives: df/dx = 1 for x > 0, alpha * e^x otherwise;
    df/d(alpha) = 0 for x > 0, e^x - 1 otherwise.
    Convention at the kink: f'(0) = 1 (the right derivative, as TF/Keras;
    with the default alpha = 1 both sides agree).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.elu(np.array([0.0, 1.0]))
        array([0., 1.])
    """
    return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0.0)))


def d_elu(x: Any, alpha: float = 1.0, xp: Any = np) -> Any:
    pos = x >= 0
    xn = xp.minimum(x, 0.0)
    return xp.where(pos, 1.0, alpha * xp.exp(xn)), xp.where(pos, 0.0, xp.expm1(xn))


define("relu", fn=relu, grad=d_relu, kinks={0.0: 0.0}, family="rectifiers", monotonic=True)
define(
    "leaky_relu",
    fn=leaky_relu,
    grad=d_leaky_relu,
    params={"negative_slope": 0.01},
    kinks=lambda negative_slope: {0.0: negative_slope},
    aliases=("leakyrelu",),
    family="rectifiers",
    monotonic=True,
)
define(
    "elu",
    fn=elu,
    grad=d_elu,
    params={"alpha": 1.0},
    kinks={0.0: 1.0},
    family="rectifiers",
    monotonic=True,
)
