"""TensorFlow/Keras adapter: run any registered spec on TF tensors, with gradients.

Public names mirror ``xact.torch`` and ``xact.numpy``: :func:`apply`, the
Keras 3 :class:`Activation` layer, and one attribute per registered name
(``xact.tf.gelu_tanh``), looked up at call time.

Two modes, one ``tf.custom_gradient`` shape:

* native: the spec runs on TF ops through the ``xp`` namespace; works
  eagerly, in ``tf.function`` and under ``jit_compile=True`` (XLA); the
  gradient evaluates the declared ``grad`` with TF ops, so nested tapes give
  second derivatives.
* numpy (host bridge): ``tf.numpy_function`` runs the spec on host NumPy;
  static shape and dtype are restored after the call. It cannot be compiled
  by XLA or saved in a SavedModel (the Python function is not serialisable).

Inputs that are not tensors (NumPy arrays, lists, scalars) are converted
with ``tf.convert_to_tensor`` first, as TF's own ops do. Half types compute
in float32 and are rounded once.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
import weakref
from collections.abc import Callable, Sequence
from numbers import Real
from typing import TYPE_CHECKING, Any

import keras
import numpy as np
import tensorflow as tf

from xact import keras as _keras
from xact import kernels as _kernels
from xact import spec as _spec_module
from xact._call import Call, call_fn, call_grad, check_broadcast, named_attributes, number, resolve
from xact._dtypes import require_float
from xact._host import readonly
from xact.errors import ModeError, ParameterError, SpecError, XactTypeError, XactWarning
from xact.kernels import tf as _tf_kernels
from xact.ops.numpy import namespace as numpy_namespace
from xact.ops.tf import namespace as tf_namespace
from xact.spec import Spec

__all__ = ["Activation", "apply"]

_HALF = (tf.float16, tf.bfloat16)


def _compute(dtype: tf.DType) -> tf.DType:
    return tf.float32 if dtype in _HALF else dtype


def _as_output(y: Any, like: tf.Tensor, spec: Spec, what: str) -> tf.Tensor:
    """The spec's result as a tensor of ``like``'s dtype and shape."""
    y = tf.convert_to_tensor(y, dtype_hint=like.dtype)
    if y.dtype != like.dtype:
        y = tf.cast(y, like.dtype)
    if y.shape.rank is not None and like.shape.rank is not None and y.shape == like.shape:
        return y
    try:
        return tf.broadcast_to(y, tf.shape(like))
    except (tf.errors.InvalidArgumentError, ValueError):
        raise SpecError(
            f"{spec.name!r}: {what} returned shape {y.shape} for an input of shape "
            f"{like.shape}; it must be elementwise"
        ) from None


def _unbroadcast(g: tf.Tensor, param: tf.Tensor) -> tf.Tensor:
    """Sum ``g`` over the dimensions that ``param`` was broadcast along."""
    if g.shape.is_fully_defined() and g.shape == param.shape:
        return g
    _, axes = tf.raw_ops.BroadcastGradientArgs(s0=tf.shape(g), s1=tf.shape(param))
    return tf.reshape(tf.reduce_sum(g, axis=axes), tf.shape(param))


# ------------------------------------------------------------------ evaluators
# Native and bridge differ only in where the spec runs: these four functions.


def _native_values(spec: Spec, x: tf.Tensor, params: dict[str, Any], xla: bool = False) -> tf.Tensor:
    return _as_output(call_fn(spec, x, params, tf_namespace(x.dtype, xla)), x, spec, "fn")


def _native_partials(spec: Spec, x: tf.Tensor, params: dict[str, Any], xla: bool = False) -> list[tf.Tensor]:
    parts = call_grad(spec, x, params, tf_namespace(x.dtype, xla))
    return [_as_output(p, x, spec, "grad") for p in parts]


def _xla_values(spec: Spec, x: tf.Tensor, params: dict[str, Any]) -> tf.Tensor:
    return _native_values(spec, x, params, xla=True)


def _xla_partials(spec: Spec, x: tf.Tensor, params: dict[str, Any]) -> list[tf.Tensor]:
    return _native_partials(spec, x, params, xla=True)


def _refuse_saving(spec: Spec) -> None:
    """The bridge's Python function cannot be serialised; fail at save, not at load."""
    try:
        from tensorflow.python.saved_model import save_context
    except ImportError:  # private module moved: nothing to detect with
        return
    if save_context.in_save_context():
        raise ModeError(
            f"{spec.name!r} runs through the NumPy bridge (mode='numpy'), which a "
            "SavedModel cannot hold (tf.numpy_function keeps a Python callback). "
            "Use mode='native' with a spec that takes `xp`, or save with Keras "
            "(model.save('m.keras')) and define the activation again before loading."
        )


