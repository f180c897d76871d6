"""PyTorch adapter: run any registered spec on torch tensors, with autograd.

Public names mirror ``xact.tf`` and ``xact.numpy``: :func:`apply`, the
:class:`Activation` module, and one attribute per registered name
(``xact.torch.gelu_tanh``), looked up at call time so user specs defined
later are attributes too.

Two modes:

* native: a ``torch.autograd.Function``; the spec runs on torch ops through
  the ``xp`` namespace on the tensor's own device, and backward evaluates the
  declared ``grad`` with torch ops again, so double backward, ``torch.func``
  transforms, ``torch.compile`` and ``torch.export`` trace straight through.
* numpy (host bridge): custom ops (``xact::host_values``/``host_partials``)
  copy to host NumPy, run the spec there and copy back. Being opaque ops with
  fake implementations, they keep ``torch.compile(fullgraph=True)`` whole.
  Double backward needs a declared ``grad2`` and says so otherwise.

Both save only the inputs (x and tensor parameters) for backward. Half
types compute in float32 and are rounded once.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

import numpy as np
import torch

from xact._call import Call, call_fn, call_grad, named_attributes, resolve
from xact._dtypes import require_float
from xact.errors import ModeError, ParameterError, SpecError, XactTypeError
from xact.ops.numpy import namespace as numpy_namespace
from xact.ops.torch import namespace as torch_namespace
from xact.spec import Spec, get

__all__ = ["Activation", "apply", "set_fusion"]

_HALF = (torch.float16, torch.bfloat16)
Params = Sequence["torch.Tensor | float"]


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _compute(dtype: torch.dtype) -> torch.dtype:
    return torch.float32 if dtype in _HALF else dtype


def _as_output(y: Any, like: torch.Tensor, spec: Spec, what: str) -> torch.Tensor:
    """The spec's result as a tensor of ``like``'s dtype, device and shape."""
    if isinstance(y, torch.Tensor) and y.shape == like.shape and y.dtype == like.dtype:
        return y
    y = torch.as_tensor(y, dtype=like.dtype, device=like.device)
    if y.shape != like.shape:
        try:
            y = torch.broadcast_to(y, like.shape).contiguous()
        except RuntimeError:
            raise SpecError(
                f"{spec.name!r}: {what} returned shape {tuple(y.shape)} for an input of "
                f"shape {tuple(like.shape)}; it must be elementwise"
            ) from None
    return y


# ------------------------------------------------------------------ evaluators
# Native and bridge differ only in where the spec runs: these four functions.


def _native_values(spec: Spec, x: torch.Tensor, params: dict[str, Any]) -> torch.Tensor:
    y = call_fn(spec, x, params, torch_namespace(x.dtype, x.device))
    return _as_output(y, x, spec, "fn")


def _native_partials(spec: Spec, x: torch.Tensor, params: dict[str, Any]) -> list[torch.Tensor]:
    parts = call_grad(spec, x, params, torch_namespace(x.dtype, x.device))
    return [_as_output(p, x, spec, "grad") for p in parts]


def _to_host(v: Any) -> Any:
    return v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else v


def _from_host(y: Any, like: torch.Tensor, spec: Spec, what: str) -> torch.Tensor:
    arr = np.asarray(y, dtype=_dtype_name(like.dtype))
    return _as_output(torch.from_numpy(arr).to(like.device), like, spec, what)


def _bridge_values(spec: Spec, x: torch.Tensor, params: dict[str, Any]) -> torch.Tensor:
    xn = _to_host(x)
    host = {k: _to_host(v) for k, v in params.items()}
    with np.errstate(all="ignore"):
        y = call_fn(spec, xn, host, numpy_namespace(xn.dtype))
    return _from_host(y, x, spec, "fn")


def _bridge_partials(spec: Spec, x: torch.Tensor, params: dict[str, Any]) -> list[torch.Tensor]:
    xn = _to_host(x)
    host = {k: _to_host(v) for k, v in params.items()}
    with np.errstate(all="ignore"):
        parts = call_grad(spec, xn, host, numpy_namespace(xn.dtype))
    return [_from_host(p, x, spec, "grad") for p in parts]


# ------------------------------------------------------------------ autograd


def _to(t: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    # `.to` of the same dtype returns `t` too, but costs a dispatch per call.
    return t if t.dtype == dtype else t.to(dtype)


def _in_compute(x: torch.Tensor, spec: Spec, params: Params) -> tuple[torch.Tensor, dict[str, Any]]:
    cdt = _compute(x.dtype)
    pc = {
        n: (_to(p, cdt) if isinstance(p, torch.Tensor) else p)
        for n, p in zip(spec.param_names, params)
    }
    return _to(x, cdt), pc


def _forward(values: Callable[..., torch.Tensor], x: torch.Tensor, spec: Spec, params: Params) -> torch.Tensor:
    xc, pc = _in_compute(x, spec, params)
    return _to(values(spec, xc, pc), x.dtype)


# ------------------------------------------------------------------ fusion (opt-in)
# Eager native mode runs a spec op by op: a careful formula is tens of kernels, each
# a full pass over memory (gelu_tanh forward+backward: 55). With fusion on, the
# forward and the backward of large tensors run the same spec code through
# torch.compile, one generated kernel each, compiled once per spec (and dtype) and
# cached. Off by default: it needs a C++ compiler at run time and a few seconds per
# spec on first use. XACT_TORCH_FUSE=1 or set_fusion(True) turns it on. Inside an
# outer torch.compile, under create_graph (double backward) and below
# `min_elements` the plain path runs.

_FUSION: dict[str, Any] = {
    "enabled": os.environ.get("XACT_TORCH_FUSE", "0") not in ("", "0"),
    "min_elements": 65536,
}


def set_fusion(enabled: bool = True, *, min_elements: int = 65536) -> None:
    """Run native eager calls on tensors of ``min_elements`` or more as fused kernels.

    The values are those of the same spec code, compiled by ``torch.compile``
    (the generated kernel may round differently by an ULP or so).
    """
    _FUSION.update(enabled=bool(enabled), min_elements=int(min_elements))


def _fusing(x: torch.Tensor) -> bool:
    return (
        _FUSION["enabled"]
        and x.numel() >= _FUSION["min_elements"]
        and not torch.compiler.is_compiling()
    )


@functools.cache
def _fused_forward(spec: Spec) -> Callable[..., torch.Tensor]:
    def values(x: torch.Tensor, *params: Any) -> torch.Tensor:
        return _forward(_native_values, x, spec, params)

    return torch.compile(values, dynamic=True)  # type: ignore[no-any-return]


@functools.cache
def _fused_backward(spec: Spec, wanted: tuple[bool, ...]) -> Callable[..., list[torch.Tensor]]:
    def upstream_times_partials(x: torch.Tensor, gy: torch.Tensor, *params: Any) -> list[torch.Tensor]:
        xc, pc = _in_compute(x, spec, params)
        parts = _native_partials(spec, xc, pc)
        gyc = gy.to(xc.dtype)
        return [(gyc * parts[0]).to(x.dtype)] + [gyc * parts[1 + i] for i, w in enumerate(wanted) if w]

    return torch.compile(upstream_times_partials, dynamic=True)  # type: ignore[no-any-return]


class _Native(torch.autograd.Function):
    """The spec on torch ops; backward evaluates the declared grad (double-differentiable)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x: torch.Tensor, spec: Spec, *params: Any) -> torch.Tensor:  # type: ignore[override]
        if _fusing(x):
            return _fused_forward(spec)(x, *params)
        return _forward(_native_values, x, spec, params)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
        x, spec, *params = inputs
        ctx.spec = spec
        ctx.scalars = [None if isinstance(p, torch.Tensor) else p for p in params]
        ctx.save_for_backward(x, *[p for p in params if isinstance(p, torch.Tensor)])

    @staticmethod
    def backward(ctx: Any, gy: torch.Tensor) -> tuple[Any, ...]:  # type: ignore[override]
        x, *saved = ctx.saved_tensors
        it = iter(saved)
        params = [next(it) if s is None else s for s in ctx.scalars]
        if _fusing(x) and not torch.is_grad_enabled():
            wanted = tuple(
                isinstance(p, torch.Tensor) and ctx.needs_input_grad[2 + i] for i, p in enumerate(params)
            )
            fused_gx, *fused = _fused_backward(ctx.spec, wanted)(x, gy, *params)
            it_fused = iter(fused)
            return (
                fused_gx if ctx.needs_input_grad[0] else None,
                None,
                *(
                    next(it_fused).sum_to_size(p.shape).to(p.dtype) if w else None
                    for w, p in zip(wanted, params)
                ),
            )
        xc, pc = _in_compute(x, ctx.spec, params)
        parts = _native_partials(ctx.spec, xc, pc)
        gyc = _to(gy, xc.dtype)
        gx = _to(gyc * parts[0], x.dtype) if ctx.needs_input_grad[0] else None
        gps: list[torch.Tensor | None] = []
        for i, p in enumerate(params):
            if isinstance(p, torch.Tensor) and ctx.needs_input_grad[2 + i]:
                gps.append((gyc * parts[1 + i]).sum_to_size(p.shape).to(p.dtype))
            else:
                gps.append(None)
        return (gx, None, *gps)


