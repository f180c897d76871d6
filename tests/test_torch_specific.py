"""torch-only behaviour: devices/strides, no_grad, modules, double backward."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import xact  # noqa: E402
import xact.numpy as xnp  # noqa: E402
import xact.torch as xt  # noqa: E402

pytestmark = pytest.mark.torch


@pytest.mark.parametrize("mode", ["native", "numpy"])
def test_non_contiguous_input(mode):
    base = torch.linspace(-3, 3, 24, dtype=torch.float64).reshape(4, 6)
    x = base.t()[::2]  # transposed and strided
    assert not x.is_contiguous()
    x.requires_grad_(True)
    y = xt.apply("mish", x, mode=mode)
    (g,) = torch.autograd.grad(y, x, torch.ones_like(y))
    a = x.detach().numpy()
    np.testing.assert_allclose(y.detach().numpy(), xnp.apply("mish", a), rtol=1e-13)
    np.testing.assert_allclose(g.numpy(), xnp.grad("mish", a), rtol=1e-13)


@pytest.mark.parametrize("mode", ["native", "numpy"])
def test_no_grad_forward_matches(mode):
    x = torch.linspace(-3, 3, 11)
    with torch.no_grad():
        y = xt.apply("gelu", x, mode=mode)
    assert not y.requires_grad
    np.testing.assert_allclose(y.numpy(), xnp.apply("gelu", x.numpy()), rtol=2e-6, atol=1e-7)


def test_native_saves_only_inputs():
    x = torch.linspace(-3, 3, 11, requires_grad=True)
    beta = torch.tensor(1.5, requires_grad=True)
    saved = []

    def pack(t):
        saved.append(t)
        return t

    xact.get("silu")
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        xt.apply("leaky_relu", x, negative_slope=beta)
    assert len(saved) == 2
    assert saved[0] is x and saved[1] is beta


def test_double_backward_native_uses_declared_grad():
    x = torch.tensor([-1.0, 0.3, 2.0], dtype=torch.float64, requires_grad=True)
    y = xt.apply("silu", x)
    (g,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    (g2,) = torch.autograd.grad(g.sum(), x)
    # silu'' = s(1-s)(2 + x(1-2s)), s = sigmoid(x): an independent closed form.
    a = x.detach().numpy()
    s = 1 / (1 + np.exp(-a))
    np.testing.assert_allclose(g2.numpy(), s * (1 - s) * (2 + a * (1 - 2 * s)), rtol=1e-12)


def test_activation_module_trainable_parameter():
    m = xt.Activation("leaky_relu", negative_slope=0.2, trainable=True, param_shape=(3, 1))
    p = dict(m.named_parameters())["negative_slope"]
    assert p.shape == (3, 1) and p.dtype == torch.float32
    assert torch.all(p == 0.2)
    x = torch.tensor([[-1.0, 2.0]] * 3)
    m(x).sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), [[-1.0]] * 3)
    restored = xt.Activation("leaky_relu", trainable=True, param_shape=(3, 1))
    restored.load_state_dict(m.state_dict())
    assert torch.equal(restored(x), m(x))


def test_activation_module_fixed_parameter_and_repr():
    m = xt.Activation("elu", alpha=0.5)
    assert list(m.parameters()) == []
    assert "alpha=0.5" in repr(m)
    np.testing.assert_allclose(m(torch.tensor([-1.0])).numpy(), [0.5 * np.expm1(-1.0)], rtol=1e-6)


def test_numpy_array_input_is_refused_with_advice():
    with pytest.raises(xact.XactTypeError, match=r"torch\.as_tensor"):
        xt.apply("relu", np.zeros(3, dtype=np.float32))
