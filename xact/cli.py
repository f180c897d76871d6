"""The ``xact`` command line: ``xact list`` and ``xact check``.

Subcommands import frameworks only when they need them, so ``xact list``
stays fast and works with neither torch nor tensorflow installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
from collections.abc import Sequence

import xact


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _cmd_list(args: argparse.Namespace) -> int:
    specs = [xact.get(n) for n in xact.names()]
    if args.family:
        specs = [s for s in specs if s.family == args.family]
    rows = [("name", "family", "params", "modes", "aliases", "twins")]
    for s in specs:
        params = ", ".join(f"{k}={v:g}" for k, v in s.params.items()) or "-"
        if len(params) > 32:  # rational's seven coefficients: `xact check` / help() show them all
            params = params[:29] + "..."
        rows.append((s.name, s.family, params, "native+numpy" if s.takes_xp else "numpy",
                     ", ".join(s.aliases) or "-", ", ".join(sorted({t.framework for t in s.twins})) or "-"))
    # every column as wide as its widest cell, so the columns line up whatever the contents
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    print(f"\n{len(specs)} activations; frameworks installed: "
          f"torch={'yes' if _installed('torch') else 'no'}, "
          f"tensorflow={'yes' if _installed('tensorflow') else 'no'}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from xact.testing.cli import run_check

    return run_check(args)


def _cmd_bench(args: argparse.Namespace) -> int:
    from xact.bench import run_bench

    return run_bench(args)


def _cmd_parity(args: argparse.Namespace) -> int:
    from xact.parity import run_parity

    return run_parity(args)


def _cmd_port(args: argparse.Namespace) -> int:
    from xact.port import run_port

    return run_port(args)


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
    p_check.add_argument("--range", nargs=2, type=float, metavar=("LO", "HI"),
                         help="judge only inputs in [LO, HI]; points outside are reported as notes")
    p_check.set_defaults(func=_cmd_check)

    p_bench = sub.add_parser("bench", help="time native, bridge and built-in forward+backward")
    p_bench.add_argument("activations", nargs="*", help="default: the benchmark's own list")
    p_bench.add_argument("--framework", action="append", choices=["torch", "tf"])
    p_bench.add_argument("--sizes", help="comma-separated element counts, e.g. 1000,4000000")
    p_bench.add_argument("--quick", action="store_true", help="fewer sizes and repeats")
    p_bench.add_argument("--out", default="bench-out", help="bench.json and plots go here")
    p_bench.set_defaults(func=_cmd_bench)

    p_parity = sub.add_parser("parity", help="measure framework built-ins against their specs")
    p_parity.add_argument("--out", default="conformance/report", help="parity.md/json go here")
    p_parity.set_defaults(func=_cmd_parity)

    p_port = sub.add_parser("port", help="the xact spec and the other framework's call for a built-in")
    p_port.add_argument("call", help='a built-in call as written in a model, e.g. "torch.nn.LeakyReLU()"')
    p_port.add_argument("--parity", metavar="PATH",
                        help="a parity.json written by `xact parity` (default: conformance/report/parity.json)")
    p_port.set_defaults(func=_cmd_port)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # A command line wants its own table, not TensorFlow's C++ start-up lines.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    return int(args.func(args))
