"""A spec never changes the caller's data, and an output never aliases an input.

The define-time probe refuses a spec that writes into its input (tests in
test_define_checks.py); these specs write only for inputs above 100, so they
pass it, and the adapters must still keep the caller's data intact (host
bridges and xact.numpy hand specs read-only arrays) or say loudly that a
native torch spec wrote (its version counter moved).
"""

from __future__ import annotations

import numpy as np
import pytest

import xact
import xact.numpy as xnp


def _clip_native(x, xp=np):
    if bool((x > 100).any()):
        x[x > 100] = 100.0
    return x * 1.0


def _clip_bridge(x):
    if (x > 100).any():
        np.minimum(x, 100.0, out=x)
    return x * 1.0


def _zero_grad_bridge(x):
    if (x > 100).any():
        x[...] = 0.0
    return np.ones_like(x)


DATA = [1.0, 200.0, -3.0]


@pytest.fixture
def writers(fresh_name):
    names = {"native": fresh_name, "bridge": fresh_name + "_b", "grad": fresh_name + "_g"}
    xact.define(names["native"], fn=_clip_native, grad=lambda x, xp=np: xp.ones_like(x))
    xact.define(names["bridge"], fn=_clip_bridge, grad=lambda x: np.ones_like(x))
    xact.define(names["grad"], fn=lambda x: x * 1.0, grad=_zero_grad_bridge)
    yield names
    xact.unregister(names["grad"])


@pytest.mark.parametrize("which,mode", [("native", "native"), ("native", "numpy"), ("bridge", "numpy")])
def test_numpy_adapter_never_writes_into_the_callers_array(writers, which, mode):
    a = np.array(DATA)
    with pytest.raises(xact.SpecError, match="writes into its input"):
        xnp.apply(writers[which], a, mode=mode)
    assert a.tolist() == DATA
    a32 = np.array(DATA, dtype=np.float32)  # astype(copy=False) is the array itself
    with pytest.raises(xact.SpecError):
        xnp.apply(writers[which], a32, mode=mode)
    assert a32.tolist() == DATA


@pytest.mark.parametrize("which,mode", [("native", "numpy"), ("bridge", "numpy")])
def test_bridge_never_writes_into_the_callers_tensor(framework, writers, which, mode):
    x = framework.tensor(DATA, "float32")
    with pytest.raises(xact.SpecError, match="writes into its input"):
        framework.apply(writers[which], x, mode=mode)
    assert framework.to_numpy(x).tolist() == DATA


def test_bridge_grad_cannot_zero_a_training_leaf(writers):
    torch = pytest.importorskip("torch")
    import xact.torch as xt

    leaf = torch.tensor(DATA, requires_grad=True)
    y = xt.apply(writers["grad"], leaf)
    with pytest.raises(xact.SpecError, match="writes into its input"):
        y.sum().backward()
    assert leaf.detach().tolist() == DATA


def test_torch_native_write_is_an_error_not_silence(writers):
    torch = pytest.importorskip("torch")
    import xact.torch as xt

    for requires_grad in (False, True):
        x = torch.tensor(DATA, requires_grad=requires_grad)
        with pytest.raises(xact.SpecError, match="wrote into its input"):
            xt.apply(writers["native"], x, mode="native")


ALIASING = {
    "itself": (lambda x, xp=np: x, lambda x, xp=np: xp.ones_like(x)),
    "asarray": (lambda x, xp=np: xp.asarray(x), lambda x, xp=np: 1.0 + 0.0 * x),
    "view": (lambda x, xp=np: x[...], lambda x, xp=np: xp.ones_like(x)),
    "bridge_itself": (lambda x: x, lambda x: np.ones_like(x)),
}


@pytest.fixture(params=sorted(ALIASING))
def identity(request, fresh_name):
    fn, grad = ALIASING[request.param]
    xact.define(fresh_name, fn=fn, grad=grad)
    return fresh_name


def test_numpy_output_never_aliases_the_input(identity):
    for dtype in (np.float64, np.float32):
        a = np.array(DATA, dtype=dtype)
        y = xnp.apply(identity, a)
        g = xnp.grad(identity, a)
        assert not np.shares_memory(y, a) and y.flags.writeable
        y[0] = 7.0
        assert a.tolist() == DATA and g.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("mode", ["auto", "numpy"])
def test_torch_output_never_aliases_the_input_and_identity_has_gradient_one(identity, mode):
    torch = pytest.importorskip("torch")
    import xact.torch as xt

    for requires_grad in (True, False):
        x = torch.tensor(DATA, requires_grad=requires_grad)
        y = xt.apply(identity, x, mode=mode)
        assert y.untyped_storage().data_ptr() != x.untyped_storage().data_ptr()
        assert y.detach().tolist() == DATA
        if requires_grad:
            y.sum().backward()
            assert x.grad.tolist() == [1.0, 1.0, 1.0]
        with torch.no_grad():
            y[0] = 7.0
        assert x.detach().tolist() == DATA


@pytest.mark.parametrize("mode", ["auto", "numpy"])
def test_identity_specs_have_value_x_and_gradient_one_in_every_framework(framework, identity, mode):
    x = framework.tensor(DATA, "float32")
    y, g, _ = framework.value_and_grads(identity, x, mode)
    assert y.tolist() == DATA and g.tolist() == [1.0, 1.0, 1.0]
