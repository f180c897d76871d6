"""Rectifiers: piecewise-linear or piecewise-exponential units with a kink at 0.

ReLU and its leaky, randomized (eval mode), squared and exponential (ELU,
SELU, CELU) relatives. Built-in twins are declared on each spec; where the
frameworks disagree at a kink, the docstring says which convention xact takes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from xact.catalogue import _blocks
from xact.spec import Twin, define

# The SELU constants of Klambauer et al. (2017) as torch, TF and JAX spell them.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def relu(x: Any, xp: Any = np) -> Any:
    """Rectified linear unit: f(x) = max(x, 0).

    Derivative: f'(x) = 1 for x > 0, 0 for x < 0.
    Convention at the kink: relu'(0) = 0 (as torch, TF and JAX).
    Reference: Nair & Hinton (2010); torch.nn.ReLU, tf.nn.relu, jax.nn.relu.

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

    Parameter: negative_slope (default 0.01, as torch.nn.LeakyReLU, ONNX
    LeakyRelu and jax.nn.leaky_relu; tf.nn.leaky_relu and
    keras.activations.leaky_relu default to 0.2 and keras.layers.LeakyReLU
    to 0.3, so their twins pass 0.01 explicitly).

    Derivatives: df/dx = 1 for x > 0, negative_slope for x < 0;
    df/d(negative_slope) = 0 for x > 0, x otherwise.
    Convention at the kink: f'(0) = negative_slope (as torch and TF).
    Reference: Maas, Hannun & Ng, "Rectifier Nonlinearities Improve Neural
    Network Acoustic Models" (2013); torch.nn.LeakyReLU, tf.nn.leaky_relu.

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


def rrelu(x: Any, lower: float = 1.0 / 8.0, upper: float = 1.0 / 3.0, xp: Any = np) -> Any:
    """Randomized leaky ReLU in evaluation mode: leaky_relu with slope (lower + upper) / 2.

    In training, torch draws the negative slope uniformly from [lower, upper];
    at inference it uses the mean, which is the deterministic function here
    (defaults lower = 1/8, upper = 1/3, as torch.nn.RReLU).
    Derivatives: df/dx = 1 for x > 0, (lower + upper)/2 otherwise;
    df/d(lower) = df/d(upper) = 0 for x > 0, x/2 otherwise.
    Convention at the kink: f'(0) = (lower + upper)/2 (as torch).
    Reference: Xu et al., "Empirical Evaluation of Rectified Activations in
    Convolutional Network" (2015); torch.nn.RReLU.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.rrelu(np.array([-24.0, 1.0]))
        array([-5.5,  1. ])
    """
    return leaky_relu(x, 0.5 * (lower + upper), xp)


def d_rrelu(x: Any, lower: float = 1.0 / 8.0, upper: float = 1.0 / 3.0, xp: Any = np) -> Any:
    dx, dslope = d_leaky_relu(x, 0.5 * (lower + upper), xp)
    half = 0.5 * dslope
    return dx, half, half


def relu_squared(x: Any, xp: Any = np) -> Any:
    """Squared ReLU: f(x) = max(x, 0)^2.

    Derivative: f'(x) = 2 max(x, 0); continuous, so f'(0) = 0 from both
    sides (the second derivative jumps at 0, declared as a kink).
    Reference: So et al., "Primer: Searching for Efficient Transformers for
    Language Modeling" (2021).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.relu_squared(np.array([-1.0, 3.0]))
        array([0., 9.])
    """
    return xp.square(xp.maximum(x, 0.0))


def d_relu_squared(x: Any, xp: Any = np) -> Any:
    return 2.0 * xp.maximum(x, 0.0)


def elu(x: Any, alpha: float = 1.0, xp: Any = np) -> Any:
    """Exponential linear unit: f(x) = x for x > 0, alpha * (e^x - 1) otherwise.

    ``expm1`` keeps small negative inputs accurate.
    Derivatives: df/dx = 1 for x > 0, alpha * e^x otherwise;
    df/d(alpha) = 0 for x > 0, e^x - 1 otherwise.
    Convention at the kink: f'(0) = alpha (the left derivative, as torch,
    keras.activations.elu and jax.nn.elu; tf.nn.elu has no alpha and gives 1,
    which agrees at the default alpha = 1).
    Reference: Clevert et al., "Fast and Accurate Deep Network Learning by
    Exponential Linear Units" (2016); torch.nn.ELU, tf.nn.elu.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.elu(np.array([0.0, 1.0]))
        array([0., 1.])
    """
    return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0.0)))


