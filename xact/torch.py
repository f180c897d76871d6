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
import inspect
from collections.abc import Callable, Sequence
from numbers import Real
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from xact import kernels as _kernels
from xact._call import (
    Call,
    call_fn,
    call_grad,
    check_broadcast,
    named_attributes,
    number,
    param_shape_of,
    resolve,
)
from xact._dtypes import require_float
from xact._host import private, readonly
from xact.errors import ModeError, ParameterError, SpecError, XactTypeError
from xact.kernels import torch as _torch_kernels
from xact.ops.numpy import namespace as numpy_namespace
from xact.ops.torch import namespace as torch_namespace
from xact.spec import Spec, _ensure_catalogue, get

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


# A native spec gets the caller's tensors (a copy per call would cost a pass over
# memory): a write into them is detected by their version counters and refused,
# and a result that is an input, or a view of it, is copied.


def _versions(x: torch.Tensor, params: dict[str, Any]) -> list[int]:
    if torch.compiler.is_compiling():  # a traced graph is functional; no counters there
        return []
    return [x._version, *(p._version for p in params.values() if isinstance(p, torch.Tensor))]


def _refuse_writes(spec: Spec, what: str, before: list[int], x: torch.Tensor, params: dict[str, Any]) -> None:
    if before and before != _versions(x, params):
        raise SpecError(
            f"{spec.name!r}: {what} wrote into its input in place (torch native mode); the "
            "caller's tensor has been changed. Return a new tensor instead: `y = x * 2`, "
            "not `x *= 2`, `x[...] = ...` or `out=x`"
        )


def _aliases(y: torch.Tensor, x: torch.Tensor) -> bool:
    """Whether ``y`` is ``x``, a view of it or another tensor on its memory (``x.detach()``)."""
    if y is x:
        return True
    if torch.compiler.is_compiling():
        # No aliasing queries while tracing: copy; Inductor fuses a copy of a fresh result away.
        return True
    base = y._base
    if base is not None and (base is x or base is x._base):
        return True
    try:
        return y.numel() > 0 and y.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    except RuntimeError:  # fake or functional tensors while tracing have no data
        return False


def _native_values(spec: Spec, x: torch.Tensor, params: dict[str, Any]) -> torch.Tensor:
    before = _versions(x, params)
    y = call_fn(spec, x, params, torch_namespace(x.dtype, x.device))
    _refuse_writes(spec, "fn", before, x, params)
    y = _as_output(y, x, spec, "fn")
    return y.clone() if _aliases(y, x) else y


def _native_partials(spec: Spec, x: torch.Tensor, params: dict[str, Any]) -> list[torch.Tensor]:
    before = _versions(x, params)
    parts = call_grad(spec, x, params, torch_namespace(x.dtype, x.device))
    _refuse_writes(spec, "grad", before, x, params)
    return [_as_output(p, x, spec, "grad") for p in parts]


def _to_host(v: Any) -> Any:
    """A read-only host view (the spec cannot write into the caller's tensor)."""
    return readonly(v.detach().cpu().numpy()) if isinstance(v, torch.Tensor) else v


def _from_host(y: Any, like: torch.Tensor, spec: Spec, what: str, inputs: tuple[Any, ...]) -> torch.Tensor:
    arr = private(np.asarray(y, dtype=_dtype_name(like.dtype)), *inputs)
    return _as_output(torch.from_numpy(arr).to(like.device), like, spec, what)


def _bridge_values(spec: Spec, x: torch.Tensor, params: dict[str, Any]) -> torch.Tensor:
    xn = _to_host(x)
    host = {k: _to_host(v) for k, v in params.items()}
    with np.errstate(all="ignore"):
        y = call_fn(spec, xn, host, numpy_namespace(xn.dtype))
    return _from_host(y, x, spec, "fn", (xn, *host.values()))


def _bridge_partials(spec: Spec, x: torch.Tensor, params: dict[str, Any]) -> list[torch.Tensor]:
    xn = _to_host(x)
    host = {k: _to_host(v) for k, v in params.items()}
    with np.errstate(all="ignore"):
        parts = call_grad(spec, xn, host, numpy_namespace(xn.dtype))
    return [_from_host(p, x, spec, "grad", (xn, *host.values())) for p in parts]


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


