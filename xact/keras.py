"""Keras 3 adapter for every backend: one layer, one attribute per activation.

``xact.keras`` runs unchanged under ``KERAS_BACKEND=tensorflow``, ``torch`` and
``jax``. It holds no formula and no gradient of its own: each call goes to the
adapter of the backend Keras runs on (``xact.tf``, ``xact.torch``,
``xact.jax``), so values and the declared gradient are those of the direct
API, with that adapter's modes and errors. The adapter is imported on the
first call, never on a guess: importing ``xact.keras`` imports only Keras.

* :class:`Activation` is a Keras layer; trainable parameters are Keras weights
  (float32 by default, shape ``param_shape``), so ``model.fit`` trains them on
  every backend. Its default name is ``xact_<activation>``, which is what
  ``model.summary()`` shows.
* ``xact.keras.<name>`` (e.g. ``xact.keras.leaky_relu``) is usable as
  ``activation=`` in any Keras layer; ``.with_params(...)`` fixes parameter
  values. It saves as names and numbers (registered as ``xact>activation``).

Saved configs are validated exactly as direct calls are (unknown keys, bad
numbers, bad modes are xact errors), and a config naming an activation that is
not defined says "define activation '<name>' before loading".

    >>> import keras, xact.keras as xk
    >>> layer = xk.Activation("leaky_relu", negative_slope=0.1)
    >>> layer.name
    'xact_leaky_relu'
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import keras

from xact._call import Named, named_attributes, number, resolve
from xact.errors import ModeError, ParameterError, UnknownActivationError, XactError
from xact.spec import get

__all__ = ["Activation", "apply"]

_ADAPTERS = {"tensorflow": "xact.tf", "torch": "xact.torch", "jax": "xact.jax"}


@functools.cache
def _adapter() -> ModuleType:
    """The xact adapter of the backend Keras runs on (imported on first use)."""
    backend = keras.backend.backend()
    module = _ADAPTERS.get(backend)
    if module is None:
        raise ModeError(
            f"xact.keras runs on the Keras backends {', '.join(map(repr, _ADAPTERS))}; this "
            f"Keras uses {backend!r}. Set KERAS_BACKEND before importing keras (for NumPy "
            "arrays use xact.numpy)."
        )
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ModeError(
            f"xact.keras on the {backend!r} Keras backend needs {module}, which failed to "
            f"import: {e}"
        ) from None


def _tensor(value: Any) -> Any:
    """Keras variables as the backend's tensors (so the adapter sees, and trains, them)."""
    if isinstance(value, keras.Variable):
        return keras.ops.convert_to_tensor(value)
    return value


def apply(activation: str, x: Any, /, *, mode: str = "auto", **params: Any) -> Any:
    """Apply a registered activation to a tensor of the current Keras backend.

    Args:
        activation: a registered name or alias, or a :class:`xact.Spec`.
        x: a floating tensor of the backend (tf.Tensor, torch.Tensor, jax.Array).
        mode: "auto", "native" or "numpy", as in the adapters.
        **params: numbers, or tensors / Keras variables that broadcast against ``x``.

    Returns:
        The adapter's result: ``x``'s dtype and shape, with the declared gradient.
    """
    return _adapter().apply(activation, x, mode=mode, **{k: _tensor(v) for k, v in params.items()})


# ------------------------------------------------------------------ configs

def _undefined(name: str) -> UnknownActivationError:
    return UnknownActivationError(
        f"define activation {name!r} before loading: the saved model uses the xact "
        f"activation {name!r}, which is not registered in this process. Run its "
        "xact.define(...) (or import the module that defines it), then load again."
    )


def _spec_name(config: Mapping[str, Any]) -> str:
    name = config.get("activation")
    if not isinstance(name, str):
        raise ParameterError(f"an xact Keras config needs 'activation' as a name, got {name!r}")
    try:
        get(name)
    except UnknownActivationError:
        raise _undefined(name) from None
    return name


