"""The ``xp`` namespace over JAX (``jax.numpy``), bound to one compute dtype.

Python scalars are weakly typed in JAX, so ``jnp.maximum(x, 0.0)`` keeps
``x``'s dtype already; they are turned into arrays of the namespace's dtype
only where nothing else fixes the dtype (two scalars, a lone scalar).
Everything here is traceable: it runs under ``jit``, ``vmap`` and ``grad``.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from xact.ops._xla import erf_float32, erfc_float32, erfc_float64, expm1_float32, tanh_float32


class Namespace:
    """JAX array vocabulary bound to one compute dtype."""

    backend = "jax"
    pi = math.pi
    e = math.e
    inf = math.inf
    nan = math.nan

    abs = staticmethod(jnp.abs)
    exp = staticmethod(jnp.exp)
    log = staticmethod(jnp.log)
    log1p = staticmethod(jnp.log1p)
    sqrt = staticmethod(jnp.sqrt)
    square = staticmethod(jnp.square)
    sinh = staticmethod(jnp.sinh)
    cosh = staticmethod(jnp.cosh)
    sin = staticmethod(jnp.sin)
    cos = staticmethod(jnp.cos)
    tan = staticmethod(jnp.tan)
    arctan = staticmethod(jnp.arctan)
    arcsinh = staticmethod(jnp.arcsinh)
    arctanh = staticmethod(jnp.arctanh)
    sign = staticmethod(jnp.sign)
    floor = staticmethod(jnp.floor)
    ceil = staticmethod(jnp.ceil)
    isfinite = staticmethod(jnp.isfinite)
    isnan = staticmethod(jnp.isnan)
    isinf = staticmethod(jnp.isinf)
    logical_and = staticmethod(jnp.logical_and)
    logical_or = staticmethod(jnp.logical_or)
    logical_not = staticmethod(jnp.logical_not)

    def __init__(self, dtype: Any) -> None:
        self.dtype = np.dtype(dtype)

    def _t(self, v: Any) -> jax.Array:
        if isinstance(v, jax.Array):
            return v
        return jnp.asarray(v, dtype=self.dtype)

    # XLA's float32 tanh, erf and expm1 are 4-5 ULP off: ops/_xla.py's blocks (half
    # types compute in this float32 namespace too).

    def tanh(self, x: Any) -> jax.Array:
        x = self._t(x)
        return tanh_float32(x, jnp.exp, jnp.where, jnp.abs) if x.dtype == jnp.float32 else jnp.tanh(x)

    def erf(self, x: Any) -> jax.Array:
        x = self._t(x)
        return erf_float32(x, self) if x.dtype == jnp.float32 else jsp.erf(x)

    def expm1(self, x: Any) -> jax.Array:
        x = self._t(x)
        return expm1_float32(x, jnp.exp, jnp.where, jnp.abs) if x.dtype == jnp.float32 else jnp.expm1(x)

    def erfc(self, x: Any) -> jax.Array:
        x = self._t(x)
        if x.dtype == jnp.float64:  # XLA's float64 erfc loses 2 x^2 ULP in its tail (ops/_xla.py)
            return erfc_float64(x, jsp.erfc, jnp.exp, jnp.clip, jnp.where)
        return erfc_float32(x, self)  # XLA's float32 erfc is ~60 ULP off

    def asarray(self, v: Any) -> jax.Array:
        return jnp.asarray(v, dtype=self.dtype)

    def power(self, a: Any, b: Any) -> jax.Array:
        if not isinstance(a, jax.Array) and not isinstance(b, jax.Array):
            a = self._t(a)
        return jnp.power(a, b)

    def where(self, cond: Any, a: Any, b: Any) -> jax.Array:
        if not isinstance(a, jax.Array) and not isinstance(b, jax.Array):
            a = self._t(a)  # two scalars would give JAX's default dtype
        return jnp.where(cond, a, b)

    def maximum(self, a: Any, b: Any) -> jax.Array:
        if not isinstance(a, jax.Array) and not isinstance(b, jax.Array):
            a = self._t(a)
        return jnp.maximum(a, b)

    def minimum(self, a: Any, b: Any) -> jax.Array:
        if not isinstance(a, jax.Array) and not isinstance(b, jax.Array):
            a = self._t(a)
        return jnp.minimum(a, b)

    def clip(self, x: Any, lo: Any, hi: Any) -> jax.Array:
        x = self._t(x)
        if lo is not None:
            x = jnp.maximum(x, lo)
        if hi is not None:
            x = jnp.minimum(x, hi)
        return x

    def remainder(self, a: Any, b: Any) -> jax.Array:
        if not isinstance(a, jax.Array) and not isinstance(b, jax.Array):
            a = self._t(a)
        return jnp.remainder(a, b)

    def logaddexp(self, a: Any, b: Any) -> jax.Array:
        if not isinstance(a, jax.Array) and not isinstance(b, jax.Array):
            a = self._t(a)
        return jnp.logaddexp(a, b)

    def zeros_like(self, x: Any) -> jax.Array:
        return jnp.zeros_like(x, dtype=self.dtype)

    def ones_like(self, x: Any) -> jax.Array:
        return jnp.ones_like(x, dtype=self.dtype)

    def full_like(self, x: Any, v: float) -> jax.Array:
        return jnp.full_like(x, v, dtype=self.dtype)

    def finfo(self, dtype_or_array: Any = None) -> Any:
        return np.finfo(self.dtype)


@functools.cache
def namespace(dtype: Any) -> Namespace:
    """The cached JAX namespace for ``dtype`` (float32 or float64)."""
    return Namespace(dtype)
