"""The conformance engine: is an activation the same function in every framework?

:func:`check` runs one spec (or many) through every installed framework, mode
and dtype and compares what comes out with oracles that are independent of
the code under test:

1. a high-precision evaluation of the spec itself (mpmath, through an ``xp``
   namespace over mpmath numbers; NumPy float64 for specs without ``xp``);
2. numerical differentiation of ``fn`` at high precision, against the
   declared ``grad`` (and ``grad2``, and each parameter's partial);
3. torch against TensorFlow directly; 4. native against the NumPy bridge.

It returns a :class:`Report` (``report.passed``, ``report.results``: one
:class:`CheckResult` per check with its figures, worst point and a
copy-pasteable reproduction). :func:`assert_conforms` raises
:class:`xact.ConformanceError` with a readable diff instead.

``import xact.testing`` imports neither torch nor tensorflow; a framework is
imported when a check needs it, and one that is not installed is skipped
with a note in the report.

    >>> import xact
    >>> xact.testing.check("relu", frameworks=["torch"], dtypes=["float32"]).passed  # doctest: +SKIP
    True
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "check": "engine", "assert_conforms": "engine", "CheckResult": "engine", "Report": "engine",
    "TOLERANCES": "tolerances", "KNOWN_FAILURES": "tolerances", "KnownFailure": "tolerances",
    "Tolerance": "tolerances",
}

__all__ = [
    "KNOWN_FAILURES",
    "TOLERANCES",
    "CheckResult",
    "KnownFailure",
    "Report",
    "Tolerance",
    "assert_conforms",
    "check",
]


def __getattr__(name: str) -> Any:
    # mpmath, hypothesis and the frameworks load on first use, not on import.
    if name in _LAZY:
        return getattr(importlib.import_module(f"xact.testing.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'xact.testing' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