def _host_call(spec: Spec, x: tf.Tensor, params: dict[str, Any], n_out: int, body: Callable[..., Any]) -> list[tf.Tensor]:
    """Run ``body(xn, host_params)`` through ``tf.numpy_function``."""
    _refuse_saving(spec)
    tensor_names = [k for k, v in params.items() if isinstance(v, tf.Tensor)]
    np_dtype = np.dtype(x.dtype.name)

    def host(xn: np.ndarray, *tvals: np.ndarray) -> list[np.ndarray]:
        # Read-only: the arrays may be the tensors' own buffers. The results are copies.
        xn = readonly(xn)
        hp = {**params, **{n: readonly(v) for n, v in zip(tensor_names, tvals)}}
        with np.errstate(all="ignore"):
            outs = body(xn, hp)
        return [np.array(np.broadcast_to(np.asarray(o, dtype=np_dtype), xn.shape)) for o in outs]

    outs = tf.numpy_function(
        host, [x, *(params[k] for k in tensor_names)], Tout=[x.dtype] * n_out,
        stateful=False, name=f"xact_{spec.name}",
    )
    if not isinstance(outs, (list, tuple)):  # a one-element Tout comes back bare
        outs = [outs]
    for o in outs:
        o.set_shape(x.shape)
    return list(outs)


def _bridge_values(spec: Spec, x: tf.Tensor, params: dict[str, Any]) -> tf.Tensor:
    def body(xn: np.ndarray, hp: dict[str, Any]) -> list[Any]:
        return [call_fn(spec, xn, hp, numpy_namespace(xn.dtype))]

    return _host_call(spec, x, params, 1, body)[0]


def _bridge_second(spec: Spec, x: tf.Tensor, params: dict[str, Any]) -> tf.Tensor:
    assert spec.grad2 is not None
    second = dataclasses.replace(spec, fn=spec.grad2)  # evaluate grad2 like a forward
    return _bridge_values(second, x, params)


def _bridge_partials(spec: Spec, x: tf.Tensor, params: dict[str, Any]) -> list[tf.Tensor]:
    def body(xn: np.ndarray, hp: dict[str, Any]) -> list[Any]:
        return list(call_grad(spec, xn, hp, numpy_namespace(xn.dtype)))

    tensor_names = [k for k, v in params.items() if isinstance(v, tf.Tensor)]

    # numpy_function has no gradient: without this wrapper a nested tape would
    # silently return None for the second derivative.
    @tf.custom_gradient
    def partials(x: tf.Tensor, *tps: tf.Tensor) -> Any:
        hp = {**params, **dict(zip(tensor_names, tps))}
        outs = _host_call(spec, x, hp, 1 + len(spec.params), body)

        def second(*gouts: tf.Tensor) -> Any:
            if spec.grad2 is None:
                raise ModeError(
                    f"{spec.name!r} runs through the NumPy bridge (mode='numpy'), which has "
                    "no second derivative: pass grad2= (d2f/dx2) to xact.define, or use "
                    "mode='native' with a spec that takes `xp`"
                )
            if tps:
                raise ModeError(
                    f"{spec.name!r}: mixed second derivatives with respect to parameters "
                    "are not available through the NumPy bridge; use mode='native'"
                )
            return gouts[0] * _bridge_second(spec, x, hp)

        return outs, second

    return list(partials(x, *(params[k] for k in tensor_names)))


# ------------------------------------------------------------------ fused kernels (default)


