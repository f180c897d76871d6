"""Spec and registry: define/get/names, duplicates, aliases, validation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import xact


def _fn(x, xp=np):
    return xp.maximum(x, 0.0)


def _grad(x, xp=np):
    return xp.where(x > 0, 1.0, 0.0)


def test_define_returns_registered_spec(fresh_name):
    spec = xact.define(fresh_name, fn=_fn, grad=_grad, kinks={0: 0})
    assert xact.get(fresh_name) is spec
    assert fresh_name in xact.names()
    assert spec.takes_xp and spec.kinks_at() == {0.0: 0.0}


def test_spec_is_immutable(fresh_name):
    spec = xact.define(fresh_name, fn=_fn, grad=_grad)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.params["beta"] = 1.0  # type: ignore[index]


def test_redefinition_is_refused_unless_replace(fresh_name):
    first = xact.define(fresh_name, fn=_fn, grad=_grad)
    with pytest.raises(xact.DuplicateActivationError, match="replace=True"):
        xact.define(fresh_name, fn=_fn, grad=_grad)
    assert xact.get(fresh_name) is first
    second = xact.define(fresh_name, fn=_fn, grad=_grad, replace=True)
    assert xact.get(fresh_name) is second


def test_catalogue_names_and_aliases_cannot_be_shadowed():
    with pytest.raises(xact.DuplicateActivationError, match="'gelu'"):
        xact.define("gelu", fn=_fn, grad=_grad)
    with pytest.raises(xact.DuplicateActivationError, match="'swish'"):
        xact.define("my_new_unit", fn=_fn, grad=_grad, aliases=("swish",))
    assert "my_new_unit" not in xact.names()


def test_aliases_resolve_to_the_same_spec(fresh_name):
    spec = xact.define(fresh_name, fn=_fn, grad=_grad, aliases=(fresh_name + "_b",))
    assert xact.get(fresh_name + "_b") is spec
    assert xact.aliases()[fresh_name + "_b"] == fresh_name
    assert xact.get("swish") is xact.get("silu")


def test_unknown_name_suggests_close_matches():
    with pytest.raises(xact.UnknownActivationError, match=r"Did you mean 'gelu_tanh'"):
        xact.get("gelu_tahn")
    with pytest.raises(LookupError, match="xact list"):
        xact.get("nothing_like_it_at_all")


@pytest.mark.parametrize("bad", ["", "has space", "1abc", "a-b"])
def test_names_must_be_identifiers(bad):
    with pytest.raises(xact.SpecError, match="identifier"):
        xact.define(bad, fn=_fn, grad=_grad)


def test_fn_and_grad_must_agree_on_xp(fresh_name):
    with pytest.raises(xact.SpecError, match="only fn takes an `xp`"):
        xact.define(fresh_name, fn=_fn, grad=lambda x: x)
    assert fresh_name not in xact.names()


def test_params_must_be_accepted_and_numeric(fresh_name):
    with pytest.raises(xact.SpecError, match="does not accept parameter 'beta'"):
        xact.define(fresh_name, fn=_fn, grad=_grad, params={"beta": 1.0})
    with pytest.raises(xact.SpecError, match="must be a number"):
        xact.define(
            fresh_name,
            fn=lambda x, beta=1.0, xp=np: x,
            grad=lambda x, beta=1.0, xp=np: (x, x),
            params={"beta": "one"},
        )
    with pytest.raises(xact.SpecError, match="reserved"):
        xact.define(fresh_name, fn=_fn, grad=_grad, params={"xp": 1.0})


def test_vectorized_numpy_spec_is_bridge_only(fresh_name):
    spec = xact.define(fresh_name, fn=np.vectorize(lambda v: v * v), grad=np.vectorize(lambda v: 2 * v))
    assert not spec.takes_xp


def test_parametric_kinks_follow_parameters():
    spec = xact.get("leaky_relu")
    assert spec.kinks_at() == {0.0: 0.01}
    assert spec.kinks_at(negative_slope=0.3) == {0.0: 0.3}


def test_unregister_removes_aliases(fresh_name):
    xact.define(fresh_name, fn=_fn, grad=_grad, aliases=(fresh_name + "_b",))
    xact.unregister(fresh_name)
    assert fresh_name not in xact.names(include_aliases=True)
    assert fresh_name + "_b" not in xact.names(include_aliases=True)


BAD_SPECS = {
    "fn without x": (lambda xp=np: 1.0, lambda x, xp=np: x, "raised TypeError"),
    "fn raises": (lambda x, xp=np: xp.no_such_function(x), lambda x, xp=np: x, "raised AttributeError"),
    "grad not elementwise": (_fn, lambda x, xp=np: x[:2], "elementwise"),
    "promotes to float64": (lambda x, xp=np: np.float64(2.0) * x, lambda x, xp=np: 2.0 + 0 * x, "float64"),
    "complex result": (lambda x, xp=np: x + 1j, lambda x, xp=np: 1.0 + 0 * x, "real numbers"),
}


@pytest.mark.parametrize("case", BAD_SPECS, ids=list(BAD_SPECS))
def test_malformed_spec_is_refused_at_define_and_registry_unchanged(fresh_name, case):
    fn, grad, message = BAD_SPECS[case]
    before = xact.names(include_aliases=True)
    with pytest.raises(xact.SpecError, match=message):
        xact.define(fresh_name, fn=fn, grad=grad, aliases=(fresh_name + "_b",))
    assert xact.names(include_aliases=True) == before


def test_grad_arity_is_checked_at_define(fresh_name):
    with pytest.raises(xact.SpecError, match="2 partials"):
        xact.define(
            fresh_name,
            fn=lambda x, beta=1.0, xp=np: beta * x,
            grad=lambda x, beta=1.0, xp=np: beta + 0 * x,  # forgot d/dbeta
            params={"beta": 1.0},
        )
    assert fresh_name not in xact.names()


def test_nan_for_finite_input_warns(fresh_name):
    with pytest.warns(xact.XactWarning, match="NaN"):
        xact.define(fresh_name, fn=lambda x, xp=np: xp.log(x), grad=lambda x, xp=np: 1.0 / x)
    assert fresh_name in xact.names()


def test_every_catalogue_spec_is_documented():
    # catalogue specs are those defined in xact/catalogue/; user specs that other tests
    # registered in this process (order-dependent under pytest -n) are not the catalogue's
    catalogue = [n for n in xact.names() if getattr(xact.get(n).fn, "__module__", "").startswith("xact.catalogue")]
    assert len(catalogue) >= 60, catalogue
    for name in catalogue:
        spec = xact.get(name)
        assert spec.doc.strip(), f"{name} has no docstring"
        assert spec.family != "user", f"{name} is not in a catalogue family"
