"""One small runner per framework: a built-in call string + kwargs -> values and gradients.

Every runner has the same shape: ``make(call, kwargs)`` returns a function
``run(x, dtype) -> (value, gradient or None)`` on float64 NumPy arrays
holding values of ``dtype`` (``"float32"`` or ``"float64"``). Module and
layer forms are instantiated with the kwargs (torch modules in ``eval()``,
so RReLU is deterministic); functions get the input tensor first. The
gradient is d(sum y)/dx from the framework's own autograd (``jax.vjp`` for JAX,
with its global 64-bit flag switched on for the call and restored). ONNX defines no
gradient: its runner builds a one-node model and evaluates the forward with
``onnx.reference.ReferenceEvaluator``, an implementation independent of the
frameworks.

Each runner imports its framework when it is made, never before.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from xact.parity.builtins import resolve

__all__ = ["Run", "make"]

Run = Callable[[np.ndarray, str], tuple[np.ndarray, "np.ndarray | None"]]


def _torch(call: str, kwargs: Mapping[str, Any]) -> Run:
    import torch

    obj = resolve(call)

    def run(x: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray | None]:
        dt = getattr(torch, dtype)
        kw = dict(kwargs)
        if isinstance(obj, type):
            fn: Any = obj(**kw).to(dt).eval()
        else:
            # a weight argument (prelu) is a tensor of shape (1,), like PReLU's
            tensors = {k: torch.tensor([float(v)], dtype=dt) for k, v in kw.items() if k == "weight"}
            rest = {k: v for k, v in kw.items() if k not in tensors}
            fn = lambda t: obj(t, *tensors.values(), **rest)  # noqa: E731
        t = torch.tensor(x, dtype=dt, requires_grad=True)
        y = fn(t)
        y.backward(torch.ones_like(y))
        g = None if t.grad is None else t.grad.detach().numpy().astype(np.float64)
        return y.detach().numpy().astype(np.float64), g

    return run


def _tf_like(call: str, kwargs: Mapping[str, Any]) -> Run:
    """tf.nn / tf.math functions, keras.activations / keras.ops functions and Keras layers."""
    import tensorflow as tf

    obj = resolve(call)

    def run(x: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray | None]:
        v = tf.constant(x, dtype=getattr(tf, dtype))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if isinstance(obj, type):
                layer = obj(**dict(kwargs), dtype=dtype)
                fn: Any = lambda t: tf.reshape(layer(tf.reshape(t, (-1, 1))), (-1,))  # noqa: E731
            else:
                fn = lambda t: obj(t, **dict(kwargs))  # noqa: E731
            with tf.GradientTape() as tape:
                tape.watch(v)
                y = fn(v)
            g = tape.gradient(y, v)
        gv = None if g is None else np.asarray(g, dtype=np.float64)
        return np.asarray(y, dtype=np.float64), gv

    return run


def _keras(call: str, kwargs: Mapping[str, Any]) -> Run:
    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            f"Keras runs on the {keras.backend.backend()!r} backend; the parity record "
            "measures Keras on its TensorFlow backend (set KERAS_BACKEND=tensorflow)"
        )
    return _tf_like(call, kwargs)


def _onnx(call: str, kwargs: Mapping[str, Any]) -> Run:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    op = call.rsplit(".", 1)[-1]
    schema = onnx.defs.get_schema(op)
    input_names = [i.name for i in schema.inputs]
    allowed = {t for c in schema.type_constraints for t in c.allowed_type_strs}
    elem: dict[str, int] = {"float32": TensorProto.FLOAT, "float64": TensorProto.DOUBLE}
    type_str = {"float32": "tensor(float)", "float64": "tensor(double)"}

    def run(x: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray | None]:
        if type_str[dtype] not in allowed:
            raise TypeError(f"ONNX {op} does not take {dtype} (its type constraint allows "
                            f"{', '.join(sorted(allowed))})")
        npd = np.dtype(dtype)
        inits, node_inputs = [], ["X"]
        attrs: dict[str, Any] = {}
        for name in input_names[1:]:
            if name in kwargs and kwargs[name] is not None:
                value = np.asarray(kwargs[name], dtype=npd)
                if op == "PRelu":
                    value = value.reshape(1)  # broadcasts against X like torch's weight
                inits.append(numpy_helper.from_array(value, name=name))
                node_inputs.append(name)
            else:
                node_inputs.append("")
        while node_inputs and node_inputs[-1] == "":
            node_inputs.pop()
        for k, v in kwargs.items():
            if k in schema.attributes:
                attrs[k] = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
        node = helper.make_node(op, node_inputs, ["Y"], **attrs)
        graph = helper.make_graph(
            [node], "parity",
            [helper.make_tensor_value_info("X", elem[dtype], [None])],
            [helper.make_tensor_value_info("Y", elem[dtype], [None])],
            initializer=inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", schema.since_version)])
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            y = ReferenceEvaluator(model).run(None, {"X": x.astype(npd)})[0]  # type: ignore[index]
        return np.asarray(y, dtype=np.float64).reshape(-1), None

    return run


def _jax(call: str, kwargs: Mapping[str, Any]) -> Run:
    """jax.nn / jax.numpy functions, called eagerly as written in a model; gradient by jax.vjp."""
    import jax
    import jax.numpy as jnp

    from xact.testing.frameworks import _jax_x64

    obj = resolve(call)

    def run(x: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray | None]:
        with _jax_x64():  # float64 needs JAX's global 64-bit flag; restored after
            v = jnp.asarray(x, dtype=dtype)
            y, vjp = jax.vjp(lambda t: obj(t, **dict(kwargs)), v)
            (g,) = vjp(jnp.ones_like(y))
            return np.asarray(y, dtype=np.float64), np.asarray(g, dtype=np.float64)

    return run


_RUNNERS: dict[str, Callable[[str, Mapping[str, Any]], Run]] = {
    "torch": _torch, "tf": _tf_like, "keras": _keras, "onnx": _onnx, "jax": _jax,
}


def make(framework: str, call: str, kwargs: Mapping[str, Any]) -> Run:
    """The runner for one built-in with these arguments (raises if it cannot be built)."""
    if framework not in _RUNNERS:
        raise RuntimeError(f"no parity runner for framework {framework!r}")
    return _RUNNERS[framework](call, kwargs)