def _params(name: str, values: Any) -> dict[str, float]:
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ParameterError(f"{name!r}: 'params' must map parameter names to numbers, got {values!r}")
    spec = get(name)
    resolve(spec, "auto", values)  # unknown parameter names: the direct API's error
    return {k: number(spec, k, v) for k, v in values.items()}


def _refuse_unknown(config: Mapping[str, Any], known: set[str], what: str) -> None:
    unknown = sorted(set(config) - known)
    if unknown:
        raise ParameterError(
            f"{what} config has unknown key(s) {', '.join(map(repr, unknown))}; it takes "
            f"{', '.join(sorted(known))}. Was the file edited?"
        )


@functools.cache
def _surfacing(kind: type[XactError]) -> type[XactError]:
    def __str__(self: XactError) -> str:
        try:
            caller = sys._getframe(1).f_globals.get("__name__", "")
        except ValueError:  # called from C with no Python frame (the interpreter's excepthook)
            caller = ""
        if caller == "keras" or caller.startswith("keras."):
            raise _surface(self) from None
        return kind.__str__(self)

    # Named and placed like `kind`, so tracebacks read "xact.errors.ParameterError: ...".
    return type(kind.__name__, (kind,), {"__str__": __str__, "__module__": kind.__module__,
                                         "__qualname__": kind.__qualname__, "_xact_surfacing": True})


def _surface(error: XactError) -> XactError:
    """``error``, made to come out of Keras's loading code as itself, message first.

    Keras rewraps errors from a layer's constructor and TypeErrors (such as
    ``ParameterError``) from any ``from_config`` into TypeErrors of several
    thousand characters that end with the original message, formatted from
    Keras's own ``except`` block. The returned error, an instance of a
    subclass of ``type(error)`` with the same message, raises a copy of itself
    when Keras formats it, so ``load_model`` raises the xact error.
    """
    kind = type(error)
    while getattr(kind, "_xact_surfacing", False):
        kind = kind.__base__  # type: ignore[assignment]
    surfacing = _surfacing(kind)(*error.args)  # type: ignore[arg-type]
    surfacing.__dict__.update(error.__dict__)
    return surfacing


def _activation_from_config(config: Mapping[str, Any]) -> Named:
    """``xact>activation`` configs (from any adapter's attribute) as ``xact.keras`` attributes."""
    try:
        if not isinstance(config, Mapping):
            raise ParameterError(f"an xact activation config must be a dict, got {config!r}")
        _refuse_unknown(config, {"activation", "mode", "params"}, "xact activation")
        name = _spec_name(config)
        mode = config.get("mode", "auto")
        return Named("xact.keras", apply, name, mode, _params(name, config.get("params")))
    except XactError as e:
        raise _surface(e) from None


# Registered under one name for every adapter's attributes; Named.from_config
# comes back here, so a file saved with xact.tf.gelu loads as xact.keras.gelu.
keras.saving.register_keras_serializable(package="xact", name="activation")(Named)


# ------------------------------------------------------------------ the layer

_LAYER_ARGS = frozenset(
    n for n, p in inspect.signature(keras.layers.Layer.__init__).parameters.items()
    if p.kind is inspect.Parameter.KEYWORD_ONLY
) | {"input_shape", "input_dim"}


def _param_shape(name: str, shape: Any) -> tuple[int, ...]:
    try:
        dims = tuple(shape)
    except TypeError:
        dims = None
    if dims is None or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in dims):
        raise ParameterError(
            f"{name!r}: param_shape must be a sequence of non-negative integers, got {shape!r}"
        )
    return dims


def _default_name(activation: str) -> str:
    """``xact_<activation>``, then ``xact_<activation>_1``, ... like Keras's own names."""
    base = f"xact_{activation}"
    uid = keras.backend.get_uid(base)
    return base if uid == 1 else f"{base}_{uid - 1}"


