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


def _gain_column(spec: xact.Spec) -> str:
    """"1.5925 stable": the gain and the variance verdict at that gain (xact.diagnose)."""
    from xact.errors import XactError
    from xact.signal.table import compute, entry

    try:
        g, _, label = entry(spec) or compute(spec)
    except XactError:
        return "-"
    return f"{g:.4f} {label}"


def _cmd_list(args: argparse.Namespace) -> int:
    specs = [xact.get(n) for n in xact.names()]
    if args.family:
        specs = [s for s in specs if s.family == args.family]
    rows = [("name", "family", "params", "modes", "aliases", "gain", "twins")]
    for s in specs:
        gain = _gain_column(s)
        params = ", ".join(f"{k}={v:g}" for k, v in s.params.items()) or "-"
        if len(params) > 32:  # rational's seven coefficients: `xact check` / help() show them all
            params = params[:29] + "..."
        rows.append((s.name, s.family, params, "native+numpy" if s.takes_xp else "numpy",
                     ", ".join(s.aliases) or "-", gain,
                     ", ".join(sorted({t.framework for t in s.twins})) or "-"))
    # every column as wide as its widest cell, so the columns line up whatever the contents
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    print(f"\n{len(specs)} activations; frameworks installed: "
          f"torch={'yes' if _installed('torch') else 'no'}, "
          f"tensorflow={'yes' if _installed('tensorflow') else 'no'}, "
          f"jax={'yes' if _installed('jax') else 'no'}")
    return 0


def _cmd_warmup(args: argparse.Namespace) -> int:
    """Build the fused torch kernels of NAMEs now, so later processes start at fused speed."""
    import time

    if not _installed("torch"):
        print("xact warmup: torch is not installed (TF kernels are compiled per shape, when first used)")
        return 2
    import torch

    import xact.torch as xt
    from xact import kernels
    from xact.kernels.torch import CACHE

    names = args.names or ["gelu_tanh", "gelu", "silu", "softplus", "mish", "elu", "leaky_relu"]
    kernels.configure("sync")
    failed = 0
    for name in names:
        spec = xact.get(name)
        for dtype in args.dtype or ["float32"]:
            t0 = time.perf_counter()
            x = torch.linspace(-3, 3, 64, dtype=getattr(torch, dtype), requires_grad=True)
            xt.apply(spec, x).sum().backward()
            bad = [k for k in CACHE.failures() if k[0] is spec]
            failed += bool(bad)
            print(f"{spec.name:<20} {dtype:<9} {'plain path (kernel failed)' if bad else 'ready'} "
                  f"in {time.perf_counter() - t0:.1f} s")
    print(f"kernels kept in {kernels.cache_dir()} and Inductor's cache; default parameters only")
    return 1 if failed else 0


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


def _cmd_diagnose(args: argparse.Namespace) -> int:
    from xact.signal.cli import run_diagnose

    return run_diagnose(args)


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
    p_check.add_argument("--framework", action="append", choices=["torch", "tf", "jax"],
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
    p_bench.add_argument("--quick", action="store_true",
                         help="three activations, three sizes, no compiled forms (under 2 minutes)")
    p_bench.add_argument("--model", action="store_true",
                         help="one training epoch of an MLP: xact activations vs the built-ins")
    p_bench.add_argument("--startup", action="store_true",
                         help="first calls of fresh processes, cold and warm kernel caches (torch)")
    p_bench.add_argument("--out", default="bench-out", help="bench.json and plots go here")
    p_bench.set_defaults(func=_cmd_bench)

    p_warm = sub.add_parser("warmup", help="build the fused torch kernels ahead (default parameters)")
    p_warm.add_argument("names", nargs="*", help="default: the common activations")
    p_warm.add_argument("--dtype", action="append", choices=["float16", "bfloat16", "float32", "float64"],
                        help="default float32 (repeatable)")
    p_warm.set_defaults(func=_cmd_warmup)

    p_parity = sub.add_parser("parity", help="measure framework built-ins against their specs")
    p_parity.add_argument("--out", default="conformance/report", help="parity.md/json go here")
    p_parity.set_defaults(func=_cmd_parity)

    p_port = sub.add_parser("port", help="the xact spec and the other framework's call for a built-in")
    p_port.add_argument("call", help='a built-in call as written in a model, e.g. "torch.nn.LeakyReLU()"')
    p_port.add_argument("--parity", metavar="PATH",
                        help="a parity.json written by `xact parity` (default: conformance/report/parity.json)")
    p_port.set_defaults(func=_cmd_port)

    p_diag = sub.add_parser("diagnose", help="gain, signal propagation and stability of an activation")
    p_diag.add_argument("target", help="a registered name, or module:attr of a Spec")
    p_diag.add_argument("--sigma-w", type=float, default=None, help="weight scale (default: the gain)")
    p_diag.add_argument("--sigma-b", type=float, default=0.0, help="bias scale (default 0)")
    p_diag.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="an activation parameter (repeatable)")
    p_diag.add_argument("--out", help="write phi.png, variance_map.png, chi1.png, depth.png here")
    p_diag.set_defaults(func=_cmd_diagnose)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # A command line wants its own table, not TensorFlow's C++ start-up lines.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    return int(args.func(args))
