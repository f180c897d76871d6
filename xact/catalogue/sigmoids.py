"""Sigmoid-shaped squashing functions and their logarithm.

The logistic sigmoid, tanh and the algebraic squashers (softsign, ISRU,
SQNL, arctan), plus log_sigmoid. The careful sigmoid, softplus and sech^2
live in ``_blocks`` and are called, not re-written.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xact.catalogue import _blocks
from xact.spec import Twin, define


def sigmoid(x: Any, xp: Any = np) -> Any:
    """Logistic sigmoid: f(x) = 1 / (1 + e^-x).

    Careful form: with e = e^-|x|, f = 1/(1+e) for x >= 0 and e/(1+e)
    otherwise, so nothing overflows and small outputs keep full precision.
    Derivative: f'(x) = f(x)(1 - f(x)), computed as e / (1 + e)^2 to avoid
    the cancellation in 1 - f for large x. Smooth everywhere.
    Reference: torch.sigmoid, tf.nn.sigmoid, keras.activations.sigmoid.

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
    Reference: torch.tanh, tf.nn.tanh, keras.activations.tanh.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.tanh(np.array([0.0]))
        array([0.])
    """
    return xp.tanh(x)


def d_tanh(x: Any, xp: Any = np) -> Any:
    return _blocks.sech2(x, xp)


def log_sigmoid(x: Any, xp: Any = np) -> Any:
    """Log-sigmoid: f(x) = log(sigmoid(x)) = -softplus(-x).

    Careful form: -(max(-x, 0) + log1p(e^-|x|)) (the careful softplus), so
    there is neither overflow for x -> -inf nor cancellation for x -> +inf
    (f(x) ~ -e^-x keeps full relative precision).
    Derivative: f'(x) = sigmoid(-x) = 1 - sigmoid(x), via the careful sigmoid.
    Smooth everywhere.
    Reference: torch.nn.LogSigmoid, tf.math.log_sigmoid,
    keras.activations.log_sigmoid, jax.nn.log_sigmoid.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> round(float(xnp.log_sigmoid(np.array(0.0))), 6)
        -0.693147
    """
    return -_blocks.softplus(-x, xp)


def d_log_sigmoid(x: Any, xp: Any = np) -> Any:
    return _blocks.sigmoid(-x, xp)


def softsign(x: Any, xp: Any = np) -> Any:
    """Softsign: f(x) = x / (1 + |x|).

    Careful form: f(+-inf) = +-1 (the plain quotient gives inf/inf = NaN, as
    torch.nn.functional.softsign and tf.nn.softsign do).
    Derivative: f'(x) = 1 / (1 + |x|)^2. Smooth everywhere (f' is continuous
    at 0; f'' jumps there).
    Reference: Bergstra et al., "Quadratic polynomials learn better image
    features" (2009); torch.nn.Softsign, tf.nn.softsign, jax.nn.soft_sign.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.softsign(np.array([-1.0, 3.0]))
        array([-0.5 ,  0.75])
    """
    return xp.where(xp.isinf(x), xp.sign(x), x / (1.0 + xp.abs(x)))


def d_softsign(x: Any, xp: Any = np) -> Any:
    return 1.0 / xp.square(1.0 + xp.abs(x))


def isru(x: Any, alpha: float = 1.0, xp: Any = np) -> Any:
    """Inverse square root unit: f(x) = x / sqrt(1 + alpha x^2).

    Careful form: for |x| > 1, sign(x) / sqrt(1/x^2 + alpha), which neither
    overflows nor gives inf/inf; f(+-inf) = +-1/sqrt(alpha).
    Derivatives: df/dx = (1 + alpha x^2)^(-3/2), evaluated as q^3 with
    q = 1/sqrt(1 + alpha x^2) in the same careful form; df/d(alpha) =
    -x^3 (1 + alpha x^2)^(-3/2) / 2 = -f^3 / 2. Smooth everywhere.
    Reference: Carlile et al., "Improving Deep Learning by Inverse Square
    Root Linear Units (ISRLUs)" (2017).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.isru(np.array([0.0, np.inf]))
        array([0., 1.])
    """
    return _blocks.isru(x, alpha, xp)


def d_isru(x: Any, alpha: float = 1.0, xp: Any = np) -> Any:
    q = _blocks.inv_sqrt_1_plus(x, alpha, xp)
    f = _blocks.isru(x, alpha, xp)
    return q * xp.square(q), -0.5 * f * xp.square(f)


def sqnl(x: Any, xp: Any = np) -> Any:
    """Square nonlinearity: f(x) = x - x|x|/4 on [-2, 2], sign(x) outside.

    Evaluated on c = clip(x, -2, 2) as c - c|c|/4.
    Derivative: f'(x) = 1 - |c|/2, i.e. 1 - |x|/2 inside and 0 outside; f' is
    continuous (f is C^1), so the kinks of f'' at -2, 0, 2 take f' = 0, 1, 0.
    Reference: Wuraola & Patel, "SQNL: A New Computationally Efficient
    Activation Function" (IJCNN 2018).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.sqnl(np.array([-3.0, 1.0, 2.0]))
        array([-1.  ,  0.75,  1.  ])
    """
    c = _blocks.hard_clip(x, -2.0, 2.0, xp)
    return c - 0.25 * c * xp.abs(c)


def d_sqnl(x: Any, xp: Any = np) -> Any:
    return 1.0 - 0.5 * xp.abs(_blocks.hard_clip(x, -2.0, 2.0, xp))


def arctan(x: Any, xp: Any = np) -> Any:
    """Arctangent: f(x) = arctan(x), with f(+-inf) = +-pi/2.

    Derivative: f'(x) = 1 / (1 + x^2) (0 where x^2 overflows, which is also
    where the exact value underflows). Smooth everywhere.
    Reference: the classic "ArcTan" of activation-function surveys, e.g.
    Dubey et al., "Activation Functions in Deep Learning: A Comprehensive
    Survey and Benchmark" (2022).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> round(float(xnp.arctan(np.array(1.0))), 6)
        0.785398
    """
    return xp.arctan(x)


def d_arctan(x: Any, xp: Any = np) -> Any:
    return 1.0 / (1.0 + xp.square(x))


_LECUN_GAIN = 1.7159
_LECUN_RATE = 2.0 / 3.0


def lecun_tanh(x: Any, xp: Any = np) -> Any:
    """LeCun's scaled tanh: f(x) = 1.7159 tanh(2x/3).

    The published constants: 1.7159 makes f(+-1) ~ +-1. For |x| < 1e-9 the
    value is (1.7159 * 2/3) x, equal to the tanh form to every dtype's
    precision and safe from subnormal flushing of 2x/3.
    Derivative: f'(x) = 1.7159 * (2/3) * sech^2(2x/3) (the careful sech^2).
    Smooth everywhere.
    Reference: LeCun, Bottou, Orr & Mueller, "Efficient BackProp" (1998).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> round(float(xnp.lecun_tanh(np.array(1.0))), 4)
        1.0
    """
    linear = xp.abs(x) < _LECUN_LINEAR_BELOW
    return xp.where(linear, (_LECUN_GAIN * _LECUN_RATE) * x, _LECUN_GAIN * xp.tanh(_LECUN_RATE * x))


# tanh(u) = u to every dtype's precision below this; scaling x first would
# push the smallest normal x into the subnormals, which TF flushes to 0.
_LECUN_LINEAR_BELOW = 1e-9


def d_lecun_tanh(x: Any, xp: Any = np) -> Any:
    return (_LECUN_GAIN * _LECUN_RATE) * _blocks.sech2(_LECUN_RATE * x, xp)


_ONNX = "ONNX operator; no gradient is defined by ONNX"

define(
    "sigmoid",
    fn=sigmoid,
    grad=d_sigmoid,
    aliases=("logistic",),
    family="sigmoids",
    monotonic=True,
    twins=(
        Twin("torch", "torch.sigmoid"),
        Twin("torch", "torch.nn.Sigmoid"),
        Twin("tf", "tf.nn.sigmoid"),
        Twin("keras", "keras.activations.sigmoid"),
        Twin("onnx", "ai.onnx.Sigmoid", {}, _ONNX),
        Twin("jax", "jax.nn.sigmoid"),
    ),
)
define(
    "tanh",
    fn=tanh,
    grad=d_tanh,
    family="sigmoids",
    monotonic=True,
    twins=(
        Twin("torch", "torch.tanh"),
        Twin("torch", "torch.nn.Tanh"),
        Twin("tf", "tf.nn.tanh"),
        Twin("keras", "keras.activations.tanh"),
        Twin("onnx", "ai.onnx.Tanh", {}, _ONNX),
        Twin("jax", "jax.nn.tanh"),
    ),
)
define(
    "log_sigmoid",
    fn=log_sigmoid,
    grad=d_log_sigmoid,
    aliases=("logsigmoid",),
    family="sigmoids",
    monotonic=True,
    twins=(
        Twin("torch", "torch.nn.functional.logsigmoid"),
        Twin("torch", "torch.nn.LogSigmoid"),
        Twin("tf", "tf.math.log_sigmoid"),
        Twin("keras", "keras.activations.log_sigmoid"),
        Twin("jax", "jax.nn.log_sigmoid"),
    ),
)
define(
    "softsign",
    fn=softsign,
    grad=d_softsign,
    aliases=("soft_sign",),
    family="sigmoids",
    monotonic=True,
    twins=(
        Twin("torch", "torch.nn.functional.softsign", {}, "NaN at +-inf"),
        Twin("torch", "torch.nn.Softsign", {}, "NaN at +-inf"),
        Twin("tf", "tf.nn.softsign", {}, "NaN at +-inf"),
        Twin("keras", "keras.activations.softsign", {}, "NaN at +-inf"),
        Twin("onnx", "ai.onnx.Softsign", {}, _ONNX),
        Twin("jax", "jax.nn.soft_sign"),
    ),
)
define("isru", fn=isru, grad=d_isru, params={"alpha": 1.0}, family="sigmoids", monotonic=True)
define("sqnl", fn=sqnl, grad=d_sqnl, kinks={-2.0: 0.0, 0.0: 1.0, 2.0: 0.0}, family="sigmoids", monotonic=True)
define(
    "arctan",
    fn=arctan,
    grad=d_arctan,
    aliases=("atan",),
    family="sigmoids",
    monotonic=True,
    twins=(Twin("torch", "torch.atan"), Twin("tf", "tf.math.atan")),
)
define(
    "lecun_tanh",
    fn=lecun_tanh,
    grad=d_lecun_tanh,
    family="sigmoids",
    monotonic=True,
)
