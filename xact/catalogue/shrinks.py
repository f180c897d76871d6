"""Shrinkage and thresholding units: shrink (ONNX), hard and soft shrink,
tanh shrink, threshold and thresholded ReLU.

All piecewise ones are written through one formula each (``shrink`` and
``threshold``); the named variants call them. Values propagate NaN (the
comparisons are arranged so that a NaN input falls into the ``x`` branch).
Where a unit jumps, the partial with respect to the jump's position is taken
as 0 (the Dirac mass of the jump is dropped), and the derivative with respect
to ``x`` at the jump is that of the flat side, as torch and TF do.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from xact.catalogue import _blocks
from xact.spec import Twin, define

_ONNX = "ONNX operator; no gradient is defined by ONNX"


def shrink(x: Any, lambd: float = 0.5, bias: float = 0.0, xp: Any = np) -> Any:
    """ONNX Shrink: f(x) = x + bias for x < -lambd, x - bias for x > lambd, else 0.

    Defaults lambd = 0.5, bias = 0 (ONNX's), which is hard shrink; with
    bias = lambd it is soft shrink.
    Derivatives: df/dx = 1 for |x| > lambd, else 0; df/d(lambd) = 0 (jumps
    only); df/d(bias) = 1 for x < -lambd, -1 for x > lambd, else 0.
    Convention at the kinks x = +-lambd: f = 0 and every partial is 0
    (the strict inequalities of ONNX, torch and Keras).
    Reference: ONNX Shrink (opset 9).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.shrink(np.array([-1.0, 0.25, 2.0]), bias=0.5)
        array([-0.5,  0. ,  1.5])
    """
    return xp.where(xp.abs(x) <= lambd, 0.0, xp.where(x < 0, x + bias, x - bias))


def d_shrink(x: Any, lambd: float = 0.5, bias: float = 0.0, xp: Any = np) -> Any:
    flat = xp.abs(x) <= lambd
    return (
        xp.where(flat, 0.0, 1.0),
        xp.zeros_like(x),
        xp.where(flat, 0.0, xp.where(x < 0, 1.0, -1.0)),
    )


def hard_shrink(x: Any, threshold: float = 0.5, xp: Any = np) -> Any:
    """Hard shrink: f(x) = x for |x| > threshold, else 0 (= shrink(x, threshold, 0)).

    Parameter named as Keras (torch.nn.Hardshrink calls it lambd), default 0.5.
    Derivatives: df/dx = 1 for |x| > threshold, else 0; df/d(threshold) = 0.
    Convention at x = +-threshold: f = 0, f' = 0 (as torch and Keras).
    Reference: torch.nn.Hardshrink, keras.activations.hard_shrink.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.hard_shrink(np.array([-1.0, 0.5, 0.75]))
        array([-1.  ,  0.  ,  0.75])
    """
    return shrink(x, threshold, 0.0, xp)


def d_hard_shrink(x: Any, threshold: float = 0.5, xp: Any = np) -> Any:
    dx, dlambd, _ = d_shrink(x, threshold, 0.0, xp)
    return dx, dlambd


def soft_shrink(x: Any, threshold: float = 0.5, xp: Any = np) -> Any:
    """Soft shrink: f(x) = x - t for x > t, x + t for x < -t, else 0 (= shrink(x, t, t)).

    Parameter named as Keras (torch.nn.Softshrink calls it lambd), default 0.5.
    Derivatives: df/dx = 1 for |x| > t, else 0; df/dt = -sign(x) for |x| > t,
    else 0. f is continuous; the kinks at +-t take f' = 0 (as torch and Keras).
    Reference: Donoho, "De-noising by soft-thresholding" (1995);
    torch.nn.Softshrink, keras.activations.soft_shrink.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.soft_shrink(np.array([-1.0, 0.25, 2.0]))
        array([-0.5,  0. ,  1.5])
    """
    return shrink(x, threshold, threshold, xp)


def d_soft_shrink(x: Any, threshold: float = 0.5, xp: Any = np) -> Any:
    dx, dlambd, dbias = d_shrink(x, threshold, threshold, xp)
    return dx, dlambd + dbias


# x cosh x - sinh x = sum_{k>=1} 2k x^(2k+1) / (2k+1)!: positive terms, no cancellation.
_XCOSH_MINUS_SINH = tuple(2.0 * k / math.factorial(2 * k + 1) for k in range(1, 15))
_TANH_SHRINK_SERIES_BELOW = 2.0


def tanh_shrink(x: Any, xp: Any = np) -> Any:
    """Tanh shrink: f(x) = x - tanh(x).

    Careful form: for |x| < 2, x - tanh x = (x cosh x - sinh x) / cosh x with
    the numerator summed as its positive-term series x^3 sum 2k x^(2k-2)/(2k+1)!,
    which avoids the cancellation of x - tanh x ~ x^3/3 near 0; beyond that
    the plain difference loses nothing.
    Derivative: f'(x) = tanh(x)^2 for |x| < 1, 1 - sech(x)^2 beyond (sech^2
    computed without cancellation). Smooth everywhere.
    Reference: torch.nn.Tanhshrink, keras.activations.tanh_shrink.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> float(xnp.tanh_shrink(np.array(1e-3)))
        3.3333320000005393e-10
    """
    small = xp.abs(x) < _TANH_SHRINK_SERIES_BELOW
    xs = xp.where(small, x, 0.0)
    series = xs * xp.square(xs) * _blocks.polyval(_XCOSH_MINUS_SINH, xp.square(xs), xp) / xp.cosh(xs)
    return xp.where(small, series, x - xp.tanh(x))


def d_tanh_shrink(x: Any, xp: Any = np) -> Any:
    # tanh^2 near 0 (no cancellation); 1 - sech^2 for |x| >= 1, which does not
    # square the libm tanh's error (TF's float64 tanh is a few ULP off there).
    return xp.where(xp.abs(x) < 1.0, xp.square(xp.tanh(x)), 1.0 - _blocks.sech2(x, xp))


def threshold(x: Any, threshold: float = 0.0, value: float = 0.0, xp: Any = np) -> Any:
    """Threshold: f(x) = x for x > threshold, value otherwise.

    torch.nn.Threshold and keras.activations.threshold have no defaults;
    xact's (0, 0) make it relu. Both parameters are trainable.
    Derivatives: df/dx = 1 for x > threshold, else 0; df/d(threshold) = 0
    (the jump); df/d(value) = 0 for x > threshold, else 1.
    Convention at x = threshold: f = value, f' = 0 (as torch and Keras).
    Reference: torch.nn.Threshold, keras.activations.threshold.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.threshold(np.array([0.5, 1.0, 2.0]), threshold=1.0, value=-3.0)
        array([-3., -3.,  2.])
    """
    return xp.where(x <= threshold, value, x)


def d_threshold(x: Any, threshold: float = 0.0, value: float = 0.0, xp: Any = np) -> Any:
    below = x <= threshold
    return xp.where(below, 0.0, 1.0), xp.zeros_like(x), xp.where(below, 1.0, 0.0)


def thresholded_relu(x: Any, alpha: float = 1.0, xp: Any = np) -> Any:
    """Thresholded ReLU: f(x) = x for x > alpha, else 0 (= threshold(x, alpha, 0)).

    ONNX ThresholdedRelu with its default alpha = 1 (Keras 2's
    ThresholdedReLU layer called it theta).
    Derivatives: df/dx = 1 for x > alpha, else 0; df/d(alpha) = 0 (the jump).
    Convention at x = alpha: f = 0, f' = 0.
    Reference: Konda et al., "Zero-bias autoencoders and the benefits of
    co-adapting features" (2015); ONNX ThresholdedRelu.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.thresholded_relu(np.array([0.5, 1.0, 2.0]))
        array([0., 0., 2.])
    """
    return threshold(x, alpha, 0.0, xp)


def d_thresholded_relu(x: Any, alpha: float = 1.0, xp: Any = np) -> Any:
    dx, dthreshold, _ = d_threshold(x, alpha, 0.0, xp)
    return dx, dthreshold


define(
    "shrink",
    fn=shrink,
    grad=d_shrink,
    params={"lambd": 0.5, "bias": 0.0},
    kinks=lambda lambd, bias: {-lambd: 0.0, lambd: 0.0},
    family="shrinks",
    monotonic=True,
    twins=(Twin("onnx", "ai.onnx.Shrink", {"lambd": 0.5, "bias": 0.0}, _ONNX),),
)
define(
    "hard_shrink",
    fn=hard_shrink,
    grad=d_hard_shrink,
    params={"threshold": 0.5},
    kinks=lambda threshold: {-threshold: 0.0, threshold: 0.0},
    aliases=("hardshrink",),
    family="shrinks",
    monotonic=True,
    twins=(
        Twin("torch", "torch.nn.functional.hardshrink", {"lambd": 0.5}),
        Twin("torch", "torch.nn.Hardshrink", {"lambd": 0.5}),
        Twin("keras", "keras.activations.hard_shrink", {"threshold": 0.5}, "maps NaN to 0"),
        Twin("onnx", "ai.onnx.Shrink", {"lambd": 0.5, "bias": 0.0}, _ONNX),
    ),
)
define(
    "soft_shrink",
    fn=soft_shrink,
    grad=d_soft_shrink,
    params={"threshold": 0.5},
    kinks=lambda threshold: {-threshold: 0.0, threshold: 0.0},
    aliases=("softshrink",),
    family="shrinks",
    monotonic=True,
    twins=(
        Twin("torch", "torch.nn.functional.softshrink", {"lambd": 0.5}),
        Twin("torch", "torch.nn.Softshrink", {"lambd": 0.5}),
        Twin("keras", "keras.activations.soft_shrink", {"threshold": 0.5}, "maps NaN to 0"),
        Twin("onnx", "ai.onnx.Shrink", {"lambd": 0.5, "bias": 0.5}, _ONNX),
    ),
)
define(
    "tanh_shrink",
    fn=tanh_shrink,
    grad=d_tanh_shrink,
    aliases=("tanhshrink",),
    family="shrinks",
    monotonic=True,
    twins=(
        Twin("torch", "torch.nn.functional.tanhshrink", {}, "x - tanh(x): cancels for small |x|"),
        Twin("torch", "torch.nn.Tanhshrink", {}, "x - tanh(x): cancels for small |x|"),
        Twin("keras", "keras.activations.tanh_shrink", {}, "x - tanh(x): cancels for small |x|"),
    ),
)
define(
    "threshold",
    fn=threshold,
    grad=d_threshold,
    params={"threshold": 0.0, "value": 0.0},
    kinks=lambda threshold, value: {threshold: 0.0},
    family="shrinks",
    monotonic=True,
    twins=(
        Twin("torch", "torch.nn.functional.threshold", {"threshold": 0.0, "value": 0.0}),
        Twin("torch", "torch.nn.Threshold", {"threshold": 0.0, "value": 0.0}),
        Twin("keras", "keras.activations.threshold", {"threshold": 0.0, "default_value": 0.0}, "maps NaN to value"),
    ),
)
define(
    "thresholded_relu",
    fn=thresholded_relu,
    grad=d_thresholded_relu,
    params={"alpha": 1.0},
    kinks=lambda alpha: {alpha: 0.0},
    family="shrinks",
    monotonic=True,
    twins=(
        Twin("onnx", "ai.onnx.ThresholdedRelu", {"alpha": 1.0}, _ONNX),
        Twin("torch", "torch.nn.functional.threshold", {"threshold": 1.0, "value": 0.0}),
        Twin("keras", "keras.activations.threshold", {"threshold": 1.0, "default_value": 0.0}),
    ),
)
