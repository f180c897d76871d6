"""The catalogue against the published definitions, and the declared built-in twins.

The conformance engine (``xact.testing``) checks each spec against a
high-precision evaluation of *its own* formula. These tests check the other
half: that the formula is the published one. Each spec has an independent
mpmath transcription of its paper or framework definition here (REFERENCE),
written as the definition reads, without any of the careful rewriting of the
catalogue; the float64 reference values and derivatives must match it. The
declared twins are evaluated in float64 through torch, TF and Keras with their
declared arguments and must compute the same function away from kinks.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import pytest

import xact
import xact.numpy as xnp

mp = mpmath.mp
mpf = mpmath.mpf

SELU_A = mpf("1.6732632423543772848170429916717")
SELU_S = mpf("1.0507009873554804934193349852946")


def _sig(x: Any) -> Any:
    return 1 / (1 + mpmath.exp(-x))


def _sp(x: Any) -> Any:
    return mpmath.log(1 + mpmath.exp(x))


def _clip(x: Any, lo: Any, hi: Any) -> Any:
    return min(max(x, lo), hi)


def _soft_exp(x: Any, alpha: Any) -> Any:
    if alpha < 0:
        return -mpmath.log(1 - alpha * (x + alpha)) / alpha
    if alpha == 0:
        return x
    return (mpmath.exp(alpha * x) - 1) / alpha + alpha


def _shrink(x: Any, lambd: Any, bias: Any) -> Any:
    return x + bias if x < -lambd else (x - bias if x > lambd else mpf(0))


def _srelu(x: Any, t_left: Any, a_left: Any, t_right: Any, a_right: Any) -> Any:
    if x >= t_right:
        return t_right + a_right * (x - t_right)
    if x <= t_left:
        return t_left + a_left * (x - t_left)
    return x


def _rational(x: Any, p0: Any, p1: Any, p2: Any, p3: Any, q0: Any, q1: Any, q2: Any) -> Any:
    return (p0 + p1 * x + p2 * x**2 + p3 * x**3) / (q0 + q1 * x + q2 * x**2)


def _hard_elish(x: Any) -> Any:
    h = _clip((x + 1) / 2, 0, 1)
    return x * h if x >= 0 else (mpmath.exp(x) - 1) * h


#: name -> f(x, **params) as published (paper or framework documentation).
REFERENCE: dict[str, Callable[..., Any]] = {
    "relu": lambda x: max(x, 0),
    "leaky_relu": lambda x, negative_slope: x if x > 0 else negative_slope * x,
    "prelu": lambda x, weight: x if x > 0 else weight * x,
    "rrelu": lambda x, lower, upper: x if x > 0 else (lower + upper) / 2 * x,
    "relu_squared": lambda x: max(x, 0) ** 2,
    "elu": lambda x, alpha: x if x > 0 else alpha * (mpmath.exp(x) - 1),
    "selu": lambda x: SELU_S * (x if x > 0 else SELU_A * (mpmath.exp(x) - 1)),
    "celu": lambda x, alpha: max(0, x) + min(0, alpha * (mpmath.exp(x / alpha) - 1)),
    "relu6": lambda x: _clip(x, 0, 6),
    "hard_tanh": lambda x, min_val, max_val: _clip(x, min_val, max_val),
    "hard_sigmoid": lambda x: _clip(x + 3, 0, 6) / 6,
    "hard_silu": lambda x: x * _clip(x + 3, 0, 6) / 6,
    "hard_sigmoid_onnx": lambda x, alpha, beta: _clip(alpha * x + beta, 0, 1),
    "sparse_sigmoid": lambda x: mpf(0) if x <= -1 else (mpf(1) if x >= 1 else (x + 1) / 2),
    "sparse_plus": lambda x: mpf(0) if x <= -1 else (x if x >= 1 else (x + 1) ** 2 / 4),
    "shrink": _shrink,
    "hard_shrink": lambda x, threshold: x if abs(x) > threshold else mpf(0),
    "soft_shrink": lambda x, threshold: _shrink(x, threshold, threshold),
    "tanh_shrink": lambda x: x - mpmath.tanh(x),
    "threshold": lambda x, threshold, value: x if x > threshold else value,
    "thresholded_relu": lambda x, alpha: x if x > alpha else mpf(0),
    "sigmoid": _sig,
    "tanh": mpmath.tanh,
    "log_sigmoid": lambda x: mpmath.log(1 / (1 + mpmath.exp(-x))),
    "softsign": lambda x: x / (1 + abs(x)),
    "isru": lambda x, alpha: x / mpmath.sqrt(1 + alpha * x * x),
    "sqnl": lambda x: mpf(1) if x > 2 else (x - x * x / 4 if x >= 0 else (x + x * x / 4 if x >= -2 else mpf(-1))),
    "arctan": mpmath.atan,
    "lecun_tanh": lambda x: mpf(1.7159) * mpmath.tanh(mpf(2) / 3 * x),
    "softplus": _sp,
    "softplus_beta": lambda x, beta, threshold: x if beta * x > threshold else _sp(beta * x) / beta,
    "squareplus": lambda x, b: (x + mpmath.sqrt(x * x + b)) / 2,
    "gelu": lambda x: x / 2 * (1 + mpmath.erf(x / mpmath.sqrt(2))),
    "gelu_tanh": lambda x: x / 2 * (1 + mpmath.tanh(mpmath.sqrt(2 / mpmath.pi) * (x + mpf(0.044715) * x**3))),
    "quick_gelu": lambda x: x * _sig(mpf(1.702) * x),
    "silu": lambda x: x * _sig(x),
    "swish_beta": lambda x, beta: x * _sig(beta * x),
    "mish": lambda x: x * mpmath.tanh(_sp(x)),
    "snake": lambda x, alpha: x + mpmath.sin(alpha * x) ** 2 / alpha,
    "soft_exponential": _soft_exp,
    "pelu": lambda x, a, b: a / b * x if x >= 0 else a * (mpmath.exp(x / b) - 1),
    "srelu": _srelu,
    "star_relu": lambda x, scale, bias: scale * max(x, 0) ** 2 + bias,
    "rational": _rational,
    "serf": lambda x: x * mpmath.erf(_sp(x)),
    "smish": lambda x: x * mpmath.tanh(mpmath.log(1 + _sig(x))),
    "logish": lambda x: x * mpmath.log(1 + _sig(x)),
    "tanhexp": lambda x: x * mpmath.tanh(mpmath.exp(x)),
    "lisht": lambda x: x * mpmath.tanh(x),
    "elish": lambda x: x * _sig(x) if x >= 0 else (mpmath.exp(x) - 1) * _sig(x),
    "hard_elish": _hard_elish,
    "penalized_tanh": lambda x: mpmath.tanh(x) if x > 0 else mpf(0.25) * mpmath.tanh(x),
    "isrlu": lambda x, alpha: x if x >= 0 else x / mpmath.sqrt(1 + alpha * x * x),
    "bent_identity": lambda x: (mpmath.sqrt(x * x + 1) - 1) / 2 + x,
    "gaussian": lambda x: mpmath.exp(-x * x),
    "sinc": lambda x: mpf(1) if x == 0 else mpmath.sin(mpmath.pi * x) / (mpmath.pi * x),
    "siren": lambda x, w0: mpmath.sin(w0 * x),
    "gcu": lambda x: x * mpmath.cos(x),
    "linear": lambda x: x,
    "exponential": mpmath.exp,
    "square": lambda x: x * x,
    "spiky": lambda x: (x - mpmath.floor(x)) if x - mpmath.floor(x) <= mpf(1) / 2 else mpf(0),
}

#: Extra parameter sets checked besides the defaults (branches the defaults miss).
EXTRA_PARAMS: dict[str, list[dict[str, float]]] = {
    "soft_exponential": [{"alpha": 0.5}, {"alpha": -0.5}, {"alpha": 1e-3}, {"alpha": -1e-3}],
    "elu": [{"alpha": 2.0}],
    "celu": [{"alpha": 0.5}],
    "swish_beta": [{"beta": 1.7}],
    "pelu": [{"a": 2.0, "b": 0.5}],
    "snake": [{"alpha": 0.3}],
    "isru": [{"alpha": 3.0}],
    "squareplus": [{"b": 0.5}],
    "hard_sigmoid_onnx": [{"alpha": 0.5, "beta": 0.25}],
    "softplus_beta": [{"beta": 2.0, "threshold": 10.0}],
}

POINTS = np.unique(np.concatenate([
    np.linspace(-6.0, 6.0, 61) + 0.0123,
    [-50.0, -20.0, -8.5, -2.7, -0.73, -0.3, -1e-3, -1e-8, 0.0, 1e-8, 1e-3, 0.3, 0.73, 2.7, 8.5, 20.0, 50.0],
]))
LARGE = np.array([-1e6, -1e30, -1e300, 1e6, 1e30, 1e300])
PERIODIC = {"snake", "siren", "gcu", "spiky"}


def _away_from_kinks(spec: xact.Spec, xs: np.ndarray, params: dict[str, float], gap: float = 1e-6) -> np.ndarray:
    kinks = np.array(list(spec.kinks_at(**params)) or [np.inf])
    keep = np.min(np.abs(xs[:, None] - kinks[None, :]), axis=1) > gap
    if spec.name == "spiky":  # every half-integer is a kink
        keep &= np.abs(xs * 2 - np.round(xs * 2)) > gap
    return xs[keep]


def _cases() -> list[Any]:
    out = []
    for name in xact.names():
        spec = xact.get(name)
        for ps in [dict(spec.params), *({**spec.params, **e} for e in EXTRA_PARAMS.get(name, []))]:
            out.append(pytest.param(name, ps, id=f"{name}-{','.join(f'{k}={v:g}' for k, v in ps.items())}"))
    return out


# Enough digits for the published formulas as written (1 + erf(-14), x + sqrt(x^2 + b)
# at x = -1e30) to keep their value through the cancellation they contain.
_DPS = 120


def _ref_values(name: str, xs: np.ndarray, params: dict[str, float]) -> np.ndarray:
    f = REFERENCE[name]
    out = []
    with mp.workdps(_DPS):
        for x in xs:
            try:
                v = f(mpf(float(x)), **{k: mpf(v) for k, v in params.items()})
            except (ValueError, ZeroDivisionError):
                v = mpf("nan")
            except (OverflowError, MemoryError):  # tanh(e^(1e300)): beyond mpmath, not a value
                v = None
            out.append(math.inf * 0 if isinstance(v, mpmath.mpc) else (_UNKNOWN if v is None else float(v)))
    return np.array(out)


_UNKNOWN = -1.2345e-300  # a point whose reference mpmath cannot form; skipped


def test_catalogue_size_and_names() -> None:
    names = xact.names()
    assert len(names) >= 60, f"only {len(names)} distinct specs"
    everything = xact.names(include_aliases=True)
    assert len(everything) == len(set(everything))
    assert all(n.isidentifier() for n in everything)
    for alias, target in {
        "hardswish": "hard_silu", "hard_swish": "hard_silu", "swish": "silu", "logsigmoid": "log_sigmoid",
        "soft_sign": "softsign", "identity": "linear", "hardtanh": "hard_tanh", "hardsigmoid": "hard_sigmoid",
        "hardshrink": "hard_shrink", "softshrink": "soft_shrink", "tanhshrink": "tanh_shrink",
    }.items():
        assert xact.get(alias).name == target


def test_every_spec_has_a_reference_here() -> None:
    assert sorted(REFERENCE) == xact.names()


@pytest.mark.parametrize("name", xact.names())
def test_spec_metadata(name: str) -> None:
    spec = xact.get(name)
    assert spec.takes_xp, "catalogue specs run natively"
    assert spec.family not in ("", "user")
    doc = spec.doc.lower()
    assert "derivative" in doc and ("reference" in doc or name in ("square", "spiky"))
    for twin in spec.twins:
        assert twin.framework in {"torch", "tf", "keras", "onnx", "jax"}
        assert twin.call.split(".")[0] in {"torch", "tf", "keras", "ai", "jax"}


@pytest.mark.parametrize(("name", "params"), _cases())
def test_values_match_published_definition(name: str, params: dict[str, float]) -> None:
    spec = xact.get(name)
    xs = POINTS if name in PERIODIC else np.concatenate([POINTS, LARGE])
    got = xnp.apply(name, xs, **params)
    want = _ref_values(name, xs, params)
    both_nan = (np.isnan(got) & np.isnan(want)) | (want == _UNKNOWN)
    # 2e-14 relative, plus the input's own rounding amplified by the condition
    # number |x f'(x)| (sin(30 x), x + alpha near 0), plus an absolute 1e-80 that
    # only matters for tails and for exact zeros (sinc at the integers).
    with np.errstate(all="ignore"):
        cond = np.nan_to_num(np.abs(xs * xnp.grad(name, xs, **params)), nan=0.0, posinf=0.0)
    close = np.abs(got - want) <= 2e-14 * np.abs(want) + 4 * 2.0**-53 * cond + 1e-80
    close |= got == want
    bad = ~(both_nan | close)
    assert not bad.any(), f"{name}{params}: x={xs[bad][:5]} got={got[bad][:5]} want={want[bad][:5]}"
    assert spec is xact.get(name)


@pytest.mark.parametrize(("name", "params"), _cases())
def test_gradients_match_published_definition(name: str, params: dict[str, float]) -> None:
    spec = xact.get(name)
    xs = _away_from_kinks(spec, POINTS, params)
    if name == "soft_exponential" and params["alpha"] < 0:
        xs = xs[1 - params["alpha"] * (xs + params["alpha"]) > 0.01]
    parts = xnp.grads(name, xs, **params)
    f = REFERENCE[name]
    names = ["x", *spec.params]
    with mp.workdps(40):
        for which, declared in zip(names, parts):
            want = []
            for x in xs:
                p = {k: mpf(v) for k, v in params.items()}
                if which == "x":
                    want.append(float(mpmath.diff(lambda t, p=p: f(t, **p), mpf(float(x)))))
                else:
                    def g(t: Any, x: float = float(x), which: str = which, p: dict[str, Any] = p) -> Any:
                        return f(mpf(x), **{**p, which: t})
                    if name == "soft_exponential" and p[which] == 0:
                        # alpha = 0 joins two branches (C^1 there): differentiate just inside one
                        want.append(float(mpmath.diff(g, mpf("1e-30"))))
                    else:
                        want.append(float(mpmath.diff(g, p[which])))
            want_a = np.array(want)
            ok = np.isclose(declared, want_a, rtol=1e-11, atol=1e-13)
            assert ok.all(), (
                f"{name}{params} d/d{which}: x={xs[~ok][:5]} declared={declared[~ok][:5]} want={want_a[~ok][:5]}"
            )


SPECIAL = np.array([-np.inf, -1e38, -1e10, -100.0, -1e-40, -0.0, 0.0, 1e-40, 100.0, 1e10, 1e38, np.inf])


@pytest.fixture(params=["torch", "tf"])
def framework(request: pytest.FixtureRequest) -> str:
    pytest.importorskip("torch" if request.param == "torch" else "tensorflow")
    return str(request.param)


def _run(framework: str, name: str, xs: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """Native value and x-gradient through the framework's autograd, as float64 arrays."""
    if framework == "torch":
        import torch

        import xact.torch as xt

        t = torch.tensor(xs, dtype=getattr(torch, dtype), requires_grad=True)
        y = xt.apply(name, t, mode="native")
        y.sum().backward()
        assert t.grad is not None
        return y.detach().double().numpy(), t.grad.double().numpy()
    import tensorflow as tf

    import xact.tf as xtf

    v = tf.constant(xs, dtype=getattr(tf, dtype))
    with tf.GradientTape() as tape:
        tape.watch(v)
        y = xtf.apply(name, v, mode="native")
    g = tape.gradient(y, v)
    return tf.cast(y, tf.float64).numpy(), tf.cast(g, tf.float64).numpy()


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_finite_wherever_the_reference_is(framework: str, dtype: str) -> None:
    """No NaN (and no overflow) where the float64 reference is finite, for every spec at once."""
    problems = []
    for name in xact.names():
        if name in PERIODIC:  # no limit at +-inf: NaN there is the honest answer
            continue
        xs = SPECIAL.astype(dtype).astype(np.float64)
        ref = xnp.apply(name, xs)
        dref = xnp.grad(name, xs)
        y, g = _run(framework, name, xs, dtype)
        info = np.finfo(dtype)
        for what, got, want in (("value", y, ref), ("gradient", g, dref)):
            expect_finite = np.isfinite(want) & (np.abs(want) <= info.max)
            if (~np.isfinite(got) & expect_finite).any():
                problems.append(f"{name} {what}: x={xs[~np.isfinite(got) & expect_finite]}")
            if (np.isnan(got) & ~np.isnan(want)).any():
                problems.append(f"{name} {what} NaN: x={xs[np.isnan(got) & ~np.isnan(want)]}")
    assert not problems, "\n".join(problems)