def d_elu(x: Any, alpha: float = 1.0, xp: Any = np) -> Any:
    pos = x > 0
    xn = xp.minimum(x, 0.0)
    return xp.where(pos, 1.0, alpha * xp.exp(xn)), xp.where(pos, 0.0, xp.expm1(xn))


def selu(x: Any, xp: Any = np) -> Any:
    """Scaled ELU: f(x) = scale * elu(x, alpha), alpha ~ 1.6733, scale ~ 1.0507.

    The constants are those of torch, TF and JAX (``SELU_ALPHA``,
    ``SELU_SCALE`` to 32 digits); ONNX Selu's defaults are their float32
    roundings, which agree in float32 and differ by ~3e-8 relatively in float64.
    Derivative: scale for x > 0, scale * alpha * e^x otherwise.
    Convention at the kink: f'(0) = scale * alpha (as torch and JAX, and
    consistent with elu'(0) = alpha); tf.nn.selu gives scale there.
    Reference: Klambauer et al., "Self-Normalizing Neural Networks" (2017).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.selu(np.array([0.0, 1.0]))
        array([0.        , 1.05070099])
    """
    return SELU_SCALE * elu(x, SELU_ALPHA, xp)


def d_selu(x: Any, xp: Any = np) -> Any:
    return SELU_SCALE * d_elu(x, SELU_ALPHA, xp)[0]


def celu(x: Any, alpha: float = 1.0, xp: Any = np) -> Any:
    """Continuously differentiable ELU: f(x) = x for x > 0, alpha (e^(x/alpha) - 1) otherwise.

    Derivatives: df/dx = 1 for x > 0, e^(x/alpha) otherwise, corrected for
    the rounding of x/alpha, which e^u amplifies by |u| (1 from both
    sides at 0, so f is C^1; 0 is declared a kink of the second derivative);
    df/d(alpha) = 0 for x > 0, e^u - 1 - u e^u with u = x/alpha otherwise,
    summed as a series near u = 0 where the difference cancels.
    Convention at the kink: f'(0) = 1 (as torch and the math;
    keras.activations.celu gives 2 there because the gradients of
    its max and min both pass at the tie).
    Reference: Barron, "Continuously Differentiable Exponential Linear Units"
    (2017); torch.nn.CELU, ONNX Celu.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.celu(np.array([0.0, 2.0]))
        array([0., 2.])
    """
    return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0.0) / alpha))


def d_celu(x: Any, alpha: float = 1.0, xp: Any = np) -> Any:
    pos = x > 0
    u = xp.minimum(x, 0.0) / alpha
    return xp.where(pos, 1.0, _exp_of_quotient(x, u, alpha, xp)), xp.where(pos, 0.0, -_blocks.u_exp_minus_expm1(u, xp))


def _exact_division(alpha: Any) -> bool:
    """alpha a Python power of two: x / alpha is exact, no correction needed."""
    return isinstance(alpha, float) and alpha > 0 and math.frexp(alpha)[0] == 0.5


def _exp_of_quotient(x: Any, u: Any, alpha: Any, xp: Any) -> Any:
    """e^(x/alpha) for x <= 0 given u = fl(min(x, 0)/alpha), corrected for u's rounding.

    e^u turns the rounding of u into a relative error |u| times larger (31 ULP
    in float64 at alpha = 3). The remainder r = x - u alpha is exact (Dekker's
    product, then Sterbenz), so e^(x/alpha) = e^u (1 + r/alpha) to first order;
    a Python alpha is also split at the working precision (alpha_hi + alpha_lo).
    """
    if _exact_division(alpha):
        return xp.exp(u)
    moderate = u > -_SATURATED_EXP
    xm = xp.where(moderate, xp.minimum(x, 0.0), 0.0)
    a_hi, a_lo = _blocks.split_constant(alpha, xp, x)  # a Python alpha rounds to the dtype
    um = xm / a_hi
    p, pe = _blocks.two_prod(um, a_hi, xp)
    r = (xm - p) - pe
    return xp.where(moderate, xp.exp(um) * (1.0 + (r - um * a_lo) / a_hi), xp.exp(u))


# e^u is 0 in every dtype below u = -800.
_SATURATED_EXP = 800.0


_ONNX = "ONNX operator; no gradient is defined by ONNX"

