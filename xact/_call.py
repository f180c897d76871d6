"""Framework-free plumbing shared by the adapters.

Resolving a call (which spec, which mode, which parameter values) and
invoking a spec's ``fn``/``grad`` with or without ``xp`` are the same for
every framework, so they are written once here and the adapters stay thin.
"""

from __future__ import annotations

import functools
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


def resolve(activation: str | Spec, mode: str, params: Mapping[str, Any]) -> Call:
    """Look up ``activation``, check ``mode`` and fill parameter defaults."""
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
    return Call(spec=spec, native=native, params=values)


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


def named_attributes(
    module: str, apply: Callable[..., Any], public: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for an adapter module (PEP 562).

    Every registered name or alias becomes an attribute that calls ``apply``
    with that name; names are looked up at access time, so specs defined
    after the import are attributes too.
    """

    @functools.cache
    def named(name: str) -> Callable[..., Any]:
        def activation(x: Any, /, *, mode: str = "auto", **params: Any) -> Any:
            return apply(name, x, mode=mode, **params)

        activation.__name__ = activation.__qualname__ = name
        activation.__doc__ = get(name).doc
        return activation

    def __getattr__(name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            get(name)
        except UnknownActivationError as e:
            raise AttributeError(f"module {module!r} has no attribute {name!r}: {e}") from None
        return named(name)

    def __dir__() -> list[str]:
        return sorted([*public, *names(include_aliases=True)])

    return __getattr__, __dir__
