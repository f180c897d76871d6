"""JAX adapter: run any registered spec on JAX arrays, differentiated by its declared grad.

Public names mirror ``xact.torch`` and ``xact.tf``: :func:`apply` and one
attribute per registered name (``xact.jax.gelu_tanh``), looked up at call
time so user specs defined later are attributes too.

Two modes, one ``jax.custom_jvp`` shape:

* native: the spec runs on ``jax.numpy`` through the ``xp`` namespace, so it
  traces under ``jit``, ``vmap``, ``shard_map`` and ``jax.export``; the JVP rule evaluates the
  declared ``grad`` with ``jax.numpy`` again, so ``jax.grad``, ``jax.jvp``,
  ``jax.hessian`` and grad-of-grad work (second derivatives differentiate the
  declared ``grad`` natively).
* numpy (host bridge): ``jax.pure_callback`` runs the spec on host NumPy,
  also under ``jit`` and ``vmap``; the declared ``grad`` is the JVP rule,
  and second derivatives need a declared ``grad2`` and say so otherwise.
  ``jax.export`` cannot serialise it (JAX keeps the Python callback).

Tangents are linear in the declared partials, so reverse mode (the
transpose of the JVP) sums a parameter's gradient over the dimensions it
was broadcast along. Inputs that are not JAX arrays (NumPy arrays, lists)
go through ``jnp.asarray`` first, as ``jax.numpy`` functions do. Half types
compute in float32 and are rounded once; float64 needs ``jax_enable_x64``
(without it JAX itself turns float64 into float32).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_derivatives import SymbolicZero

from xact._call import Call, call_fn, call_grad, check_broadcast, named_attributes, number, resolve
from xact._dtypes import require_float
from xact.errors import ModeError, ParameterError, SpecError, XactTypeError
from xact.ops.jax import namespace as jax_namespace
from xact.ops.numpy import namespace as numpy_namespace
from xact.spec import Spec

__all__ = ["apply"]

_HALF = (jnp.dtype(jnp.float16), jnp.dtype(jnp.bfloat16))


def _compute(dtype: Any) -> Any:
    return jnp.dtype(jnp.float32) if dtype in _HALF else dtype


def _as_output(y: Any, like: jax.Array, spec: Spec, what: str) -> jax.Array:
    """The spec's result as an array of ``like``'s dtype and shape."""
    y = jnp.asarray(y)
    if y.dtype != like.dtype:
        y = y.astype(like.dtype)
    if y.shape != like.shape:
        try:
            y = jnp.broadcast_to(y, like.shape)
        except ValueError:
            raise SpecError(
                f"{spec.name!r}: {what} returned shape {tuple(y.shape)} for an input of "
                f"shape {tuple(like.shape)}; it must be elementwise"
            ) from None
    return y


# ------------------------------------------------------------------ evaluators
# Native and bridge differ only in where the spec runs: these four functions.
# ``with_params`` says whether the parameters' partials are wanted: the bridge
# can differentiate d/dx once more (through grad2), never the others.


def _native_values(spec: Spec, x: jax.Array, params: dict[str, Any]) -> jax.Array:
    return _as_output(call_fn(spec, x, params, jax_namespace(x.dtype)), x, spec, "fn")


def _native_partials(spec: Spec, x: jax.Array, params: dict[str, Any], with_params: bool) -> list[jax.Array]:
    parts = call_grad(spec, x, params, jax_namespace(x.dtype))
    return [_as_output(p, x, spec, "grad") for p in parts]


def _global_x64() -> bool | None:
    """The global ``jax_enable_x64`` flag (not a ``jax.enable_x64`` context's); None if unknown."""
    try:
        from jax._src import config as jax_config  # no public reader of the global value

        return bool(jax_config.enable_x64.get_global())
    except Exception:
        return None


def _host_call(spec: Spec, x: jax.Array, params: dict[str, Any], n_out: int, body: Callable[..., Any]) -> list[jax.Array]:
    """Run ``body(xn, host_params)`` on the host through ``jax.pure_callback``.

    Array parameters are first given ``x``'s rank, so that under ``vmap``
    (``vmap_method="expand_dims"``: unbatched operands get a leading 1) every
    operand lines up with ``x`` and NumPy broadcasting gives the batch shape.
    """
    if x.dtype.itemsize == 8 and _global_x64() is False:
        # JAX checks a callback's results on its own thread, where a context's
        # x64 is off: float64 results would fail there with a dtype mismatch.
        raise ModeError(
            f"{spec.name!r}: float64 through the NumPy bridge (mode='numpy') needs the global "
            "flag, jax.config.update('jax_enable_x64', True); a jax.enable_x64() context does "
            "not reach the thread on which JAX runs host callbacks. Or use mode='native'."
        )
    array_names = [k for k, v in params.items() if isinstance(v, jax.Array)]
    aligned = [jnp.reshape(params[k], (1,) * (x.ndim - params[k].ndim) + params[k].shape) for k in array_names]
    np_dtype = np.dtype(x.dtype)

    def host(xn: np.ndarray, *pvals: np.ndarray) -> tuple[np.ndarray, ...]:
        xn = np.asarray(xn)
        pvals = tuple(np.asarray(p) for p in pvals)
        hp = {**params, **dict(zip(array_names, pvals))}
        shape = np.broadcast_shapes(xn.shape, *(p.shape for p in pvals))
        with np.errstate(all="ignore"):
            outs = body(xn, hp)
        results = []
        for o in outs:
            o = np.asarray(o, dtype=np_dtype)
            try:
                results.append(np.array(np.broadcast_to(o, shape)))
            except ValueError:
                raise SpecError(
                    f"{spec.name!r}: the NumPy spec returned shape {o.shape} for an input "
                    f"of shape {shape}; it must be elementwise"
                ) from None
        return tuple(results)

    result = tuple(jax.ShapeDtypeStruct(x.shape, x.dtype) for _ in range(n_out))
    outs = list(jax.pure_callback(host, result, x, *aligned, vmap_method="expand_dims"))
    # Inside shard_map an input varies over the mesh axes it is split on, and the
    # callback's results come back typed as not varying: the JVP rule's tangents
    # (which keep x's type) then mismatch them and jax.grad fails. The results vary
    # exactly as x does.
    varying = _varying_axes(x)
    if varying:
        outs = [o if _varying_axes(o) else jax.lax.pcast(o, varying, to="varying") for o in outs]
    return outs


def _varying_axes(a: jax.Array) -> tuple[Any, ...]:
    """The shard_map mesh axes ``a`` varies over (empty outside shard_map)."""
    axis_type = getattr(jax.typeof(a), "manual_axis_type", None)
    return tuple(getattr(axis_type, "varying", None) or ())


def _bridge_values(spec: Spec, x: jax.Array, params: dict[str, Any]) -> jax.Array:
    def body(xn: np.ndarray, hp: dict[str, Any]) -> list[Any]:
        return [call_fn(spec, xn, hp, numpy_namespace(xn.dtype))]

    return _host_call(spec, x, params, 1, body)[0]


def _bridge_second(spec: Spec, x: jax.Array, params: dict[str, Any]) -> jax.Array:
    assert spec.grad2 is not None
    second = dataclasses.replace(spec, fn=spec.grad2)  # evaluate grad2 like a forward
    return _bridge_values(second, x, params)


def _bridge_partials(spec: Spec, x: jax.Array, params: dict[str, Any], with_params: bool) -> list[jax.Array]:
    n_out = 1 + len(spec.params) if with_params else 1

    def body(xn: np.ndarray, hp: dict[str, Any]) -> list[Any]:
        return list(call_grad(spec, xn, hp, numpy_namespace(xn.dtype)))[:n_out]

    array_names = [k for k, v in params.items() if isinstance(v, jax.Array)]

    # pure_callback has no derivative: without this rule jax.hessian and
    # grad-of-grad would fail inside JAX with no word of grad2.
    @jax.custom_jvp
    def partials(x: jax.Array, *aps: jax.Array) -> tuple[jax.Array, ...]:
        hp = {**params, **dict(zip(array_names, aps))}
        return tuple(_host_call(spec, x, hp, n_out, body))

    @functools.partial(partials.defjvp, symbolic_zeros=True)
    def second(primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[Any, Any]:
        x, *aps = primals
        tx, *taps = tangents
        if with_params or not all(isinstance(t, SymbolicZero) for t in taps):
            raise ModeError(
                f"{spec.name!r}: mixed second derivatives with respect to parameters "
                "are not available through the NumPy bridge; use mode='native'"
            )
        if spec.grad2 is None:
            raise ModeError(
                f"{spec.name!r} runs through the NumPy bridge (mode='numpy'), which has "
                "no second derivative: pass grad2= (d2f/dx2) to xact.define, or use "
                "mode='native' with a spec that takes `xp`"
            )
        out = partials(x, *aps)
        hp = {**params, **dict(zip(array_names, aps))}
        if isinstance(tx, SymbolicZero):
            return out, (jnp.zeros_like(out[0]),)
        return out, (_bridge_second(spec, x, hp) * tx,)

    return list(partials(x, *(params[k] for k in array_names)))


# ------------------------------------------------------------------ custom JVP


@functools.cache
def _op(spec: Spec, native: bool, scalars: tuple[tuple[str, float], ...]) -> Callable[..., jax.Array]:
    """A ``jax.custom_jvp`` function for ``spec`` with fixed scalar parameters.

    Array parameters are its extra inputs, in ``spec.params`` order minus the
    scalar ones; built once per (spec, mode, scalar values), so ``jit``
    caches its traces.
    """
    values = _native_values if native else _bridge_values
    partials = _native_partials if native else _bridge_partials
    fixed = dict(scalars)
    array_names = [n for n in spec.param_names if n not in fixed]
    array_slots = [1 + spec.param_names.index(n) for n in array_names]  # in grad's partials

    def in_compute(x: jax.Array, aps: Sequence[jax.Array]) -> tuple[jax.Array, dict[str, Any]]:
        cdt = _compute(x.dtype)
        pc: dict[str, Any] = dict(fixed)
        # jnp.asarray, not .astype: inside a JVP rule a primal may be a literal.
        pc.update({n: jnp.asarray(p, cdt) for n, p in zip(array_names, aps)})
        return jnp.asarray(x, cdt), pc

    @jax.custom_jvp
    def op(x: jax.Array, *aps: jax.Array) -> jax.Array:
        xc, pc = in_compute(x, aps)
        return values(spec, xc, pc).astype(x.dtype)

    @functools.partial(op.defjvp, symbolic_zeros=True)
    def op_jvp(primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[jax.Array, jax.Array]:
        x, *aps = primals
        tx, *taps = tangents
        y = op(x, *aps)
        xc, pc = in_compute(x, aps)  # from x itself, so an outer derivative sees the path from x
        moving = [(slot, t) for slot, t in zip(array_slots, taps) if not isinstance(t, SymbolicZero)]
        parts = partials(spec, xc, pc, bool(moving))
        terms = [] if isinstance(tx, SymbolicZero) else [parts[0] * tx.astype(xc.dtype)]
        # parts[slot] has x's shape and t the parameter's: the product broadcasts,
        # and its transpose sums over the broadcast dimensions.
        terms += [parts[slot] * t.astype(xc.dtype) for slot, t in moving]
        ty = functools.reduce(jnp.add, terms) if terms else jnp.zeros_like(xc)
        return y, ty.astype(x.dtype)

    return op  # type: ignore[no-any-return]


# ------------------------------------------------------------------ public API


def _check_input(spec: Spec, x: Any) -> jax.Array:
    if not isinstance(x, jax.Array):
        try:
            x = jnp.asarray(x)
        except (TypeError, ValueError) as e:
            raise XactTypeError(
                f"xact.jax.{spec.name} takes a jax.Array (or something jnp.asarray "
                f"accepts), got {type(x).__name__}: {e}"
            ) from None
    require_float(spec.name, x.dtype.name)
    return x


def _check_param(spec: Spec, name: str, value: Any, x: jax.Array) -> jax.Array | float:
    if isinstance(value, Real) and not isinstance(value, bool):
        return number(spec, name, value)
    if isinstance(value, (np.ndarray, np.generic, list)):
        value = jnp.asarray(value, dtype=_compute(x.dtype))
    elif hasattr(value, "__jax_array__"):  # e.g. a Keras variable on the JAX backend
        value = jnp.asarray(value)
    if not isinstance(value, jax.Array):
        raise ParameterError(
            f"{spec.name!r}: parameter {name!r} must be a number or a floating jax.Array, "
            f"got {type(value).__name__}"
        )
    if not jnp.issubdtype(value.dtype, jnp.floating):
        raise ParameterError(
            f"{spec.name!r}: parameter {name!r} must be a number or a floating array, got {value.dtype}"
        )
    check_broadcast(spec, name, tuple(value.shape), tuple(x.shape))
    return value


def _run(call: Call, x: Any) -> jax.Array:
    spec = call.spec
    x = _check_input(spec, x)
    checked = {n: _check_param(spec, n, call.params[n], x) for n in spec.param_names}
    scalars = tuple((n, v) for n, v in checked.items() if isinstance(v, float))
    arrays = [v for v in checked.values() if not isinstance(v, float)]
    return _op(spec, call.native, scalars)(x, *arrays)


def apply(activation: str | Spec, x: Any, /, *, mode: str = "auto", **params: Any) -> jax.Array:
    """Apply a registered activation to a JAX array, differentiated by its declared grad.

    Args:
        activation: a registered name or alias, or a :class:`xact.Spec`.
        x: a floating array (float16, bfloat16, float32, float64 with
            ``jax_enable_x64``), any shape; NumPy arrays and lists go through
            ``jnp.asarray``. Works under ``jit``, ``vmap``, ``grad``, ``jvp``.
        mode: "auto" (native when the spec takes ``xp``), "native" or "numpy".
        **params: parameter values by keyword: numbers (fixed), or arrays that
            broadcast against ``x`` (those are differentiated).

    Returns:
        An array of ``x``'s dtype and shape.

    Example:
        >>> import jax, jax.numpy as jnp, xact.jax as xj
        >>> xj.apply("relu", jnp.array([-1.0, 2.0]))
        Array([0., 2.], dtype=float32)
        >>> float(jax.grad(lambda v: xj.silu(v).sum())(jnp.array([0.0]))[0])
        0.5
    """
    return _run(resolve(activation, mode, params), x)


__getattr__, __dir__ = named_attributes("xact.jax", apply, __all__)
