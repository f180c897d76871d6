"""The PyTorch side of the benchmark: implementations and memory probes.

Mirrors ``tf_suite``: the same functions (``available``, ``info``,
``inputs``, ``implementations``, ``memory``) with the same meaning. Every
implementation's ``step`` is one forward ``y = act(x)`` and one backward
with a fixed upstream tensor ``gy`` (``torch.autograd.grad(y, x, gy)``, no
``.sum()``), returning the input gradient.

Imported only when the torch benchmark runs.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F

import xact.torch as xt
from xact import get, kernels
from xact._call import call_fn
from xact.bench import baselines
from xact.bench.timing import Impl
from xact.ops.torch import namespace

FRAMEWORK = "torch"

#: The framework's own activation for each benchmarked name (spiky has none).
BUILTINS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "gelu_tanh": lambda t: F.gelu(t, approximate="tanh"),
    "silu": F.silu,
    "mish": F.mish,
    "softplus": F.softplus,
    "elu": F.elu,
    "leaky_relu": lambda t: F.leaky_relu(t, negative_slope=0.01),
    "gelu": F.gelu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
}
BUILTIN_NAMES = {
    "gelu_tanh": "F.gelu(approximate='tanh')", "silu": "F.silu", "mish": "F.mish",
    "softplus": "F.softplus", "elu": "F.elu", "leaky_relu": "F.leaky_relu(0.01)",
    "gelu": "F.gelu", "sigmoid": "torch.sigmoid", "tanh": "torch.tanh",
}

# Compiled callables are reused across sizes (dynamic shapes: one compilation).
_COMPILED: dict[tuple[str, str], Callable[[torch.Tensor], torch.Tensor]] = {}


def available() -> bool:
    return True


def info() -> dict[str, Any]:
    return {"torch": torch.__version__, "threads": torch.get_num_threads()}


def inputs(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, generator=g, dtype=torch.float32).requires_grad_()
    gy = torch.randn(n, generator=g, dtype=torch.float32)
    return x, gy


def _step(act: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, gy: torch.Tensor) -> Callable[[], Any]:
    def step() -> torch.Tensor:
        y = act(x)
        (gx,) = torch.autograd.grad(y, x, gy)
        return gx

    return step


def _composed(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The spec's own forward on torch ops, differentiated by autograd."""
    spec = get(name)
    return lambda t: call_fn(spec, t, spec.params, namespace(t.dtype, t.device))


