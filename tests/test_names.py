"""Names ``define`` refuses: those an adapter attribute, a layer attribute or Python
itself already means something by. Each refusal names the clash."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import xact
from xact import spec as spec_module


def _fn(x, xp=np):
    return x * x


def _grad(x, xp=np):
    return 2.0 * x


@pytest.mark.parametrize(
    "name,why",
    [
        ("set_fusion", "taken by the adapters"),
        ("apply", "taken by the adapters"),
        ("Activation", "taken by the adapters"),
        ("grad", "taken by the adapters"),
        ("grads", "taken by the adapters"),
        ("np", "taken by the adapters"),
        ("_to_host", "underscore"),
        ("_", "underscore"),
        ("lambda", "keyword"),
        ("None", "keyword"),
        ("\ufb01x", "NFKC"),  # the "fi" ligature: Python reads xt.<it> as xt.fix
        ("\uff52\uff45\uff4c\uff55", "NFKC"),  # fullwidth "relu"
    ],
)
def test_names_that_shadow_or_cannot_be_attributes_are_refused(name, why):
    before = xact.names(include_aliases=True)
    with pytest.raises(xact.SpecError, match=why):
        xact.define(name, fn=_fn, grad=_grad)
    with pytest.raises(xact.SpecError, match=why):
        xact.define("ok_name_for_alias_test", fn=_fn, grad=_grad, aliases=(name,))
    assert xact.names(include_aliases=True) == before


@pytest.mark.parametrize("adapter", ["xact.numpy", "xact.torch", "xact.tf"])
def test_every_public_global_of_an_adapter_is_a_refused_name(adapter):
    framework = {"xact.torch": "torch", "xact.tf": "tensorflow"}.get(adapter)
    if framework and importlib.util.find_spec(framework) is None:
        pytest.skip(f"{framework} is not installed")
    module = importlib.import_module(adapter)
    public = {n for n in vars(module) if not n.startswith("_")}
    assert public <= spec_module._ADAPTER_NAMES, sorted(public - spec_module._ADAPTER_NAMES)


@pytest.mark.parametrize(
    "param", ["training", "activation", "cuda", "name", "dtype", "forward", "weights", "built", "trainable"]
)
def test_parameter_names_that_are_layer_attributes_are_refused(fresh_name, param):
    with pytest.raises(xact.SpecError, match=repr(param)):
        xact.define(
            fresh_name, fn=lambda x, xp=np, **k: x * 1.0, grad=lambda x, xp=np, **k: (x * 0.0 + 1.0, x * 0.0),
            params={param: 1.0},
        )
    assert fresh_name not in xact.names()


@pytest.mark.parametrize("param", ["_p", "lambda", "\ufb01"])
def test_private_keyword_and_unnormalised_parameter_names_are_refused(fresh_name, param):
    with pytest.raises(xact.SpecError, match="parameter name"):
        xact.define(
            fresh_name, fn=lambda x, xp=np, **k: x * 1.0, grad=lambda x, xp=np, **k: (x * 0.0 + 1.0, x * 0.0),
            params={param: 1.0},
        )


def test_layer_attribute_list_covers_the_installed_torch_and_keras():
    allowed = spec_module._LAYER_ATTRIBUTES | set(spec_module._RESERVED_PARAMS)
    found: set[str] = set()
    if importlib.util.find_spec("torch") is not None:
        import torch

        import xact.torch as xt

        module = xt.Activation("relu")
        found |= {n for n in [*dir(torch.nn.Module), *dir(module)] if not n.startswith("_")}
    if importlib.util.find_spec("tensorflow") is not None:
        import keras

        import xact.tf as xtf

        layer = xtf.Activation("relu")
        found |= {n for n in [*dir(keras.layers.Layer), *dir(layer)] if not n.startswith("_")}
    if not found:
        pytest.skip("neither torch nor keras is installed")
    assert found <= allowed, sorted(found - allowed)


def test_trainable_torch_module_with_an_ordinary_parameter_name(fresh_name):
    torch = pytest.importorskip("torch")
    import xact.torch as xt

    xact.define(
        fresh_name, fn=lambda x, gain=1.0, xp=np: gain * x, grad=lambda x, gain=1.0, xp=np: (gain + 0.0 * x, x),
        params={"gain": 2.0},
    )
    m = xt.Activation(fresh_name, trainable=True)
    x = torch.tensor([1.0, -3.0])
    m(x).sum().backward()
    assert m.gain.grad.item() == -2.0 and m(x).tolist() == [2.0, -6.0]
