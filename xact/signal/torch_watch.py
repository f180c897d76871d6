"""An opt-in training guard for PyTorch: ``xact.torch.watch(model)``.

Forward hooks on every ``xact.torch.Activation`` in the model record the
largest finite input each one has seen and check its output; a hook on the
output tensor checks the gradient that flows into it. The first time either
is non-finite or larger than ``threshold`` in absolute value, a
:class:`~xact.errors.DivergenceError` is raised from the hook (so from the
forward call or from ``backward()``), naming the layer, the activation, the
step (forward calls of the watched model) and the largest input seen.

Each check reads one number back from the device per activation and step, so
the guard costs a synchronisation; it is for finding out why a run dies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

from xact.errors import DivergenceError

__all__ = ["Watch", "watch"]


@dataclass
class _Seen:
    largest_input: float = 0.0
    at_step: int = 0


@dataclass
class Watch:
    """The hooks of one watched model; ``remove()`` (or leaving a ``with`` block) takes them off."""

    model: torch.nn.Module
    threshold: float | None
    step: int = 0
    seen: dict[str, _Seen] = field(default_factory=dict)
    _handles: list[Any] = field(default_factory=list)

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    # ------------------------------------------------------------------ checks

    def _fail(self, layer: str, module: Any, what: str, value: float) -> None:
        seen = self.seen[layer]
        state = "non-finite" if not math.isfinite(value) else f"{value:.3g} (over the threshold {self.threshold:g})"
        raise DivergenceError(
            f"step {self.step}: layer {layer!r} (xact activation {module.activation!r}): the {what} "
            f"became {state}. Largest input it has seen: |x| = {seen.largest_input:.3g} (step "
            f"{seen.at_step}). Run xact.diagnose({module.activation!r}) to see whether the "
            "activation can be stable; lower the learning rate, clip gradients "
            "(torch.nn.utils.clip_grad_norm_) or normalise between layers."
        )

    def _bad(self, t: torch.Tensor) -> float | None:
        """max |t| when it is non-finite or over the threshold, else None."""
        big = float(t.detach().abs().amax()) if t.numel() else 0.0
        if not math.isfinite(big) or bool(torch.isnan(t).any()):
            return math.nan if not math.isinf(big) else big
        if self.threshold is not None and big > self.threshold:
            return big
        return None

    def _forward_hook(self, layer: str) -> Any:
        def hook(module: Any, inputs: tuple[Any, ...], output: Any) -> None:
            x = inputs[0] if inputs else None
            seen = self.seen[layer]
            if isinstance(x, torch.Tensor) and x.numel():
                a = x.detach().abs()
                a = torch.where(torch.isfinite(a), a, torch.zeros_like(a))
                big = float(a.amax())
                if big > seen.largest_input:
                    seen.largest_input, seen.at_step = big, self.step
            if not isinstance(output, torch.Tensor):
                return
            bad = self._bad(output)
            if bad is not None:
                self._fail(layer, module, "output", bad)
            if output.requires_grad:
                def grad_hook(g: torch.Tensor) -> None:
                    bad_g = self._bad(g)
                    if bad_g is not None:
                        self._fail(layer, module, "incoming gradient", bad_g)

                output.register_hook(grad_hook)

        return hook


def watch(model: torch.nn.Module, *, threshold: float | None = 1e6) -> Watch:
    """Guard every xact activation in ``model``; returns the :class:`Watch` (``.remove()`` it).

    Args:
        model: any module; its ``xact.torch.Activation`` submodules are watched.
        threshold: also raise when |output| or |incoming gradient| exceeds it
            (None: only on inf/NaN).

    Example:
        >>> import torch, xact.torch as xt
        >>> net = torch.nn.Sequential(torch.nn.Linear(4, 4), xt.Activation("square"))
        >>> guard = xt.watch(net)
    """
    from xact.torch import Activation

    w = Watch(model, threshold)
    found = [(n or type(model).__name__, m) for n, m in model.named_modules() if isinstance(m, Activation)]
    if not found:
        from xact.errors import XactError

        raise XactError(
            f"watch: {type(model).__name__} has no xact.torch.Activation submodule; use "
            "xt.Activation(name) layers (functional xt.<name>(x) calls cannot be hooked)"
        )

    def count(_module: Any, _inputs: Any) -> None:
        w.step += 1

    w._handles.append(model.register_forward_pre_hook(count))
    for name, m in found:
        w.seen[name] = _Seen()
        w._handles.append(m.register_forward_hook(w._forward_hook(name)))
    return w