def _fused(xla_body: Callable[..., Any], body: Callable[..., Any], key: tuple[Any, ...], n_params: int,
           n_tensors: int) -> Callable[..., Any]:
    """``xla_body`` run as an XLA-compiled function where that is possible, else ``body``.

    The two are the same spec code; ``xla_body`` evaluates it on the namespace
    for XLA-compiled bodies (``xact.ops.tf``: XLA's own kernel where it is
    accurate and Eigen's is not). ``n_tensors`` leading arguments are x-shaped
    (x, and gy for the gradient). Eager calls wait for a background compilation
    per shape; traced graphs call the compiled function once XLA has proven it
    can compile the body.
    """
    # TF's frequent-retracing warning counts traces per Python code object, so every
    # op's bodies (closures of one function) would count as one function: a model
    # with a few xact activations and two batch shapes logged "triggered
    # tf.function retracing" warnings. A partial has no code object of its own and
    # is counted by itself: one program, one count. A dtype change always retraces,
    # so each dtype has its own program (a spec checked in four dtypes and a few
    # shapes logged the warning too); within one, reduce_retracing relaxes shapes.
    programs: dict[str, Any] = {}

    def run(*args: tf.Tensor) -> Any:
        if _kernels.mode() == "off":
            return body(*args)
        dtype = args[0].dtype
        program = programs.get(dtype.name)
        if program is None:
            program = programs.setdefault(
                dtype.name, tf.function(functools.partial(xla_body), jit_compile=True, reduce_retracing=True))
        if tf.executing_eagerly():
            kernel = _tf_kernels.eager_kernel((*key, dtype.name), program, list(args))
            return body(*args) if kernel is None else kernel(*args)
        if _tf_kernels.proven((*key, dtype.name), program, dtype, n_params, n_tensors):
            return program(*args)
        return body(*args)

    return run


# ------------------------------------------------------------------ custom gradient


# Ops are built per (spec, mode, scalar values): a bounded cache, since a sweep over
# scalar values (or a learning-rate-like schedule passed as a number) would otherwise
# keep every op alive. Scalars are keyed by their exact hex form: NaN is one key (NaN !=
# NaN would add an entry per call).
_OP_CACHE_SIZE = 256


@functools.lru_cache(maxsize=_OP_CACHE_SIZE)
def _op(spec: Spec, native: bool, scalars: tuple[tuple[str, str], ...]) -> Callable[..., tf.Tensor]:
    """A ``tf.custom_gradient`` op for ``spec`` with fixed scalar parameters.

    Tensor parameters are the op's extra inputs, in ``spec.params`` order
    minus the scalar ones; built once per (spec, mode, scalar values), the
    scalars given as ``float.hex`` strings.
    """
    fixed = {n: float.fromhex(h) for n, h in scalars}
    tensor_names = [n for n in spec.param_names if n not in fixed]
    tensor_slots = [1 + spec.param_names.index(n) for n in tensor_names]  # in grad's partials

    def in_compute(x: tf.Tensor, tps: Sequence[tf.Tensor]) -> tuple[tf.Tensor, dict[str, Any]]:
        cdt = _compute(x.dtype)
        pc: dict[str, Any] = dict(fixed)
        pc.update({n: tf.cast(p, cdt) for n, p in zip(tensor_names, tps)})
        return tf.cast(x, cdt), pc

    def bodies(values: Callable[..., Any], partials: Callable[..., Any]) -> tuple[Callable[..., Any], ...]:
        def forward_body(x: tf.Tensor, *tps: tf.Tensor) -> tf.Tensor:
            xs, ps = in_compute(x, tps)
            return tf.cast(values(spec, xs, ps), x.dtype)

        def gradient_body(x: tf.Tensor, gy: tf.Tensor, *tps: tf.Tensor) -> tuple[tf.Tensor, ...]:
            xc, pc = in_compute(x, tps)  # from x itself, so nested tapes see the path from x
            parts = partials(spec, xc, pc)
            gyc = tf.cast(gy, xc.dtype)
            gx = tf.cast(gyc * parts[0], x.dtype)
            gps = [tf.cast(_unbroadcast(gyc * parts[i], p), p.dtype) for i, p in zip(tensor_slots, tps)]
            return (gx, *gps)

        return forward_body, gradient_body

    if native:
        # Native ops run their bodies as XLA-compiled functions where XLA can take
        # them (xact/kernels/tf.py), on the namespace for XLA bodies; the bridge's
        # host callback cannot be compiled.
        plain_forward, plain_gradient = bodies(_native_values, _native_partials)
        xla_forward, xla_gradient = bodies(_xla_values, _xla_partials)
        n = len(tensor_names)
        run_forward = _fused(xla_forward, plain_forward, (spec, scalars, "forward"), n, 1)
        run_gradient = _fused(xla_gradient, plain_gradient, (spec, scalars, "gradient"), n, 2)
    else:
        run_forward, run_gradient = bodies(_bridge_values, _bridge_partials)

    @tf.custom_gradient
    def op(x: tf.Tensor, *tps: tf.Tensor) -> Any:
        # In eager mode the tape would record every op of the forward and keep its
        # intermediates alive; the gradient comes from `grad`, so the forward runs
        # on stopped copies and only the inputs stay referenced.
        y = run_forward(tf.stop_gradient(x), *[tf.stop_gradient(p) for p in tps])

        def grad(gy: tf.Tensor) -> Any:
            gx, *gps = run_gradient(x, gy, *tps)
            return (gx, *gps) if gps else gx

        return y, grad

    return op  # type: ignore[no-any-return]


