"""The ``xp`` namespace over PyTorch, bound to one compute dtype and device.

Python scalars are turned into tensors of the namespace's dtype and device
only where torch would not accept them or would promote; elsewhere they are
passed through so torch can use its scalar kernels.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch


class Namespace:
    """PyTorch array vocabulary bound to one compute dtype and device."""

    backend = "torch"
    pi = math.pi
    e = math.e
    inf = math.inf
    nan = math.nan

    abs = staticmethod(torch.abs)
    exp = staticmethod(torch.exp)
    expm1 = staticmethod(torch.expm1)
    log = staticmethod(torch.log)
    log1p = staticmethod(torch.log1p)
    sqrt = staticmethod(torch.sqrt)
    square = staticmethod(torch.square)
    tanh = staticmethod(torch.tanh)
    sinh = staticmethod(torch.sinh)
    cosh = staticmethod(torch.cosh)
    sin = staticmethod(torch.sin)
    cos = staticmethod(torch.cos)
    tan = staticmethod(torch.tan)
    arctan = staticmethod(torch.atan)
    arcsinh = staticmethod(torch.asinh)
    arctanh = staticmethod(torch.atanh)
    erf = staticmethod(torch.erf)
    erfc = staticmethod(torch.erfc)
    floor = staticmethod(torch.floor)
    ceil = staticmethod(torch.ceil)
    # The classification predicates as comparisons: the same answers (NaN is
    # neither infinite nor equal to itself; x - x is 0 only for finite x), and
    # Inductor vectorises comparisons where it runs isinf/isnan/isfinite one
    # element at a time (measured in the fused silu backward: a scalar loop
    # per 16 lanes).
    @staticmethod
    def isinf(x: Any) -> torch.Tensor:
        return torch.abs(x) == math.inf

    @staticmethod
    def isnan(x: Any) -> torch.Tensor:
        return x != x

    @staticmethod
    def isfinite(x: Any) -> torch.Tensor:
        return (x - x) == 0
    logical_and = staticmethod(torch.logical_and)
    logical_or = staticmethod(torch.logical_or)
    logical_not = staticmethod(torch.logical_not)

    def __init__(self, dtype: torch.dtype, device: torch.device) -> None:
        self.dtype = dtype
        self.device = device

    def _t(self, v: Any) -> torch.Tensor:
        if isinstance(v, torch.Tensor):
            return v
        return torch.as_tensor(v, dtype=self.dtype, device=self.device)

    def asarray(self, v: Any) -> torch.Tensor:
        return self._t(v).to(self.dtype)

    def sign(self, x: Any) -> torch.Tensor:
        x = self._t(x)
        return torch.where(torch.isnan(x), x, torch.sign(x))  # torch.sign(NaN) is 0

    def power(self, a: Any, b: Any) -> torch.Tensor:
        if not isinstance(a, torch.Tensor) and not isinstance(b, torch.Tensor):
            a = self._t(a)
        return torch.pow(a, b)

    def where(self, cond: Any, a: Any, b: Any) -> torch.Tensor:
        if not isinstance(a, torch.Tensor) and not isinstance(b, torch.Tensor):
            a = self._t(a)  # two scalars would give torch's default dtype
        if not isinstance(cond, torch.Tensor):  # a Python bool must stay boolean
            cond = torch.as_tensor(cond, dtype=torch.bool, device=self.device)
        return torch.where(cond, a, b)

    def maximum(self, a: Any, b: Any) -> torch.Tensor:
        return torch.maximum(self._t(a), self._t(b))

    def minimum(self, a: Any, b: Any) -> torch.Tensor:
        return torch.minimum(self._t(a), self._t(b))

    def clip(self, x: Any, lo: Any, hi: Any) -> torch.Tensor:
        x = self._t(x)
        if lo is not None:
            x = torch.maximum(x, self._t(lo))
        if hi is not None:
            x = torch.minimum(x, self._t(hi))
        return x

    def remainder(self, a: Any, b: Any) -> torch.Tensor:
        if not isinstance(a, torch.Tensor):
            a = self._t(a)
        return torch.remainder(a, b)

    def logaddexp(self, a: Any, b: Any) -> torch.Tensor:
        return torch.logaddexp(self._t(a), self._t(b))

    def zeros_like(self, x: Any) -> torch.Tensor:
        return torch.zeros_like(self._t(x), dtype=self.dtype)

    def ones_like(self, x: Any) -> torch.Tensor:
        return torch.ones_like(self._t(x), dtype=self.dtype)

    def full_like(self, x: Any, v: float) -> torch.Tensor:
        return torch.full_like(self._t(x), v, dtype=self.dtype)

    def finfo(self, dtype_or_array: Any = None) -> Any:
        return np.finfo(np.dtype(str(self.dtype).removeprefix("torch.")))


def namespace(dtype: torch.dtype, device: torch.device) -> Namespace:
    """The torch namespace for ``dtype`` on ``device``.

    Not cached: construction is two attribute stores, and a cache wrapper would
    be traced around (with a warning) by torch.compile.
    """
    return Namespace(dtype, device)
