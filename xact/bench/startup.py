"""``xact bench --startup``: the first calls of a fresh process, with empty and with warm caches.

The fused kernels are built on a background thread while calls run the
plain path, so no call should stall. This measures it as a user meets it:
a new interpreter (default settings, no ``XACT_FUSE``) runs forward+backward
of one activation in a loop for ``seconds``, timing every call. Run twice
with the same, initially empty, cache folders (``XACT_CACHE_DIR`` and
``TORCHINDUCTOR_CACHE_DIR``): "cold" then "warm".

Reported per run: the first call, the slowest call after it, the plain
path's median call (measured in the same process with fusion off), when
the fused kernels (forward and backward) were serving the loop's calls,
and the median call from then on. A cold loop runs a minute (the issue's
"within the first minute of a training loop"), a warm one 20 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from typing import Any

_CHILD = r"""
import json, sys, time, statistics
import torch
import xact.torch as xt
from xact import kernels
name, n, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
t_import = time.perf_counter()
x = torch.randn(n, requires_grad=True)
gy = torch.randn(n)
def step():
    y = xt.apply(name, x)
    (g,) = torch.autograd.grad(y, x, gy)
    return g
from xact import torch as xact_torch
times, stamps, fused_at = [], [], None
start = time.perf_counter()
while time.perf_counter() - start < seconds:
    t = time.perf_counter(); step(); d = time.perf_counter() - t
    times.append(d); stamps.append(t - start)
    if fused_at is None and any(p.backward is not None for p in xact_torch._PLANS.values()):
        fused_at = len(times)  # the next call runs both fused programs
kernels.configure("off")
plain = []
for _ in range(max(5, min(200, len(times) // 10))):
    t = time.perf_counter(); step(); plain.append(time.perf_counter() - t)
fused = times[fused_at:] if fused_at is not None else []
print(json.dumps({"first_s": times[0], "max_after_first_s": max(times[1:]) if len(times) > 1 else None,
                  "plain_median_s": statistics.median(plain),
                  "fused_median_s": statistics.median(fused) if fused else None,
                  "fused_from_s": stamps[fused_at] if fused else None, "calls": len(times),
                  "seconds": seconds}))
"""


def run_once(name: str, n: int, seconds: float, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", _CHILD, name, str(n), str(seconds)], env=env,
                         capture_output=True, text=True, timeout=seconds + 300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def measure(names: tuple[str, ...], n: int = 4096, seconds: tuple[float, float] = (60.0, 20.0)) -> list[dict[str, Any]]:
    """Cold then warm runs per activation; ``seconds``: the (cold, warm) loop lengths."""
    rows = []
    for name in names:
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ)
            env.pop("XACT_FUSE", None)
            env.update(XACT_CACHE_DIR=os.path.join(tmp, "xact"),
                       TORCHINDUCTOR_CACHE_DIR=os.path.join(tmp, "inductor"))
            for caches, length in zip(("cold", "warm"), seconds):
                r = run_once(name, n, length, env)
                rows.append({"activation": name, "size": n, "caches": caches, **r})
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    out = ["| activation | n | caches | first call | slowest later call | plain median | "
           "fused from | fused median |\n", "|---|---|---|---|---|---|---|---|\n"]

    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v * 1e3:.2f} ms"

    for r in rows:
        after = (f"not within {r['seconds']:.0f} s" if r["fused_from_s"] is None
                 else f"{r['fused_from_s']:.1f} s")
        out.append(f"| {r['activation']} | {r['size']:,} | {r['caches']} | {ms(r['first_s'])} | "
                   f"{ms(r['max_after_first_s'])} | {ms(r['plain_median_s'])} | {after} | "
                   f"{ms(r['fused_median_s'])} |\n")
    return "".join(out)


def run(args: Any, console: Any) -> int:
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        console.print("[red]--startup measures the torch adapter: torch is not installed[/red]")
        return 2
    names = tuple(getattr(args, "activations", None) or ("gelu_tanh", "silu"))
    seconds = (20.0, 8.0) if getattr(args, "quick", False) else (60.0, 20.0)
    console.log(f"first calls in fresh processes: {seconds[0]:.0f} s loops with cold caches, "
                f"then {seconds[1]:.0f} s with warm ones")
    rows = measure(names, seconds=seconds)
    out_dir = getattr(args, "out", None) or "bench-out"
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "startup.json"), "w") as f:
        json.dump(rows, f, indent=1)
    md = markdown(rows)
    with open(os.path.join(out_dir, "startup.md"), "w") as f:
        f.write(md)
    console.print(md)
    return 0
