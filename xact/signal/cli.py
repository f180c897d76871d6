"""``xact diagnose``: the summary, and the plots with ``--out``."""

from __future__ import annotations

import argparse
import sys

from xact.errors import ParameterError, XactError


def _params(items: list[str]) -> dict[str, float]:
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            params[key] = float(value)
        except ValueError:
            raise ParameterError(f"--param {item!r}: give NAME=NUMBER, e.g. --param negative_slope=0.2") from None
    return params


def run_diagnose(args: argparse.Namespace) -> int:
    """Print the diagnosis the parsed arguments ask for (and write plots); the exit status."""
    from xact.signal._diagnose import diagnose
    from xact.testing.cli import resolve_targets

    try:
        specs = resolve_targets([args.target]) or []
        if len(specs) != 1:
            raise XactError(f"{args.target!r} names {len(specs)} activations; diagnose one at a time")
        d = diagnose(specs[0], sigma_w=args.sigma_w, sigma_b=args.sigma_b, **_params(args.param))
    except (XactError, ImportError) as e:
        print(f"xact diagnose: {e}", file=sys.stderr)
        return 2
    print(d)
    if args.out:
        from xact.signal.plots import write_plots

        paths = write_plots(d, args.out)
        print("\nplots: " + ", ".join(str(p) for p in paths))
    return 0
