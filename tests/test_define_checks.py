"""What ``define`` refuses before a spec is registered: non-elementwise formulas,
formulas that write into their input, and the like. Every catalogue spec passes
the same checks (the catalogue itself is registered without them, for speed)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import xact
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
