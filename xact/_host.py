"""Host (NumPy) arrays handed to a spec and taken back from it.

A spec never gets the caller's memory to write into, and the caller never gets
back memory that aliases an input: inputs are passed as read-only views (no
copy; a write raises, and :func:`xact._call.call_fn` turns that into a
``SpecError``), and a result that shares memory with an input, or that is
read-only, is copied.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def readonly(a: Any) -> Any:
    """``a`` as a read-only view when it is an array; anything else unchanged."""
    if isinstance(a, np.ndarray) and a.flags.writeable:
        a = a.view()
        a.flags.writeable = False
    return a


def private(y: np.ndarray, *inputs: Any) -> np.ndarray:
    """``y``, or a writable copy when it is read-only or may share memory with an input."""
    if not y.flags.writeable or any(
        isinstance(a, np.ndarray) and np.may_share_memory(y, a) for a in inputs
    ):
        return y.copy()
    return y