define(
    "relu",
    fn=relu,
    grad=d_relu,
    kinks={0.0: 0.0},
    family="rectifiers",
    monotonic=True,
    twins=(
        Twin("torch", "torch.nn.functional.relu"),
        Twin("torch", "torch.nn.ReLU"),
        Twin("tf", "tf.nn.relu"),
        Twin("keras", "keras.activations.relu"),
        Twin("keras", "keras.layers.ReLU"),
        Twin("onnx", "ai.onnx.Relu", {}, _ONNX),
        Twin("jax", "jax.nn.relu"),
    ),
)
define(
    "leaky_relu",
    fn=leaky_relu,
    grad=d_leaky_relu,
    params={"negative_slope": 0.01},
    kinks=lambda negative_slope: {0.0: negative_slope},
    aliases=("leakyrelu",),
    family="rectifiers",
    monotonic=True,
    twins=(
        Twin("torch", "torch.nn.functional.leaky_relu", {"negative_slope": 0.01}),
        Twin("torch", "torch.nn.LeakyReLU", {"negative_slope": 0.01}),
        Twin("tf", "tf.nn.leaky_relu", {"alpha": 0.01}, "TF's default alpha is 0.2; alpha is a float32 attribute"),
        Twin("keras", "keras.activations.leaky_relu", {"negative_slope": 0.01}, "Keras default is 0.2"),
        Twin("keras", "keras.layers.LeakyReLU", {"negative_slope": 0.01}, "Keras layer default is 0.3"),
        Twin("onnx", "ai.onnx.LeakyRelu", {"alpha": 0.01}, _ONNX),
        Twin("jax", "jax.nn.leaky_relu", {"negative_slope": 0.01}),
    ),
)
define(
    "rrelu",
    fn=rrelu,
    grad=d_rrelu,
    params={"lower": 1.0 / 8.0, "upper": 1.0 / 3.0},
    kinks=lambda lower, upper: {0.0: 0.5 * (lower + upper)},
    family="rectifiers",
    monotonic=True,
    twins=(
        Twin("torch", "torch.nn.functional.rrelu", {"lower": 1.0 / 8.0, "upper": 1.0 / 3.0, "training": False}),
        Twin("torch", "torch.nn.RReLU", {"lower": 1.0 / 8.0, "upper": 1.0 / 3.0}, "module in eval() mode"),
    ),
)
define(
    "relu_squared",
    fn=relu_squared,
    grad=d_relu_squared,
    kinks={0.0: 0.0},
    aliases=("squared_relu",),
    family="rectifiers",
    monotonic=True,
)
define(
    "elu",
    fn=elu,
    grad=d_elu,
    params={"alpha": 1.0},
    kinks=lambda alpha: {0.0: alpha},
    family="rectifiers",
    monotonic=True,
    twins=(
        Twin("torch", "torch.nn.functional.elu", {"alpha": 1.0}),
        Twin("torch", "torch.nn.ELU", {"alpha": 1.0}),
        Twin("tf", "tf.nn.elu", {}, "no alpha: matches only alpha = 1"),
        Twin("keras", "keras.activations.elu", {"alpha": 1.0}),
        Twin("keras", "keras.layers.ELU", {"alpha": 1.0}),
        Twin("onnx", "ai.onnx.Elu", {"alpha": 1.0}, _ONNX),
        Twin("jax", "jax.nn.elu", {"alpha": 1.0}),
    ),
)
define(
    "selu",
    fn=selu,
    grad=d_selu,
    kinks={0.0: SELU_SCALE * SELU_ALPHA},
    family="rectifiers",
    monotonic=True,
    twins=(
        Twin("torch", "torch.nn.functional.selu"),
        Twin("torch", "torch.nn.SELU"),
        Twin("tf", "tf.nn.selu", {}, "TF's gradient at 0 is scale, not scale * alpha"),
        Twin("keras", "keras.activations.selu"),
        Twin(
            "onnx",
            "ai.onnx.Selu",
            {"alpha": 1.67326319217681884765625, "gamma": 1.05070102214813232421875},
            _ONNX + "; defaults are float32 roundings of the constants (~3e-8 relative in float64)",
        ),
        Twin("jax", "jax.nn.selu"),
    ),
)
define(
    "celu",
    fn=celu,
    grad=d_celu,
    params={"alpha": 1.0},
    kinks={0.0: 1.0},
    family="rectifiers",
    monotonic=True,
    twins=(
        Twin("torch", "torch.nn.functional.celu", {"alpha": 1.0}),
        Twin("torch", "torch.nn.CELU", {"alpha": 1.0}),
        Twin("keras", "keras.activations.celu", {"alpha": 1.0}, "Keras' gradient at 0 is 2 (max and min both pass at the tie)"),
        Twin("onnx", "ai.onnx.Celu", {"alpha": 1.0}, _ONNX),
        Twin("jax", "jax.nn.celu", {"alpha": 1.0}),
    ),
)
