"""Framework-free plumbing shared by the adapters.

Resolving a call (which spec, which mode, which parameter values) and
invoking a spec's ``fn``/``grad`` with or without ``xp`` are the same for
every framework, so they are written once here and the adapters stay thin.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, Literal

from xact.errors import ModeError, ParameterError, SpecError, UnknownActivationError
from xact.spec import Spec, get, names

Mode = Literal["auto", "native", "numpy"]
MODES: tuple[str, ...] = ("auto", "native", "numpy")


@dataclass(frozen=True, eq=False)
class Call:
    """A resolved call: the spec, whether it runs natively, the parameter values."""

    spec: Spec
    native: bool
    params: dict[str, Any]


# Calls by (name, mode) for calls without parameters, the common form on small
# tensors (xt.silu(x)): reused while the name still resolves to the same spec.
_PLAIN_CALLS: dict[tuple[str, str], Call] = {}


def resolve(activation: str | Spec, mode: str, params: Mapping[str, Any]) -> Call:
    """Look up ``activation``, check ``mode`` and fill parameter defaults.

    The returned call is shared (for calls without parameters): do not modify it.
    """
    if not params and activation.__class__ is str:
        key = (activation, mode)
        call = _PLAIN_CALLS.get(key)
        if call is not None and get(activation) is call.spec:
            return call
        call = _resolve(activation, mode, params)
        if not _traced_by_dynamo():  # a dict written while dynamo traces breaks the graph
            if len(_PLAIN_CALLS) > 4096:  # names come from code, but keep it bounded
                _PLAIN_CALLS.clear()
            _PLAIN_CALLS[key] = call
        return call
    return _resolve(activation, mode, params)


def _traced_by_dynamo() -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and bool(torch.compiler.is_compiling())


def _resolve(activation: str | Spec, mode: str, params: Mapping[str, Any]) -> Call:
    spec = get(activation)
    if mode not in MODES:
        raise ModeError(
            f"{spec.name}: mode must be one of {', '.join(map(repr, MODES))}, got {mode!r}"
        )
    if mode == "native" and not spec.takes_xp:
        raise ModeError(
            f"{spec.name!r} cannot run natively: its fn/grad take no `xp` argument, so "
            "they only run on NumPy arrays. Use mode='numpy' (or 'auto'), or add an "
            "`xp=np` parameter to both fn and grad and use xp.<name> inside."
        )
    unknown = [k for k in params if k not in spec.params]
    if unknown:
        takes = ", ".join(spec.params) if spec.params else "no parameters"
        raise ParameterError(
            f"{spec.name!r} got unexpected parameter(s) {', '.join(map(repr, unknown))}; "
            f"it takes {takes}"
        )
    for k, v in params.items():
        check_number(spec.name, k, v)
    native = spec.takes_xp if mode == "auto" else mode == "native"
    values = {**spec.params, **params}
    return Call(spec=spec, native=native, params=values)  # (frozen; params never written)


def number(spec: Spec, name: str, value: Any) -> float:
    """A scalar parameter value as a float, or a ``ParameterError`` saying why not.

    The one rule for scalar parameters, whatever they come from: a direct call,
    a layer's constructor or a saved Keras config. Strings ("2.0"), booleans
    and NaN (which would make every output NaN) are refused, not converted.
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ParameterError(
            f"{spec.name!r}: parameter {name!r} must be a number, got "
            f"{type(value).__name__} {value!r}"
        )
    try:
        v = float(value)
    except OverflowError:
        raise ParameterError(
            f"{spec.name!r}: parameter {name!r} = {value!r} is too large for a float"
        ) from None
    if math.isnan(v):
        raise ParameterError(
            f"{spec.name!r}: parameter {name!r} is NaN, which makes every output NaN; "
            "pass a number"
        )
    return v

def _writes_input(spec: Spec, what: str, e: ValueError) -> SpecError:
    return SpecError(
        f"{spec.name!r}: {what} writes into its input ({e}); xact hands specs read-only "
        "data so the caller's tensor is never changed. Return a new array instead: "
        "`y = x * 2`, not `x *= 2`, `x[...] = ...` or `out=x`"
    )


def _is_readonly_write(e: ValueError) -> bool:
    return "read-only" in str(e)


