"""``xact diagnose``: the summary, and the plots with ``--out``."""

from __future__ import annotations

import argparse

from xact.errors import ParameterError, XactError


def run_diagnose(args: argparse.Namespace) -> int:
    from xact.signal._diagnose import diagnose
    from xact.testing.cli import resolve_targets

    specs = resolve_targets([args.target]) or []
    if len(specs) != 1:
        raise XactError(f"{args.target!r} names {len(specs)} activations; diagnose one at a time")
    params = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        try:
            params[key] = float(value) if sep else float("nan")
        except ValueError:
            raise ParameterError(f"--param {item!r}: give NAME=NUMBER, e.g. --param negative_slope=0.2") from None
    d = diagnose(specs[0], sigma_w=args.sigma_w, sigma_b=args.sigma_b, **params)
    print(d)
    if args.out:
        from xact.signal.plots import write_plots

        paths = write_plots(d, args.out)
        print("\nplots: " + ", ".join(str(p) for p in paths))
    return 0