def test_float32_close_to_reference(framework: str) -> None:
    """Native float32 within a few ULP of the float64 reference at ordinary points (all specs)."""
    xs = POINTS.astype(np.float32).astype(np.float64)
    problems = []
    for name in xact.names():
        spec = xact.get(name)
        ref, dref = xnp.apply(name, xs), xnp.grad(name, xs)
        y, g = _run(framework, name, xs, "float32")
        keep = np.isin(xs, _away_from_kinks(spec, xs, dict(spec.params), gap=1e-4))
        for what, got, want, ulps in (("value", y, ref, 8), ("gradient", g, dref, 16)):
            # ULPs of the result, plus the float32 input rounding times the condition number
            d = dref if what == "value" else (xnp.grad(name, xs * (1 + 2**-20)) - dref) / (xs * 2**-20 + 1e-300)
            cond = np.nan_to_num(np.abs(xs * d), nan=0.0, posinf=0.0)
            tol = ulps * np.spacing(np.abs(want).astype(np.float32)).astype(np.float64) + 4 * 2.0**-24 * cond
            tol += 1e-6 * (what == "gradient")
            bad = keep & ~(np.abs(got - want) <= tol + 4e-38)
            if name in PERIODIC or name in ("siren",):
                bad &= np.abs(xs) < 1  # argument rounding of w0 x / alpha x dominates beyond
            if bad.any():
                problems.append(f"{name} {what}: x={xs[bad][:3]} got={got[bad][:3]} want={want[bad][:3]}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- twins


def _resolve(call: str) -> Any:
    module, _, attr = call.rpartition(".")
    if module == "tf" or module.startswith("tf."):
        module = "tensorflow" + module[2:]
    return getattr(importlib.import_module(module), attr)


def _twin_cases() -> list[Any]:
    out = []
    for name in xact.names():
        for i, twin in enumerate(xact.get(name).twins):
            if twin.framework in ("torch", "tf", "keras"):
                out.append(pytest.param(name, i, id=f"{name}-{twin.call}-{i}"))
    return out


def _twin_eval(twin: xact.Twin, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    kwargs = dict(twin.kwargs)
    if twin.framework == "torch":
        import torch

        fn = _resolve(twin.call)
        if isinstance(fn, type):
            if "weight" in kwargs:
                kwargs.pop("weight")
            module = fn(**kwargs).double().eval()
            call: Callable[[Any], Any] = module
        elif twin.call.endswith(".prelu"):
            w = torch.tensor([kwargs.pop("weight")], dtype=torch.float64)
            call = lambda t: fn(t, w)  # noqa: E731
        else:
            call = lambda t: fn(t, **kwargs)  # noqa: E731
        t = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
        y = call(t)
        y.sum().backward()
        assert t.grad is not None
        return y.detach().numpy(), t.grad.numpy()
    import tensorflow as tf

    fn = _resolve(twin.call)
    if isinstance(fn, type):
        layer = fn(**kwargs, dtype="float64")
        call = layer
        v = tf.constant(xs[:, None], dtype=tf.float64)
    else:
        call = lambda t: fn(t, **kwargs)  # noqa: E731
        v = tf.constant(xs, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(v)
        y = call(v)
    g = tape.gradient(y, v)
    return np.reshape(np.asarray(y), -1), np.reshape(np.asarray(g), -1)


#: Twins that are the same function but not float64-accurate, measured here:
#: (name, call) -> (value rtol, gradient rtol or atol, why). The rest must agree to 1e-9.
TWIN_PRECISION: dict[tuple[str, str], tuple[float, float, str]] = {
    ("gelu", "tf.nn.gelu"): (1e-5, 1e-5, "TF's float64 gelu uses float32-rounded constants (~1e-9)"),
    ("gelu", "keras.activations.gelu"): (1e-5, 1e-5, "calls tf.nn.gelu"),
    ("gelu_tanh", "tf.nn.gelu"): (1e-5, 1e-5, "TF's float64 gelu uses float32-rounded constants"),
    ("gelu_tanh", "keras.activations.gelu"): (1e-5, 1e-5, "calls tf.nn.gelu"),
    ("leaky_relu", "tf.nn.leaky_relu"): (1e-7, 1e-7, "TF's alpha attribute is float32 (0.01 -> 0.0099999998)"),
    ("leaky_relu", "keras.activations.leaky_relu"): (1e-7, 1e-7, "calls tf.nn.leaky_relu"),
    ("leaky_relu", "keras.layers.LeakyReLU"): (1e-7, 1e-7, "calls tf.nn.leaky_relu"),
    ("hard_sigmoid", "torch.nn.functional.hardsigmoid"): (1e-9, 1e-7, "torch's backward uses 1/6 in float32"),
    ("hard_sigmoid", "torch.nn.Hardsigmoid"): (1e-9, 1e-7, "torch's backward uses 1/6 in float32"),
    ("sinc", "torch.sinc"): (1e-9, 1e-7, "torch's sinc backward cancels near 0 (1e-8 off at x = 1e-8)"),
}


@pytest.mark.parametrize(("name", "index"), _twin_cases())
def test_declared_twin_computes_the_spec(name: str, index: int) -> None:
    spec = xact.get(name)
    twin = spec.twins[index]
    pytest.importorskip("torch" if twin.framework == "torch" else "tensorflow")
    params = dict(spec.params)
    xs = _away_from_kinks(spec, POINTS[np.abs(POINTS) <= 8.5], params, gap=1e-3)
    y, g = _twin_eval(twin, xs)
    rtol_y, tol_g, _why = TWIN_PRECISION.get((name, twin.call), (1e-9, 1e-9, ""))
    assert np.allclose(y, xnp.apply(name, xs), rtol=rtol_y, atol=1e-12), f"{twin}: values differ"
    assert np.allclose(g, xnp.grad(name, xs), rtol=tol_g, atol=max(tol_g, 1e-12)), f"{twin}: gradients differ"
