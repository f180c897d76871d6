"""Smooth rectifiers and gated units: softplus, GELU (erf and tanh), SiLU, Mish."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from xact.catalogue import _blocks
from xact.spec import define

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


def softplus(x: Any, xp: Any = np) -> Any:
    """Softplus: f(x) = log(1 + e^x).

    Careful form: max(x, 0) + log1p(e^-|x|), which never overflows and is
    exact to rounding for large |x|.
    Derivative: f'(x) = sigmoid(x) (the careful sigmoid). Smooth everywhere.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> float(xnp.softplus(np.array(0.0)))
        0.6931471805599453
    """
    return _blocks.softplus(x, xp)


def d_softplus(x: Any, xp: Any = np) -> Any:
    return _blocks.sigmoid(x, xp)


def gelu(x: Any, xp: Any = np) -> Any:
    """GELU, exact form: f(x) = x * Phi(x) = x/2 * (1 + erf(x / sqrt 2)).

    Careful form: x/2 * erfc(-x / sqrt 2), which does not cancel for
    negative x; f(-inf) = 0.
    Derivative: f'(x) = Phi(x) + x * phi(x), phi(x) = e^(-x^2/2) / sqrt(2 pi);
    the second term is taken as 0 at +-inf. Smooth everywhere.
    Reference: Hendrycks & Gimpel, "Gaussian Error Linear Units" (2016);
    torch.nn.functional.gelu(approximate="none").

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> round(float(xnp.gelu(np.array(1.0))), 6)
        0.841345
    """
    y = 0.5 * x * xp.erfc(-_SQRT_HALF * x)
    return _blocks.zero_at_neg_inf(x, y, xp)


def d_gelu(x: Any, xp: Any = np) -> Any:
    phi = _INV_SQRT_2PI * xp.exp(-0.5 * xp.square(x))
    return 0.5 * xp.erfc(-_SQRT_HALF * x) + _blocks.times_vanishing(x, phi, xp)


def _gelu_tanh_inner(x: Any, xp: Any) -> Any:
    """2u with u = sqrt(2/pi) (x + 0.044715 x^3), so that 1 + tanh(u) = 2 sigmoid(2u)."""
    return (2.0 * _SQRT_2_OVER_PI) * (x + _GELU_CUBIC * x * xp.square(x))


def gelu_tanh(x: Any, xp: Any = np) -> Any:
    """GELU, tanh approximation: f(x) = x/2 * (1 + tanh(u)), u = sqrt(2/pi)(x + 0.044715 x^3).

    Careful form: 1 + tanh(u) = 2 sigmoid(2u), so f = x * sigmoid(2u) with the
    careful sigmoid (no cancellation for negative x); f(-inf) = 0.
    Derivative: f'(x) = s + x * s(1 - s) * 2u', s = sigmoid(2u),
    u' = sqrt(2/pi)(1 + 3 * 0.044715 x^2); for |x| >= 30 the second term
    is below every dtype's smallest number and is taken as 0, which also
    keeps x^3 from overflowing. Smooth everywhere.
    Reference: Hendrycks & Gimpel (2016); torch.nn.functional.gelu(approximate="tanh"),
    keras.activations.gelu(approximate=True).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> round(float(xnp.gelu_tanh(np.array(1.0))), 6)
        0.841192
    """
    return _blocks.zero_at_neg_inf(x, x * _blocks.sigmoid(_gelu_tanh_inner(x, xp), xp), xp)


def d_gelu_tanh(x: Any, xp: Any = np) -> Any:
    v = _gelu_tanh_inner(x, xp)
    xc = xp.clip(x, -30.0, 30.0)
    du2 = (2.0 * _SQRT_2_OVER_PI) * (1.0 + 3.0 * _GELU_CUBIC * xp.square(xc))
    return _blocks.sigmoid(v, xp) + xc * _blocks.sigmoid_prime(v, xp) * du2


def silu(x: Any, xp: Any = np) -> Any:
    """SiLU / swish: f(x) = x * sigmoid(x).

    Careful form: the careful sigmoid; f(-inf) = 0.
    Derivative: f'(x) = s + x * s(1 - s), s = sigmoid(x), with s(1 - s)
    computed without cancellation and the second term 0 at +-inf.
    Smooth everywhere.
    Reference: Elfwing et al. (2017); Ramachandran et al. (2017);
    torch.nn.SiLU, keras.activations.silu.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> round(float(xnp.silu(np.array(1.0))), 6)
        0.731059
    """
    return _blocks.zero_at_neg_inf(x, x * _blocks.sigmoid(x, xp), xp)


def d_silu(x: Any, xp: Any = np) -> Any:
    return _blocks.sigmoid(x, xp) + _blocks.times_vanishing(x, _blocks.sigmoid_prime(x, xp), xp)


_MISH_LINEAR_FROM = 20.0  # tanh(softplus(x)) rounds to 1 in float64 beyond this


def _mish_parts(x: Any, xp: Any) -> tuple[Any, Any]:
    """e = e^min(x, 20) and n = e(e + 2), so that tanh(softplus(x)) = n / (n + 2)."""
    e = xp.exp(xp.minimum(x, _MISH_LINEAR_FROM))
    return e, e * (e + 2.0)


def mish(x: Any, xp: Any = np) -> Any:
    """Mish: f(x) = x * tanh(softplus(x)).

    Careful form: tanh(log(1 + e^x)) = n / (n + 2) with n = e^x (e^x + 2),
    exact algebra that avoids log/tanh cancellation for negative x; for
    x > 20 the factor is 1 to float64 precision and f(x) = x; f(-inf) = 0.
    Derivative: f'(x) = t + 4x e (1 + e) / (n + 2)^2 with t = n / (n + 2),
    e = e^x; 1 for x > 20, the second term 0 at -inf. Smooth everywhere.
    Reference: Misra, "Mish: A Self Regularized Non-Monotonic Activation
    Function" (2019); torch.nn.Mish.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> round(float(xnp.mish(np.array(1.0))), 6)
        0.865098
    """
    _, n = _mish_parts(x, xp)
    y = xp.where(x > _MISH_LINEAR_FROM, x, x * (n / (n + 2.0)))
    return _blocks.zero_at_neg_inf(x, y, xp)


def d_mish(x: Any, xp: Any = np) -> Any:
    e, n = _mish_parts(x, xp)
    t = n / (n + 2.0)
    slope = t + _blocks.times_vanishing(x, 4.0 * e * (1.0 + e) / xp.square(n + 2.0), xp)
    return xp.where(x > _MISH_LINEAR_FROM, 1.0, slope)


define("softplus", fn=softplus, grad=d_softplus, family="smooth", monotonic=True)
define("gelu", fn=gelu, grad=d_gelu, family="smooth")
define("gelu_tanh", fn=gelu_tanh, grad=d_gelu_tanh, aliases=("gelu_approximate",), family="smooth")
define("silu", fn=silu, grad=d_silu, aliases=("swish",), family="smooth")
define("mish", fn=mish, grad=d_mish, family="smooth")
