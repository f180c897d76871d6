"""Floating dtypes xact accepts, by name, and the dtype each computes in.

Half types (float16, bfloat16) compute in float32 and are rounded once at the
end; float32 and float64 compute in themselves. Names are framework-neutral
strings so this module imports no framework.
"""

from __future__ import annotations

from xact.errors import XactTypeError

FLOAT_DTYPES: tuple[str, ...] = ("float16", "bfloat16", "float32", "float64")
HALF_DTYPES: frozenset[str] = frozenset({"float16", "bfloat16"})


def compute_dtype(name: str) -> str:
    """The dtype a spec is evaluated in for inputs of dtype ``name``."""
    return "float32" if name in HALF_DTYPES else name


def require_float(activation: str, dtype_name: str) -> None:
    """Raise a clear TypeError unless ``dtype_name`` is one xact computes in."""
    if dtype_name not in FLOAT_DTYPES:
        raise XactTypeError(
            f"activation {activation!r} needs a floating input "
            f"({', '.join(FLOAT_DTYPES)}), got dtype {dtype_name}; cast it first, "
            "e.g. x.float() in torch or tf.cast(x, tf.float32)"
        )
