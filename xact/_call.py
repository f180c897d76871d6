"""Framework-free plumbing shared by the adapters.

Resolving a call (which spec, which mode, which parameter values) and
invoking a spec's ``fn``/``grad`` with or without ``xp`` are the same for
every framework, so they are written once here and the adapters stay thin.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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
    native = spec.takes_xp if mode == "auto" else mode == "native"
    values = {**spec.params, **params}
    return Call(spec=spec, native=native, params=values)


def call_fn(spec: Spec, x: Any, params: Mapping[str, Any], xp: Any | None) -> Any:
    """``spec.fn(x, **params)``, passing ``xp`` when the spec takes it."""
    if spec.takes_xp:
        return spec.fn(x, **params, xp=xp)
    return spec.fn(x, **params)


def call_grad(spec: Spec, x: Any, params: Mapping[str, Any], xp: Any | None) -> tuple[Any, ...]:
    """The declared partials as a tuple: ``(d/dx, d/dp1, ...)`` in ``params`` order."""
    out = spec.grad(x, **params, xp=xp) if spec.takes_xp else spec.grad(x, **params)
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


def named_attributes(
    module: str, apply: Callable[..., Any], public: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for an adapter module (PEP 562).

    Every registered name or alias becomes an attribute that calls ``apply``
    with that name; names are looked up at access time, so specs defined
    after the import are attributes too.
    """

    @functools.cache
    def named(name: str, spec: Any) -> Callable[..., Any]:
        def activation(x: Any, /, *, mode: str = "auto", **params: Any) -> Any:
            return apply(name, x, mode=mode, **params)

        activation.__name__ = activation.__qualname__ = name
        activation.__doc__ = spec.doc + _framework_example(module, name, spec)
        activation.__signature__ = _signature(spec)  # type: ignore[attr-defined]
        return activation

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