def check_number(activation: str, name: str, value: Any) -> None:
    """Refuse a parameter value no adapter can take: a string, a bool, a number beyond float.

    Tensors and arrays are left to the adapter, which checks dtype, device and shape.
    """
    if isinstance(value, (str, bytes, bool)) or value is None:
        raise ParameterError(
            f"{activation!r}: parameter {name!r} must be a number or a floating tensor, "
            f"got {type(value).__name__} {value!r}"
        )
    if isinstance(value, Real):
        try:
            float(value)
        except OverflowError:
            shown = str(value) if len(str(value)) < 24 else f"{str(value)[:12]}... ({len(str(value))} digits)"
            raise ParameterError(
                f"{activation!r}: parameter {name!r} = {shown} is too large for a "
                "float (beyond 1.8e308); give a float, e.g. float('inf') if that is meant"
            ) from None


def check_broadcast(spec: Spec, name: str, shape: tuple[int, ...], x_shape: tuple[int, ...]) -> None:
    """A tensor parameter must broadcast to the input's shape (not grow it): ParameterError if not."""
    shape, x_shape = tuple(shape), tuple(x_shape)
    ok = len(shape) <= len(x_shape) and all(
        d in (1, xd) for d, xd in zip(reversed(shape), reversed(x_shape))
    )
    if not ok:
        raise ParameterError(
            f"{spec.name!r}: parameter {name!r} of shape {tuple(shape)} does not "
            f"broadcast to the input shape {tuple(x_shape)}"
        )


def param_shape_of(activation: str, shape: Any) -> tuple[int, ...]:
    """A layer's ``param_shape`` as a tuple of non-negative ints, or a ParameterError."""
    try:
        dims = tuple(shape)
    except TypeError:
        dims = None
    if (
        dims is None
        or isinstance(shape, (str, bytes))
        or not all(isinstance(d, Integral) and not isinstance(d, bool) and d >= 0 for d in dims)
    ):
        raise ParameterError(
            f"{activation!r}: param_shape must be a sequence of non-negative ints, e.g. "
            f"(C, 1, 1) or (); got {shape!r}"
        )
    return tuple(int(d) for d in dims)


def call_fn(spec: Spec, x: Any, params: Mapping[str, Any], xp: Any | None) -> Any:
    """``spec.fn(x, **params)``, passing ``xp`` when the spec takes it."""
    try:
        if spec.takes_xp:
            return spec.fn(x, **params, xp=xp)
        return spec.fn(x, **params)
    except ValueError as e:
        if _is_readonly_write(e):
            raise _writes_input(spec, "fn", e) from None
        raise


def call_grad(spec: Spec, x: Any, params: Mapping[str, Any], xp: Any | None) -> tuple[Any, ...]:
    """The declared partials as a tuple: ``(d/dx, d/dp1, ...)`` in ``params`` order."""
    try:
        out = spec.grad(x, **params, xp=xp) if spec.takes_xp else spec.grad(x, **params)
    except ValueError as e:
        if _is_readonly_write(e):
            raise _writes_input(spec, "grad", e) from None
        raise
    n = 1 + len(spec.params)
    if n == 1:
        if isinstance(out, (tuple, list)):
            if len(out) != 1:
                raise SpecError(
                    f"{spec.name!r}: grad returned {len(out)} values but the spec has no "
                    "parameters; return only d/dx"
                )
            out = out[0]
        return (out,)
    if not isinstance(out, (tuple, list)) or len(out) != n:
        got = len(out) if isinstance(out, (tuple, list)) else 1
        raise SpecError(
            f"{spec.name!r}: grad must return {n} partials (d/dx, "
            f"{', '.join('d/d' + p for p in spec.params)}), got {got}"
        )
    return tuple(out)


_EXAMPLES = {
    "xact.torch": ("import torch, xact.torch", "x = torch.linspace(-3.0, 3.0, 7, requires_grad=True)",
                   "y = xact.torch.{call}\ny.sum().backward()  # x.grad holds the declared derivative"),
    "xact.tf": ("import tensorflow as tf, xact.tf", "x = tf.linspace(-3.0, 3.0, 7)",
                "y = xact.tf.{call}"),
    "xact.numpy": ("import numpy as np, xact.numpy", "x = np.linspace(-3.0, 3.0, 7)",
                   "y = xact.numpy.{call}"),
}


