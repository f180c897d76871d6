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
        torch.nn.init.kaiming_normal_(tensor, mode=mode, nonlinearity="linear", generator=generator)
        tensor.mul_(g)
    return tensor
