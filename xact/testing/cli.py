"""``xact check``: conformance from the command line.

Targets are registered names (or aliases) or ``module:attr``. For
``module:attr`` the module is imported (and nothing else), then ``attr`` is
looked up on it and may be:

* a :class:`xact.Spec` (what :func:`xact.define` returns);
* a sequence of specs, or of registered names;
* a module (``pkg:submodule`` or ``pkg.mod:``-style ``module:`` with an empty
  attr): every spec that importing it registered is checked;
* a function with a ``grad`` attribute (``fn.grad = d_fn``; optional
  ``fn.params``, ``fn.kinks``): it is defined under the function's name
  (with ``replace=True``) and checked.

No targets means the whole catalogue. Exit status 0 only when every check
passes; the wall time is printed at the end.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import types
from collections.abc import Sequence
from typing import Any

import xact
from xact.errors import XactError
from xact.spec import Spec

__all__ = ["resolve_targets", "run_check"]


def _module_target(text: str) -> list[Spec]:
    mod_name, _, attr = text.partition(":")
    if not mod_name or not all(part.isidentifier() for part in mod_name.split(".")):
        raise XactError(
            f"{text!r}: {mod_name!r} is not a module name; give module:attr with a dotted "
            "module importable from the working directory, e.g. my_acts:swish (not a path)"
        )
    if attr and not all(part.isidentifier() for part in attr.split(".")):
        raise XactError(f"{text!r}: {attr!r} is not an attribute name; e.g. my_acts:swish")
    before = set(xact.names())
    if mod_name in sys.modules:
        module = sys.modules[mod_name]
    else:
        sys.path.insert(0, "")  # import from the working directory, as `python -m` does
        try:
            module = importlib.import_module(mod_name)
        except ImportError:
            raise
        except Exception as e:  # the user's module failed: one line, not a traceback
            raise XactError(f"importing {mod_name!r} raised {type(e).__name__}: {e}") from None
        finally:
            sys.path.remove("")
    new = [n for n in xact.names() if n not in before]
    if not attr:
        specs = [xact.get(n) for n in new]
        specs += [v for v in vars(module).values() if isinstance(v, Spec) and v not in specs]
        if not specs:
            raise XactError(f"importing {mod_name!r} defined no activation; name one as {mod_name}:attr")
        return specs
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise XactError(f"{mod_name!r} has no attribute {attr!r}") from None
    specs = _as_specs(obj, text, new)
    if not specs:
        raise XactError(f"{text!r} holds no activation (no xact.Spec in it)")
    return specs


def _as_specs(obj: Any, text: str, new: list[str]) -> list[Spec]:
    if isinstance(obj, Spec):
        return [obj]
    if isinstance(obj, str):
        return [xact.get(obj)]
    if isinstance(obj, types.ModuleType):
        specs = [v for v in vars(obj).values() if isinstance(v, Spec)]
        return specs or [xact.get(n) for n in new]
    if isinstance(obj, (list, tuple)):
        return [s for o in obj for s in _as_specs(o, text, new)]
    if callable(obj) and callable(getattr(obj, "grad", None)):
        name = getattr(obj, "__name__", "user_fn")
        return [xact.define(name, fn=obj, grad=obj.grad, params=getattr(obj, "params", None),
                            kinks=getattr(obj, "kinks", None), replace=True)]
    raise XactError(
        f"{text!r} is a {type(obj).__name__}; expected an xact.Spec (what xact.define returns), "
        "a list of specs, a module that defines specs, or a function with a .grad attribute"
    )


def resolve_targets(targets: Sequence[str]) -> list[Spec] | None:
    """Specs for the command-line targets; None (the whole catalogue) when empty."""
    if not targets:
        return None
    specs: list[Spec] = []
    for t in targets:
        got = _module_target(t) if ":" in t else [xact.get(t)]
        specs += [s for s in got if s not in specs]
    return specs


def run_check(args: argparse.Namespace) -> int:
    """Run the checks the parsed ``xact check`` arguments ask for; the exit status."""
    from xact.testing.engine import check
    from xact.testing.report import print_summary, write_outputs

    t0 = time.perf_counter()
    try:
        specs = resolve_targets(getattr(args, "targets", None) or [])
    except (XactError, ImportError) as e:
        print(f"xact check: {e}", file=sys.stderr)
        return 2
    out = getattr(args, "out", None)
    report = check(
        specs,
        frameworks=getattr(args, "framework", None),
        dtypes=getattr(args, "dtype", None),
        modes=getattr(args, "mode", None),
        progress=sys.stderr.isatty() or bool(getattr(args, "progress", False)),
        plots=bool(out),
        domain=tuple(args.range) if getattr(args, "range", None) else None,
    )
    print_summary(report)
    if out:
        path = write_outputs(report, out)
        print(f"report written to {path}/report.md, report.json and plots/")
    wall = time.perf_counter() - t0
    print(f"wall time: {wall:.1f} s")
    return 0 if report.passed else 1
