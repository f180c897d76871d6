"""Hard (piecewise-linear or piecewise-quadratic) units: relu6, hard tanh,
hard sigmoids, hard SiLU, sparse plus and sparse sigmoid.

Convention at every saturation corner: the derivative with respect to ``x``
is the saturated side's (0 for the clamps, 1 where a unit turns into the
identity), which is what torch, TF and Keras do for relu6, hard_sigmoid and
hard_silu. The clamp itself is written once, in ``_blocks.hard_clip``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xact.catalogue import _blocks
from xact.spec import Twin, define

_ONNX = "ONNX operator; no gradient is defined by ONNX"


def relu6(x: Any, xp: Any = np) -> Any:
    """ReLU capped at 6: f(x) = min(max(x, 0), 6).

    Derivative: 1 for 0 < x < 6, else 0.
    Convention at the kinks: f'(0) = f'(6) = 0 (as torch, TF and JAX).
    Reference: Krizhevsky, "Convolutional Deep Belief Networks on CIFAR-10"
    (2010); MobileNets (Howard et al., 2017); torch.nn.ReLU6, tf.nn.relu6.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.relu6(np.array([-1.0, 3.0, 9.0]))
        array([0., 3., 6.])
    """
    return _blocks.hard_clip(x, 0.0, 6.0, xp)


def d_relu6(x: Any, xp: Any = np) -> Any:
    return _blocks.hard_clip_inside(x, 0.0, 6.0, xp)


def hard_tanh(x: Any, min_val: float = -1.0, max_val: float = 1.0, xp: Any = np) -> Any:
    """Hard tanh: f(x) = min(max(x, min_val), max_val), defaults -1 and 1.

    Parameters as torch.nn.Hardtanh (Keras and JAX fix them at -1, 1).
    Derivatives: df/dx = 1 for min_val < x < max_val, else 0;
    df/d(min_val) = 1 for x <= min_val, else 0; df/d(max_val) = 1 for
    x >= max_val, else 0 (a corner counts as saturated).
    Convention at the kinks: f'(min_val) = f'(max_val) = 0, as torch and as
    relu6 = hard_tanh(x, 0, 6) in every framework. keras.activations.hard_tanh
    (tf.clip_by_value) and jax.nn.hard_tanh give 1 there instead.
    Reference: Collobert, "Large Scale Machine Learning" (2004);
    torch.nn.Hardtanh.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.hard_tanh(np.array([-3.0, 0.5, 3.0]))
        array([-1. ,  0.5,  1. ])
    """
    return _blocks.hard_clip(x, min_val, max_val, xp)


def d_hard_tanh(x: Any, min_val: float = -1.0, max_val: float = 1.0, xp: Any = np) -> Any:
    return (
        _blocks.hard_clip_inside(x, min_val, max_val, xp),
        xp.where(x <= min_val, 1.0, 0.0),
        xp.where(x >= max_val, 1.0, 0.0),
    )


def hard_sigmoid(x: Any, xp: Any = np) -> Any:
    """Hard sigmoid: f(x) = relu6(x + 3) / 6 = min(max(x/6 + 1/2, 0), 1).

    The definition of torch.nn.Hardsigmoid, Keras 3 and jax.nn (Keras 2 and
    ONNX used slope 0.2: see ``hard_sigmoid_onnx``). Evaluated as
    clip(x + 3, 0, 6) / 6 like the frameworks, so values round identically.
    Derivative: 1/6 for -3 < x < 3, else 0.
    Convention at the kinks: f'(-3) = f'(3) = 0 (as torch, TF/Keras, JAX).
    Reference: Howard et al., "Searching for MobileNetV3" (2019).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.hard_sigmoid(np.array([-4.0, 0.0, 4.0]))
        array([0. , 0.5, 1. ])
    """
    return _blocks.hard_clip(x + 3.0, 0.0, 6.0, xp) / 6.0


def d_hard_sigmoid(x: Any, xp: Any = np) -> Any:
    return _blocks.hard_clip_inside(x, -3.0, 3.0, xp) / 6.0


def hard_silu(x: Any, xp: Any = np) -> Any:
    """Hard SiLU / hard swish: f(x) = x * hard_sigmoid(x) = x * relu6(x + 3) / 6.

    Derivative: 0 for x < -3, (2x + 3)/6 for -3 < x < 3, 1 for x > 3.
    Convention at the kinks: f'(-3) = 0 and f'(3) = 1 (as torch, Keras and
    JAX). f(-inf) = 0. ONNX HardSwish computes x * max(0, min(1, x/6 + 1/2)),
    the same function with a different rounding.
    Reference: Howard et al., "Searching for MobileNetV3" (2019);
    torch.nn.Hardswish.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.hard_silu(np.array([-4.0, 0.0, 4.0]))
        array([-0.,  0.,  4.])
    """
    return _blocks.zero_at_neg_inf(x, x * hard_sigmoid(x, xp), xp)


def d_hard_silu(x: Any, xp: Any = np) -> Any:
    inside = (x > -3.0) & (x < 3.0)
    return xp.where(inside, (2.0 * x + 3.0) / 6.0, xp.where(x >= 3.0, 1.0, 0.0))


def hard_sigmoid_onnx(x: Any, alpha: float = 0.2, beta: float = 0.5, xp: Any = np) -> Any:
    """Affine hard sigmoid: f(x) = max(0, min(1, alpha * x + beta)), defaults 0.2 and 0.5.

    ONNX HardSigmoid's definition and defaults (also Keras 2 and
    tf.keras.backend.hard_sigmoid). Trainable alpha and beta.
    Derivatives, with v = alpha x + beta and "inside" meaning 0 < v < 1:
    df/dx = alpha, df/d(alpha) = x, df/d(beta) = 1 inside; all 0 outside.
    Convention at the kinks (v = 0 and v = 1): every partial is 0.
    Careful form: alpha x is formed exactly (double-word product, the constant
    split at the working precision), so v does not cancel near 0 and the
    pieces switch where the exact v crosses 0 and 1.
    Reference: Courbariaux et al., "BinaryConnect" (2015); ONNX HardSigmoid.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.hard_sigmoid_onnx(np.array([-5.0, 0.0, 1.0]))
        array([0. , 0.5, 0.7])
    """
    return _blocks.hard_clip(_affine(x, alpha, beta, xp), 0.0, 1.0, xp)


def _affine(x: Any, alpha: Any, beta: Any, xp: Any) -> Any:
    """alpha x + beta with alpha x exact as a double-word product, so no cancellation near v = 0."""
    big = xp.abs(x) > 1e30  # the product is saturated there; keep the split from overflowing
    xm = xp.where(big, 0.0, x)
    if isinstance(alpha, float):
        hi, lo = _blocks.scale_exact(alpha, xm, xp)
    else:
        hi, lo = _blocks.two_prod(alpha, xm, xp)
    s, e = _blocks.two_sum(hi, beta)
    return xp.where(big, alpha * x + beta, s + (e + lo))


def d_hard_sigmoid_onnx(x: Any, alpha: float = 0.2, beta: float = 0.5, xp: Any = np) -> Any:
    v = _affine(x, alpha, beta, xp)
    inside = (v > 0.0) & (v < 1.0)
    return xp.where(inside, alpha, 0.0), xp.where(inside, x, 0.0), xp.where(inside, 1.0, 0.0)


def sparse_sigmoid(x: Any, xp: Any = np) -> Any:
    """Sparse sigmoid: f(x) = 0 for x <= -1, (x + 1)/2 for -1 < x < 1, 1 for x >= 1.

    The affine hard sigmoid with slope 1/2: ``hard_sigmoid_onnx(x, 0.5, 0.5)``
    (0.5 x + 0.5 and (x + 1)/2 round identically).
    Derivative: 1/2 for -1 < x < 1, else 0.
    Convention at the kinks: f'(-1) = f'(1) = 0 (as Keras).
    Reference: Blondel, Martins & Niculae, "Learning Classifiers with
    Fenchel-Young Losses" (2019); keras.activations.sparse_sigmoid.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.sparse_sigmoid(np.array([-2.0, 0.0, 0.5]))
        array([0.  , 0.5 , 0.75])
    """
    return hard_sigmoid_onnx(x, 0.5, 0.5, xp)


def d_sparse_sigmoid(x: Any, xp: Any = np) -> Any:
    return 0.5 * _blocks.hard_clip_inside(x, -1.0, 1.0, xp)


def sparse_plus(x: Any, xp: Any = np) -> Any:
    """Sparse plus: f(x) = 0 for x <= -1, (x + 1)^2 / 4 for -1 < x < 1, x for x >= 1.

    Derivative: 0, (x + 1)/2, 1 on the three pieces; continuous (f is C^1),
    so f'(-1) = 0 and f'(1) = 1 (as Keras and JAX). Both points are declared
    kinks of the second derivative.
    Reference: Blondel, Martins & Niculae (2019); keras.activations.sparse_plus,
    jax.nn.sparse_plus.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.sparse_plus(np.array([-2.0, 0.0, 2.0]))
        array([0.  , 0.25, 2.  ])
    """
    mid = 0.25 * xp.square(_blocks.hard_clip(x, -1.0, 1.0, xp) + 1.0)
    return xp.where(x >= 1.0, x, mid)


def d_sparse_plus(x: Any, xp: Any = np) -> Any:
    return 0.5 * (_blocks.hard_clip(x, -1.0, 1.0, xp) + 1.0)


define(
    "relu6",
    fn=relu6,
    grad=d_relu6,
    kinks={0.0: 0.0, 6.0: 0.0},
    family="hard",
    monotonic=True,
    twins=(
        Twin("torch", "torch.nn.functional.relu6"),
        Twin("torch", "torch.nn.ReLU6"),
        Twin("tf", "tf.nn.relu6"),
        Twin("keras", "keras.activations.relu6"),
        Twin("keras", "keras.layers.ReLU", {"max_value": 6.0}),
        Twin("onnx", "ai.onnx.Clip", {"min": 0.0, "max": 6.0}, _ONNX),
        Twin("jax", "jax.nn.relu6"),
    ),
)
define(
    "hard_tanh",
    fn=hard_tanh,
    grad=d_hard_tanh,
    params={"min_val": -1.0, "max_val": 1.0},
    kinks=lambda min_val, max_val: {min_val: 0.0, max_val: 0.0},
    aliases=("hardtanh",),
    family="hard",
    monotonic=True,
    twins=(
        Twin("torch", "torch.nn.functional.hardtanh", {"min_val": -1.0, "max_val": 1.0}),
        Twin("torch", "torch.nn.Hardtanh", {"min_val": -1.0, "max_val": 1.0}),
        Twin("keras", "keras.activations.hard_tanh", {}, "gradient 1 at x = +-1 (tf.clip_by_value)"),
        Twin("onnx", "ai.onnx.Clip", {"min": -1.0, "max": 1.0}, _ONNX),
        Twin("jax", "jax.nn.hard_tanh", {}, "gradient 1 at x = +-1"),
    ),
)
define(
    "hard_sigmoid",
    fn=hard_sigmoid,
    grad=d_hard_sigmoid,
    kinks={-3.0: 0.0, 3.0: 0.0},
    aliases=("hardsigmoid",),
    family="hard",
    monotonic=True,
    twins=(
        Twin("torch", "torch.nn.functional.hardsigmoid", {}, "backward uses 1/6 rounded to float32"),
        Twin("torch", "torch.nn.Hardsigmoid", {}, "backward uses 1/6 rounded to float32"),
        Twin("keras", "keras.activations.hard_sigmoid"),
        Twin("onnx", "ai.onnx.HardSigmoid", {"alpha": 1.0 / 6.0, "beta": 0.5}, _ONNX + "; not its defaults"),
        Twin("jax", "jax.nn.hard_sigmoid"),
    ),
)
define(
    "hard_silu",
    fn=hard_silu,
    grad=d_hard_silu,
    kinks={-3.0: 0.0, 3.0: 1.0},
    aliases=("hard_swish", "hardswish"),
    family="hard",
    twins=(
        Twin("torch", "torch.nn.functional.hardswish"),
        Twin("torch", "torch.nn.Hardswish"),
        Twin("keras", "keras.activations.hard_silu"),
        Twin("onnx", "ai.onnx.HardSwish", {}, _ONNX + "; x * clip(x/6 + 1/2, 0, 1), rounds differently"),
        Twin("jax", "jax.nn.hard_silu"),
    ),
)
define(
    "hard_sigmoid_onnx",
    fn=hard_sigmoid_onnx,
    grad=d_hard_sigmoid_onnx,
    params={"alpha": 0.2, "beta": 0.5},
    kinks=lambda alpha, beta: {-beta / alpha: 0.0, (1.0 - beta) / alpha: 0.0},
    family="hard",
    monotonic=True,
    twins=(Twin("onnx", "ai.onnx.HardSigmoid", {"alpha": 0.2, "beta": 0.5}, _ONNX),),
)
define(
    "sparse_sigmoid",
    fn=sparse_sigmoid,
    grad=d_sparse_sigmoid,
    kinks={-1.0: 0.0, 1.0: 0.0},
    family="hard",
    monotonic=True,
    twins=(
        Twin("keras", "keras.activations.sparse_sigmoid"),
        Twin("jax", "jax.nn.sparse_sigmoid", {}, "0.5 * clip(x + 1, 0, 2); JAX's gradient at +-1 may differ"),
    ),
)
define(
    "sparse_plus",
    fn=sparse_plus,
    grad=d_sparse_plus,
    kinks={-1.0: 0.0, 1.0: 1.0},
    family="hard",
    monotonic=True,
    twins=(
        Twin("keras", "keras.activations.sparse_plus"),
        Twin("jax", "jax.nn.sparse_plus"),
    ),
)