@keras.saving.register_keras_serializable(package="xact.keras")
class Activation(keras.layers.Layer):
    """An xact activation as a Keras 3 layer, on the tensorflow, torch or jax backend.

    Args:
        activation: a registered name or alias.
        mode: "auto", "native" or "numpy" (as in the adapters).
        trainable: hold the parameters as trainable Keras weights (shape
            ``param_shape``, the layer's variable dtype, initialised to the given
            or default values).
        param_shape: shape of each trainable parameter; it must broadcast
            against the input (e.g. ``(C,)`` per channel for channels-last).
        **params: parameter values (numbers); defaults come from the spec.
            Keras layer arguments (``name``, ``dtype``, ...) pass through.

    The config holds the activation's name and numbers only, so a saved model
    loads with ``safe_mode=True`` on any of the three backends once
    ``xact.keras`` is imported (and a user activation is defined again).

    Example:
        >>> import keras, xact.keras as xk
        >>> layer = xk.Activation("leaky_relu", negative_slope=0.1)
        >>> float(layer(keras.ops.convert_to_tensor([-1.0]))[0])
        -0.10000000149011612
    """

    def __init__(
        self,
        activation: str,
        *,
        mode: str = "auto",
        trainable: bool = False,
        param_shape: Sequence[int] = (),
        params: Mapping[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        _adapter()  # an unsupported backend fails here, not inside Keras's call wrapper
        spec = get(activation)
        given = dict(params or {})
        given.update({k: kwargs.pop(k) for k in list(kwargs) if k not in _LAYER_ARGS})
        call = resolve(spec, mode, given)  # unknown parameters, bad mode: the direct API's errors
        values = {n: number(spec, n, v) for n, v in call.params.items()}
        shape = _param_shape(spec.name, param_shape)
        if kwargs.get("name") is None:
            kwargs["name"] = _default_name(spec.name)
        super().__init__(trainable=trainable, **kwargs)
        self.activation = spec.name
        self.mode = mode
        self.param_shape = shape
        self.values = values
        self._weights_by_name: dict[str, Any] = {}
        # On the tensorflow backend the NumPy bridge is a tf.numpy_function, which XLA
        # cannot compile: say so, and Keras runs a model holding this layer without
        # jit_compile (with a warning) instead of failing (a model compiled on the jax
        # backend, where the bridge is a pure_callback that jit takes, saves
        # jit_compile=True, and loading it on tensorflow recompiled it so).
        self.supports_jit = call.native or keras.backend.backend() != "tensorflow"
        if trainable:
            for n, v in self.values.items():
                self._weights_by_name[n] = self.add_weight(
                    name=n, shape=self.param_shape,
                    initializer=keras.initializers.Constant(v), trainable=True,
                )
        self.built = True

    def call(self, inputs: Any) -> Any:
        params: dict[str, Any] = dict(self.values)
        params.update(self._weights_by_name)
        return apply(self.activation, inputs, mode=self.mode, **params)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(
            activation=self.activation,
            mode=self.mode,
            param_shape=list(self.param_shape),
            params=dict(self.values),
        )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Activation:
        # Validated as the constructor validates direct calls; not through Keras's
        # generic from_config, which would bury an xact error in a long TypeError.
        try:
            _refuse_unknown(config, set(_LAYER_ARGS) | {"activation", "mode", "param_shape", "params"},
                            f"{cls.__module__}.{cls.__name__}")
            name = _spec_name(config)
            config = {**config, "params": _params(name, config.get("params"))}
            if isinstance(config.get("dtype"), dict):
                config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
            return cls(**config)
        except XactError as e:
            raise _surface(e) from None


class _SavedWithTF(Activation):
    """Loads files saved with ``xact.tf.Activation`` (``xact>Activation``) on any backend.

    Registered only while ``xact.tf`` is not imported; importing it registers
    its own layer under that name instead (the same layer on TensorFlow).
    """

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Activation:
        return Activation.from_config(config)


if keras.saving.get_registered_object("xact>Activation") is None:
    keras.saving.register_keras_serializable(package="xact", name="Activation")(_SavedWithTF)


__getattr__, __dir__ = named_attributes("xact.keras", apply, __all__)