# ------------------------------------------------------------------ public API


def _check_input(spec: Spec, x: Any) -> tf.Tensor:
    if not isinstance(x, (tf.Tensor, tf.Variable)):
        try:
            x = tf.convert_to_tensor(x)
        except (TypeError, ValueError) as e:
            raise XactTypeError(
                f"xact.tf.{spec.name} takes a tf.Tensor (or something "
                f"tf.convert_to_tensor accepts), got {type(x).__name__}: {e}"
            ) from None
    elif isinstance(x, tf.Variable):
        x = tf.convert_to_tensor(x)
    require_float(spec.name, x.dtype.name)
    return x


def _check_param(spec: Spec, name: str, value: Any, x: tf.Tensor) -> tf.Tensor | float:
    if isinstance(value, Real) and not isinstance(value, bool):
        return number(spec, name, value)
    if isinstance(value, (np.ndarray, np.generic, list)):
        value = tf.constant(value, dtype=_compute(x.dtype))
    try:
        value = tf.convert_to_tensor(value)  # tf.Variable / Keras variable reads
    except (TypeError, ValueError):
        raise ParameterError(
            f"{spec.name!r}: parameter {name!r} must be a number or a tensor, "
            f"got {type(value).__name__}"
        ) from None
    if not value.dtype.is_floating:
        raise ParameterError(
            f"{spec.name!r}: parameter {name!r} must be a number or a floating tensor, got {value.dtype.name}"
        )
    if x.shape.is_fully_defined() and value.shape.is_fully_defined():
        check_broadcast(spec, name, tuple(value.shape), tuple(x.shape))
    return value


# TF's select (xp.where) and broadcasting kernels stop at rank 8: higher (or unknown)
# ranks run on a flat view, with tensor parameters broadcast to the input first.
_MAX_RANK = 8


# Specs that a graph has been traced with. A graph holds the spec it was traced with:
# after define(replace=True) or unregister() it keeps computing that one, while eager
# calls and new traces (a new tf.function, a new input signature) use the registry.
_TRACED: weakref.WeakSet[Spec] = weakref.WeakSet()


def _warn_if_traced(spec: Spec) -> None:
    if spec in _TRACED:
        warnings.warn(
            f"{spec.name!r} was redefined or unregistered, but tf.function graphs traced "
            "with it keep computing the old definition; build those tf.functions (and "
            "Keras models' compiled steps, e.g. by compiling the model again) anew to "
            "use the registry as it is now. Eager calls and new traces already do.",
            XactWarning,
            stacklevel=4,
        )


_spec_module._RETIRE_HOOKS.append(_warn_if_traced)