# ------------------------------------------------------------------ fused kernels (default)
# Eager native mode would run a spec op by op: a careful formula is tens of
# kernels, each a full pass over memory and a dispatch (gelu_tanh forward+backward:
# about 200). By default the forward and the backward run as fused kernels
# instead: the same spec code, traced on a flattened input and compiled once by
# Inductor (xact/kernels/torch.py), built on a background thread while the plain
# path serves the first calls. Inside an outer torch.compile, under torch.func
# transforms or double backward, for tensor parameters of more than one element
# and wherever a kernel cannot be built, the plain path runs.


def set_fusion(enabled: bool = True, *, wait: bool = False) -> None:
    """Switch fused kernels on (the default) or off; ``wait=True`` builds them on the caller's thread.

    ``XACT_FUSE=0`` in the environment switches them off, ``XACT_FUSE=sync``
    builds them synchronously (deterministic benchmarks and tests).
    """
    _kernels.configure(("sync" if wait else "background") if enabled else "off")
    _READY.clear()
    _PLANS.clear()
    if enabled:
        _torch_kernels.CACHE.retry()


# Ready programs by call layout, in front of the kernel cache (which is bounded the same way).
_READY: dict[tuple[Any, ...], Callable[..., Any]] = {}


class _Plan:
    """The ready programs of one (spec, dtype, device, number parameters): the fast path's state.

    Made when the forward program is first served; ``backward`` is filled in
    once the backward program has been served too.
    """

    __slots__ = ("backward", "forward", "numbers", "spec")

    def __init__(self, spec: Spec, numbers: tuple[Any, ...], forward: Callable[..., Any]) -> None:
        self.spec = spec
        self.numbers = numbers
        self.forward = forward
        self.backward: Callable[..., Any] | None = None


# Plans by (spec, dtype, device, number parameter values); cleared with _READY.
_PLANS: dict[tuple[Any, ...], _Plan] = {}


def _layout(params: Sequence[Any]) -> tuple[tuple[Any, ...], tuple[torch.dtype, ...], list[torch.Tensor]] | None:
    """Number values (None in tensor slots), tensor dtypes, the tensors as 0-d; None if unfusable."""
    numbers: list[Any] = []
    dtypes: list[torch.dtype] = []
    tensors: list[torch.Tensor] = []
    for p in params:
        if isinstance(p, torch.Tensor):
            if p.numel() != 1:
                return None
            numbers.append(None)
            dtypes.append(p.dtype)
            tensors.append(p.reshape(()))
        else:
            numbers.append(p)
    return tuple(numbers), tuple(dtypes), tensors


def _flat(t: torch.Tensor) -> torch.Tensor:
    """A dense 1-D view (a copy when ``t`` is strided or expanded, e.g. ones broadcast by .sum())."""
    if t.dim() == 1 and t.is_contiguous():
        return t  # a view costs microseconds, which small tensors notice
    return t.contiguous().view(-1)


def _merge(numbers: tuple[Any, ...], tensors: Sequence[torch.Tensor]) -> list[Any]:
    it = iter(tensors)
    return [next(it) if n is None else n for n in numbers]


def _fused_forward(x: torch.Tensor, spec: Spec, params: Params) -> torch.Tensor | None:
    if _kernels.mode() == "off":
        return None
    if not _torch_kernels.usable(x):
        return None
    layout = _layout(params)
    if layout is None:
        return None
    numbers, dtypes, tensors = layout

    def make() -> Callable[..., torch.Tensor]:
        def values(xf: torch.Tensor, *ts: torch.Tensor) -> torch.Tensor:
            return _forward(_native_values, xf, spec, _merge(numbers, ts))

        return values

    key = (spec, x.dtype, x.device, numbers, dtypes)
    program = _READY.get(key)
    if program is None:
        program = _torch_kernels.kernel("forward", spec, x, numbers, dtypes, (), make)
        if program is None:
            return None
        _READY[key] = program
        if not dtypes:  # number parameters only: later calls may take the fast path
            _PLANS[spec, x.dtype, x.device, numbers] = _Plan(spec, numbers, program)
    return _program_values(program, x, tensors)


