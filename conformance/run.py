"""The conformance suite over the catalogue: what ``nox -s conformance`` runs.

    python conformance/run.py --out conformance/report [NAME ...]
        [--framework torch|tf|jax] [--dtype float16|bfloat16|float32|float64]
        [--mode native|numpy] [--torch-path fused|plain|both]

Every name (default: the whole catalogue) goes through :func:`xact.testing.check`:
each framework x mode x dtype against the high-precision oracle, torch against
TF, native against the NumPy bridge, the declared derivatives against
numerical differentiation, kinks, special values, limits and Hypothesis
properties. Writes report.md, report.json and plots/<name>.png under
``--out``, prints a compact table and the wall time, and exits 1 when any
check fails. Known failures are listed, each with its reason, in
``xact/testing/tolerances.py`` (KNOWN_FAILURES) next to the tolerance table.

Torch native calls take fused kernels by default (``xact/kernels``). The
main pass runs that path, with each kernel built before its first call
(``XACT_FUSE=sync``: what a user's calls run once the background build is
done); with ``--torch-path both`` (the default) a second pass runs torch
native on the plain path (kernels off) against the same tolerance table and
writes its report under ``--out``/plain. Building the kernels costs about
1-4 s each on this machine the first time (two per spec and dtype), much
less once Inductor's cache holds them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

# Run from a checkout without installing: the repository root on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    t0 = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="activations (default: all); module:attr works too")
    parser.add_argument("--out", default="conformance/report", help="report folder")
    parser.add_argument("--framework", action="append", choices=["torch", "tf", "jax"])
    parser.add_argument("--dtype", action="append", choices=["float16", "bfloat16", "float32", "float64"])
    parser.add_argument("--mode", action="append", choices=["native", "numpy"])
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    parser.add_argument("--jobs", type=int, default=None,
                        help="processes (default: the cores, at most 2); the specs are split across them")
    parser.add_argument("--torch-path", choices=["fused", "plain", "both"], default="both",
                        help="torch native: the default fused kernels, the plain path, or both (two passes)")
    args = parser.parse_args(argv)

    from xact import kernels
    from xact.testing.cli import resolve_targets
    from xact.testing.engine import check
    from xact.testing.report import print_summary, write_outputs

    targets = resolve_targets(args.names)
    passes = [("fused" if args.torch_path != "plain" else "plain", args.out, args.framework, args.mode)]
    if args.torch_path == "both" and (args.framework is None or "torch" in args.framework) \
            and (args.mode is None or "native" in args.mode):
        passes.append(("plain", str(Path(args.out) / "plain"), ["torch"], ["native"]))
    passed = True
    oracle_cache: dict = {}  # the plain pass reuses the main pass's high-precision references
    for path_kind, out, frameworks, modes in passes:
        kernels.configure("sync" if path_kind == "fused" else "off")
        print(f"--- torch native on the {path_kind} path"
              + (" (fused kernels built before their first call)" if path_kind == "fused" else
                 " (fused kernels off)") + f": {', '.join(frameworks or ['all frameworks'])}")
        report = check(
            targets, frameworks=frameworks, dtypes=args.dtype,
            modes=modes, progress=True, plots=not args.no_plots, jobs=args.jobs,
            oracle_cache=oracle_cache,
        )
        print_summary(report)
        path = write_outputs(report, out, plots=not args.no_plots)
        print(f"report: {path / 'report.md'}, {path / 'report.json'}"
              + ("" if args.no_plots else f", {path / 'plots'}/"))
        passed = passed and report.passed
    print(f"wall time: {time.perf_counter() - t0:.1f} s")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