class _HostFunction(torch.autograd.Function):
    """A NumPy forward and derivative wired in by hand, as before xact."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, fwd: Any, der: Any) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        ctx.der = der
        return torch.from_numpy(fwd(x.detach().numpy()))

    @staticmethod
    def backward(ctx: Any, gy: torch.Tensor) -> Any:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return gy * torch.from_numpy(ctx.der(x.detach().numpy())), None, None


def _host(pair: baselines.Pair) -> Callable[[torch.Tensor], torch.Tensor]:
    fwd, der = pair
    return lambda t: _HostFunction.apply(t, fwd, der)  # type: ignore[no-any-return]


def _compiled(key: str, name: str, act: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[torch.Tensor], torch.Tensor]:
    if (key, name) not in _COMPILED:
        _COMPILED[key, name] = torch.compile(act, dynamic=True)
    return _COMPILED[key, name]


def implementations(
    name: str, x: torch.Tensor, gy: torch.Tensor, *, compiled: bool, seed: bool
) -> list[Impl]:
    """Every torch way of computing ``name`` forward+backward on ``x``."""
    native = lambda t: xt.apply(name, t, mode="native")  # noqa: E731
    acts: list[tuple[str, str, str, Callable[[torch.Tensor], torch.Tensor]]] = [
        ("xact_native", "xact native (eager)", "xact", native),
    ]
    if compiled:
        acts.append(("xact_native_compiled", "xact native, torch.compile", "xact",
                     _compiled("xact", name, native)))
    acts.append(("xact_bridge", "xact bridge (mode='numpy')", "xact",
                 lambda t: xt.apply(name, t, mode="numpy")))
    if name in BUILTINS:
        acts.append(("builtin", f"built-in {BUILTIN_NAMES[name]}", "builtin", BUILTINS[name]))
        if compiled:
            acts.append(("builtin_compiled", "built-in, torch.compile", "builtin",
                         _compiled("builtin", name, BUILTINS[name])))
    acts.append(("composed", "spec formula, autograd-differentiated", "baseline", _composed(name)))
    if compiled and name not in BUILTINS:  # the stand-in for the missing compiled built-in
        acts.append(("composed_compiled", "spec formula, autograd, torch.compile", "baseline",
                     _compiled("composed", name, _composed(name))))
    if name in baselines.NAMES:
        acts.append(("numpy_vectorized", "hand-written NumPy in autograd.Function", "baseline",
                     _host(baselines.vectorized(name))))
    if seed and name in baselines.NAMES:
        acts.append(("seed", "seed recipe: np.vectorize in autograd.Function", "baseline",
                     _host(baselines.seed(name))))
    impls = [Impl(k, label, _step(act, x, gy), kind) for k, label, kind, act in acts]
    impls[0] = Impl("xact_native", "xact native (eager, default fused kernels)",
                    _with_fusion(impls[0].step, True), "xact")
    impls.insert(1, Impl("xact_native_plain", "xact native, eager, plain path (XACT_FUSE=0)",
                         _with_fusion(_step(native, x, gy), False), "xact"))
    return impls


def _with_fusion(step: Callable[[], Any], enabled: bool) -> Callable[[], Any]:
    """``step`` with fused kernels on (built synchronously, so the timing sees them) or off."""

    def run() -> Any:
        # kernels.configure only switches the mode: set_fusion would also drop the
        # ready programs (and the fast path's plans) on every call.
        before = kernels.mode()
        kernels.configure("sync" if enabled else "off")
        try:
            return step()
        finally:
            kernels.configure(before)

    return run


HOST_IMPLS = frozenset({"xact_bridge", "numpy_vectorized", "seed"})


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence the profiler's C++ start/stop lines (written to fd 2, not sys.stderr)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _peak_allocated(step: Callable[[], Any]) -> int:
    """Peak bytes the torch CPU allocator holds above its level at the start of ``step``."""
    from torch._C._profiler import _EventType
    from torch.profiler import ProfilerActivity, profile

    with _quiet_stderr(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    allocs: list[tuple[int, int, int]] = []

    def walk(e: Any) -> None:
        if e.tag == _EventType.Allocation:
            f = e.extra_fields
            allocs.append((e.start_time_ns, f.alloc_size, f.total_allocated))
        for c in e.children:
            walk(c)

    for root in prof.profiler.kineto_results.experimental_event_tree():
        walk(root)
    if not allocs:
        return 0
    allocs.sort()
    base = allocs[0][2] - allocs[0][1]
    return max(0, max(a[2] for a in allocs) - base)


def memory(impl: Impl, x: torch.Tensor, gy: torch.Tensor, name: str) -> dict[str, Any]:
    """Bytes saved for backward (saved-tensor hooks) and peak bytes of one step.

    ``saved_bytes`` counts each distinct saved storage once; ``saved`` names
    them: "input" (x itself), "output" (y) or "intermediate".
    """
    packed: list[torch.Tensor] = []

    def pack(t: torch.Tensor) -> torch.Tensor:
        packed.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        impl.step()
    seen: dict[int, torch.Tensor] = {}
    for t in packed:
        seen.setdefault(t.untyped_storage().data_ptr(), t)
    kinds = []
    for ptr, t in seen.items():
        if ptr == x.untyped_storage().data_ptr():
            kinds.append("input")
        elif t.numel() <= 1:
            kinds.append("scalar")
        else:
            kinds.append("intermediate")
    saved_bytes = sum(t.untyped_storage().nbytes() for t in seen.values())

    peak = _peak_allocated(impl.step)
    host_peak = None
    if impl.key in HOST_IMPLS:
        tracemalloc.start()
        try:
            impl.step()
            host_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return {
        "saved_bytes": saved_bytes,
        "saved": sorted(kinds),
        "saved_extra_bytes": sum(
            t.untyped_storage().nbytes() for p, t in seen.items() if p != x.untyped_storage().data_ptr()
        ),
        "peak_bytes": peak + (host_peak or 0),
        "peak_framework_bytes": peak,
        "peak_host_bytes": host_peak,
    }


def copy_bandwidth(nbytes: int, repeats: int) -> list[float]:
    """Bytes per second of ``dst.copy_(src)`` (read + write counted), one per repeat."""
    import time

    src = torch.ones(nbytes // 4, dtype=torch.float32)
    dst = torch.empty_like(src)
    dst.copy_(src)
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        dst.copy_(src)
        out.append(2 * nbytes / (time.perf_counter() - t0))
    return out