def _fused_backward(
    x: torch.Tensor, gy: torch.Tensor, spec: Spec, params: Sequence[Any], wanted: tuple[bool, ...]
) -> list[torch.Tensor] | None:
    if _kernels.mode() == "off":
        return None
    if not _torch_kernels.usable(x) or gy.shape != x.shape:
        return None
    layout = _layout(params)
    if layout is None:
        return None
    numbers, dtypes, tensors = layout

    def make() -> Callable[..., list[torch.Tensor]]:
        def upstream_times_partials(xf: torch.Tensor, gyf: torch.Tensor, *ts: torch.Tensor) -> list[torch.Tensor]:
            xc, pc = _in_compute(xf, spec, _merge(numbers, ts))
            parts = _native_partials(spec, xc, pc)
            gyc = _to(gyf, xc.dtype)
            out = [_to(gyc * parts[0], xf.dtype)]
            slot = 0
            for i, n in enumerate(numbers):
                if n is None:
                    if wanted[i]:
                        out.append((gyc * parts[1 + i]).sum().to(ts[slot].dtype))
                    slot += 1
            return out

        return upstream_times_partials

    key = (spec, x.dtype, x.device, numbers, dtypes, wanted)
    program = _READY.get(key)
    if program is None:
        program = _torch_kernels.kernel("backward", spec, x, numbers, dtypes, wanted, make)
        if program is None:
            return None
        _READY[key] = program
    if not dtypes:
        plan = _PLANS.get((spec, x.dtype, x.device, numbers))
        if plan is not None and plan.backward is None:
            plan.backward = program
    return _program_partials(program, x, gy, tensors)


def _program_values(program: Callable[..., Any], x: torch.Tensor, tensors: Sequence[torch.Tensor] = ()) -> torch.Tensor:
    """A forward program on ``x`` in ``x``'s shape; never ``x`` itself (a program may return its input)."""
    y = program(_flat(x), *tensors)[0]
    if y.data_ptr() == x.data_ptr():
        y = y.clone()
    return y if x.dim() == 1 else y.view(x.shape)


def _program_partials(
    program: Callable[..., Any], x: torch.Tensor, gy: torch.Tensor, tensors: Sequence[torch.Tensor] = ()
) -> list[torch.Tensor]:
    """A backward program: the input gradient in ``x``'s shape, then the parameter gradients."""
    gx, *gps = program(_flat(x), _flat(gy), *tensors)
    return [gx if x.dim() == 1 else gx.view(x.shape), *gps]


def _values(x: torch.Tensor, spec: Spec, params: Params) -> torch.Tensor:
    y = _fused_forward(x, spec, params)
    return _forward(_native_values, x, spec, params) if y is None else y


def _save(ctx: Any, x: torch.Tensor, spec: Spec, params: Params) -> None:
    ctx.spec = spec
    ctx.scalars = [None if isinstance(p, torch.Tensor) else p for p in params]
    ctx.save_for_backward(x, *[p for p in params if isinstance(p, torch.Tensor)])