# With setup_context defined, Function.apply binds its arguments to forward's
# signature on every call; a precomputed __signature__ saves inspect's work
# (about 15 us of a 100 us small-tensor call).
_Native.forward.__signature__ = inspect.signature(_Native.forward)  # type: ignore[attr-defined]


# The bridge is a set of opaque custom ops, so torch.compile and torch.export see
# one node each (no graph break into NumPy code) and fake tensors know the shape.
# Custom ops take only tensors, numbers, strings and lists of those: the spec
# travels by name, tensor parameters as a list, and number parameters in one
# string of exact hex floats (kept as Python floats, never rounded to the input
# dtype; a string, because autograd wants a list of numbers answered with None
# but an empty list answered with a list). `layout` has one letter per
# parameter slot: "t" takes the next tensor, "n" the next number.


def _encode(params: list[Any]) -> tuple[list[torch.Tensor], str, str]:
    tensors = [p for p in params if isinstance(p, torch.Tensor)]
    numbers = ",".join(float(p).hex() for p in params if not isinstance(p, torch.Tensor))
    layout = "".join("t" if isinstance(p, torch.Tensor) else "n" for p in params)
    return tensors, numbers, layout


def _params(spec: Spec, tensors: list[torch.Tensor], numbers: str, layout: str) -> list[Any]:
    t = iter(tensors)
    n = iter(float.fromhex(v) for v in numbers.split(",") if v)
    return [next(t) if slot == "t" else next(n) for slot in layout]


