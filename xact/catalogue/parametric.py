"""Parametric units whose parameters are meant to be trained.

Every parameter has its elementwise partial in ``grad``, so any of them can
be a trainable tensor (``xact.torch.Activation(name, trainable=True)``).
Where a unit is a special case of another spec (prelu of leaky_relu), it
calls that spec's formula; star_relu's forward is compensated near its root,
so it does not reuse relu_squared there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xact.catalogue import _blocks
from xact.catalogue.rectifiers import d_leaky_relu, leaky_relu, relu_squared
from xact.spec import Twin, define


def prelu(x: Any, weight: float = 0.25, xp: Any = np) -> Any:
    """Parametric ReLU: f(x) = x for x > 0, weight * x otherwise (leaky_relu with a trainable slope).

    Default weight 0.25 (torch.nn.PReLU's init; keras.layers.PReLU starts at 0).
    Derivatives: df/dx = 1 for x > 0, weight otherwise; df/d(weight) = 0 for
    x > 0, x otherwise.
    Convention at the kink: f'(0) = weight (as torch and Keras).
    Reference: He et al., "Delving Deep into Rectifiers" (2015); torch.nn.PReLU.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.prelu(np.array([-4.0, 2.0]))
        array([-1.,  2.])
    """
    return leaky_relu(x, weight, xp)


def d_prelu(x: Any, weight: float = 0.25, xp: Any = np) -> Any:
    return d_leaky_relu(x, weight, xp)


def swish_beta(x: Any, beta: float = 1.0, xp: Any = np) -> Any:
    """Swish with a trainable beta: f(x) = x * sigmoid(beta x).

    Careful form: the careful sigmoid of beta x formed as an exact double-word
    product (the sigmoid's tail amplifies the rounding of beta x by |beta x|);
    f = 0 where beta x = -inf.
    Derivatives, with z = beta x and s = sigmoid(z):
    df/dx = s + z s(1 - s); df/d(beta) = x^2 s(1 - s), evaluated as
    x (x s(1 - s)) so that nothing overflows before s(1 - s) underflows; the
    terms that vanish at infinity are taken as 0 there. beta = 0 with an
    infinite x is not supported (beta x is NaN). Smooth everywhere.
    Reference: Ramachandran, Zoph & Le, "Searching for Activation Functions"
    (2017); tf.nn.silu(x, beta).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.swish_beta(np.array([0.0, 2.0]), beta=0.0)
        array([0., 1.])
    """
    return swish_scaled(x, beta, xp)


def swish_scaled(x: Any, beta: Any, xp: Any, beta_lo: float = 0.0) -> Any:
    """x sigmoid((beta + beta_lo) x): swish_beta with a double-word constant beta."""
    z = beta * x
    s, _ = _sigmoid_of_product(beta, x, xp, beta_lo)
    return xp.where(z == -xp.inf, 0.0, x * s)


# Beyond |beta x| = 800 the sigmoid is saturated in every dtype.
_SATURATED = 800.0


def _sigmoid_of_product(beta: Any, x: Any, xp: Any, beta_lo: float = 0.0) -> tuple[Any, Any]:
    """sigmoid(beta x) and its derivative, with beta x formed exactly as hi + lo.

    sigmoid(z) ~ e^z for z -> -inf amplifies the rounding of z = beta x by |z|;
    a first-order correction in lo removes it: s(hi + lo) = s(hi) + s'(hi) lo,
    s'(hi + lo) = s'(hi) (1 + (1 - 2 s(hi)) lo). With beta = 1, lo = 0.
    """
    z = beta * x
    moderate = xp.abs(z) < _SATURATED
    xm = xp.where(moderate, x, 0.0)
    if isinstance(beta, float):
        hi, lo = _blocks.scale_exact(beta, xm, xp, beta_lo)
    else:
        hi, lo = _blocks.two_prod(beta, xm, xp)
    s0 = _blocks.sigmoid(hi, xp)
    sp0 = _blocks.sigmoid_prime(hi, xp)
    s = xp.where(moderate, s0 + sp0 * lo, _blocks.sigmoid(z, xp))
    sp = xp.where(moderate, sp0 * (1.0 + (1.0 - 2.0 * s0) * lo), _blocks.sigmoid_prime(z, xp))
    return s, sp


def d_swish_beta(x: Any, beta: float = 1.0, xp: Any = np) -> Any:
    return d_swish_scaled(x, beta, xp)


def d_swish_scaled(x: Any, beta: Any, xp: Any, beta_lo: float = 0.0) -> Any:
    """The derivatives of :func:`swish_scaled` in x and beta."""
    z = beta * x
    s, sp = _sigmoid_of_product(beta, x, xp, beta_lo)
    dx = s + _blocks.times_vanishing(z, sp, xp)
    dbeta = _blocks.times_vanishing(x, _blocks.times_vanishing(x, sp, xp), xp)
    return dx, dbeta


def snake(x: Any, alpha: float = 1.0, xp: Any = np) -> Any:
    """Snake: f(x) = x + sin(alpha x)^2 / alpha, alpha > 0 (default 1).

    f(+-inf) = +-inf; alpha = 0 is excluded (the limit there is x).
    Derivatives: df/dx = 1 + sin(2 alpha x);
    df/d(alpha) = (z sin 2z - sin^2 z) / alpha^2 with z = alpha x (sin 2z as
    2 sin z cos z, which cannot overflow). At +-inf
    the derivatives have no limit and are NaN. Smooth everywhere.
    Reference: Liu Ziyin, Hartwig & Ueda, "Neural Networks Fail to Learn
    Periodic Functions and How to Fix It" (NeurIPS 2020).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.snake(np.array([0.0]))
        array([0.])
    """
    z = alpha * x
    plain = x + xp.square(xp.sin(z)) / alpha
    # For z in [-pi, -1/2], x + sin^2 z cancels (f is about -0.28 where
    # sin^2 z is 0.52), multiplying sin's own error by up to 3: a 1.4-ULP
    # float32 sin (TF's, NumPy's) put f 5 ULP off (1.3 ULP now, 20,001 points
    # on [-3.2, 0.5] vs mpmath, every framework). There f = ((z + 1/2) -
    # cos(2z)/2) / alpha: z + 1/2 and 2z are exact, and cos(2z)'s error is
    # scaled by |cos 2z| / 2, which is small where the cancellation is worst.
    trough = ((z + 0.5) - 0.5 * xp.cos(2.0 * z)) / alpha
    in_band = (z >= -3.141592653589793) & (z <= -0.5)
    return xp.where(xp.isinf(x), x, xp.where(in_band, trough, plain))


def d_snake(x: Any, alpha: float = 1.0, xp: Any = np) -> Any:
    z = alpha * x
    sz, cz = xp.sin(z), xp.cos(z)
    sin2z = 2.0 * sz * cz  # not sin(2z): 2z may overflow where z does not
    return 1.0 + sin2z, (z * sin2z - xp.square(sz)) / (alpha * alpha)


def soft_exponential(x: Any, alpha: float = 0.0, xp: Any = np) -> Any:
    """Soft exponential: a family that moves from log through identity to exp with alpha.

    f(x) = -log(1 - alpha (x + alpha)) / alpha   for alpha < 0,
           x                                     for alpha = 0 (the default),
           (e^(alpha x) - 1) / alpha + alpha     for alpha > 0.
    Careful form: log1p and expm1. For alpha < 0 the function exists only for
    x > 1/alpha - alpha (NaN below, where the logarithm's argument is <= 0).
    Derivatives: df/dx = 1 / (1 + w), 1, e^(alpha x) on the three branches,
    with w = -alpha (x + alpha); df/d(alpha) = h(w)/alpha^2 + 1/(1 + w) for
    alpha < 0, where h(w) = log1p(w) - w/(1 + w); 1 + x^2/2 at alpha = 0;
    g(alpha x)/alpha^2 + 1 for alpha > 0, where g(u) = u e^u - (e^u - 1).
    h and g are summed without cancellation near 0 (``_blocks``), so the
    alpha-partial is continuous through alpha = 0. Smooth in x.
    Reference: Godfrey & Gashler, "A continuum among logarithmic, linear, and
    exponential functions, and its potential to improve generalization in
    neural networks" (2015).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.soft_exponential(np.array([0.0, 1.0]), alpha=1.0)
        array([1.        , 2.71828183])
    """
    alpha = alpha + xp.zeros_like(x)  # an array, so the branch masks are arrays on every backend
    a_pos = xp.where(alpha > 0, alpha, 1.0)
    a_neg = xp.where(alpha < 0, alpha, -1.0)
    exp_branch = xp.expm1(a_pos * x) / a_pos + a_pos
    log_branch = -xp.log1p(_soft_exponential_w(x, alpha, a_neg, xp)) / a_neg
    return xp.where(alpha > 0, exp_branch, xp.where(alpha < 0, log_branch, x))


def _soft_exponential_w(x: Any, alpha: Any, a_neg: Any, xp: Any) -> Any:
    """w = -alpha (x + alpha) where alpha < 0 and the log's argument 1 + w is positive; else NaN.

    Outside the domain (and off the alpha < 0 branch, as 0) nothing divides by 0.
    """
    w = -a_neg * (x + a_neg)
    return xp.where(alpha < 0, xp.where(w > -1.0, w, xp.nan), 0.0)


def d_soft_exponential(x: Any, alpha: float = 0.0, xp: Any = np) -> Any:
    alpha = alpha + xp.zeros_like(x)
    a_pos = xp.where(alpha > 0, alpha, 1.0)
    a_neg = xp.where(alpha < 0, alpha, -1.0)
    u = a_pos * x
    w = _soft_exponential_w(x, alpha, a_neg, xp)
    inv = 1.0 / (1.0 + w)
    dx = xp.where(alpha > 0, xp.exp(u), xp.where(alpha < 0, inv, 1.0))
    d_pos = _blocks.u_exp_minus_expm1(u, xp) / (a_pos * a_pos) + 1.0
    d_neg = _blocks.log1p_minus_ratio(w, xp) / (a_neg * a_neg) + inv
    d_zero = 1.0 + (0.5 * x) * x  # not 0.5 * x^2: x^2 overflows first
    return dx, xp.where(alpha > 0, d_pos, xp.where(alpha < 0, d_neg, d_zero))


def pelu(x: Any, a: float = 1.0, b: float = 1.0, xp: Any = np) -> Any:
    """Parametric ELU: f(x) = (a/b) x for x >= 0, a (e^(x/b) - 1) otherwise; a, b > 0.

    Derivatives: df/dx = a/b for x >= 0, (a/b) e^(x/b) otherwise (continuous:
    f is C^1, 0 is a kink of f''); df/da = x/b or e^(x/b) - 1;
    df/db = -a x / b^2 or -a x e^(x/b) / b^2 (0 at -inf).
    Reference: Trottier, Giguere & Chaib-draa, "Parametric Exponential Linear
    Unit for Deep Convolutional Neural Networks" (2017).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.pelu(np.array([2.0]), a=1.0, b=2.0)
        array([1.])
    """
    return xp.where(x >= 0, (a / b) * x, a * xp.expm1(xp.minimum(x, 0.0) / b))


def d_pelu(x: Any, a: float = 1.0, b: float = 1.0, xp: Any = np) -> Any:
    pos = x >= 0
    e = xp.exp(xp.minimum(x, 0.0) / b)
    dx = xp.where(pos, a / b, (a / b) * e)
    da = xp.where(pos, x / b, xp.expm1(xp.minimum(x, 0.0) / b))
    db = xp.where(pos, -(a / (b * b)) * x, -(a / (b * b)) * _blocks.times_vanishing(x, e, xp))
    return dx, da, db


def srelu(
    x: Any,
    t_left: float = -1.0,
    a_left: float = 0.1,
    t_right: float = 1.0,
    a_right: float = 0.1,
    xp: Any = np,
) -> Any:
    """S-shaped ReLU: identity between two thresholds, lines of learnable slope outside.

    f(x) = t_right + a_right (x - t_right)  for x >= t_right,
           x                                for t_left < x < t_right,
           t_left + a_left (x - t_left)     for x <= t_left.
    Defaults are xact's (t = -+1, slopes 0.1): the paper learns all four per
    channel. Slopes must be nonzero for f(+-inf) to be +-inf.
    Derivatives: df/dx = a_left, 1, a_right on the three pieces;
    df/d(t_left) = 1 - a_left and df/d(a_left) = x - t_left for x <= t_left;
    df/d(t_right) = 1 - a_right and df/d(a_right) = x - t_right for
    x >= t_right; 0 elsewhere.
    Convention at the kinks: the outer piece's slope (the paper's <= and >=).
    Reference: Jin et al., "Deep Learning with S-shaped Rectified Linear
    Activation Units" (AAAI 2016).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.srelu(np.array([-11.0, 0.5, 11.0]))
        array([-2. ,  0.5,  2. ])
    """
    right = t_right + a_right * (x - t_right)
    left = t_left + a_left * (x - t_left)
    return xp.where(x >= t_right, right, xp.where(x <= t_left, left, x))


def d_srelu(
    x: Any,
    t_left: float = -1.0,
    a_left: float = 0.1,
    t_right: float = 1.0,
    a_right: float = 0.1,
    xp: Any = np,
) -> Any:
    r = x >= t_right
    lft = (x <= t_left) & ~r
    dx = xp.where(r, a_right, xp.where(lft, a_left, 1.0))
    return (
        dx,
        xp.where(lft, 1.0 - a_left, 0.0),
        xp.where(lft, x - t_left, 0.0),
        xp.where(r, 1.0 - a_right, 0.0),
        xp.where(r, x - t_right, 0.0),
    )


_STAR_SCALE = 0.8944271909999159  # 2 / sqrt(5): unit variance under a standard normal
_STAR_BIAS = -0.4472135954999579  # -1 / sqrt(5): zero mean


def star_relu(x: Any, scale: float = _STAR_SCALE, bias: float = _STAR_BIAS, xp: Any = np) -> Any:
    """StarReLU: f(x) = scale * relu(x)^2 + bias, scale and bias trainable.

    Defaults 2/sqrt(5) ~ 0.8944 and -1/sqrt(5) ~ -0.4472 (the paper's, which
    make the output zero-mean, unit-variance for standard normal inputs).
    Derivatives: df/dx = 2 scale relu(x) (continuous: 0 is a kink of f'');
    df/d(scale) = relu(x)^2; df/d(bias) = 1.
    Reference: Yu et al., "MetaFormer Baselines for Vision" (2022).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.star_relu(np.array([1.0]), scale=1.0, bias=0.5)
        array([1.5])
    """
    # Near the root (scale r^2 = -bias) the sum cancels, so r^2, scale * r^2 and
    # the sum are formed exactly (Dekker, Knuth) and their errors added back; the
    # constants' own roundings too. Beyond 2^50 (where splitting r^2 would overflow float32)
    # there is nothing to cancel: (scale r) r + bias.
    r = xp.maximum(x, 0.0)
    huge = r > 2.0**50
    rs = xp.where(huge, 0.0, r)
    p, pe = _blocks.two_prod(rs, rs, xp)
    if isinstance(scale, float):
        q, qe = _blocks.scale_exact(scale, p, xp)
    else:
        q, qe = _blocks.two_prod(scale, p, xp)
    b_hi, b_lo = _blocks.split_constant(bias, xp, x)
    total, te = _blocks.two_sum(q, b_hi)
    near_root = total + (te + qe + scale * pe + b_lo)
    return xp.where(huge, (scale * r) * r + bias, near_root)


def d_star_relu(x: Any, scale: float = _STAR_SCALE, bias: float = _STAR_BIAS, xp: Any = np) -> Any:
    # (2 scale) relu(x), not scale (2 relu(x)): 2x overflows for x > max/2 where the slope does not
    return (2.0 * scale) * xp.maximum(x, 0.0), relu_squared(x, xp), xp.ones_like(x)


# Boullé et al.'s type-(3, 2) initialisation, the best rational approximation
# of ReLU on [-1, 1]: P = 1.1915 x^3 + 1.5957 x^2 + 0.5 x + 0.0218, Q = 2.383 x^2 + 1.
_RATIONAL_SCALED_FROM = 1e6
_RATIONAL = {"p0": 0.0218, "p1": 0.5, "p2": 1.5957, "p3": 1.1915, "q0": 1.0, "q1": 0.0, "q2": 2.383}


def _rational_parts(x: Any, p0: Any, p1: Any, p2: Any, p3: Any, q0: Any, q1: Any, q2: Any, xp: Any) -> tuple[Any, ...]:
    """(f, f', [x^k/Q for k = 0..3], g) in the direct form for |x| <= 1e6 and divided by x^2 beyond.

    g is f x / Q for |x| <= 1e6 and f / (x Qn) beyond (Qn = Q / x^2), the factor
    that the q-partials need without forming inf * 0 at +-inf.
    """
    big = xp.abs(x) > _RATIONAL_SCALED_FROM
    xs = xp.where(big, 0.0, x)
    u = 1.0 / xp.where(big, x, 1.0)  # 0 at +-inf
    xb = xp.where(big, x, 1.0)
    # |x| <= 1e6: P, Q, P', Q' as written (x^3 <= 1e18 fits every compute dtype).
    p = _blocks.polyval_compensated((p0, p1, p2, p3), xs, xp)  # P has three roots in [-1, 0]
    q = (q2 * xs + q1) * xs + q0
    dp = (3.0 * p3 * xs + 2.0 * p2) * xs + p1
    dq = 2.0 * q2 * xs + q1
    # |x| > 1e6: everything divided by x^2, so x^3 never overflows.
    qn = q2 + (q1 + q0 * u) * u
    p1n = 3.0 * p3 + (2.0 * p2 + p1 * u) * u
    pq1 = p3 * (2.0 * q2 + q1 * u) + (p2 + (p1 + p0 * u) * u) * (2.0 * q2 + q1 * u) * u
    rest = p2 + (p1 + p0 * u) * u  # P/x^2 = p3 x + rest; (P/x^2) u = p3 + rest u is finite at +-inf
    f = xp.where(big, xb * (p3 / qn) + rest / qn, p / q)
    fu = xp.where(big, (p3 + rest * u) / xp.square(qn), xs * p / xp.square(q))  # f x^-1 / Qn, f / Q
    df = xp.where(big, (p1n * qn - pq1) / xp.square(qn), (dp * q - p * dq) / xp.square(q))
    powers = (
        xp.where(big, xp.square(u) / qn, 1.0 / q),
        xp.where(big, u / qn, xs / q),
        xp.where(big, 1.0 / qn, xp.square(xs) / q),
        xp.where(big, xb / qn, xs * xp.square(xs) / q),
    )
    return f, df, powers, fu


def rational(
    x: Any,
    p0: float = _RATIONAL["p0"],
    p1: float = _RATIONAL["p1"],
    p2: float = _RATIONAL["p2"],
    p3: float = _RATIONAL["p3"],
    q0: float = _RATIONAL["q0"],
    q1: float = _RATIONAL["q1"],
    q2: float = _RATIONAL["q2"],
    xp: Any = np,
) -> Any:
    """Rational (Padé-type) unit of type (3, 2): f(x) = P(x) / Q(x), all seven coefficients trainable.

    P(x) = p0 + p1 x + p2 x^2 + p3 x^3, Q(x) = q0 + q1 x + q2 x^2, initialised
    (the defaults) to Boullé et al.'s best rational approximation of ReLU on
    [-1, 1]: P = 0.0218 + 0.5 x + 1.5957 x^2 + 1.1915 x^3, Q = 1 + 2.383 x^2.
    Careful form: for |x| <= 1e6 the numerator is evaluated by compensated
    Horner with the coefficients split at the working precision (P has three
    roots in [-1, 0] at the defaults, where plain Horner and the float32
    rounding of 1.1915 etc. would leave few correct digits); for |x| > 1e6
    numerator and denominator are divided by x^2 and written in u = 1/x, so
    nothing overflows and f(+-inf) = +-inf.
    Derivatives: df/dx = (P'Q - PQ')/Q^2 (in the same scaled form for |x| > 1e6,
    where the products x * u are simplified to 1 by hand);
    df/dp_k = x^k / Q; df/dq_k = -f x^k / Q. Smooth wherever Q != 0.
    Reference: Boullé, Nakatsukasa & Townsend, "Rational neural networks"
    (NeurIPS 2020); Molina et al., "Padé Activation Units" (ICLR 2020).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.rational(np.array([0.0]))
        array([0.0218])
    """
    return _rational_parts(x, p0, p1, p2, p3, q0, q1, q2, xp)[0]


def d_rational(
    x: Any,
    p0: float = _RATIONAL["p0"],
    p1: float = _RATIONAL["p1"],
    p2: float = _RATIONAL["p2"],
    p3: float = _RATIONAL["p3"],
    q0: float = _RATIONAL["q0"],
    q1: float = _RATIONAL["q1"],
    q2: float = _RATIONAL["q2"],
    xp: Any = np,
) -> Any:
    f, df, powers, g = _rational_parts(x, p0, p1, p2, p3, q0, q1, q2, xp)
    big = xp.abs(x) > _RATIONAL_SCALED_FROM
    u = 1.0 / xp.where(big, x, 1.0)
    xs = xp.where(big, 0.0, x)
    # df/dq_k = -f x^k / Q: q0 -> -f/Q, q1 -> -f x/Q, q2 -> -f x^2/Q (scaled forms for |x| > 1)
    dq0 = xp.where(big, -g * u, -f * powers[0])
    dq1 = xp.where(big, -g, -g)
    dq2 = xp.where(big, -f * powers[2], -g * xs)
    return (df, *powers[:4], dq0, dq1, dq2)


define(
    "prelu",
    fn=prelu,
    grad=d_prelu,
    params={"weight": 0.25},
    kinks=lambda weight: {0.0: weight},
    family="parametric",
    monotonic=True,
    twins=(
        Twin("torch", "torch.nn.functional.prelu", {"weight": 0.25}, "weight is a tensor of shape (1,)"),
        Twin("torch", "torch.nn.PReLU", {"num_parameters": 1, "init": 0.25}),
        Twin(
            "keras",
            "keras.layers.PReLU",
            {"alpha_initializer": {"class_name": "Constant", "config": {"value": 0.25}}},
            "Keras initialises alpha to 0 by default",
        ),
        Twin("onnx", "ai.onnx.PRelu", {"slope": 0.25}, "ONNX operator; slope is an input tensor"),
    ),
)
define(
    "swish_beta",
    fn=swish_beta,
    grad=d_swish_beta,
    params={"beta": 1.0},
    family="parametric",
    twins=(Twin("tf", "tf.nn.silu", {"beta": 1.0}), Twin("tf", "tf.nn.swish", {"beta": 1.0})),
)
define("snake", fn=snake, grad=d_snake, params={"alpha": 1.0}, family="parametric", monotonic=True)
define(
    "soft_exponential",
    fn=soft_exponential,
    grad=d_soft_exponential,
    params={"alpha": 0.0},
    family="parametric",
    monotonic=True,
)
define(
    "pelu",
    fn=pelu,
    grad=d_pelu,
    params={"a": 1.0, "b": 1.0},
    kinks=lambda a, b: {0.0: a / b},
    family="parametric",
    monotonic=True,
)
define(
    "srelu",
    fn=srelu,
    grad=d_srelu,
    params={"t_left": -1.0, "a_left": 0.1, "t_right": 1.0, "a_right": 0.1},
    kinks=lambda t_left, a_left, t_right, a_right: {t_left: a_left, t_right: a_right},
    family="parametric",
    monotonic=True,
)
define(
    "star_relu",
    fn=star_relu,
    grad=d_star_relu,
    params={"scale": _STAR_SCALE, "bias": _STAR_BIAS},
    kinks={0.0: 0.0},
    family="parametric",
    monotonic=True,
)
define("rational", fn=rational, grad=d_rational, params=dict(_RATIONAL), family="parametric")
