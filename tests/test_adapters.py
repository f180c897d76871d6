"""Each adapter and mode against the NumPy float64 reference, over the registry.

The reference is ``xact.numpy`` in float64 on the very input values the
framework saw (cast back to float64), so rounding of the inputs cancels out.
Tolerances come from ``conftest.TOLERANCES``.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_matches, grid

import xact
import xact.numpy as xnp

ALL = xact.names()
PARAMETRIC = [n for n in ALL if xact.get(n).params]
NATIVE = [n for n in ALL if xact.get(n).takes_xp]


@pytest.mark.parametrize("name", ALL)
def test_value_and_grad_match_reference(framework, mode, dtype, name):
    x = framework.tensor(grid(dtype), dtype)
    y, gx, _ = framework.value_and_grads(name, x, mode)
    x64 = framework.to_numpy(x)
    ctx = f"{framework.name}.{name} mode={mode}"
    assert_matches(y, xnp.apply(name, x64), dtype, "value", ctx, spec=xact.get(name))
    assert_matches(gx, xnp.grad(name, x64), dtype, "gradient", ctx, spec=xact.get(name))


@pytest.mark.parametrize("name", NATIVE)
def test_bridge_matches_native(framework, dtype, name):
    x = framework.tensor(grid(dtype), dtype)
    yn, gn, _ = framework.value_and_grads(name, x, "native")
    yb, gb, _ = framework.value_and_grads(name, x, "numpy")
    ctx = f"{framework.name}.{name} bridge vs native"
    assert_matches(yb, yn, dtype, "value", ctx, spec=xact.get(name))
    assert_matches(gb, gn, dtype, "gradient", ctx, spec=xact.get(name))


@pytest.mark.parametrize("name", PARAMETRIC)
def test_param_grads_are_reduced_over_broadcast(framework, mode, name):
    """A (3, 1) parameter against a (3, 8) input gets the row sums of its partial."""
    spec = xact.get(name)
    x64 = np.linspace(-3.0, 3.0, 24).reshape(3, 8)
    x = framework.tensor(x64, "float32")
    values = {p: np.full((3, 1), d + 0.25 * (d == 0)) for p, d in spec.params.items()}
    params = {p: framework.param(v) for p, v in values.items()}
    upstream = framework.tensor(np.linspace(0.5, 2.0, 24).reshape(3, 8), "float32")
    _, gx, pgrads = framework.value_and_grads(name, x, mode, upstream=upstream, **params)
    u64 = framework.to_numpy(upstream)
    parts = xnp.grads(name, framework.to_numpy(x), **{p: v.astype(np.float32).astype(np.float64) for p, v in values.items()})
    ctx = f"{framework.name}.{name} mode={mode}"
    assert_matches(gx, u64 * parts[0], "float32", "gradient", ctx, spec=xact.get(name))
    for i, p in enumerate(spec.params, start=1):
        assert pgrads[p].shape == (3, 1), f"{ctx}: grad of {p} has shape {pgrads[p].shape}"
        # Sums of 8 terms: allow the rounding of the sum on top of each term's.
        expected = (u64 * parts[i]).sum(axis=1, keepdims=True)
        np.testing.assert_allclose(pgrads[p], expected, rtol=1e-5, atol=1e-6, err_msg=ctx)


@pytest.mark.parametrize("shape", [(), (0,), (2, 3, 4), (1, 1, 1, 5)], ids=str)
def test_shape_and_dtype_preserved(framework, mode, dtype, shape):
    a = np.linspace(-2, 2, int(np.prod(shape))).reshape(shape)
    x = framework.tensor(a, dtype)
    y = framework.apply("gelu_tanh", x, mode=mode)
    assert tuple(y.shape) == shape
    assert framework.dtype_name(y) == dtype


@pytest.mark.parametrize("name", ALL)
def test_nan_in_gives_nan_out(framework, mode, name):
    x = framework.tensor([np.nan, 1.0, np.nan], "float32")
    y = framework.to_numpy(framework.apply(name, x, mode=mode))
    assert np.isnan(y[[0, 2]]).all(), f"{name}: NaN input gave {y}"


@pytest.mark.parametrize("bad_dtype", ["int32", "int64", "bool"])
def test_non_float_input_is_a_type_error_naming_activation(framework, bad_dtype):
    if framework.name == "torch":
        x = framework.torch.zeros(3, dtype=getattr(framework.torch, bad_dtype))
    else:
        x = framework.tf.zeros(3, dtype=bad_dtype)
    with pytest.raises(xact.XactTypeError, match=rf"'gelu'.*{bad_dtype}") as info:
        framework.apply("gelu", x)
    assert isinstance(info.value, TypeError)


def test_unknown_parameter_is_refused(framework):
    x = framework.tensor([1.0], "float32")
    with pytest.raises(xact.ParameterError, match="negative_slope"):
        framework.apply("leaky_relu", x, slope=0.2)


def test_param_of_wrong_shape_is_refused(framework):
    x = framework.tensor(np.zeros((2, 3)), "float32")
    with pytest.raises(xact.ParameterError, match="broadcast"):
        framework.apply("leaky_relu", x, negative_slope=framework.param(np.zeros((4,))))


def test_attribute_access_for_every_name(framework):
    adapter = framework.adapter
    x = framework.tensor([-1.0, 0.5], "float32")
    for n in xact.names(include_aliases=True):
        fn = getattr(adapter, n)
        expected = framework.to_numpy(adapter.apply(n, x))
        np.testing.assert_array_equal(framework.to_numpy(fn(x)), expected)
    with pytest.raises(AttributeError, match="gelu"):
        adapter.gelu_tanhh  # noqa: B018


def test_upstream_gradient_is_multiplied_not_summed(framework, mode):
    x = framework.tensor([-1.0, 0.5, 2.0], "float64")
    u = framework.tensor([3.0, -2.0, 0.5], "float64")
    _, gx, _ = framework.value_and_grads("silu", x, mode, upstream=u)
    np.testing.assert_allclose(gx, [3.0, -2.0, 0.5] * xnp.grad("silu", np.array([-1.0, 0.5, 2.0])), rtol=1e-14)


def test_mode_native_needs_xp(framework, fresh_name):
    xact.define(fresh_name, fn=np.vectorize(lambda v: v * v), grad=np.vectorize(lambda v: 2 * v))
    x = framework.tensor([1.0, 2.0], "float32")
    with pytest.raises(xact.ModeError, match="xp"):
        framework.apply(fresh_name, x, mode="native")
    with pytest.raises(xact.ModeError, match="mode must be one of"):
        framework.apply(fresh_name, x, mode="fast")


def test_plain_numpy_spec_runs_through_bridge(framework, dtype, fresh_name):
    """np.vectorize specs (no xp) work in every dtype via the host bridge."""
    xact.define(fresh_name, fn=np.vectorize(lambda v: v * v), grad=np.vectorize(lambda v: 2 * v))
    x = framework.tensor([-1.5, 0.0, 3.0], dtype)
    y, gx, _ = framework.value_and_grads(fresh_name, x, "auto")
    x64 = framework.to_numpy(x)
    assert_matches(y, x64 * x64, dtype, "value", fresh_name)
    assert_matches(gx, 2 * x64, dtype, "gradient", fresh_name)