@torch.library.custom_op("xact::host_values", mutates_args=())
def _host_values(
    x: torch.Tensor, name: str, tensors: list[torch.Tensor], numbers: str, layout: str
) -> torch.Tensor:
    spec = get(name)
    return _forward(_bridge_values, x, spec, _params(spec, tensors, numbers, layout))


@_host_values.register_fake
def _(x: torch.Tensor, name: str, tensors: list[torch.Tensor], numbers: str, layout: str) -> torch.Tensor:
    return torch.empty_like(x)


@torch.library.custom_op("xact::host_partials", mutates_args=())
def _host_partials(
    x: torch.Tensor, name: str, tensors: list[torch.Tensor], numbers: str, layout: str
) -> list[torch.Tensor]:
    spec = get(name)
    xc, pc = _in_compute(x, spec, _params(spec, tensors, numbers, layout))
    return _bridge_partials(spec, xc, pc)


@_host_partials.register_fake
def _(x: torch.Tensor, name: str, tensors: list[torch.Tensor], numbers: str, layout: str) -> list[torch.Tensor]:
    return [torch.empty_like(x, dtype=_compute(x.dtype)) for _ in range(1 + len(layout))]


@torch.library.custom_op("xact::host_second", mutates_args=())
def _host_second(
    x: torch.Tensor, name: str, tensors: list[torch.Tensor], numbers: str, layout: str
) -> torch.Tensor:
    spec = get(name)
    assert spec.grad2 is not None
    xc, pc = _in_compute(x, spec, _params(spec, tensors, numbers, layout))
    second = dataclasses.replace(spec, fn=spec.grad2)  # evaluate grad2 like a forward
    return _bridge_values(second, xc, pc)