def _run(call: Call, x: Any) -> tf.Tensor:
    spec = call.spec
    if not tf.executing_eagerly():
        _TRACED.add(spec)
    x = _check_input(spec, x)
    checked = {n: _check_param(spec, n, call.params[n], x) for n in spec.param_names}
    scalars = tuple((n, v.hex()) for n, v in checked.items() if isinstance(v, float))
    tensors = [v for v in checked.values() if not isinstance(v, float)]
    op = _op(spec, call.native, scalars)
    rank = x.shape.rank
    if rank is not None and rank <= _MAX_RANK:
        return op(x, *tensors)
    shape = tf.shape(x)
    flat = [tf.reshape(tf.broadcast_to(t, shape), [-1]) for t in tensors]
    return tf.reshape(op(tf.reshape(x, [-1]), *flat), shape)


def apply(activation: str | Spec, x: Any, /, *, mode: str = "auto", **params: Any) -> tf.Tensor:
    """Apply a registered activation to a TF tensor, with a custom gradient.

    Args:
        activation: a registered name or alias, or a :class:`xact.Spec`.
        x: a floating tensor (float16, bfloat16, float32, float64), any shape;
            NumPy arrays and lists are converted with ``tf.convert_to_tensor``.
        mode: "auto" (native when the spec takes ``xp``), "native" or "numpy".
        **params: parameter values by keyword: numbers, or tensors/variables
            that broadcast against ``x`` (those get gradients).

    Returns:
        A tensor of ``x``'s dtype and shape.

    Example:
        >>> import tensorflow as tf, xact.tf as xtf
        >>> xtf.apply("relu", tf.constant([-1.0, 2.0])).numpy()
        array([0., 2.], dtype=float32)
    """
    return _run(resolve(activation, mode, params), x)


@keras.saving.register_keras_serializable(package="xact")
class Activation(_keras.Activation):
    """An xact activation as a Keras 3 layer (TensorFlow backend).

    The :class:`xact.keras.Activation` layer, kept under this name (and its
    registered name ``xact>Activation``) for TF users and files saved with it;
    on another Keras backend it refuses and points to ``xact.keras.Activation``.

    Args:
        activation: a registered name or alias.
        mode: "auto", "native" or "numpy".
        trainable: hold the parameters as trainable weights (float32, shape
            ``param_shape``, initialised to the given or default values).
        param_shape: shape of each trainable parameter; it must broadcast
            against the input (e.g. ``(C,)`` per channel for NHWC).
        **params: parameter values; defaults come from the spec.

    The config holds the activation's name and numbers only, so a saved
    model loads with ``safe_mode=True`` once ``xact.tf`` is imported (and, for
    a user-defined activation, once it is defined again).

    Example:
        >>> import keras, xact.tf as xtf
        >>> layer = xtf.Activation("leaky_relu", negative_slope=0.1)
        >>> float(layer(keras.ops.convert_to_tensor([-1.0]))[0])
        -0.10000000149011612
    """

    def __init__(self, activation: str, **kwargs: Any) -> None:
        backend = keras.backend.backend()
        if backend != "tensorflow":
            raise ModeError(
                f"xact.tf.Activation is the TensorFlow-backend layer, but Keras runs on "
                f"{backend!r}. Use xact.keras.Activation({activation!r}, ...), the same layer "
                "for the tensorflow, torch and jax backends."
            )
        super().__init__(activation, **kwargs)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> _keras.Activation:
        if keras.backend.backend() != "tensorflow":  # a file saved on TF, loaded on another backend
            return _keras.Activation.from_config(config)
        return super().from_config(config)

    def call(self, inputs: Any) -> tf.Tensor:
        params: dict[str, Any] = dict(self.values)
        for n, w in self._weights_by_name.items():
            params[n] = tf.convert_to_tensor(w)
        return _run(resolve(self.activation, self.mode, params), inputs)


if TYPE_CHECKING:  # catalogue names for editors (xact/_names.pyi, python -m xact._stubgen)
    from xact._names import *  # noqa: F403

__getattr__, __dir__ = named_attributes("xact.tf", apply, __all__)

# Initialisation and the training guard from xact.signal (the numerics are framework-free).
from xact.signal.tf_init import Initializer, initializer  # noqa: E402
from xact.signal.tf_watch import WatchCallback  # noqa: E402

__all__ += ["Initializer", "WatchCallback", "initializer"]
