"""Fused TensorFlow kernels: the op's forward and gradient bodies compiled by XLA.

A ``tf.function(jit_compile=True)`` called from eager code, or from a
``tf.function`` that is not itself compiled, is still compiled by XLA as one
cluster (TensorFlow's own test ``testNestedCall``); under an outer
``jit_compile=True`` it is inlined into the caller's cluster. So the adapter
wraps the spec's forward and gradient bodies (the plain path's code, as it
is) in such functions: every op of a careful formula becomes one fused loop.

XLA compiles per input shape. In a traced graph the compilation happens when
the graph first runs, once per shape, as for any XLA cluster. In eager mode a
shape is first compiled on the background thread (``xact.kernels``) while the
plain path serves the calls; the first build of each (spec, parameters,
dtype) also proves that XLA can compile it at all (a graph traced before
that proof, or after a failed one, keeps the plain path).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import tensorflow as tf

from xact.kernels import KernelCache

CACHE = KernelCache("tf")


def eager_kernel(key: Hashable, program: Callable[..., Any], args: list[tf.Tensor]) -> Callable[..., Any] | None:
    """``program`` once XLA has compiled it for the shapes of ``args``, else None (plain path)."""
    shapes = tuple((tuple(a.shape), a.dtype.name) for a in args)

    def build() -> Callable[..., Any]:
        dummies = [tf.zeros(a.shape, a.dtype) for a in args]
        program(*dummies)  # compiles for these shapes; later calls find it in XLA's cache
        return program

    return CACHE.get((key, shapes), build, lambda: False)  # type: ignore[no-any-return]


def proven(key: Hashable, program: Callable[..., Any], dtype: tf.DType, n_params: int, n_tensors: int) -> bool:
    """Whether XLA compiled ``program`` for ``dtype`` at least once (a small build, on this thread)."""

    def build() -> Callable[..., Any]:
        with tf.init_scope():  # out of any graph being traced: a real, eager compilation
            args = [*(tf.zeros([2], dtype) for _ in range(n_tensors)),
                    *(tf.ones([], _param_dtype(dtype)) for _ in range(n_params))]
            program(*args)
        return program

    from xact import kernels

    if kernels.mode() == "off":
        return False
    # The proof is a tiny compilation: done where it is asked for.
    return CACHE.get((key, "proof"), build, lambda: True, sync=True) is not None


def _param_dtype(dtype: tf.DType) -> tf.DType:
    return tf.float32 if dtype in (tf.float16, tf.bfloat16) else dtype
