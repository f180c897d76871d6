"""PyTorch initialisation from an xact gain: ``xact.torch.init_``.

Imported by ``xact.torch`` only; the gain itself is framework-free NumPy.
"""

from __future__ import annotations

from typing import Any

import torch

from xact.signal._diagnose import gain
from xact.spec import Spec

__all__ = ["init_"]


def init_(
    tensor: torch.Tensor,
    activation: str | Spec,
    mode: str = "fan_in",
    *,
    generator: torch.Generator | None = None,
    **params: Any,
) -> torch.Tensor:
    """Fill ``tensor`` from N(0, gain^2 / fan) in place, gain = ``xact.gain(activation, **params)``.

    Like ``torch.nn.init.kaiming_normal_`` (same fans: ``mode="fan_in"`` keeps
    the forward second moment, ``"fan_out"`` the backward one), but the gain
    is computed from the spec, so it exists for every activation, not only
    torch's list.

    Example:
        >>> import torch, xact.torch as xt
        >>> lin = torch.nn.Linear(256, 256, bias=False)
        >>> _ = xt.init_(lin.weight, "gelu")
    """
    g = gain(activation, **params)
    with torch.no_grad():
        torch.nn.init.kaiming_normal_(tensor, mode=mode, nonlinearity="linear", generator=generator)  # type: ignore[arg-type]
        tensor.mul_(g)
    return tensor


def second_moments(
    activation: str | Spec,
    depth: int = 64,
    *,
    width: int = 256,
    batch: int = 64,
    sigma_w: float | None = None,
    sigma_b: float = 0.0,
    q0: float = 1.0,
    seed: int = 0,
    **params: Any,
) -> list[float]:
    """Mean h^2 after each layer of a random torch MLP h <- phi(h) W + b (float32).

    W ~ N(0, sigma_w^2 / width) (sigma_w defaults to the gain, i.e. ``init_``),
    b ~ N(0, sigma_b^2), input h ~ N(0, q0). What ``xact diagnose --out`` plots
    beside the mean-field prediction.
    """
    from xact import torch as xt

    g = torch.Generator().manual_seed(seed)
    sw = gain(activation, **params) if sigma_w is None else float(sigma_w)
    h = torch.randn(batch, width, generator=g) * q0**0.5
    out = []
    with torch.no_grad():
        for _ in range(depth):
            w = torch.randn(width, width, generator=g) * (sw / width**0.5)
            b = torch.randn(width, generator=g) * sigma_b
            h = xt.apply(activation, h, **params) @ w + b
            out.append(float(h.square().mean()))
    return out