def _framework_example(module: str, name: str, spec: Any) -> str:
    """An example of the call in this adapter's framework, with the parameters."""
    if module not in _EXAMPLES:
        return ""
    imp, make, use = _EXAMPLES[module]
    args = "".join(f", {k}={v!r}" for k, v in spec.params.items())
    body = "\n".join("    " + ln for ln in (imp, make, *use.format(call=f"{name}(x{args})").splitlines()))
    return f"\n\nExample ({module}):\n\n{body}\n"


def _signature(spec: Any) -> inspect.Signature:
    """``(x, /, *, mode='auto', <param>=<default>, ...)``: what ``help()`` shows."""
    P = inspect.Parameter
    ps = [P("x", P.POSITIONAL_ONLY), P("mode", P.KEYWORD_ONLY, default="auto", annotation=str)]
    ps += [P(k, P.KEYWORD_ONLY, default=v) for k, v in spec.params.items()]
    return inspect.Signature(ps)


def _doc(spec: Spec) -> str:
    """The spec's doc plus, for catalogue specs, a line with its gain and variance verdict."""
    from xact.signal.table import doc_line

    line = doc_line(spec)
    return f"{spec.doc}\n\n{line}" if line else spec.doc


class Named:
    """One activation as an adapter attribute (``xact.tf.leaky_relu``): a callable.

    Calling it calls the adapter's ``apply``. It is also what Keras saves when
    it is passed as ``activation=`` to a Keras layer: ``get_config`` gives the
    name, the mode and every parameter value (names and numbers only), and the
    config reloads as the ``xact.keras`` twin, which runs on whichever Keras
    backend loads it. Without this, Keras would save a plain function by its
    ``__name__`` ('leaky_relu') and reload its own function of that name.
    """

    def __init__(
        self, module: str, apply: Callable[..., Any], activation: str,
        mode: str = "auto", params: Mapping[str, float] | None = None,
    ) -> None:
        call = resolve(activation, mode, params or {})
        self.module = module
        self.activation = activation
        self.mode = mode
        self.params = {n: number(call.spec, n, v) for n, v in (params or {}).items()}
        self._apply = apply
        self.__name__ = self.__qualname__ = activation
        self.__doc__ = _doc(call.spec) + _framework_example(module, activation, call.spec)
        self.__signature__ = _signature(call.spec)  # what help() and inspect show

    def __call__(self, x: Any, /, *, mode: str | None = None, **params: Any) -> Any:
        return self._apply(
            self.activation, x, mode=self.mode if mode is None else mode, **{**self.params, **params}
        )

    def with_params(self, *, mode: str | None = None, **params: Any) -> Named:
        """The same activation with these parameter values (and mode) fixed.

        Example: ``keras.layers.Dense(8, activation=xk.leaky_relu.with_params(negative_slope=0.1))``.
        """
        return Named(
            self.module, self._apply, self.activation,
            self.mode if mode is None else mode, {**self.params, **params},
        )

    def __repr__(self) -> str:
        args = [f"mode={self.mode!r}"] if self.mode != "auto" else []
        args += [f"{k}={v!r}" for k, v in self.params.items()]
        bound = f".with_params({', '.join(args)})" if args else ""
        return f"{self.module}.{self.activation}{bound}"

    # Keras serialisation protocol (keras.saving.serialize_keras_object); no Keras import here.
    def get_config(self) -> dict[str, Any]:
        if "keras" in sys.modules:  # registers this class with Keras under "xact>activation"
            importlib.import_module("xact.keras")
        call = resolve(self.activation, self.mode, self.params)
        return {
            "activation": call.spec.name,
            "mode": self.mode,
            "params": {n: float(v) for n, v in call.params.items()},
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Any:
        keras_adapter = importlib.import_module("xact.keras")
        return keras_adapter._activation_from_config(config)


def named_attributes(
    module: str, apply: Callable[..., Any], public: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for an adapter module (PEP 562).

    Every registered name or alias becomes an attribute (a :class:`Named`)
    that calls ``apply`` with that name; names are looked up at access time,
    so specs defined after the import are attributes too.
    """

    @functools.cache
    def named(name: str, spec: Spec) -> Named:  # keyed by the spec too: a redefinition gets its own doc
        return Named(module, apply, name)

    def __getattr__(name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            get(name)
        except UnknownActivationError as e:
            raise AttributeError(f"module {module!r} has no attribute {name!r}: {e}") from None
        return named(name, get(name))

    def __dir__() -> list[str]:
        return sorted([*public, *names(include_aliases=True)])

    return __getattr__, __dir__
