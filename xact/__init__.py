"""xact: one NumPy spec per activation, identical in PyTorch and TensorFlow.

``import xact`` is cheap: it imports neither torch, tensorflow nor jax, and the
built-in catalogue is registered on the first registry lookup. Framework
adapters are the submodules ``xact.numpy``, ``xact.torch``, ``xact.tf`` and ``xact.jax``;
the conformance engine is ``xact.testing``.

    >>> import xact
    >>> "gelu_tanh" in xact.names()
    True
"""

from __future__ import annotations

import importlib
from typing import Any

from xact.errors import (
    ConformanceError,
    DuplicateActivationError,
    ModeError,
    ParameterError,
    SpecError,
    UnknownActivationError,
    XactError,
    XactTypeError,
    XactWarning,
)
from xact.spec import Spec, Twin, aliases, define, get, names, unregister

__version__ = "0.1.0"

__all__ = [
    "ConformanceError",
    "DuplicateActivationError",
    "ModeError",
    "ParameterError",
    "Spec",
    "SpecError",
    "Twin",
    "UnknownActivationError",
    "XactError",
    "XactTypeError",
    "XactWarning",
    "aliases",
    "define",
    "get",
    "names",
    "unregister",
]

_LAZY_SUBMODULES = frozenset(
    {"numpy", "torch", "tf", "jax", "keras", "testing", "catalogue", "ops", "port", "parity", "bench",
     "signal"}
)
# Functions of a lazy submodule offered at the top level (xact.gain, xact.diagnose).
_LAZY_FUNCTIONS = {"gain": "signal", "diagnose": "signal", "Diagnosis": "signal"}


def __getattr__(name: str) -> Any:
    # xact.testing etc. without importing frameworks at `import xact` time.
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"xact.{name}")
    if name in _LAZY_FUNCTIONS:
        return getattr(importlib.import_module(f"xact.{_LAZY_FUNCTIONS[name]}"), name)
    raise AttributeError(f"module 'xact' has no attribute {name!r}")
