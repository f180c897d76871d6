"""NumPy adapter: the reference values and derivatives of any registered spec.

Public names mirror ``xact.torch`` and ``xact.tf``: :func:`apply` and one
attribute per registered name, plus :func:`grad` and :func:`grads`, since
NumPy has no autograd to carry the derivative.

Float64 input gives the float64 reference. Half types (float16, and
bfloat16 via ``ml_dtypes`` when installed) compute in float32 and are
rounded once, as in the other adapters. Specs that take ``xp`` receive a
NumPy namespace bound to the compute dtype, so Python scalars never promote.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from xact._call import Call, call_fn, call_grad, named_attributes, resolve
from xact._dtypes import compute_dtype, require_float
from xact._host import private, readonly
from xact.errors import ParameterError, SpecError, XactTypeError
from xact.ops.numpy import namespace
from xact.spec import Spec

__all__ = ["apply", "grad", "grads"]


def _as_output(y: Any, like: np.ndarray, spec: Spec, what: str, inputs: tuple[Any, ...]) -> np.ndarray:
    y = np.asarray(y, dtype=like.dtype)
    if y.shape == like.shape:
        return private(y, *inputs)  # never the caller's memory (fn may return x itself)
    try:
        return np.array(np.broadcast_to(y, like.shape))  # a writable copy, 0-d kept
    except ValueError:
        raise SpecError(
            f"{spec.name!r}: {what} returned shape {y.shape} for an input of shape "
            f"{like.shape}; it must be elementwise"
        ) from None


def _prepare(call: Call, a: Any) -> tuple[np.ndarray, np.dtype, dict[str, Any]]:
    spec = call.spec
    if isinstance(a, (list, tuple, int, float)) and not isinstance(a, bool):
        try:
            a = np.asarray(a, dtype=np.float64)
        except (TypeError, ValueError, OverflowError) as e:
            raise XactTypeError(
                f"xact.numpy.{spec.name} takes a NumPy array or numbers; {type(a).__name__} "
                f"could not become a float64 array ({e})"
            ) from None
    if not isinstance(a, (np.ndarray, np.generic)):
        raise XactTypeError(
            f"xact.numpy.{spec.name} takes a NumPy array, got {type(a).__name__}; "
            "use xact.torch / xact.tf for framework tensors"
        )
    a = np.asarray(a)
    require_float(spec.name, a.dtype.name)
    cdt = np.dtype(compute_dtype(a.dtype.name))
    params: dict[str, Any] = {}
    for n in spec.param_names:
        v = call.params[n]
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            params[n] = float(v)
        elif isinstance(v, (np.ndarray, np.generic)) and v.dtype.kind == "f":
            params[n] = readonly(np.asarray(v, dtype=cdt))
        else:
            raise ParameterError(
                f"{spec.name!r}: parameter {n!r} must be a number or a floating NumPy "
                f"array, got {type(v).__name__}"
            )
    return readonly(a.astype(cdt, copy=False)), a.dtype, params


def apply(activation: str | Spec, a: Any, /, *, mode: str = "auto", **params: Any) -> np.ndarray:
    """The activation's value on a NumPy array, in the array's dtype.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.apply("relu", np.array([-1.0, 2.0]))
        array([0., 2.])
    """
    call = resolve(activation, mode, params)
    x, out_dtype, ps = _prepare(call, a)
    with np.errstate(all="ignore"):  # inf * 0 in an unselected where-branch is expected
        y = _as_output(call_fn(call.spec, x, ps, namespace(x.dtype)), x, call.spec, "fn", (x, *ps.values()))
    return y.astype(out_dtype, copy=False)


def grads(activation: str | Spec, a: Any, /, *, mode: str = "auto", **params: Any) -> tuple[np.ndarray, ...]:
    """Every declared partial, ``(d/dx, d/dp1, ...)``, elementwise, in ``a``'s dtype."""
    call = resolve(activation, mode, params)
    x, out_dtype, ps = _prepare(call, a)
    with np.errstate(all="ignore"):
        parts = call_grad(call.spec, x, ps, namespace(x.dtype))
    inputs = (x, *ps.values())
    return tuple(_as_output(p, x, call.spec, "grad", inputs).astype(out_dtype, copy=False) for p in parts)


def grad(activation: str | Spec, a: Any, /, *, mode: str = "auto", **params: Any) -> np.ndarray:
    """The declared derivative with respect to ``x``, in ``a``'s dtype.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.grad("relu", np.array([-1.0, 0.0, 2.0]))
        array([0., 0., 1.])
    """
    return grads(activation, a, mode=mode, **params)[0]


if TYPE_CHECKING:  # catalogue names for editors (xact/_names.pyi, python -m xact._stubgen)
    from xact._names import *  # noqa: F403

__getattr__, __dir__ = named_attributes("xact.numpy", apply, __all__)
