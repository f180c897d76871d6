"""The ``xact`` command line: ``xact list`` and ``xact check``.

Subcommands import frameworks only when they need them, so ``xact list``
stays fast and works with neither torch nor tensorflow installed.
"""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Sequence

import xact


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _cmd_list(args: argparse.Namespace) -> int:
    specs = [xact.get(n) for n in xact.names()]
    if args.family:
        specs = [s for s in specs if s.family == args.family]
    width = max((len(s.name) for s in specs), default=4)
    print(f"{'name':<{width}}  {'family':<11} {'params':<24} {'modes':<13} {'aliases':<22} twins")
    for s in specs:
        params = ", ".join(f"{k}={v:g}" for k, v in s.params.items()) or "-"
        modes = "native+numpy" if s.takes_xp else "numpy"
        frameworks = sorted({t.framework for t in s.twins}) or ["-"]
        print(
            f"{s.name:<{width}}  {s.family:<11} {params:<24} {modes:<13} "
            f"{', '.join(s.aliases) or '-':<22} {', '.join(frameworks)}"
        )
    print(f"\n{len(specs)} activations; frameworks installed: "
          f"torch={'yes' if _installed('torch') else 'no'}, "
          f"tensorflow={'yes' if _installed('tensorflow') else 'no'}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from xact.testing.cli import run_check

    return run_check(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xact", description="Activation functions identical in PyTorch and TensorFlow."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_list = sub.add_parser("list", help="names, aliases, parameters and built-in twins")
    p_list.add_argument("--family", help="only this catalogue family")
    p_list.set_defaults(func=_cmd_list)

    p_check = sub.add_parser("check", help="conformance; exit status 1 on any failure")
    p_check.add_argument(
        "targets", nargs="*",
        help="registered names, or module:attr of a Spec / of fn with a grad attribute; "
        "default: the whole catalogue",
    )
    p_check.add_argument("--framework", action="append", choices=["torch", "tf"],
                         help="limit to a framework (repeatable)")
    p_check.add_argument("--dtype", action="append",
                         choices=["float16", "bfloat16", "float32", "float64"],
                         help="limit to a dtype (repeatable)")
    p_check.add_argument("--mode", action="append", choices=["native", "numpy"],
                         help="limit to a mode (repeatable)")
    p_check.add_argument("--out", help="write report.md, report.json and plots here")
    p_check.set_defaults(func=_cmd_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