def _backward(ctx: Any, gy: torch.Tensor) -> tuple[Any, ...]:
    """Upstream times the declared partials: a fused kernel, or the plain (differentiable) path."""
    x, *saved = ctx.saved_tensors
    it = iter(saved)
    params = [next(it) if s is None else s for s in ctx.scalars]
    if not torch.is_grad_enabled():  # create_graph (double backward) traces the plain path
        wanted = tuple(
            isinstance(p, torch.Tensor) and ctx.needs_input_grad[2 + i] for i, p in enumerate(params)
        )
        fused = _fused_backward(x, gy, ctx.spec, params, wanted)
        if fused is not None:
            gx_f, *gps_f = fused
            it_fused = iter(gps_f)
            return (
                gx_f if ctx.needs_input_grad[0] else None,
                None,
                *(next(it_fused).reshape(p.shape) if w else None for w, p in zip(wanted, params)),
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


class _Native(torch.autograd.Function):
    """The spec on torch ops; backward evaluates the declared grad (double-differentiable).

    The form with ``setup_context``, which torch.func transforms (vmap, grad)
    and torch.compile need; :class:`_Eager` is the same for plain eager calls.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(x: torch.Tensor, spec: Spec, *params: Any) -> torch.Tensor:  # type: ignore[override]
        return _values(x, spec, params)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
        x, spec, *params = inputs
        _save(ctx, x, spec, params)

    backward = staticmethod(_backward)  # type: ignore[assignment]


class _Eager(torch.autograd.Function):
    """:class:`_Native` in the classic form (forward takes ctx), for plain eager calls.

    Function.apply with ``setup_context`` binds the arguments to forward's
    signature and prepares functorch support on every call: about 45 us of
    Python against about 12 us for this form, measured on 1,000 elements.
    """

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, spec: Spec, *params: Any) -> torch.Tensor:  # type: ignore[override]
        _save(ctx, x, spec, params)
        return _values(x, spec, params)

    backward = staticmethod(_backward)  # type: ignore[assignment]


_Native.forward.__signature__ = inspect.signature(_Native.forward)  # type: ignore[attr-defined]


# ------------------------------------------------------------------ fast path
# A small tensor spends more time in Python than in its kernels: resolving the
# call, checking the input, building keys, Function.apply. Once a plan exists
# (the call's kernels are built), an eager call whose parameters are all
# Python numbers on a dense tensor goes straight to the programs with the
# least bookkeeping autograd allows. Everything else takes the path above.

_FLOATS = frozenset((torch.float16, torch.bfloat16, torch.float32, torch.float64))


class _Fast(torch.autograd.Function):
    """Forward and backward through a plan's programs; x is the only saved tensor."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, plan: _Plan) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        ctx.plan = plan
        return _fast_values(x, plan)

    @staticmethod
    def backward(ctx: Any, gy: torch.Tensor) -> tuple[Any, ...]:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        plan: _Plan = ctx.plan
        program = plan.backward
        if program is None or torch.is_grad_enabled() or gy.shape != x.shape:
            ctx.spec, ctx.scalars = plan.spec, list(plan.numbers)  # what _backward reads
            return _backward(ctx, gy)[:2]
        return _program_partials(program, x, gy)[0], None


def _fast_values(x: torch.Tensor, plan: _Plan) -> torch.Tensor:
    return _program_values(plan.forward, x)


def _fast_plan(call: Call, x: Any) -> _Plan | None:
    """The plan that can serve this call as it is, or None (then the full path runs)."""
    if torch.compiler.is_compiling() or not _PLANS:  # dynamo traces the full path
        return None
    if not (isinstance(x, torch.Tensor) and x.dtype in _FLOATS and x.layout == torch.strided
            and x.is_contiguous()):
        return None
    numbers = tuple(call.params.values()) if call.params else ()
    for v in numbers:
        if v.__class__ is bool:  # equal to 1.0 as a key, refused by the full path
            return None
    plan = _PLANS.get((call.spec, x.dtype, x.device, numbers))
    if (plan is None or _kernels.mode() == "off" or torch._C._are_functorch_transforms_active()
            or torch.jit.is_tracing()):
        return None
    return plan


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
    if x.layout != torch.strided or x.is_nested:
        raise XactTypeError(
            f"xact.torch.{spec.name} takes a dense (strided) tensor, got a "
            f"{'nested' if x.is_nested else str(x.layout).removeprefix('torch.')} tensor; "
            "convert it with x.to_dense() (an activation of a sparse tensor is not sparse "
            "unless f(0) = 0)"
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
        check_broadcast(spec, name, tuple(value.shape), tuple(x.shape))
        return value
    if isinstance(value, Real) and not isinstance(value, bool):
        return number(spec, name, value)
    raise ParameterError(
        f"{spec.name!r}: parameter {name!r} must be a number or a floating torch.Tensor, "
        f"got {type(value).__name__}"
    )


_NO_TORCHSCRIPT = (
    "xact activations do not support TorchScript (torch.jit.script / torch.jit.trace): "
    "they run as Python autograd Functions and custom ops, which TorchScript cannot hold. "
    "Use torch.export.export(model, (x,)) or torch.onnx.export(model, (x,), dynamo=True) "
    "to export, and torch.compile to compile; all three work"
)


def _refuse_torchscript() -> None:
    if torch.jit.is_tracing() and not torch.onnx.is_in_onnx_export():
        raise ModeError(_NO_TORCHSCRIPT)


def _run(call: Call, x: Any) -> torch.Tensor:
    if call.native:
        plan = _fast_plan(call, x)
        if plan is not None:
            if x.requires_grad and torch.is_grad_enabled():
                return _Fast.apply(x, plan)  # type: ignore[no-any-return]
            return _fast_values(x, plan)
    spec = call.spec
    _refuse_torchscript()
    x = _check_input(spec, x)
    params = [_check_param(spec, n, call.params[n], x) for n in spec.param_names]
    if not call.native and x.device.type == "meta":
        raise ModeError(
            f"{spec.name!r}: the NumPy bridge (mode='numpy') cannot read a tensor on the "
            "'meta' device (it has no data); use mode='native' for shape propagation"
        )
    if call.native:
        if torch.is_grad_enabled() and (
            x.requires_grad or any(isinstance(p, torch.Tensor) and p.requires_grad for p in params)
        ):
            if _torch_kernels.usable(x):
                return _Eager.apply(x, spec, *params)  # type: ignore[no-any-return]
            return _Native.apply(x, spec, *params)  # type: ignore[no-any-return]
        return _values(x, spec, params)  # nothing to differentiate: skip autograd's bookkeeping
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
        self.param_shape = param_shape_of(call.spec.name, param_shape)
        self._fixed: dict[str, float] = {}
        for n, v in call.params.items():
            v = number(call.spec, n, v)
            if trainable:
                self.register_parameter(
                    n, torch.nn.Parameter(torch.full(self.param_shape, float(v)))
                )
            else:
                self._fixed[n] = float(v)
        if not trainable:
            # Resolved here, not on the first call: a first call inside torch.compile
            # would write the cache while tracing, and a dict written during tracing
            # breaks the graph at the next activation's lookup of its spec's defaults.
            self.__dict__["_resolved"] = resolve(self.activation, self.mode, self._fixed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.trainable:
            # The resolved call is reused while the name still means the same spec
            # (a redefinition with replace=True is picked up on the next call).
            call = self.__dict__.get("_resolved")
            if call is None or get(self.activation) is not call.spec:
                call = resolve(self.activation, self.mode, self._fixed)
                self.__dict__["_resolved"] = call
            return _run(call, x)
        params: dict[str, Any] = dict(self._fixed)
        params.update(self.named_parameters(recurse=False))
        return _run(resolve(self.activation, self.mode, params), x)

    def __prepare_scriptable__(self) -> torch.nn.Module:
        # torch.jit.script calls this on every submodule first: fail with what to use.
        raise ModeError(_NO_TORCHSCRIPT)

    def extra_repr(self) -> str:
        vals = ", ".join(f"{k}={v}" for k, v in self._fixed.items())
        parts = [repr(self.activation), f"mode={self.mode!r}"]
        if vals:
            parts.append(vals)
        if self.trainable:
            parts.append(f"trainable=True, param_shape={self.param_shape}")
        return ", ".join(parts)


if TYPE_CHECKING:  # catalogue names for editors (xact/_names.pyi, python -m xact._stubgen)
    from xact._names import *  # noqa: F403

__getattr__, __dir__ = named_attributes("xact.torch", apply, __all__)

# The catalogue loads under a lock on first use; a first call inside torch.compile would
# trace that lock (dynamo refuses it), so importing the adapter loads the catalogue now.
_ensure_catalogue()

# Initialisation and the training guard from xact.signal (the numerics are framework-free).
from xact.signal.torch_init import init_  # noqa: E402
from xact.signal.torch_watch import watch  # noqa: E402

__all__ += ["init_", "watch"]
