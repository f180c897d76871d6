"""Porting answers for built-in calls as they appear in model code.

Expected defaults are read from the installed frameworks, never typed here.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from xact.port import PortError, port

torch = pytest.importorskip("torch")
tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")


def _default(cls_or_fn: Any, name: str) -> Any:
    target = cls_or_fn.__init__ if isinstance(cls_or_fn, type) else cls_or_fn  # type: ignore[misc]
    return inspect.signature(target).parameters[name].default


def test_torch_leaky_relu_module_default_and_keras_warning() -> None:
    r = port("torch.nn.LeakyReLU()")
    slope = _default(torch.nn.LeakyReLU, "negative_slope")
    assert (r.spec, r.params) == ("leaky_relu", {"negative_slope": slope})
    assert "negative_slope" in r.defaulted
    layer = next(e for e in r.equivalents if e.call == "keras.layers.LeakyReLU")
    assert layer.code == f"keras.layers.LeakyReLU(negative_slope={slope!r})"
    keras_slope = _default(keras.layers.LeakyReLU, "negative_slope")
    assert any(f"negative_slope={keras_slope!r}" in w for w in layer.warnings)
    tf_call = next(e for e in r.equivalents if e.call == "tf.nn.leaky_relu")
    assert "alpha=" in tf_call.code and tf_call.warnings
    assert 'xact.torch.Activation("leaky_relu", negative_slope=' in r.xact_torch
    assert 'xact.tf.Activation("leaky_relu", negative_slope=' in r.xact_tf


@pytest.mark.parametrize(
    ("call", "spec", "params"),
    [
        ("torch.nn.LeakyReLU(0.2)", "leaky_relu", {"negative_slope": 0.2}),
        ("nn.LeakyReLU(0.2, inplace=True)", "leaky_relu", {"negative_slope": 0.2}),
        ("F.leaky_relu(x, 0.1)", "leaky_relu", {"negative_slope": 0.1}),
        ("keras.layers.LeakyReLU(negative_slope=0.1)", "leaky_relu", {"negative_slope": 0.1}),
        ("tf.keras.layers.LeakyReLU(alpha=0.2)", "leaky_relu", {"negative_slope": 0.2}),
        ("tf.nn.gelu(x, approximate=True)", "gelu_tanh", {}),
        ("tf.nn.gelu(x)", "gelu", {}),
        ("nn.GELU(approximate='tanh')", "gelu_tanh", {}),
        ("nn.GELU()", "gelu", {}),
        ("keras.activations.gelu", "gelu", {}),
        ("keras.ops.gelu(x)", "gelu_tanh", {}),
        ("torch.nn.ELU(alpha=0.5)", "elu", {"alpha": 0.5}),
        ("tf.nn.elu", "elu", {"alpha": 1.0}),
        ("nn.Hardtanh(0, 6)", "relu6", {}),
        ("nn.Hardtanh(-2.0, 2.0)", "hard_tanh", {"min_val": -2.0, "max_val": 2.0}),
        ("keras.layers.ReLU(max_value=6.0)", "relu6", {}),
        ("layers.Activation('swish')", "silu", {}),
        ("layers.Dense(64, activation='relu')", "relu", {}),
        ("tf.sigmoid", "sigmoid", {}),
        ("nn.SiLU()", "silu", {}),
        ("tf.nn.silu(x, beta=2.0)", "swish_beta", {"beta": 2.0}),
        ("nn.Softplus(beta=2)", "softplus_beta", {"beta": 2.0, "threshold": 20.0}),
        ("nn.Threshold(0.1, 20)", "threshold", {"threshold": 0.1, "value": 20.0}),
        ("ai.onnx.Shrink(lambd=0.3, bias=0.3)", "soft_shrink", {"threshold": 0.3}),
    ],
)
def test_calls_from_model_code(call: str, spec: str, params: dict[str, float]) -> None:
    r = port(call)
    assert r.spec == spec
    assert r.params == pytest.approx(params)
    assert str(r).startswith(call)


def test_tf_leaky_relu_without_arguments_uses_tf_default() -> None:
    r = port("tf.nn.leaky_relu")
    alpha = _default(tf.nn.leaky_relu, "alpha")
    assert r.params == {"negative_slope": alpha}
    torch_eq = next(e for e in r.equivalents if e.call == "torch.nn.LeakyReLU")
    assert torch_eq.code == f"torch.nn.LeakyReLU(negative_slope={alpha!r})"
    assert torch_eq.warnings  # torch's own default differs


def test_gelu_to_keras_warns_where_keras_ops_default_differs() -> None:
    r = port("torch.nn.GELU()")
    ops = next(e for e in r.equivalents if e.call == "keras.ops.gelu")
    assert "approximate=False" in ops.code and ops.warnings
    act = next(e for e in r.equivalents if e.call == "keras.activations.gelu")
    assert not act.warnings  # keras.activations.gelu defaults to the erf form, like torch


def test_keras_prelu_default_initialiser_is_read() -> None:
    r = port("keras.layers.PReLU()")
    assert r.spec == "prelu" and r.params == {"weight": 0.0}
    torch_eq = next(e for e in r.equivalents if e.call == "torch.nn.PReLU")
    assert "init=0.0" in torch_eq.code and torch_eq.warnings


def test_parameters_the_other_framework_cannot_express() -> None:
    r = port("torch.nn.ELU(alpha=0.5)")
    assert "tf.nn.elu" not in [e.call for e in r.equivalents]  # tf.nn.elu has no alpha
    assert any(e.call == "keras.layers.ELU" and "alpha=0.5" in e.code for e in r.equivalents)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("torch.nn.Foo()", "does not exist"),
        ("torch.nn.MultiheadAttention(8, 2)", "no xact spec"),
        ("nn.GELU(approximate=mode)", "not a literal"),
        ("nn.LeakyReLU(0.1, True, 3)", "at most"),
        ("nn.LeakyReLU(slope=0.1)", "no argument 'slope'"),
        ("nn.GELU(approximate='cubic')", "no xact spec computes"),
        ("numpy.tanh", "not a torch, tf, keras"),
        ("torch.nn.LeakyReLU(", "cannot parse"),
    ],
)
def test_unknown_and_unreadable_calls(call: str, message: str) -> None:
    with pytest.raises(PortError, match=message):
        port(call)


def test_cli(capsys: pytest.CaptureFixture[str]) -> None:
    from xact.cli import main

    assert main(["port", "torch.nn.LeakyReLU()"]) == 0
    out = capsys.readouterr().out
    assert "leaky_relu" in out and "keras.layers.LeakyReLU(negative_slope=" in out
    assert main(["port", "torch.nn.NotAThing()"]) == 1
    assert "xact port:" in capsys.readouterr().err


def test_module_is_callable() -> None:
    import xact.port as xport

    assert xport("nn.SiLU()").spec == "silu"  # type: ignore[operator]
