"""Widely cited research activations: gated smooth units (serf, smish, logish,
tanhexp, LiSHT, ELiSH), algebraic ones (ISRLU, bent identity), penalized
tanh, and the periodic and bump-shaped ones (Gaussian, sinc, SIREN's sine,
growing cosine unit).

Periodic units have no limit at +-inf: their values (and derivatives) are
NaN there, which is the honest answer. Every other unit is finite, or
correctly infinite, at +-inf.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from xact.catalogue import _blocks
from xact.catalogue.hard import d_sparse_sigmoid, sparse_sigmoid
from xact.catalogue.smooth import d_silu, silu
from xact.spec import Twin, define

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def serf(x: Any, xp: Any = np) -> Any:
    """Serf: f(x) = x * erf(softplus(x)).

    Careful form: the careful softplus, clamped at 10 inside erf (where erf
    is 1 in every dtype); f(-inf) = 0.
    Derivative: f'(x) = erf(p) + x * (2/sqrt(pi)) e^(-p^2) sigmoid(x),
    p = softplus(x); the second term is 0 at +-inf. Smooth everywhere.
    Reference: Nag & Bhattacharyya, "SERF: Towards better training of deep
    neural networks using log-Softplus ERror activation Function" (WACV 2023).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> round(float(xnp.serf(np.array(1.0))), 6)
        0.936722
    """
    return _blocks.zero_at_neg_inf(x, x * xp.erf(_serf_inner(x, xp)), xp)


# erf(p) rounds to 1 for p >= 6 in float64; clamping p also avoids tf.math.erf's
# NaN for float64 arguments beyond ~1e155.
_ERF_SATURATES = 10.0


def _serf_inner(x: Any, xp: Any) -> Any:
    return xp.minimum(_blocks.softplus(x, xp), _ERF_SATURATES)


def d_serf(x: Any, xp: Any = np) -> Any:
    p = _blocks.softplus(x, xp)
    gate = _TWO_OVER_SQRT_PI * xp.exp(-xp.square(p)) * _blocks.sigmoid(x, xp)
    return xp.erf(_serf_inner(x, xp)) + _blocks.times_vanishing(x, gate, xp)


def _smish_parts(x: Any, xp: Any) -> tuple[Any, Any, Any]:
    """s = sigmoid(x), n = s (2 + s) and t = n / (n + 2) = tanh(log(1 + s))."""
    s = _blocks.sigmoid(x, xp)
    n = s * (2.0 + s)
    return s, n, n / (n + 2.0)


def smish(x: Any, xp: Any = np) -> Any:
    """Smish: f(x) = x * tanh(log(1 + sigmoid(x))).

    Careful form: with s = sigmoid(x), tanh(log(1 + s)) = s(2 + s) / (s(2 + s) + 2)
    exactly, so no log or tanh is evaluated; f(-inf) = 0.
    Derivative: f'(x) = t + x * 4(1 + s) / (n + 2)^2 * s(1 - s), with
    n = s(2 + s), t = n/(n + 2); the second term is 0 at +-inf. Smooth.
    Reference: Wang, Ren & Wang, "Smish: A Novel Activation Function for Deep
    Learning Methods" (Electronics 11(4), 2022), with alpha = beta = 1.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> round(float(xnp.smish(np.array(1.0))), 6)
        0.49957
    """
    _, _, t = _smish_parts(x, xp)
    return _blocks.zero_at_neg_inf(x, x * t, xp)


def d_smish(x: Any, xp: Any = np) -> Any:
    s, n, t = _smish_parts(x, xp)
    gate = 4.0 * (1.0 + s) / xp.square(n + 2.0) * _blocks.sigmoid_prime(x, xp)
    return t + _blocks.times_vanishing(x, gate, xp)


def logish(x: Any, xp: Any = np) -> Any:
    """Logish: f(x) = x * log(1 + sigmoid(x)).

    Careful form: log1p of the careful sigmoid; f(-inf) = 0.
    Derivative: f'(x) = log(1 + s) + x s(1 - s) / (1 + s), s = sigmoid(x);
    the second term is 0 at +-inf. Smooth everywhere.
    Reference: Zhu et al., "Logish: A new nonlinear nonmonotonic activation
    function for convolutional neural network" (Neurocomputing, 2021).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> round(float(xnp.logish(np.array(1.0))), 6)
        0.548733
    """
    return _blocks.zero_at_neg_inf(x, x * xp.log1p(_blocks.sigmoid(x, xp)), xp)


def d_logish(x: Any, xp: Any = np) -> Any:
    s = _blocks.sigmoid(x, xp)
    return xp.log1p(s) + _blocks.times_vanishing(x, _blocks.sigmoid_prime(x, xp) / (1.0 + s), xp)


# e^x sech^2(e^x) < 1e-300 beyond this, so the exponent is clipped there.
_TANHEXP_CLIP = 10.0


def tanhexp(x: Any, xp: Any = np) -> Any:
    """TanhExp: f(x) = x * tanh(e^x).

    Careful form: e^x is clamped at e^10, where tanh(e^x) is 1 in every dtype
    (tanh(e^x) never overflows); f(-inf) = 0 and f(inf) = inf.
    Derivative: f'(x) = tanh(e^x) + x e^x sech^2(e^x), with the careful
    sech^2 and e^x clipped at e^10 (where the term is below every dtype's
    smallest number); the second term is 0 at +-inf. Smooth everywhere.
    Reference: Liu & Di, "TanhExp: A Smooth Activation Function with High
    Convergence Speed for Lightweight Neural Networks" (2020).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> round(float(xnp.tanhexp(np.array(1.0))), 6)
        0.991329
    """
    return _blocks.zero_at_neg_inf(x, x * xp.tanh(xp.exp(xp.minimum(x, _TANHEXP_CLIP))), xp)


def d_tanhexp(x: Any, xp: Any = np) -> Any:
    e = xp.exp(xp.minimum(x, _TANHEXP_CLIP))
    return xp.tanh(e) + _blocks.times_vanishing(x, e * _blocks.sech2(e, xp), xp)


def lisht(x: Any, xp: Any = np) -> Any:
    """LiSHT: f(x) = x * tanh(x) (even, non-negative).

    Derivative: f'(x) = tanh(x) + x sech^2(x), with the careful sech^2; the
    second term is 0 at +-inf. Smooth everywhere.
    Reference: Roy et al., "LiSHT: Non-Parametric Linearly Scaled Hyperbolic
    Tangent Activation Function for Neural Networks" (2019).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> round(float(xnp.lisht(np.array(-1.0))), 6)
        0.761594
    """
    return x * xp.tanh(x)


def d_lisht(x: Any, xp: Any = np) -> Any:
    return xp.tanh(x) + _blocks.times_vanishing(x, _blocks.sech2(x, xp), xp)


def elish(x: Any, xp: Any = np) -> Any:
    """ELiSH: f(x) = x sigmoid(x) for x >= 0, (e^x - 1) sigmoid(x) for x < 0.

    The positive part is silu's formula; expm1 keeps small negative inputs
    accurate; f(-inf) = 0.
    Derivative: silu'(x) for x >= 0; e^x s + (e^x - 1) s(1 - s) for x < 0,
    s = sigmoid(x). Both sides give 1/2 at 0 (f is C^1; 0 is declared a kink
    of f'').
    Reference: Basirat & Roth, "The Quest for the Golden Activation Function"
    (2018).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> round(float(xnp.elish(np.array(-1.0))), 6)
        -0.170003
    """
    xn = xp.minimum(x, 0.0)
    return xp.where(x >= 0, silu(x, xp), xp.expm1(xn) * _blocks.sigmoid(xn, xp))


def d_elish(x: Any, xp: Any = np) -> Any:
    xn = xp.minimum(x, 0.0)
    neg = xp.exp(xn) * _blocks.sigmoid(xn, xp) + xp.expm1(xn) * _blocks.sigmoid_prime(xn, xp)
    return xp.where(x >= 0, d_silu(x, xp), neg)


def hard_elish(x: Any, xp: Any = np) -> Any:
    """Hard ELiSH: f(x) = x h(x) for x >= 0, (e^x - 1) h(x) for x < 0, h = sparse_sigmoid.

    h(x) = max(0, min(1, (x + 1)/2)) is the sparse_sigmoid spec's formula.
    Derivative: x + 1/2 on [0, 1), 1 beyond, e^x h(x) + (e^x - 1)/2 on
    (-1, 0), 0 below -1. Conventions at the kinks follow h'(+-1) = 0:
    f'(-1) = 0, f'(1) = 1; at 0 both sides give 1/2 (a kink of f'' only).
    Reference: Basirat & Roth, "The Quest for the Golden Activation Function"
    (2018).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.hard_elish(np.array([-2.0, 0.5, 3.0]))
        array([-0.   ,  0.375,  3.   ])
    """
    h = sparse_sigmoid(x, xp)
    return xp.where(x >= 0, x * h, xp.expm1(xp.minimum(x, 0.0)) * h)


def d_hard_elish(x: Any, xp: Any = np) -> Any:
    h = sparse_sigmoid(x, xp)
    dh = d_sparse_sigmoid(x, xp)
    xn = xp.minimum(x, 0.0)
    pos = h + _blocks.times_vanishing(x, dh, xp)
    neg = xp.exp(xn) * h + xp.expm1(xn) * dh
    return xp.where(x >= 0, pos, neg)


_PENALTY = 0.25


def penalized_tanh(x: Any, xp: Any = np) -> Any:
    """Penalized tanh: f(x) = tanh(x) for x > 0, 0.25 tanh(x) otherwise.

    Derivative: sech^2(x) for x > 0, 0.25 sech^2(x) otherwise.
    Convention at the kink: f'(0) = 0.25 (the penalized side, as leaky_relu).
    Reference: Xu, Huang & Li, "Revise Saturated Activation Functions" (2016);
    Eger, Youssef & Gurevych, "Is it Time to Swish?" (EMNLP 2018).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> round(float(xnp.penalized_tanh(np.array(-1.0))), 6)
        -0.190399
    """
    t = xp.tanh(x)
    return xp.where(x > 0, t, _PENALTY * t)


def d_penalized_tanh(x: Any, xp: Any = np) -> Any:
    return xp.where(x > 0, 1.0, _PENALTY) * _blocks.sech2(x, xp)


def isrlu(x: Any, alpha: float = 1.0, xp: Any = np) -> Any:
    """Inverse square root linear unit: f(x) = x for x >= 0, x / sqrt(1 + alpha x^2) otherwise.

    The negative part is the isru formula (careful: no overflow, f(-inf) =
    -1/sqrt(alpha)).
    Derivatives: df/dx = 1 for x >= 0, (1 + alpha x^2)^(-3/2) otherwise
    (f is C^2 at 0, so no kink); df/d(alpha) = 0 for x >= 0, -f^3/2 otherwise.
    Reference: Carlile et al., "Improving Deep Learning by Inverse Square
    Root Linear Units (ISRLUs)" (2017).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.isrlu(np.array([-np.inf, 2.0]))
        array([-1.,  2.])
    """
    return xp.where(x >= 0, x, _blocks.isru(x, alpha, xp))


def d_isrlu(x: Any, alpha: float = 1.0, xp: Any = np) -> Any:
    pos = x >= 0
    q = _blocks.inv_sqrt_1_plus(x, alpha, xp)
    f = _blocks.isru(x, alpha, xp)
    return xp.where(pos, 1.0, q * xp.square(q)), xp.where(pos, 0.0, -0.5 * f * xp.square(f))


def bent_identity(x: Any, xp: Any = np) -> Any:
    """Bent identity: f(x) = x + (sqrt(x^2 + 1) - 1) / 2.

    Careful form: (sqrt(x^2 + 1) - 1)/2 = |x| (|x| / (s + 1)) / 2 with
    s = sqrt(x^2 + 1) computed without overflow, which neither cancels near 0
    nor overflows; f(+-inf) = +-inf.
    Derivative: f'(x) = 1 + x / (2 s) = 1 + isru(x)/2 (the careful isru).
    Smooth everywhere.
    Reference: the "bent identity" of activation-function surveys, e.g.
    Nwankpa et al., "Activation Functions: Comparison of trends in Practice
    and Research for Deep Learning" (2018).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> round(float(xnp.bent_identity(np.array(1.0))), 6)
        1.207107
    """
    ax = xp.abs(x)
    s = _blocks.sqrt_x2_plus(x, 1.0, xp)
    ratio = xp.where(xp.isinf(x), 1.0, ax / (s + 1.0))
    return xp.where(xp.isinf(x), x, x + 0.5 * ax * ratio)


def d_bent_identity(x: Any, xp: Any = np) -> Any:
    return 1.0 + 0.5 * _blocks.isru(x, 1.0, xp)


def gaussian(x: Any, xp: Any = np) -> Any:
    """Gaussian: f(x) = e^(-x^2).

    Careful form: x^2 is formed exactly as s + e (Dekker's product) and
    e^(-x^2) = e^-s (1 - e), so the rounding of x^2 (which e^(-x^2) would
    amplify by x^2) does not enter.
    Derivative: f'(x) = -2x e^(-x^2) (0 at +-inf). Smooth everywhere.
    Reference: the Gaussian of RBF networks (Broomhead & Lowe, 1988) and of
    activation-function surveys.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.gaussian(np.array([0.0]))
        array([1.])
    """
    return _exp_neg_square(x, xp)


def d_gaussian(x: Any, xp: Any = np) -> Any:
    return -2.0 * _blocks.times_vanishing(x, _exp_neg_square(x, xp), xp)


def _exp_neg_square(x: Any, xp: Any) -> Any:
    """e^(-x^2) with x^2 = s + e exactly (Dekker), as e^-s (1 - e); 0 beyond |x| = 40."""
    xc = xp.clip(x, -40.0, 40.0)
    s, e = _blocks.two_prod(xc, xc, xp)
    return xp.where(xp.abs(x) > 40.0, 0.0, xp.exp(-s) * (1.0 - e))


def _sinpi_cospi(x: Any, xp: Any) -> tuple[Any, Any]:
    """sin(pi x) and cos(pi x) with exact argument reduction (x mod 2 is exact).

    Both are reduced from |x| (the remainder of a non-negative number is
    exact; for a tiny negative x, x mod 2 would round to 2). The reduced
    argument t lies in [-1/2, 1/2] before it is multiplied by pi,
    so zeros of sin and cos at (half-)integers are hit exactly and large x
    lose nothing to the rounding of pi x.
    """
    ax = xp.abs(x)
    r = xp.remainder(ax, 2.0)  # [0, 2), exact for ax >= 0
    r = xp.where(r > 1.0, r - 2.0, r)  # (-1, 1], exact
    t = xp.where(r > 0.5, 1.0 - r, xp.where(r < -0.5, -1.0 - r, r))
    a = xp.abs(r)
    sinpi = xp.sign(x) * _sin_pi_times(t, xp)
    cospi = xp.where(a < 0.25, xp.cos(_PI_HI * a + _PI_LO * a), _sin_pi_times(0.5 - a, xp))
    return sinpi, cospi


# pi as a double-word constant: in floating point _PI_LO * t is below the
# rounding of _PI_HI * t, but the high-precision oracle then sees pi itself, so
# the reflections sin(pi (1 - r)) = sin(pi r) above hold exactly there too.
_PI_HI = math.pi
_PI_LO = 1.2246467991473532e-16


def _sin_pi_times(t: Any, xp: Any) -> Any:
    return xp.sin(_PI_HI * t + _PI_LO * t)


# sinc'(x) = x * sum_{k>=1} (-1)^k 2k pi^(2k) x^(2k-2) / (2k+1)! near 0, where
# (cos(pi x) - sinc(x)) / x cancels.
_DSINC_SERIES = tuple((-1) ** k * 2 * k * math.pi ** (2 * k) / math.factorial(2 * k + 1) for k in range(1, 17))
_DSINC_SERIES_BELOW = 0.5


def sinc(x: Any, xp: Any = np) -> Any:
    """Normalized sinc: f(x) = sin(pi x) / (pi x), f(0) = 1 (as numpy.sinc and torch.sinc).

    Careful form: sin(pi x) with exact argument reduction, so f vanishes at
    every nonzero integer and large |x| keep full accuracy; f(+-inf) = 0.
    Derivative: f'(x) = (cos(pi x) - f(x)) / x, summed as its power series
    for |x| < 1/2 where the difference cancels; f'(0) = 0, f'(+-inf) = 0.
    Smooth everywhere.
    Reference: Parascandolo, Huttunen & Virtanen, "Taming the waves:
    sine as activation function in deep neural networks" (2016); numpy.sinc.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.sinc(np.array([0.0, 1.0, 0.5]))
        array([1.        , 0.        , 0.63661977])
    """
    sinpi, _ = _sinpi_cospi(x, xp)
    xz = xp.where(x == 0, 1.0, x)
    y = xp.where(x == 0, 1.0, sinpi / (_PI_HI * xz + _PI_LO * xz))
    return xp.where(xp.isinf(x), 0.0, y)


def d_sinc(x: Any, xp: Any = np) -> Any:
    _, cospi = _sinpi_cospi(x, xp)
    small = xp.abs(x) < _DSINC_SERIES_BELOW
    xs = xp.where(small, x, 0.0)
    series = xs * _blocks.polyval(_DSINC_SERIES, xp.square(xs), xp)
    xb = xp.where(small, 1.0, x)
    direct = (cospi - sinc(x, xp)) / xb
    return xp.where(small, series, xp.where(xp.isinf(x), 0.0, direct))


def siren(x: Any, w0: float = 30.0, xp: Any = np) -> Any:
    """SIREN's sine: f(x) = sin(w0 x), default w0 = 30 (trainable).

    Derivatives: df/dx = w0 cos(w0 x); df/d(w0) = x cos(w0 x). NaN at +-inf
    (no limit). Careful form: w0 x is formed exactly as p + e (Dekker's
    product) and sin(p + e) = sin p + e cos p, so the rounding of w0 x (which
    alone costs |w0 x| eps, hundreds of ULP at |x| = 100) does not reach the
    result; the built-ins' sin(w0 * x) keeps that error. Smooth everywhere.
    Reference: Sitzmann et al., "Implicit Neural Representations with
    Periodic Activation Functions" (NeurIPS 2020).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.siren(np.array([0.0]))
        array([0.])
    """
    p, e = _siren_argument(x, w0, xp)
    return xp.sin(p) * xp.cos(e) + xp.cos(p) * xp.sin(e)


def d_siren(x: Any, w0: float = 30.0, xp: Any = np) -> Any:
    p, e = _siren_argument(x, w0, xp)
    c = xp.cos(p) * xp.cos(e) - xp.sin(p) * xp.sin(e)
    return w0 * c, x * c


def _siren_argument(x: Any, w0: Any, xp: Any) -> tuple[Any, Any]:
    """w0 x = p + e exactly (Dekker): the rounding of w0 x alone costs ~|w0 x| eps in sin.

    sin(p + e) is then expanded exactly (e may exceed 1 when |w0 x| > 2^24 in
    float32). Where the split overflows (|x| near the dtype's max) e is dropped.
    """
    p, e = _blocks.two_prod(w0, x, xp)
    return p, xp.where(xp.isfinite(e), e, 0.0)


def gcu(x: Any, xp: Any = np) -> Any:
    """Growing cosine unit: f(x) = x cos(x).

    Derivative: f'(x) = cos(x) - x sin(x). NaN at +-inf (no limit).
    Smooth everywhere.
    Reference: Noel et al., "Growing Cosine Unit: A Novel Oscillatory
    Activation Function That Can Speedup Training and Reduce Parameters in
    Convolutional Neural Networks" (2021).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.gcu(np.array([0.0, np.pi]))
        array([ 0.        , -3.14159265])
    """
    return x * xp.cos(x)


def d_gcu(x: Any, xp: Any = np) -> Any:
    return xp.cos(x) - x * xp.sin(x)


define("serf", fn=serf, grad=d_serf, family="research")
_SMISH_WHY = (
    "x * s(2+s) / (s(2+s) + 2) with s = sigmoid(x) chains five roundings; measured 5 float32 "
    "ULP at isolated points (x ~ -7.6, -4.2), and native vs bridge 5 apart at x ~ -1.5"
)
define(
    "smish", fn=smish, grad=d_smish, family="research",
    tolerances={"float32:value": (6, _SMISH_WHY), "float32:bridge:value": (6, _SMISH_WHY),
                "float32:cross:value": (6, _SMISH_WHY)},
)
define("logish", fn=logish, grad=d_logish, family="research")
define("tanhexp", fn=tanhexp, grad=d_tanhexp, family="research")
define("lisht", fn=lisht, grad=d_lisht, family="research")
define("elish", fn=elish, grad=d_elish, kinks={0.0: 0.5}, family="research")
define("hard_elish", fn=hard_elish, grad=d_hard_elish, kinks={-1.0: 0.0, 0.0: 0.5, 1.0: 1.0}, family="research")
define("penalized_tanh", fn=penalized_tanh, grad=d_penalized_tanh, kinks={0.0: _PENALTY}, family="research", monotonic=True)
define("isrlu", fn=isrlu, grad=d_isrlu, params={"alpha": 1.0}, family="research", monotonic=True)
define("bent_identity", fn=bent_identity, grad=d_bent_identity, family="research", monotonic=True)
define("gaussian", fn=gaussian, grad=d_gaussian, family="research")
define("sinc", fn=sinc, grad=d_sinc, family="research", twins=(Twin("torch", "torch.sinc", {}, "its backward cancels near 0"),))
define("siren", fn=siren, grad=d_siren, params={"w0": 30.0}, aliases=("sine",), family="research")
define("gcu", fn=gcu, grad=d_gcu, aliases=("growing_cosine_unit",), family="research")
