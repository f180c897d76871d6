"""PNG plots for ``xact diagnose --out DIR`` (matplotlib, Agg backend).

phi.png: phi and phi' with kinks (dotted) and jumps (red) marked.
variance_map.png: q -> q' against the identity, fixed points marked.
chi1.png: chi1 at the settled fixed point against sigma_w, critical point marked.
depth.png: the second moment through 64 random layers in torch and in TF
(each only when installed) beside the mean-field prediction.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from typing import Any

import numpy as np

from xact.signal import _shape, _theory
from xact.signal._diagnose import Diagnosis

DEPTH = 64


def write_plots(d: Diagnosis, out: str | Path) -> list[Path]:
    """Write the four PNGs for diagnosis ``d`` into ``out``; the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fn = _shape.resolve(d.activation, d.params)
    mf = _theory.MeanField(fn, d.sigma_w, d.sigma_b)
    paths = []
    for name, draw in (("phi", _phi), ("variance_map", _vmap), ("chi1", _chi1), ("depth", _depth)):
        fig, ax = plt.subplots(figsize=(6.4, 4.4))
        draw(ax, d, fn, mf)
        ax.set_title(f"{fn.label}: {ax.get_title()}", fontsize=10)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        path = out / f"{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def _phi(ax: Any, d: Diagnosis, fn: _shape.Fn, mf: _theory.MeanField) -> None:
    x = np.linspace(-5, 5, 4001)
    y, dy = fn.phi(x), fn.dphi(x)
    for j, _ in d.discontinuities:  # break the line at jumps instead of drawing a vertical
        k = np.searchsorted(x, j)
        if 0 < k < len(x):
            y[k] = dy[k] = np.nan
    ax.plot(x, y, label="phi")
    ax.plot(x, dy, label="phi' (declared)")
    for kink in fn.kinks:
        if -5 <= kink <= 5:
            ax.axvline(kink, ls=":", c="grey", lw=0.8)
    jx = [j for j, _ in d.discontinuities if -5 <= j <= 5]
    if jx:
        ax.plot(jx, fn.phi(np.array(jx)), "rx", label="jump (ignored by phi')")
    ax.set_xlabel("x")
    ax.set_title("phi and phi' (dotted: declared kinks)")
    ax.legend(fontsize=8)


def _vmap(ax: Any, d: Diagnosis, fn: _shape.Fn, mf: _theory.MeanField) -> None:
    centre = d.fixed_point or 1.0
    q = np.geomspace(centre / 100, centre * 100, 81)
    v = np.array([mf.V(float(s)) for s in q])
    ax.loglog(q, v, label="q' = sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2")
    ax.loglog(q, q, "k--", lw=0.8, label="q' = q")
    for r, s in d.fixed_points:
        if q[0] <= r <= q[-1]:
            ax.plot(r, r, "o", c="green" if abs(s) < 1 else "red", label=f"q* = {r:.3g}, slope {s:.3g}")
    ax.set_xlabel("q (pre-activation second moment)")
    ax.set_ylabel("q' (next layer)")
    ax.set_title(f"variance map at sigma_w = {d.sigma_w:.4g}, sigma_b = {d.sigma_b:.3g}")
    ax.legend(fontsize=7)


def _chi1(ax: Any, d: Diagnosis, fn: _shape.Fn, mf: _theory.MeanField) -> None:
    c = _theory.curve(fn, d.sigma_b)
    att = np.abs(c.slope) < 1
    ax.semilogy(c.sigma_w[att], c.chi1[att], ".", ms=3, label="chi1 at an attracting q*")
    ax.semilogy(c.sigma_w[~att], c.chi1[~att], ".", ms=3, c="grey", alpha=0.5, label="at a repelling q*")
    if c.zero_branch:
        s = np.linspace(0.05, c.zero_branch, 50)
        ax.semilogy(s, (s / c.zero_branch) ** 2, c="C2", label="q* = 0 branch")
    ax.axhline(1.0, c="k", lw=0.8)
    if d.critical_sigma_w:
        ax.axvline(d.critical_sigma_w, c="red", ls="--", label=f"critical sigma_w = {d.critical_sigma_w:.4g}")
    ax.axvline(d.sigma_w, c="C1", ls=":", label=f"this sigma_w = {d.sigma_w:.4g}")
    ax.set_xlim(0, max(4.0, 1.5 * d.sigma_w))
    ax.set_xlabel("sigma_w")
    ax.set_ylabel("chi1 (gradient growth per layer)")
    ax.set_title(f"chi1 against sigma_w at sigma_b = {d.sigma_b:.3g}")
    ax.legend(fontsize=7)


def _depth(ax: Any, d: Diagnosis, fn: _shape.Fn, mf: _theory.MeanField) -> None:
    layers = np.arange(1, DEPTH + 1)
    ax.semilogy(layers, mf.trajectory(1.0, DEPTH)[1:], "k--", label="mean field from q = 1")
    for q0, ls in ((1.01, "-."), (0.99, ":")):  # a repelling q* = 1 shows only off the knife edge
        t = mf.trajectory(q0, DEPTH)[1:]
        t[~np.isfinite(t)] = np.nan
        ax.semilogy(layers, t, c="grey", ls=ls, lw=0.9, label=f"mean field from q = {q0}")
    kw = dict(sigma_w=d.sigma_w, sigma_b=d.sigma_b, **d.params)
    for label, module in (("torch", "xact.signal.torch_init"), ("TF", "xact.signal.tf_init")):
        if importlib.util.find_spec("torch" if label == "torch" else "tensorflow") is None:
            continue
        import importlib as _il

        m = np.array(_il.import_module(module).second_moments(d.activation, DEPTH, **kw))
        m[~np.isfinite(m)] = np.nan
        ax.semilogy(layers, m, label=f"{label}, width 256, batch 64")
    ax.axhspan(0.25, 4.0, color="green", alpha=0.07, label="within 4x of q = 1")
    ax.set_xlabel("layer")
    ax.set_ylabel("second moment of pre-activations")
    ax.set_title("second moment through 64 random layers")
    ax.legend(fontsize=7)
    if not math.isfinite(float(np.nanmax(ax.get_ylim()))):
        ax.set_ylim(1e-30, 1e30)