@_host_second.register_fake
def _(x: torch.Tensor, name: str, tensors: list[torch.Tensor], numbers: str, layout: str) -> torch.Tensor:
    return torch.empty_like(x, dtype=_compute(x.dtype))


def _save_inputs(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
    x, name, tensors, numbers, layout = inputs
    ctx.args = (name, numbers, layout)
    ctx.save_for_backward(x, *tensors)


def _host_values_backward(ctx: Any, gy: torch.Tensor) -> tuple[Any, ...]:
    name, numbers, layout = ctx.args
    x, *tensors = ctx.saved_tensors
    parts = _host_partials(x, name, tensors, numbers, layout)
    gyc = gy.to(parts[0].dtype)
    gx = (gyc * parts[0]).to(x.dtype)
    tensor_parts = [g for g, slot in zip(parts[1:], layout) if slot == "t"]
    gts = [(gyc * g).sum_to_size(p.shape).to(p.dtype) for g, p in zip(tensor_parts, tensors)]
    return gx, None, gts, None, None


def _host_partials_backward(ctx: Any, gparts: list[torch.Tensor | None]) -> tuple[Any, ...]:
    name, numbers, layout = ctx.args
    spec = get(name)
    if spec.grad2 is None:
        raise ModeError(
            f"{spec.name!r} runs through the NumPy bridge (mode='numpy'), which has no "
            "second derivative: pass grad2= (d2f/dx2) to xact.define, or use "
            "mode='native' with a spec that takes `xp`"
        )
    if any(g is not None for g in gparts[1:]):
        raise ModeError(
            f"{spec.name!r}: mixed second derivatives with respect to parameters are "
            "not available through the NumPy bridge; use mode='native'"
        )
    x, *tensors = ctx.saved_tensors
    second = _host_second(x, name, tensors, numbers, layout)
    g = gparts[0]
    gx = None if g is None else (g.to(second.dtype) * second).to(x.dtype)
    return gx, None, [None] * len(tensors), None, None


torch.library.register_autograd(
    "xact::host_values", _host_values_backward, setup_context=_save_inputs
)
torch.library.register_autograd(
    "xact::host_partials", _host_partials_backward, setup_context=_save_inputs
)


# ------------------------------------------------------------------ public API


def _check_input(spec: Spec, x: Any) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise XactTypeError(
            f"xact.torch.{spec.name} takes a torch.Tensor, got {type(x).__name__}; "
            "wrap it with torch.as_tensor(x), or use xact.numpy for NumPy arrays"
        )
    require_float(spec.name, _dtype_name(x.dtype))
    return x


def _check_param(spec: Spec, name: str, value: Any, x: torch.Tensor) -> torch.Tensor | float:
    if isinstance(value, torch.Tensor):
        if not value.is_floating_point():
            raise ParameterError(
                f"{spec.name!r}: parameter {name!r} must be a number or a floating tensor, got {value.dtype}"
            )
        if value.device != x.device:
            raise ParameterError(
                f"{spec.name!r}: parameter {name!r} is on {value.device} but the input is "
                f"on {x.device}; move it with .to(x.device)"
            )
        try:
            shape = torch.broadcast_shapes(value.shape, x.shape)
        except RuntimeError:
            shape = None
        if shape != x.shape:
            raise ParameterError(
                f"{spec.name!r}: parameter {name!r} of shape {tuple(value.shape)} does not "
                f"broadcast to the input shape {tuple(x.shape)}"
            )
        return value
    if isinstance(value, Real) and not isinstance(value, bool):
        return float(value)
    raise ParameterError(
        f"{spec.name!r}: parameter {name!r} must be a number or a floating torch.Tensor, "
        f"got {type(value).__name__}"
    )


def _run(call: Call, x: Any) -> torch.Tensor:
    spec = call.spec
    x = _check_input(spec, x)
    params = [_check_param(spec, n, call.params[n], x) for n in spec.param_names]
    if not call.native and x.device.type == "meta":
        raise ModeError(
            f"{spec.name!r}: the NumPy bridge (mode='numpy') cannot read a tensor on the "
            "'meta' device (it has no data); use mode='native' for shape propagation"
        )
    if call.native:
        return _Native.apply(x, spec, *params)  # type: ignore[no-any-return]
    return _host_values(x, spec.name, *_encode(params))  # type: ignore[no-any-return]


def apply(activation: str | Spec, x: torch.Tensor, /, *, mode: str = "auto", **params: Any) -> torch.Tensor:
    """Apply a registered activation to a torch tensor, with autograd.

    Args:
        activation: a registered name or alias, or a :class:`xact.Spec`.
        x: a floating tensor (float16, bfloat16, float32, float64), any shape,
            on any device (the bridge copies through host memory).
        mode: "auto" (native when the spec takes ``xp``), "native" or "numpy".
        **params: parameter values by keyword: numbers, or tensors that
            broadcast against ``x`` (those get gradients).

    Returns:
        A tensor of ``x``'s dtype, shape and device.

    Example:
        >>> import torch, xact.torch as xt
        >>> xt.apply("relu", torch.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """
    return _run(resolve(activation, mode, params), x)


class Activation(torch.nn.Module):
    """An xact activation as a ``torch.nn.Module``.

    Args:
        activation: a registered name or alias.
        mode: "auto", "native" or "numpy".
        trainable: hold the parameters as ``nn.Parameter`` (float32, shape
            ``param_shape``, initialised to the given or default values).
        param_shape: shape of each trainable parameter; it must broadcast
            against the input (e.g. ``(C, 1, 1)`` per channel for NCHW).
        **params: parameter values; defaults come from the spec.

    Example:
        >>> import torch, xact.torch as xt
        >>> m = xt.Activation("leaky_relu", negative_slope=0.1)
        >>> m(torch.tensor([-1.0]))
        tensor([-0.1000])
    """

    def __init__(
        self,
        activation: str,
        *,
        mode: str = "auto",
        trainable: bool = False,
        param_shape: Sequence[int] = (),
        **params: Any,
    ) -> None:
        super().__init__()
        call = resolve(activation, mode, params)
        self.activation = call.spec.name
        self.mode = mode
        self.trainable = trainable
        self.param_shape = tuple(param_shape)
        self._fixed: dict[str, float] = {}
        for n, v in call.params.items():
            if trainable:
                self.register_parameter(
                    n, torch.nn.Parameter(torch.full(self.param_shape, float(v)))
                )
            else:
                self._fixed[n] = float(v)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        params: dict[str, Any] = dict(self._fixed)
        if self.trainable:
            params.update(self.named_parameters(recurse=False))
        return _run(resolve(self.activation, self.mode, params), x)

    def extra_repr(self) -> str:
        vals = ", ".join(f"{k}={v}" for k, v in self._fixed.items())
        parts = [repr(self.activation), f"mode={self.mode!r}"]
        if vals:
            parts.append(vals)
        if self.trainable:
            parts.append(f"trainable=True, param_shape={self.param_shape}")
        return ", ".join(parts)


__getattr__, __dir__ = named_attributes("xact.torch", apply, __all__)
