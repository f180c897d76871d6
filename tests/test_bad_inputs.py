"""Inputs a user will really pass, in both frameworks and modes: a clear xact error or a documented conversion."""

from __future__ import annotations

import numpy as np
import pytest

import xact


def _tensor_of(framework, values, dtype):
    if framework.name == "torch":
        return framework.torch.tensor(values, dtype=getattr(framework.torch, dtype))
    return framework.tf.constant(values, dtype=dtype)


@pytest.mark.parametrize("dtype", ["int32", "int64", "bool", "complex64", "uint8"])
def test_non_float_tensors(framework, mode, dtype):
    values = [True, False, True] if dtype == "bool" else [1, 0, 2]
    x = _tensor_of(framework, values, dtype)
    with pytest.raises(xact.XactTypeError, match=rf"activation 'softplus' needs a floating input.*{dtype}"):
        framework.apply("softplus", x, mode=mode)


def test_python_lists_and_scalars(framework, mode):
    if framework.name == "torch":  # as torch's own functions: tensors only
        for value in ([1.0, -2.0], 1.5, np.array([1.0], np.float32)):
            with pytest.raises(xact.XactTypeError, match=r"torch\.as_tensor"):
                framework.apply("relu", value, mode=mode)
    else:  # as TF's own ops: converted with tf.convert_to_tensor
        y = framework.apply("relu", [1.0, -2.0], mode=mode)
        assert framework.dtype_name(y) == "float32"
        np.testing.assert_array_equal(framework.to_numpy(y), [1.0, 0.0])
        assert framework.to_numpy(framework.apply("relu", -1.5, mode=mode)) == 0.0
        y64 = framework.apply("relu", np.array([-1.0, 3.0]), mode=mode)
        assert framework.dtype_name(y64) == "float64"
        with pytest.raises(xact.XactTypeError, match="int32"):
            framework.apply("relu", [1, 2], mode=mode)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((4,)), "broadcast"),
        ("0.2", "number or a"),
        (True, "number or a"),
    ],
    ids=["wrong-shape", "string", "bool"],
)
def test_bad_parameter_values(framework, mode, bad, message):
    x = framework.tensor(np.zeros((2, 3)), "float32")
    if isinstance(bad, np.ndarray):
        bad = framework.param(bad)
    with pytest.raises(xact.ParameterError, match=message):
        framework.apply("leaky_relu", x, mode=mode, negative_slope=bad)


def test_integer_parameter_tensor(framework, mode):
    x = framework.tensor(np.zeros(3), "float32")
    p = _tensor_of(framework, [1, 2, 3], "int32")
    with pytest.raises(xact.ParameterError, match="number or a floating"):
        framework.apply("leaky_relu", x, mode=mode, negative_slope=p)


def test_unknown_name_and_keywords(framework, mode):
    x = framework.tensor([1.0], "float32")
    with pytest.raises(xact.UnknownActivationError, match="Did you mean 'leaky_relu'"):
        framework.apply("leaky_rely", x, mode=mode)
    with pytest.raises(xact.ParameterError, match=r"unexpected parameter\(s\) 'beta'.*takes negative_slope"):
        framework.apply("leaky_relu", x, mode=mode, beta=2.0)
    with pytest.raises(xact.ParameterError, match="takes no parameters"):
        framework.apply("relu", x, mode=mode, alpha=2.0)


def test_torch_meta_device_in_bridge_mode():
    torch = pytest.importorskip("torch")
    import xact.torch as xt

    x = torch.empty(3, device="meta")
    assert xt.apply("gelu", x, mode="native").device.type == "meta"
    with pytest.raises(xact.ModeError, match="meta"):
        xt.apply("gelu", x, mode="numpy")


def test_torch_parameter_on_another_device():
    torch = pytest.importorskip("torch")
    import xact.torch as xt

    x = torch.zeros(3)
    with pytest.raises(xact.ParameterError, match=r"\.to\(x\.device\)"):
        xt.apply("leaky_relu", x, negative_slope=torch.tensor(0.1, device="meta"))


def test_numpy_adapter_bad_inputs():
    import xact.numpy as xnp

    np.testing.assert_array_equal(xnp.apply("relu", [-1.0, 2.0]), [0.0, 2.0])
    with pytest.raises(xact.XactTypeError, match="int64"):
        xnp.apply("relu", np.arange(3))
    with pytest.raises(xact.XactTypeError, match="complex128"):
        xnp.apply("relu", np.ones(2, complex))
    with pytest.raises(xact.XactTypeError, match="NumPy array"):
        xnp.apply("relu", "1.0")


# ------------------------------------------------------------------ issue 11: raw errors no more


@pytest.mark.parametrize("bad", ["abc", 10**400, -(10**400), None, True, b"1"])
def test_unusable_parameter_numbers_are_parameter_errors_everywhere(framework, mode, bad):
    x = framework.tensor([1.0, -1.0], "float32")
    with pytest.raises(xact.ParameterError, match="'alpha'"):
        framework.apply("elu", x, mode=mode, alpha=bad)
    import xact.numpy as xnp

    with pytest.raises(xact.ParameterError, match="'alpha'"):
        xnp.apply("elu", np.array([1.0]), mode=mode, alpha=bad)
    with pytest.raises(xact.ParameterError, match="'alpha'"):
        framework.adapter.Activation("elu", alpha=bad)


@pytest.mark.parametrize("shape", [(-1,), (2, -3), "ab", (1.5,), 3, (True,)])
def test_torch_module_refuses_a_bad_param_shape(shape):
    pytest.importorskip("torch")
    import xact.torch as xt

    with pytest.raises(xact.ParameterError, match="param_shape"):
        xt.Activation("elu", trainable=True, param_shape=shape)


def test_torch_sparse_and_nested_tensors_are_type_errors(mode):
    torch = pytest.importorskip("torch")
    import xact.torch as xt

    dense = torch.tensor([[0.0, -1.0], [2.0, 0.0]])
    for x in (dense.to_sparse(), dense.to_sparse_csr(), torch.nested.nested_tensor([dense[0], dense[1, :1]])):
        with pytest.raises(xact.XactTypeError, match="to_dense"):
            xt.apply("relu", x, mode=mode)


def test_numpy_adapter_list_of_strings_is_a_type_error():
    import xact.numpy as xnp

    with pytest.raises(xact.XactTypeError, match="float64 array"):
        xnp.apply("relu", ["a", "b"])


def test_define_refuses_a_default_beyond_float(fresh_name):
    with pytest.raises(xact.SpecError, match="must be a number"):
        xact.define(fresh_name, fn=lambda x, a=1.0, xp=np: a * x, grad=lambda x, a=1.0, xp=np: (a + 0 * x, x),
                    params={"a": 10**400})


@pytest.mark.parametrize("target", ["../x:y", ":", "a/b:c", "os:pa-th", "os:path"])
def test_xact_check_bad_targets_give_one_line(target):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "xact", "check", target], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("xact check: ")
