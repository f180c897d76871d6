"""Smooth rectifiers and gated units: softplus (exact and torch's thresholded
form), squareplus, GELU (erf and tanh), quick GELU, SiLU, Mish.

Each is written with the careful building blocks of ``_blocks`` (sigmoid
without overflow, softplus, sqrt(x^2 + b) without overflow), so values and
derivatives are finite wherever the mathematics is.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from xact.catalogue import _blocks
from xact.catalogue.parametric import _sigmoid_of_product, d_swish_scaled, swish_scaled
from xact.spec import Twin, define

_SQRT_HALF = math.sqrt(0.5)
#: sqrt(1/2) - _SQRT_HALF (mpmath, 300 bits): erfc's tail multiplies the
#: rounding of -x/sqrt 2 by 2h^2, so the constant is carried as hi + lo.
_SQRT_HALF_LO = -4.833646656726457e-17
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


def softplus(x: Any, xp: Any = np) -> Any:
    """Softplus: f(x) = log(1 + e^x).

    Careful form: max(x, 0) + log1p(e^-|x|), which never overflows and is
    exact to rounding for large |x|.
    Derivative: f'(x) = sigmoid(x) (the careful sigmoid). Smooth everywhere.
    Reference: Dugas et al. (2001); tf.nn.softplus, keras.activations.softplus,
    jax.nn.softplus, ONNX Softplus (torch.nn.Softplus is ``softplus_beta``).

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
    negative x, with -x/sqrt 2 formed as h + l to twice the working precision
    (1/sqrt 2 itself as a double-word constant) and erfc corrected to
    first order in l (the tail of erfc amplifies the argument's rounding);
    x^2 in phi likewise as an exact double-word product; f(-inf) = 0. In
    float32 (and half types) erfc is xact's own (``_blocks.erfc32_parts``:
    exp and arithmetic, within 3 ULP), not the framework's.
    Derivative: f'(x) = Phi(x) + x * phi(x), phi(x) = e^(-x^2/2) / sqrt(2 pi);
    the second term is taken as 0 at +-inf. Smooth everywhere.
    Reference: Hendrycks & Gimpel, "Gaussian Error Linear Units" (2016);
    torch.nn.functional.gelu(approximate="none").

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> round(float(xnp.gelu(np.array(1.0))), 6)
        0.841345
    """
    y = _erfc_of_scaled(x, xp, 0.5 * x)
    # Below -40 the value x Phi(x) underflows to -0 in every dtype; the clipped
    # erfc is tiny but not 0 at high precision, and x can be huge (-1.8e308).
    return xp.where(x < -_GELU_EXACT_BELOW, -0.0, y)


def d_gelu(x: Any, xp: Any = np) -> Any:
    # phi(x) = e^(-(x/sqrt 2)^2) / sqrt(2 pi), (x/sqrt 2)^2 formed exactly from the
    # forward's double-word h + lo, and 1/sqrt(2 pi) as a double-word constant: near
    # the root of f' (x = -0.75) Phi + x phi cancels and a rounded constant shows.
    xc = xp.clip(x, -_GELU_EXACT_BELOW, _GELU_EXACT_BELOW)
    h, lo = _blocks.scale_exact(-_SQRT_HALF, xc, xp, -_SQRT_HALF_LO)
    if _blocks._finfo(xp, h).dtype == np.float32:
        # The float32 erfc block has e^(-s) and h^2 = s + e already (0 beyond |h| = 16,
        # where phi underflows anyway): one exp and one exact square per element.
        value, g, e = _blocks.erfc32_parts(h, xp, lo)
        phi = _INV_SQRT_2PI_HI * (g * (1.0 - (e + 2.0 * h * lo)))
        return 0.5 * value + _blocks.times_vanishing(x, phi, xp)
    s, e = _blocks.two_prod(h, h, xp)
    gauss = xp.exp(-s) * (1.0 - (e + 2.0 * h * lo))
    phi = _INV_SQRT_2PI_HI * gauss + _INV_SQRT_2PI_LO * gauss
    phi = xp.where(xp.abs(x) > _GELU_EXACT_BELOW, 0.0, phi)
    return 0.5 * _erfc_of_scaled(x, xp) + _blocks.times_vanishing(x, phi, xp)


_INV_SQRT_PI_HI = 0.5641895835477563  # 1/sqrt(pi) = _HI + _LO
_INV_SQRT_PI_LO = 7.66772980658294e-18
_INV_SQRT_2PI_HI = 0.3989422804014327  # 1/sqrt(2 pi) = _HI + _LO (mpmath, 300 bits)
_INV_SQRT_2PI_LO = -2.49232720227773e-17


# erfc(-x/sqrt 2) is 0 or 2 to every dtype's precision beyond |x| = 40.
_GELU_EXACT_BELOW = 40.0


def _erfc_of_scaled(x: Any, xp: Any, scale: Any = None) -> Any:
    """(scale *) erfc(-x / sqrt 2) with -x/sqrt 2 = h + l exactly: erfc(h) - l (2/sqrt pi) e^(-h^2).

    erfc's tail amplifies the rounding of its argument by 2 h^2 (~100x at
    x = -7); the first-order correction in l removes it. Beyond the clip at
    |x| = 40 erfc is already 0 or 2 in every dtype (and the correction 0), so
    the clipped value is erfc's own there: one erfc per element, not two.
    In float32 erfc is ``_blocks.erfc32_parts`` (``scale``: return scale * erfc,
    the scale applied before erfc's tail can turn subnormal).
    """
    xc = xp.clip(x, -_GELU_EXACT_BELOW, _GELU_EXACT_BELOW)
    h, lo = _blocks.scale_exact(-_SQRT_HALF, xc, xp, -_SQRT_HALF_LO)
    if _blocks._finfo(xp, h).dtype == np.float32:
        # xp.erfc in float32 is slow (torch's Sleef erfcf) or ~60 ULP off (XLA):
        # the block is exp and arithmetic, and applies the correction in l itself.
        return _blocks.erfc32_parts(h, xp, lo, scale)[0]
    # The correction is ~1e-13 of erfc(h): for x below -36 it lies under the smallest
    # normal, and XLA flushes it to 0 (1,189 ULP lost at x = -36.76 in eager jax), as
    # it flushes erfc(h) itself below x = -37.5 where x/2 erfc is still normal. Both
    # terms are taken 2^512 times larger there (exact), then scaled, then scaled back;
    # only in the tail (h > 20), since elsewhere a huge scale would overflow.
    tail = h > 20.0
    up = xp.where(tail, 2.0**512, 1.0)
    value = xp.erfc(h) * up - lo * (2.0 * _INV_SQRT_PI_HI) * (xp.exp(-xp.square(h)) * up)
    return (value if scale is None else scale * value) * xp.where(tail, 2.0**-512, 1.0)


_GELU_C1 = 2.0 * _SQRT_2_OVER_PI  # 2u = c1 x + c3 x^3
_GELU_C3 = 2.0 * _SQRT_2_OVER_PI * _GELU_CUBIC
# The rest of the published constants 2 sqrt(2/pi) and 2 sqrt(2/pi) * 0.044715
# (0.044715 the decimal of the paper) beyond the doubles above (mpmath, 300
# bits): e^(2u) multiplies an error of 2u by |2u| (> 60 at x = -6).
_GELU_C1_LO = -9.96930880911092e-17
_GELU_C3_LO = -6.175149918155315e-19
_GELU_FLAT_FROM = 30.0  # |x| beyond: sigmoid(2u) is 0 or 1 to every dtype's last bit


def _gelu_tanh_inner(x: Any, xp: Any) -> tuple[Any, Any, Any]:
    """(xc, v, e): xc = clip(x, -30, 30) and 2u(xc) = v + e to about twice the working precision.

    sigmoid(2u) ~ e^(2u) for 2u < 0 turns an absolute error of 2u into a relative
    error |2u| times larger (|2u| > 60 at x = -6), so the cubic is formed with
    exact products and sums (Dekker, Knuth) and its constants carried to twice
    the working precision (the published decimals, not their doubles).
    """
    xc = xp.clip(x, -_GELU_FLAT_FROM, _GELU_FLAT_FROM)
    sq, sq_e = _blocks.two_prod(xc, xc, xp)
    cube, cube_e = _blocks.two_prod(sq, xc, xp)
    a, a_e = _blocks.scale_exact(_GELU_C3, cube, xp, _GELU_C3_LO)
    b, b_e = _blocks.scale_exact(_GELU_C1, xc, xp, _GELU_C1_LO)
    v, v_e = _blocks.two_sum(a, b)
    return xc, v, v_e + a_e + b_e + _GELU_C3 * (cube_e + sq_e * xc)


def _gelu_tanh_sigmoid(v: Any, e: Any, xp: Any) -> tuple[Any, Any]:
    """(S, S') = sigmoid and its derivative at v + e, to first order in e.

    The corrections are factors (1 + ...), not added terms: e * sigmoid'(v) is
    subnormal in the tail, and TensorFlow's CPU kernels flush subnormals to 0.
    """
    s = _blocks.sigmoid(v, xp)
    ds = _blocks.sigmoid_prime(v, xp)
    return s * (1.0 + e * (1.0 - s)), ds * (1.0 + e * (1.0 - 2.0 * s))


def gelu_tanh(x: Any, xp: Any = np) -> Any:
    """GELU, tanh approximation: f(x) = x/2 * (1 + tanh(u)), u = sqrt(2/pi)(x + 0.044715 x^3).

    Careful form: 1 + tanh(u) = 2 sigmoid(2u), so f = x * sigmoid(2u) with the
    careful sigmoid (no cancellation for negative x); f(-inf) = 0. Since
    sigmoid(2u) ~ e^(2u) multiplies the error of 2u by |2u| in the negative tail,
    2u is formed in double-word arithmetic (exact products and sums) and fed to
    the sigmoid to first order; x is clipped to [-30, 30] inside, where the
    sigmoid is already 0 or 1 to every dtype's last bit (so x^3 cannot overflow).
    Derivative: f'(x) = s + x * s(1 - s) * 2u', s = sigmoid(2u),
    2u' = 2 sqrt(2/pi)(1 + 3 * 0.044715 x^2), with the same corrections.
    Smooth everywhere.
    Reference: Hendrycks & Gimpel (2016); torch.nn.functional.gelu(approximate="tanh"),
    keras.activations.gelu(approximate=True).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> round(float(xnp.gelu_tanh(np.array(1.0))), 6)
        0.841192
    """
    _, v, e = _gelu_tanh_inner(x, xp)
    s, _ = _gelu_tanh_sigmoid(v, e, xp)
    return _blocks.zero_at_neg_inf(x, x * s, xp)


def d_gelu_tanh(x: Any, xp: Any = np) -> Any:
    xc, v, e = _gelu_tanh_inner(x, xp)
    s, ds = _gelu_tanh_sigmoid(v, e, xp)
    du2 = _GELU_C1 + 3.0 * _GELU_C3 * xp.square(xc)
    return s + xc * ds * du2


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


def softplus_beta(x: Any, beta: float = 1.0, threshold: float = 20.0, xp: Any = np) -> Any:
    """torch's softplus: f(x) = softplus(beta x) / beta, or x where beta x > threshold.

    This is torch.nn.Softplus(beta, threshold) exactly, its linear region
    included: for beta x > threshold (default 20) the value is x, which is
    softplus rounded in float32 but differs from it by up to
    log1p(e^-threshold)/beta (2.1e-9 at the defaults) in float64. The plain,
    exact ``softplus`` is the twin of TF, Keras, JAX and ONNX.
    Careful form: the careful softplus of beta x, divided by beta, with beta x
    formed as an exact double-word product (softplus and sigmoid amplify its
    rounding by |beta x| in the negative tail).
    Derivatives, with z = beta x and g(z) = z sigmoid(z) - softplus(z)
    = -(|z| sigmoid(-|z|) + log1p(e^-|z|)) (no cancellation):
    df/dx = sigmoid(z), df/d(beta) = g(z) / beta^2, df/d(threshold) = 0 for
    z <= threshold; df/dx = 1 and the others 0 beyond.
    Convention at the jump x = threshold/beta: the softplus branch (as torch),
    so f' = sigmoid(threshold) there.
    Reference: torch.nn.Softplus; Dugas et al., "Incorporating Second-Order
    Functional Knowledge for Better Option Pricing" (2001).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.softplus_beta(np.array([30.0]))
        array([30.])
    """
    z = beta * x
    return xp.where(z > threshold, x, _softplus_of_product(beta, x, xp) / beta)


# Beyond |beta x| = 800 softplus is 0 or beta x in every dtype.
_SOFTPLUS_SATURATED = 800.0


def _softplus_of_product(beta: Any, x: Any, xp: Any) -> Any:
    """softplus(beta x) with beta x = hi + lo to twice the working precision.

    softplus(z) ~ e^z for z -> -inf multiplies the rounding of beta x by |z|
    (65 ULP in float64 at beta = 3); to first order softplus(hi + lo) =
    softplus(hi) + lo sigmoid(hi). With beta = 1, lo = 0.
    """
    z = beta * x
    moderate = xp.abs(z) < _SOFTPLUS_SATURATED
    xm = xp.where(moderate, x, 0.0)
    if isinstance(beta, float):
        hi, lo = _blocks.scale_exact(beta, xm, xp)
    else:
        hi, lo = _blocks.two_prod(beta, xm, xp)
    near = _blocks.softplus(hi, xp) + lo * _blocks.sigmoid(hi, xp)
    return xp.where(moderate, near, _blocks.softplus(z, xp))


def d_softplus_beta(x: Any, beta: float = 1.0, threshold: float = 20.0, xp: Any = np) -> Any:
    z = beta * x
    linear = z > threshold
    e = xp.exp(-xp.abs(z))
    g = -(_blocks.times_vanishing(xp.abs(z), e / (1.0 + e), xp) + xp.log1p(e))
    s, _ = _sigmoid_of_product(beta, x, xp)
    return (
        xp.where(linear, 1.0, s),
        xp.where(linear, 0.0, g / (beta * beta)),
        xp.zeros_like(x),
    )


def squareplus(x: Any, b: float = 4.0, xp: Any = np) -> Any:
    """Squareplus: f(x) = (x + sqrt(x^2 + b)) / 2, default b = 4.

    Careful form: with s = sqrt(x^2 + b) (no overflow of x^2), f = x + b / (2 (s + x))
    for x >= 0 and the conjugate b / (2 (s - x)) for x < 0, neither of which
    cancels or overflows before f does; f(-inf) = 0, f(inf) = inf.
    Derivatives: df/dx = (1 + x/s)/2, computed as b / (2 s (s - x)) for x < 0
    (no cancellation); df/db = 1 / (4 s). Smooth everywhere (b > 0).
    Reference: Barron, "Squareplus: A Softplus-Like Algebraic Rectifier"
    (2021); keras.activations.squareplus, jax.nn.squareplus.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.squareplus(np.array([0.0, 1.5]))
        array([1., 2.])
    """
    s = _blocks.sqrt_x2_plus(x, b, xp)
    # x >= 0: x + b / (2 (s + x)) rather than x/2 + s/2, which XLA's algebraic
    # simplifier refactors into (x + s)/2 (inf for x > max/2 under jax.jit);
    # s + x may overflow, and then the term is 0 and f = x, as it rounds.
    return xp.where(x >= 0, x + 0.5 * b / (s + x), 0.5 * b / (s - x))


def d_squareplus(x: Any, b: float = 4.0, xp: Any = np) -> Any:
    s = _blocks.sqrt_x2_plus(x, b, xp)
    ratio = xp.where(x == xp.inf, 1.0, x / s)
    dx = xp.where(x >= 0, 0.5 + 0.5 * ratio, (0.5 * b / s) / (s - x))
    return dx, 0.25 / s


_QUICK_GELU_BETA = 1.702
_QUICK_GELU_BETA_LO = 4.263256414560601e-17  # the decimal 1.702 minus its double (mpmath)


def quick_gelu(x: Any, xp: Any = np) -> Any:
    """Quick GELU: f(x) = x * sigmoid(1.702 x), the sigmoid approximation of GELU.

    ``swish_beta`` with beta = 1.702 (same formula, careful sigmoid; f(-inf) = 0),
    the decimal 1.702 carried as a double-word constant (its double is 2.5e-17
    off, which the sigmoid's tail multiplies by |1.702 x|).
    Derivative: s + 1.702 x s (1 - s), s = sigmoid(1.702 x). Smooth everywhere.
    Reference: Hendrycks & Gimpel, "Gaussian Error Linear Units" (2016),
    section 2; used as QuickGELU in OpenAI CLIP (Radford et al., 2021).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> round(float(xnp.quick_gelu(np.array(1.0))), 6)
        0.845796
    """
    return swish_scaled(x, _QUICK_GELU_BETA, xp, _QUICK_GELU_BETA_LO)


def d_quick_gelu(x: Any, xp: Any = np) -> Any:
    return d_swish_scaled(x, _QUICK_GELU_BETA, xp, _QUICK_GELU_BETA_LO)[0]


_ONNX = "ONNX operator; no gradient is defined by ONNX"
_TORCH_SOFTPLUS = "torch returns x where x > threshold (20): up to 2.1e-9 off the exact value in float64"

define(
    "softplus",
    fn=softplus,
    grad=d_softplus,
    family="smooth",
    monotonic=True,
    twins=(
        Twin("torch", "torch.nn.functional.softplus", {"beta": 1.0, "threshold": 20.0}, _TORCH_SOFTPLUS),
        Twin("torch", "torch.nn.Softplus", {"beta": 1.0, "threshold": 20.0}, _TORCH_SOFTPLUS),
        Twin("tf", "tf.nn.softplus"),
        Twin("keras", "keras.activations.softplus"),
        Twin("onnx", "ai.onnx.Softplus", {}, _ONNX),
        Twin("jax", "jax.nn.softplus"),
    ),
)
define(
    "softplus_beta",
    fn=softplus_beta,
    grad=d_softplus_beta,
    params={"beta": 1.0, "threshold": 20.0},
    kinks=lambda beta, threshold: {threshold / beta: 1.0 / (1.0 + math.exp(-threshold))},
    family="smooth",
    monotonic=True,
    twins=(
        Twin("torch", "torch.nn.functional.softplus", {"beta": 1.0, "threshold": 20.0}),
        Twin("torch", "torch.nn.Softplus", {"beta": 1.0, "threshold": 20.0}),
    ),
)
define(
    "squareplus",
    fn=squareplus,
    grad=d_squareplus,
    params={"b": 4.0},
    family="smooth",
    monotonic=True,
    twins=(
        Twin("keras", "keras.activations.squareplus", {"b": 4}),
        Twin("jax", "jax.nn.squareplus", {"b": 4}),
    ),
)
define(
    "gelu",
    fn=gelu,
    grad=d_gelu,
    family="smooth",
    twins=(
        Twin("torch", "torch.nn.functional.gelu", {"approximate": "none"}),
        Twin("torch", "torch.nn.GELU", {"approximate": "none"}),
        Twin("tf", "tf.nn.gelu", {"approximate": False}, "float32-rounded constants: ~1e-9 off in float64"),
        Twin("keras", "keras.activations.gelu", {"approximate": False}),
        Twin("onnx", "ai.onnx.Gelu", {"approximate": "none"}, _ONNX + " (opset 20)"),
        Twin("jax", "jax.nn.gelu", {"approximate": False}, "JAX's default is approximate=True"),
    ),
)
define(
    "gelu_tanh",
    fn=gelu_tanh,
    grad=d_gelu_tanh,
    aliases=("gelu_approximate",),
    family="smooth",
    twins=(
        Twin("torch", "torch.nn.functional.gelu", {"approximate": "tanh"}),
        Twin("torch", "torch.nn.GELU", {"approximate": "tanh"}),
        Twin("tf", "tf.nn.gelu", {"approximate": True}, "float32-rounded constants: ~1e-9 off in float64"),
        Twin("keras", "keras.activations.gelu", {"approximate": True}),
        Twin("onnx", "ai.onnx.Gelu", {"approximate": "tanh"}, _ONNX + " (opset 20)"),
        Twin("jax", "jax.nn.gelu", {"approximate": True}),
    ),
)
define("quick_gelu", fn=quick_gelu, grad=d_quick_gelu, family="smooth")
define(
    "silu",
    fn=silu,
    grad=d_silu,
    aliases=("swish",),
    family="smooth",
    twins=(
        Twin("torch", "torch.nn.functional.silu"),
        Twin("torch", "torch.nn.SiLU"),
        Twin("tf", "tf.nn.silu", {"beta": 1.0}),
        Twin("keras", "keras.activations.silu"),
        Twin("jax", "jax.nn.silu"),
    ),
)
define(
    "mish",
    fn=mish,
    grad=d_mish,
    family="smooth",
    twins=(
        Twin("torch", "torch.nn.functional.mish"),
        Twin("torch", "torch.nn.Mish"),
        Twin("keras", "keras.activations.mish", {}, "x * tanh(softplus(x)) as written"),
        Twin("onnx", "ai.onnx.Mish", {}, _ONNX + " (opset 18)"),
        Twin("jax", "jax.nn.mish"),
    ),
)
