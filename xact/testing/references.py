"""Published definitions of the catalogue's activations, as independent oracles.

The high-precision oracle of :mod:`xact.testing.oracles` runs a spec's *own*
code on mpmath numbers, so it inherits the spec's rounded constants: a
``1/sqrt(2)`` typed as one double is exact to that oracle. This module holds,
for each catalogue spec with a published definition, that definition written
again, separately from the spec code, as an mpmath expression with the exact
constants (``sqrt(2/pi)`` and ``0.044715`` as the paper prints them, SELU's
constants to 32 digits, ``1.702`` as a decimal), together with its derivative
in x. Conformance measures every framework against both.

Expressions are rewritten only by exact identities where a literal reading
would need an astronomically large intermediate (``1 + tanh(u) = 2 sigmoid(2u)``,
``log(1 + e^x) = max(x, 0) + log(1 + e^-|x|)``); cancellation is left to the
evaluator, which raises the working precision until two precisions agree.

Nothing here imports a framework or any ``xact.catalogue`` module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
from mpmath.libmp import libmpf

__all__ = ["PUBLISHED", "Published", "evaluate", "published_for"]

mpf = mpmath.mpf
_ONE = mpf(1)
#: beyond these |arguments| exp/erfc are replaced by a stand-in of the same
#: magnitude class (2^(+-2^40)): no float of any dtype can tell the difference.
_BIG_ARG = mpf(2) ** 24


def _exp(v: Any) -> Any:
    if v > _BIG_ARG:
        return mpmath.ldexp(_ONE, 2**40)
    if v < -_BIG_ARG:  # far smaller than 1 / the stand-in above, so e^x e^(-2 e^x) stays tiny
        return mpmath.ldexp(_ONE, -(2**44))
    return mpmath.exp(v)


def _expm1(v: Any) -> Any:
    if v < -_BIG_ARG:
        return -_ONE
    if v > _BIG_ARG:
        return _exp(v)
    return mpmath.expm1(v)


def _erfc(v: Any) -> Any:
    if v > _BIG_ARG:
        return mpmath.ldexp(_ONE, -(2**44))
    if v < -_BIG_ARG:
        return mpf(2)
    return mpmath.erfc(v)


def _erf(v: Any) -> Any:
    if abs(v) > _BIG_ARG:
        return mpmath.sign(v) * (1 - _erfc(abs(v)))
    return mpmath.erf(v)


def _sig(z: Any) -> Any:
    """The logistic function 1 / (1 + e^-z)."""
    return 1 / (1 + _exp(-z))


def _softplus(z: Any) -> Any:
    """log(1 + e^z), as max(z, 0) + log(1 + e^-|z|) (the same number)."""
    return max(z, 0) + mpmath.log1p(_exp(-abs(z)))


def _tanh(z: Any) -> Any:
    if abs(z) > _BIG_ARG:  # 1 - tanh|z| = 2e^(-2|z|) / (1 + e^(-2|z|))
        return mpmath.sign(z) * (1 - 2 * _exp(-2 * abs(z)))
    return mpmath.tanh(z)


def _sech2(z: Any) -> Any:
    if abs(z) > _BIG_ARG:
        return 4 * _exp(-2 * abs(z))
    return mpmath.sech(z) ** 2


def _step(cond: bool) -> Any:
    return _ONE if cond else mpf(0)


@dataclass(frozen=True)
class Published:
    """One published definition: value and x-derivative as mpmath expressions.

    ``value(x, **params)`` and ``grad(x, **params)`` take mpf arguments and
    return an mpf at the current working precision; ``source`` cites the
    definition (paper or framework documentation).
    """

    name: str
    value: Callable[..., Any]
    grad: Callable[..., Any]
    source: str


PUBLISHED: dict[str, Published] = {}


def _pub(name: str, source: str, value: Callable[..., Any], grad: Callable[..., Any]) -> None:
    PUBLISHED[name] = Published(name, value, grad, source)


# ----------------------------------------------------------------- GELU family
_SQRT2 = mpmath.sqrt(2)


def _gelu(x: Any) -> Any:  # x Phi(x), Phi(x) = erfc(-x / sqrt 2) / 2
    return x * _erfc(-x / mpmath.sqrt(2)) / 2


def _d_gelu(x: Any) -> Any:
    return _erfc(-x / mpmath.sqrt(2)) / 2 + x * _exp(-x * x / 2) / mpmath.sqrt(2 * mpmath.pi)


_pub("gelu", "Hendrycks & Gimpel (2016), GELU(x) = x Phi(x)", _gelu, _d_gelu)

_GELU_K = "0.044715"  # as printed in the paper


def _gelu_tanh_u(x: Any) -> tuple[Any, Any]:
    c = mpmath.sqrt(2 / mpmath.pi)
    k = mpf(_GELU_K)
    return c * (x + k * x**3), c * (1 + 3 * k * x * x)


def _gelu_tanh(x: Any) -> Any:  # x/2 (1 + tanh u) = x sigmoid(2u)
    u, _ = _gelu_tanh_u(x)
    return x * _sig(2 * u)


def _d_gelu_tanh(x: Any) -> Any:
    u, du = _gelu_tanh_u(x)
    return _sig(2 * u) + x * 2 * du * _sig(2 * u) * _sig(-2 * u)


_pub("gelu_tanh", "Hendrycks & Gimpel (2016), 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))",
     _gelu_tanh, _d_gelu_tanh)


def _swish(x: Any, b: Any) -> Any:
    return x * _sig(b * x)


def _d_swish(x: Any, b: Any) -> Any:
    return _sig(b * x) + b * x * _sig(b * x) * _sig(-b * x)


_pub("quick_gelu", "Hendrycks & Gimpel (2016) sec. 2, x sigmoid(1.702x)",
     lambda x: _swish(x, mpf("1.702")), lambda x: _d_swish(x, mpf("1.702")))
_pub("silu", "Elfwing et al. (2017), x sigmoid(x)", lambda x: _swish(x, _ONE), lambda x: _d_swish(x, _ONE))
_pub("swish_beta", "Ramachandran et al. (2017), x sigmoid(beta x)",
     lambda x, beta: _swish(x, beta), lambda x, beta: _d_swish(x, beta))


def _mish(x: Any) -> Any:
    return x * _tanh(_softplus(x))


def _d_mish(x: Any) -> Any:
    sp = _softplus(x)
    return _tanh(sp) + x * _sech2(sp) * _sig(x)


_pub("mish", "Misra (2019), x tanh(softplus(x))", _mish, _d_mish)

# ----------------------------------------------------------------- softplus, sigmoids
_pub("softplus", "Dugas et al. (2001), log(1 + e^x)", _softplus, _sig)


def _softplus_beta(x: Any, beta: Any, threshold: Any) -> Any:
    z = beta * x
    return x if z > threshold else _softplus(z) / beta


def _d_softplus_beta(x: Any, beta: Any, threshold: Any) -> Any:
    z = beta * x
    return _ONE if z > threshold else _sig(z)


_pub("softplus_beta", "torch.nn.Softplus docs: log(1 + e^(beta x)) / beta, x where beta x > threshold",
     _softplus_beta, _d_softplus_beta)
_pub("sigmoid", "logistic function 1 / (1 + e^-x)", _sig, lambda x: _sig(x) * _sig(-x))
_pub("tanh", "tanh(x)", _tanh, _sech2)
_pub("log_sigmoid", "log(1 / (1 + e^-x))", lambda x: -_softplus(-x), lambda x: _sig(-x))
_pub("softsign", "Bergstra et al. (2009), x / (1 + |x|)", lambda x: x / (1 + abs(x)),
     lambda x: 1 / (1 + abs(x)) ** 2)
_pub("arctan", "arctan(x)", mpmath.atan, lambda x: 1 / (1 + x * x))
_pub("lecun_tanh", "LeCun et al. (1998), 1.7159 tanh(2x/3)",
     lambda x: mpf("1.7159") * _tanh(2 * x / 3), lambda x: mpf("1.7159") * 2 * _sech2(2 * x / 3) / 3)


def _isru(x: Any, alpha: Any) -> Any:
    return x / mpmath.sqrt(1 + alpha * x * x)


def _d_isru(x: Any, alpha: Any) -> Any:
    return (1 + alpha * x * x) ** mpf(-1.5)


_pub("isru", "Carlile et al. (2017), x / sqrt(1 + alpha x^2)", _isru, _d_isru)
_pub("isrlu", "Carlile et al. (2017), x for x >= 0, x / sqrt(1 + alpha x^2) otherwise",
     lambda x, alpha: x if x >= 0 else _isru(x, alpha),
     lambda x, alpha: _ONE if x >= 0 else _d_isru(x, alpha))

# ----------------------------------------------------------------- ELU family
_SELU_ALPHA = mpf("1.6732632423543772848170429916717")  # Klambauer et al. (2017)
_SELU_SCALE = mpf("1.0507009873554804934193349852946")

_pub("elu", "Clevert et al. (2015), x for x > 0, alpha (e^x - 1) otherwise",
     lambda x, alpha: x if x > 0 else alpha * _expm1(x),
     lambda x, alpha: _ONE if x > 0 else alpha * _exp(x))
_pub("celu", "Barron (2017), x for x > 0, alpha (e^(x/alpha) - 1) otherwise",
     lambda x, alpha: x if x > 0 else alpha * _expm1(x / alpha),
     lambda x, alpha: _ONE if x > 0 else _exp(x / alpha))
_pub("selu", "Klambauer et al. (2017), lambda (x if x > 0 else alpha (e^x - 1)), 32-digit constants",
     lambda x: _SELU_SCALE * (x if x > 0 else _SELU_ALPHA * _expm1(x)),
     lambda x: _SELU_SCALE * (_ONE if x > 0 else _SELU_ALPHA * _exp(x)))
_pub("pelu", "Trottier et al. (2017), (a/b) x for x >= 0, a (e^(x/b) - 1) otherwise",
     lambda x, a, b: a * x / b if x >= 0 else a * _expm1(x / b),
     lambda x, a, b: a / b if x >= 0 else a * _exp(x / b) / b)

# ----------------------------------------------------------------- piecewise linear
_pub("relu", "max(x, 0)", lambda x: max(x, mpf(0)), lambda x: _step(x > 0))
_pub("leaky_relu", "Maas et al. (2013), x for x > 0, negative_slope x otherwise",
     lambda x, negative_slope: x if x > 0 else negative_slope * x,
     lambda x, negative_slope: _ONE if x > 0 else negative_slope)
_pub("prelu", "He et al. (2015), x for x > 0, weight x otherwise",
     lambda x, weight: x if x > 0 else weight * x, lambda x, weight: _ONE if x > 0 else weight)
_pub("rrelu", "Xu et al. (2015), eval mode: slope (lower + upper) / 2",
     lambda x, lower, upper: x if x > 0 else (lower + upper) / 2 * x,
     lambda x, lower, upper: _ONE if x > 0 else (lower + upper) / 2)
_pub("relu6", "min(max(x, 0), 6)", lambda x: min(max(x, mpf(0)), mpf(6)), lambda x: _step(0 < x < 6))
_pub("relu_squared", "So et al. (2021), max(x, 0)^2", lambda x: max(x, mpf(0)) ** 2,
     lambda x: 2 * max(x, mpf(0)))
_pub("hard_sigmoid", "relu6(x + 3) / 6", lambda x: min(max(x + 3, mpf(0)), mpf(6)) / 6,
     lambda x: _step(-3 < x < 3) / 6)
_pub("hard_sigmoid_onnx", "ONNX HardSigmoid, max(0, min(1, alpha x + beta))",
     lambda x, alpha, beta: min(max(alpha * x + beta, mpf(0)), _ONE),
     lambda x, alpha, beta: alpha * _step(0 < alpha * x + beta < 1))
_pub("hard_silu", "Howard et al. (2019), x relu6(x + 3) / 6",
     lambda x: x * min(max(x + 3, mpf(0)), mpf(6)) / 6,
     lambda x: _ONE if x >= 3 else ((2 * x + 3) / 6 if x > -3 else mpf(0)))
_pub("hard_tanh", "min(max(x, min_val), max_val)",
     lambda x, min_val, max_val: min(max(x, min_val), max_val),
     lambda x, min_val, max_val: _step(min_val < x < max_val))
_pub("linear", "x", lambda x: x, lambda x: _ONE)
_pub("square", "x^2", lambda x: x * x, lambda x: 2 * x)
_pub("exponential", "e^x", _exp, _exp)
_pub("sparse_plus", "Martins & Astudillo (2016) / keras, 0, (x + 1)^2 / 4, x",
     lambda x: mpf(0) if x <= -1 else ((x + 1) ** 2 / 4 if x < 1 else x),
     lambda x: mpf(0) if x <= -1 else ((x + 1) / 2 if x < 1 else _ONE))
_pub("sparse_sigmoid", "keras sparse_sigmoid, 0, (x + 1) / 2, 1",
     lambda x: mpf(0) if x <= -1 else ((x + 1) / 2 if x < 1 else _ONE),
     lambda x: mpf(0.5) if -1 < x < 1 else mpf(0))
_pub("sqnl", "Wuraola & Patel (2018), x - x|x|/4 on [-2, 2], sign(x) outside",
     lambda x: x - x * abs(x) / 4 if abs(x) <= 2 else mpmath.sign(x),
     lambda x: 1 - abs(x) / 2 if abs(x) <= 2 else mpf(0))
_pub("penalized_tanh", "Xu et al. (2016), tanh(x) for x > 0, 0.25 tanh(x) otherwise",
     lambda x: _tanh(x) if x > 0 else _tanh(x) / 4, lambda x: _sech2(x) if x > 0 else _sech2(x) / 4)
_pub("star_relu", "Yu et al. (2022), scale relu(x)^2 + bias",
     lambda x, scale, bias: scale * max(x, mpf(0)) ** 2 + bias,
     lambda x, scale, bias: 2 * scale * max(x, mpf(0)))

# ----------------------------------------------------------------- shrinks, thresholds
_pub("tanh_shrink", "x - tanh(x)", lambda x: x - _tanh(x), lambda x: _tanh(x) ** 2)
_pub("soft_shrink", "Donoho (1995), x - t for x > t, x + t for x < -t, else 0",
     lambda x, threshold: x - threshold if x > threshold else (x + threshold if x < -threshold else mpf(0)),
     lambda x, threshold: _step(abs(x) > threshold))
_pub("hard_shrink", "x for |x| > threshold, else 0",
     lambda x, threshold: x if abs(x) > threshold else mpf(0), lambda x, threshold: _step(abs(x) > threshold))
_pub("shrink", "ONNX Shrink, x + bias for x < -lambd, x - bias for x > lambd, else 0",
     lambda x, lambd, bias: x + bias if x < -lambd else (x - bias if x > lambd else mpf(0)),
     lambda x, lambd, bias: _step(abs(x) > lambd))
_pub("threshold", "torch.nn.Threshold, x for x > threshold, value otherwise",
     lambda x, threshold, value: x if x > threshold else value,
     lambda x, threshold, value: _step(x > threshold))
_pub("thresholded_relu", "Konda et al. (2014), x for x > alpha, else 0",
     lambda x, alpha: x if x > alpha else mpf(0), lambda x, alpha: _step(x > alpha))

# ----------------------------------------------------------------- research units


def _sqrt1(x: Any) -> Any:
    return mpmath.sqrt(x * x + 1)


_pub("bent_identity", "x + (sqrt(x^2 + 1) - 1) / 2", lambda x: x + (_sqrt1(x) - 1) / 2,
     lambda x: 1 + x / (2 * _sqrt1(x)))
_pub("elish", "Basirat & Roth (2018), x sigmoid(x) for x >= 0, (e^x - 1) sigmoid(x) otherwise",
     lambda x: x * _sig(x) if x >= 0 else _expm1(x) * _sig(x),
     lambda x: (_sig(x) + x * _sig(x) * _sig(-x)) if x >= 0
     else _exp(x) * _sig(x) + _expm1(x) * _sig(x) * _sig(-x))
_pub("gaussian", "e^(-x^2)", lambda x: _exp(-x * x), lambda x: -2 * x * _exp(-x * x))
_pub("gcu", "Noel et al. (2021), x cos(x)", lambda x: x * mpmath.cos(x),
     lambda x: mpmath.cos(x) - x * mpmath.sin(x))
_pub("lisht", "Roy et al. (2019), x tanh(x)", lambda x: x * _tanh(x), lambda x: _tanh(x) + x * _sech2(x))


def _logish(x: Any) -> Any:
    return x * mpmath.log1p(_sig(x))


def _d_logish(x: Any) -> Any:
    s = _sig(x)
    return mpmath.log1p(s) + x * s * _sig(-x) / (1 + s)


_pub("logish", "Zhu et al. (2021), x log(1 + sigmoid(x))", _logish, _d_logish)


def _smish(x: Any) -> Any:
    return x * _tanh(mpmath.log1p(_sig(x)))


def _d_smish(x: Any) -> Any:
    s = _sig(x)
    w = mpmath.log1p(s)
    return _tanh(w) + x * _sech2(w) * s * _sig(-x) / (1 + s)


_pub("smish", "Wang et al. (2022), x tanh(log(1 + sigmoid(x)))", _smish, _d_smish)


def _serf(x: Any) -> Any:
    return x * _erf(_softplus(x))


def _d_serf(x: Any) -> Any:
    sp = _softplus(x)
    return _erf(sp) + x * 2 / mpmath.sqrt(mpmath.pi) * _exp(-sp * sp) * _sig(x)


_pub("serf", "Nag & Bhattacharyya (2021), x erf(log(1 + e^x))", _serf, _d_serf)


def _tanhexp(x: Any) -> Any:
    return x * _tanh(_exp(x))


def _d_tanhexp(x: Any) -> Any:
    e = _exp(x)
    return _tanh(e) + x * e * _sech2(e)


_pub("tanhexp", "Liu & Di (2020), x tanh(e^x)", _tanhexp, _d_tanhexp)


def _sinc(x: Any) -> Any:
    return _ONE if x == 0 else mpmath.sin(mpmath.pi * x) / (mpmath.pi * x)


def _d_sinc(x: Any) -> Any:
    return mpf(0) if x == 0 else (mpmath.cos(mpmath.pi * x) - _sinc(x)) / x


_pub("sinc", "sin(pi x) / (pi x), 1 at 0 (numpy.sinc)", _sinc, _d_sinc)
_pub("siren", "Sitzmann et al. (2020), sin(w0 x)", lambda x, w0: mpmath.sin(w0 * x),
     lambda x, w0: w0 * mpmath.cos(w0 * x))
_pub("snake", "Ziyin et al. (2020), x + sin(alpha x)^2 / alpha",
     lambda x, alpha: x + mpmath.sin(alpha * x) ** 2 / alpha, lambda x, alpha: 1 + mpmath.sin(2 * alpha * x))


# --------------------------------------------------------------------------- evaluation


def published_for(name: str) -> Published | None:
    """The published definition of a catalogue spec, or None."""
    return PUBLISHED.get(name)


#: working precisions: two to compare, then a high one where they disagree.
PRECISIONS = (128, 256, 2048)


def _to_hi_lo(v: Any) -> tuple[float, float]:
    if not mpmath.isfinite(v):
        return float(v), 0.0
    h = libmpf.to_float(v._mpf_, rnd=libmpf.round_nearest)
    if not math.isfinite(h):
        return h, 0.0
    return h, libmpf.to_float((v - h)._mpf_, rnd=libmpf.round_nearest)


def evaluate(pub: Published, xs: np.ndarray, params: Mapping[str, float],
             quantity: str = "value") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(hi, lo, ok)``: the published value or x-derivative at ``xs`` as double-double.

    Each point is evaluated at 128 and 256 bits and, where the float64
    roundings differ or both are 0 at x != 0 (cancellation: x - tanh x is 0 to
    both at x = 1e-44), at 2048 bits. ``ok`` is False where the
    expression raised (e.g. outside its domain) or ``x`` is not finite.
    """
    f = pub.value if quantity == "value" else pub.grad
    xs = np.asarray(xs, dtype=np.float64)
    hi = np.full(len(xs), np.nan)
    lo = np.zeros(len(xs))
    ok = np.zeros(len(xs), dtype=bool)
    for i, x in enumerate(xs):
        if not math.isfinite(x):
            continue
        vals = []
        try:
            for prec in PRECISIONS:
                with mpmath.workprec(prec):
                    v = f(mpf(float(x)), **{k: mpf(float(p)) for k, p in params.items()})
                    vals.append(_to_hi_lo(+v))
                if len(vals) >= 2 and vals[-1][0] == vals[-2][0] and (vals[-1][0] != 0 or x == 0) and (
                        vals[-1][1] == vals[-2][1] or abs(vals[-1][1] - vals[-2][1]) <= 2.0**-40 * abs(vals[-1][1])):
                    break
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            continue
        hi[i], lo[i] = vals[-1]
        ok[i] = True
    return hi, lo, ok
