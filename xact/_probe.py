"""Validation of a spec at ``define`` time, on a small float32 probe.

Before a spec is registered, its ``fn`` and ``grad`` run once on a few
float32 points with the default parameters, through the NumPy namespace.
What would otherwise fail later, deep inside a framework, fails here with
a message that says what to fix: a signature that does not fit, an
exception, the wrong number of partials, a result that is not elementwise,
a native spec that turns float32 into float64. NaN for finite input is
legal (a function may be undefined somewhere) but usually a mistake, so it
warns. Nothing is registered unless the probe passes.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from xact._call import call_fn, call_grad
from xact.errors import SpecError, XactWarning
from xact.ops.numpy import namespace
from xact.spec import Spec

PROBE = np.array([-3.0, -1.25, -0.3, 0.4, 1.7, 2.5], dtype=np.float32)


def _check(spec: Spec, what: str, out: Any) -> None:
    arr = np.asarray(out)
    where = f"define({spec.name!r}): {what} on the probe x = {PROBE.tolist()}"
    if arr.dtype.kind not in "fiub":
        raise SpecError(f"{where} returned {arr.dtype} values; it must return real numbers")
    try:
        shape = np.broadcast_shapes(arr.shape, PROBE.shape)
    except ValueError:
        shape = None
    if shape != PROBE.shape:
        raise SpecError(
            f"{where} returned shape {arr.shape} for an input of shape {PROBE.shape}; "
            "an activation must be elementwise"
        )
    if spec.takes_xp and arr.dtype.kind == "f" and arr.dtype.itemsize > PROBE.dtype.itemsize:
        raise SpecError(
            f"{where} turned float32 into {arr.dtype}: a NumPy float64 constant or cast "
            "promotes; use Python scalars or xp.asarray(...) so every dtype is kept"
        )
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        warnings.warn(
            f"{where} gave NaN at x = {PROBE[np.broadcast_to(np.isnan(arr), PROBE.shape)].tolist()} "
            "(finite inputs); check the formula unless the function is undefined there",
            XactWarning,
            stacklevel=4,
        )


def probe(spec: Spec) -> None:
    """Run ``spec`` once on the probe; raise :class:`SpecError` on anything malformed."""
    xp = namespace(PROBE.dtype)
    params = dict(spec.params)
    for what, run in (("fn", call_fn), ("grad", call_grad)):
        try:
            with np.errstate(all="ignore"):
                out = run(spec, PROBE.copy(), params, xp)
        except SpecError as e:
            raise SpecError(f"define({spec.name!r}): {e}") from None
        except Exception as e:
            raise SpecError(
                f"define({spec.name!r}): {what}(x{''.join(f', {k}={v!r}' for k, v in params.items())}"
                f"{', xp=xp' if spec.takes_xp else ''}) raised {type(e).__name__}: {e} "
                f"on the probe x = {PROBE.tolist()}"
            ) from e
        for part in out if isinstance(out, tuple) else (out,):
            _check(spec, what, part)
