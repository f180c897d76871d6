"""What ``define`` refuses before a spec is registered: non-elementwise formulas,
formulas that write into their input, and the like. Every catalogue spec passes
the same checks (the catalogue itself is registered without them, for speed)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import xact
import xact.numpy as xnp
from xact._probe import probe


def _ones(x, xp=np):
    return xp.ones_like(x)


@pytest.mark.parametrize("name", xact.names())
def test_every_catalogue_spec_passes_the_define_checks(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no catalogue spec may even warn
        probe(xact.get(name))


def _iadd(x, xp=np):
    x *= 2
    return x


def _masked(x, xp=np):
    x[x > 100] = 100.0  # writes nowhere on ordinary inputs, but it would
    return x


NOT_ELEMENTWISE = {
    "sum": lambda x, xp=np: x.sum(),
    "sum_broadcast": lambda x, xp=np: x.sum() + 0.0 * x,
    "centred": lambda x, xp=np: x - x.mean(),
    "cumsum": lambda x, xp=np: np.cumsum(x),
    "reversed": lambda x, xp=np: x[::-1],
    "minus_min": lambda x, xp=np: x - x.min(),
    "minus_first": lambda x, xp=np: x - x[0],
    "sorted": lambda x, xp=np: np.sort(x),
    "softmax": lambda x, xp=np: xp.exp(x) / xp.exp(x).sum(),
    "bridge_mean": lambda x: x - np.mean(x),
}


@pytest.mark.parametrize("case", sorted(NOT_ELEMENTWISE))
def test_non_elementwise_fn_is_refused(fresh_name, case):
    fn = NOT_ELEMENTWISE[case]
    grad = (lambda x: np.ones_like(x)) if case.startswith("bridge") else _ones
    with pytest.raises(xact.SpecError, match="not elementwise"):
        xact.define(fresh_name, fn=fn, grad=grad)
    assert fresh_name not in xact.names()


def test_non_elementwise_grad_is_refused(fresh_name):
    with pytest.raises(xact.SpecError, match="grad is not elementwise"):
        xact.define(fresh_name, fn=lambda x, xp=np: x * x, grad=lambda x, xp=np: 2.0 * x[::-1])
    with pytest.raises(xact.SpecError, match=r"grad \(partial 1\) is not elementwise"):
        xact.define(
            fresh_name, fn=lambda x, a=1.0, xp=np: a * x, params={"a": 1.0},
            grad=lambda x, a=1.0, xp=np: (a + 0.0 * x, x - x.mean()),
        )


@pytest.mark.parametrize("fn", [_iadd, _masked, lambda x, xp=np: np.multiply(x, 3.0, out=x)])
def test_fn_writing_into_its_input_is_refused(fresh_name, fn):
    with pytest.raises(xact.SpecError, match="writes into its input"):
        xact.define(fresh_name, fn=fn, grad=_ones)


def test_elementwise_specs_of_every_shape_are_accepted(fresh_name):
    ok = {
        "where": (lambda x, xp=np: xp.where(x > 0, x, 0.1 * x), lambda x, xp=np: xp.where(x > 0, 1.0, 0.1)),
        "constant": (lambda x, xp=np: 0.0 * x + 1.0, lambda x, xp=np: xp.zeros_like(x)),
        "vectorized": (np.vectorize(lambda v: v * v), np.vectorize(lambda v: 2.0 * v)),
    }
    for i, (fn, grad) in enumerate(ok.values()):
        xact.define(f"{fresh_name}{i}", fn=fn, grad=grad)
        xact.unregister(f"{fresh_name}{i}")


# ------------------------------------------------------------------ declared derivative


def _define_quietly(name, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a correct spec must not even warn
        return xact.define(name, **kw)


@pytest.mark.parametrize(
    "fn,grad",
    [
        (lambda x, xp=np: x * x, lambda x, xp=np: x),  # a factor 2 forgotten
        (lambda x, xp=np: xp.tanh(x), lambda x, xp=np: -(1.0 - xp.tanh(x) ** 2)),  # sign
        (lambda x, xp=np: x * xp.tanh(x), lambda x, xp=np: x * xp.tanh(x)),  # fn as grad
        (np.vectorize(lambda v: v**3), np.vectorize(lambda v: 3.0 * v)),  # bridge, wrong power
    ],
)
def test_derivative_wrong_everywhere_is_refused(fresh_name, fn, grad):
    with pytest.raises(xact.SpecError, match=r"far off at .* so it is refused"):
        xact.define(fresh_name, fn=fn, grad=grad)
    assert fresh_name not in xact.names()


def test_derivative_wrong_on_part_of_the_range_warns_with_the_worst_point(fresh_name):
    # 2x + 0.5 above 3: off by 0.5 at the 4 checked points above 3 (-3.9 + 0.0123 + k * 7.8/32,
    # k = 29..32); relative to f' = 2x the worst is the smallest of them, x = 3.18105
    with pytest.warns(xact.XactWarning, match=r"d/dx disagrees .* at 4 of 33 .* worst at x = 3\.18105"):
        xact.define(fresh_name, fn=lambda x, xp=np: x * x,
                    grad=lambda x, xp=np: xp.where(x > 3.0, 2.0 * x + 0.5, 2.0 * x))
    assert fresh_name in xact.names()


def test_wrong_parameter_partial_is_refused_naming_the_parameter(fresh_name):
    with pytest.raises(xact.SpecError, match="d/dbeta"):
        xact.define(fresh_name, fn=lambda x, beta=1.0, xp=np: beta * x,
                    grad=lambda x, beta=1.0, xp=np: (beta + 0.0 * x, 2.0 * x), params={"beta": 1.5})


def test_correct_specs_with_kinks_domains_and_low_precision_do_not_warn(fresh_name):
    # relu with its kink declared, and one without (no checked point sits on 0)
    _define_quietly(fresh_name + "0", fn=lambda x, xp=np: xp.maximum(x, 0.0),
                    grad=lambda x, xp=np: xp.where(x > 0, 1.0, 0.0), kinks={0.0: 0.0})
    _define_quietly(fresh_name + "1", fn=lambda x, xp=np: xp.where(x > 0.5, x, 0.5),
                    grad=lambda x, xp=np: xp.where(x > 0.5, 1.0, 0.0), kinks={0.5: 0.0})
    # computed in float32 by the user: finite differences with h = 1e-6 would be noise
    _define_quietly(fresh_name + "2", fn=lambda x: (x.astype(np.float32) ** 2).astype(x.dtype),
                    grad=lambda x: 2.0 * x)
    # a parameter that moves the kink (callable kinks)
    _define_quietly(fresh_name + "3", fn=lambda x, t=1.0, xp=np: xp.maximum(x - t, 0.0),
                    grad=lambda x, t=1.0, xp=np: (xp.where(x > t, 1.0, 0.0), xp.where(x > t, -1.0, 0.0)),
                    params={"t": 1.0}, kinks=lambda t: {t: 0.0})
    for i in range(4):
        xact.unregister(fresh_name + str(i))


def test_surrogate_gradients_of_flat_functions_are_accepted(fresh_name):
    # straight-through rounding and a spiking step with a sigmoid surrogate: deliberate
    _define_quietly(fresh_name + "0", fn=lambda x, xp=np: xp.floor(x + 0.5), grad=lambda x, xp=np: xp.ones_like(x))
    _define_quietly(fresh_name + "1", fn=lambda x, xp=np: xp.where(x > 0, 1.0, 0.0),
                    grad=lambda x, xp=np: 1.0 / (1.0 + xp.exp(-x)) * (1.0 - 1.0 / (1.0 + xp.exp(-x))))
    for i in range(2):
        xact.unregister(fresh_name + str(i))


# ------------------------------------------------------------------ constant derivatives


@pytest.mark.parametrize("native", [True, False])
def test_grad_returning_a_python_number_is_broadcast(framework, mode, fresh_name, native):
    if native:
        xact.define(fresh_name, fn=lambda x, xp=np: 3.0 * x, grad=lambda x, xp=np: 3.0)
    elif mode == "native":
        pytest.skip("a spec without xp runs through the bridge only")
    else:
        xact.define(fresh_name, fn=lambda x: 3.0 * x, grad=lambda x: 3)
    for dtype in ("float32", "float16", "float64"):
        x = framework.tensor([1.0, -2.0, 0.5], dtype)
        y, g, _ = framework.value_and_grads(fresh_name, x, mode)
        assert y.tolist() == [3.0, -6.0, 1.5] and g.tolist() == [3.0, 3.0, 3.0]
    assert xnp.grad(fresh_name, np.array([1.0, 2.0], np.float32)).dtype == np.float32


def test_constant_partials_with_a_parameter(framework, fresh_name):
    xact.define(fresh_name, fn=lambda x, a=1.0, xp=np: a * x + 2.0 * a,
                grad=lambda x, a=1.0, xp=np: (a, x + 2.0), params={"a": 1.5})
    x = framework.tensor([1.0, -2.0], "float32")
    a = framework.param(1.5)
    y, g, pg = framework.value_and_grads(fresh_name, x, "native", a=a)
    assert y.tolist() == [4.5, 0.0] and g.tolist() == [1.5, 1.5] and pg["a"].tolist() == 3.0
