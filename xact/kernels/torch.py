"""Fused torch kernels: the spec's forward and backward traced once and compiled by Inductor.

One kernel serves every shape and size: the adapter flattens the input, and
the spec is traced (``make_fx``, symbolic length) on a 1-D tensor, so the
compiled program takes any length of two or more elements. The traced graph
goes straight to Inductor (``compile_fx_inner``) rather than through
``torch.compile``: calling the result costs about 5 us instead of dynamo's
guard and wrapper layers (about 60 us), which is what lets small tensors gain
too. xact keeps each CPU program it built (``xact.kernels.torch_saved``), so
a later process loads it on the caller's thread in milliseconds, without
importing Inductor; where a program could not be kept (CUDA, say),
Inductor's FX graph cache still saves the compiling: its first such kernel
loads on the background thread (that one pays for importing Inductor),
later ones on the caller's thread.

A key holds everything the program depends on: the spec, the input dtype and
device, the Python-number parameter values (constants in the program) and,
for tensor parameters, their dtypes (they enter as 0-d tensors; only
one-element tensor parameters take this path).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch

from xact.kernels import (
    CompilerMissing,
    KernelCache,
    fingerprint,
    has_marker,
    torch_saved,
    write_marker,
)

CACHE = KernelCache("torch")

# Set once this process has built (or loaded) a kernel: Inductor is imported and the
# CPU's vector ISA probed. Before that, even a kernel found in the compile cache costs
# about 4.5 s (importing Inductor and dynamo 3 s, ISA probes in subprocesses 1.1 s,
# measured on 2 CPUs), so it is loaded on the background thread like a new one; after
# it, loading a cached kernel takes about 0.2 s and happens on the caller's thread.
_COMPILER_LOADED = threading.Event()

_EXAMPLE_LENGTH = 4096  # the size hint of the symbolic length (heuristics only)

# Inductor decides at compile time whether a CPU kernel runs its loop in an OpenMP
# parallel region, and one program serves every length: a parallel region costs its
# start and barrier on every call, and on a busy machine a barrier waits for a
# descheduled thread (gelu_tanh on 1,000 elements: 14.6 ms per call against 78 us for
# the built-in, measured). ATen's own elementwise kernels run serially below 32,768
# elements (at::internal::GRAIN_SIZE). So xact's programs open their region with
# OpenMP's ``if`` clause on the length (``ks0``, the program's one size): below
# PARALLEL_FROM the region runs on the calling thread alone, above it on the team,
# and the loop, its vector steps and its tail are the same code either way, so small
# and large inputs get the same numbers from one compiled program. (Two programs
# compiled with different thread settings were not interchangeable: on 40,000 inputs
# hard_elish's differed in 4 elements and tanh_shrink's in 13, measured.)
PARALLEL_FROM = 32768
_SIZE_PARAMETER = "const int64_t ks0"


def _parallel_only_when_large(source: str) -> str:
    """``source`` with its OpenMP parallel regions made conditional on ``ks0 >= PARALLEL_FROM``."""
    if _SIZE_PARAMETER not in source:
        return source
    return re.sub(r"#pragma omp parallel\b(?! if)", f"#pragma omp parallel if(ks0 >= {PARALLEL_FROM})", source)


def _code_id(spec: Any) -> str:
    """Identifies the spec's code: qualified names and bytecode of fn and grad."""
    h = hashlib.sha256()
    for f in (spec.fn, spec.grad):
        code = getattr(f, "__code__", None)
        h.update(f"{getattr(f, '__module__', '')}.{getattr(f, '__qualname__', f)}".encode())
        if code is not None:
            h.update(code.co_code)
            h.update(repr(code.co_consts).encode())
    return h.hexdigest()


def _check_compiler(device: torch.device) -> None:
    if device.type != "cpu":
        return  # CUDA kernels are Triton's; its absence surfaces as a build error
    from torch._inductor import config

    cxx = config.cpp.cxx[-1] if config.cpp.cxx else "g++"
    candidates = [c for c in (config.cpp.cxx or ()) if c] or ["g++"]
    if not any(shutil.which(c) for c in candidates):
        raise CompilerMissing(f"no C++ compiler found ({cxx!r}; Inductor needs one for CPU kernels)")


# Inductor's vectorised CPU code computes some functions by formulas that lose
# the digits a spec relies on: expm1 as exp(x) - 1 ("decompose for a better
# performance": 0 instead of -2.97e-8 in float32, measured for celu), atanh as
# log((1+x)/(1-x))/2 and asinh by a log formula, both cancelling near 0. The
# framework's own vector library (ATen's Vectorized, Sleef) has accurate
# versions of all three, which are what xact's kernels call. The substitution
# is scoped to xact's own compilations, and a custom graph pass with a uuid
# keeps their FX-cache entries apart from those of ordinary torch.compile runs.
# erf is worse: ATen's AVX2/AVX-512 Vectorized<float>::erf is Abramowitz and
# Stegun 7.1.26, 1 - t p(t) e^(-x^2), an absolute error of ~1e-7 that leaves
# nothing of small results (erf(7.2e-8) = 0: serf was -0 for x in [-92, -0.18]).
# No accurate vector erf is in reach of generated code for every ISA, so xact's
# kernels call the C library's erf per lane (what eager torch.erf computes).
# float32 sin and cos likewise: the vector ones are Sleef's 3.5-ULP variants
# (Sleef_sinf16_u35), which put snake 5 ULP off at x = -1.465.
_ACCURATE_VECTOR_OPS = ("expm1", "atanh", "asinh")
_PER_LANE_OPS = ("erf", "sin", "cos")
_CODEGEN_LOCK = threading.Lock()


def _per_lane(op: str) -> Any:
    """Vectorized code for ``std::<op>`` applied lane by lane (Vectorized::map)."""

    def code(x: str) -> str:
        return (f"[&]() {{ auto xact_v = {x}; using xact_t = std::decay_t<decltype(xact_v)>::value_type; "
                f"return xact_v.map([](xact_t a) -> xact_t {{ return std::{op}(a); }}); }}()")

    return staticmethod(code)


class _CacheSalt:
    """An identity post-grad pass whose uuid enters Inductor's FX-graph cache key."""

    def __call__(self, graph: Any) -> None:
        return None

    def uuid(self) -> str:
        return "xact-kernels-3:" + ",".join(_ACCURATE_VECTOR_OPS + _PER_LANE_OPS) + f":parallel-if-{PARALLEL_FROM}"


@functools.cache
def _salt() -> Any:
    """One instance of the salt pass, made a CustomGraphPass (Inductor's own base class) lazily."""
    from torch._inductor.custom_graph_pass import CustomGraphPass

    return type("XactCacheSalt", (_CacheSalt, CustomGraphPass), {})()


@contextlib.contextmanager
def _accurate_codegen() -> Iterator[None]:
    from torch._inductor import config
    from torch._inductor.async_compile import AsyncCompile
    from torch._inductor.codegen.cpp import CppVecOverrides

    salt = _salt()
    with _CODEGEN_LOCK:
        pybinding = AsyncCompile.__dict__["cpp_pybinding"]

        def cpp_pybinding(self: Any, argtypes: list[str], source_code: str) -> Any:
            return pybinding(self, argtypes, _parallel_only_when_large(source_code))

        AsyncCompile.cpp_pybinding = cpp_pybinding  # type: ignore[method-assign]
        ops = _ACCURATE_VECTOR_OPS + _PER_LANE_OPS
        saved = {op: CppVecOverrides.__dict__[op] for op in ops if op in CppVecOverrides.__dict__}
        for op in saved:
            if op in _PER_LANE_OPS:
                setattr(CppVecOverrides, op, _per_lane(op))
            else:
                setattr(CppVecOverrides, op, staticmethod(lambda x, _op=op: f"{x}.{_op}()"))
        try:
            with config.patch(post_grad_custom_post_pass=salt):
                yield
        finally:
            AsyncCompile.cpp_pybinding = pybinding  # type: ignore[method-assign]
            for op, original in saved.items():
                setattr(CppVecOverrides, op, original)


def compile_program(fn: Callable[..., Any], examples: Sequence[torch.Tensor], *,
                    save_as: str | None = None) -> Callable[..., Any]:
    """``fn`` traced with a symbolic length for 1-D ``examples[0]`` and compiled by Inductor.

    ``save_as``: a fingerprint under which xact keeps the program for later processes
    (``xact.kernels.torch_saved``), when it can.
    """
    from torch._guards import TracingContext, tracing
    from torch._inductor.compile_fx import compile_fx_inner
    from torch.fx.experimental.proxy_tensor import make_fx

    _check_compiler(examples[0].device)
    from torch._inductor.decomposition import select_decomp_table

    def as_list(*args: torch.Tensor) -> list[torch.Tensor]:
        out = fn(*args)
        return list(out) if isinstance(out, (list, tuple)) else [out]

    # Inductor takes graphs in its own decomposed ATen (what AOTAutograd would hand it).
    with torch.no_grad():
        graph = make_fx(as_list, decomposition_table=select_decomp_table(), tracing_mode="symbolic")(*examples)
    # make_fx leaves its ShapeEnv on the module; Inductor's FX-graph cache cannot
    # pickle it (a pybind11 function record inside) and bypassed every xact program,
    # so each process recompiled each kernel (gelu_tanh: 29 s cold, 6 s "warm").
    # compile_fx_inner takes the same ShapeEnv from the fake inputs when the module
    # has none, so the program is unchanged and the cache key becomes stable.
    graph.shape_env = None
    fakes = [n.meta["val"] for n in graph.graph.nodes if n.op == "placeholder"]
    fake_mode = next(v.fake_mode for v in fakes if hasattr(v, "fake_mode"))
    # The program is valid for every length the tracer did not specialise on:
    # only "length >= 2"-style guards may come out of tracing.
    for guard in fake_mode.shape_env.guards:
        text = str(guard.expr)
        if not any(op in text for op in (">", "<", "Ne", "!=")):
            raise RuntimeError(f"the trace specialised on the input length ({text})")
    try:
        with tracing(TracingContext(fake_mode)), torch.no_grad(), _accurate_codegen():
            compiled = compile_fx_inner(graph, fakes)
    except Exception as e:
        message = str(e)
        if "CppCompileError" in type(e).__name__ or "C++ compile error" in message or "No such file" in message:
            raise CompilerMissing(f"Inductor could not compile C++: {message.splitlines()[0][:200]}") from e
        raise

    compiled(list(examples))  # the first call finishes what the compiler left for it
    # CompiledFxGraph.__call__ only forwards to current_callable; call that directly.
    call = getattr(compiled, "current_callable", None) or compiled
    if save_as is not None:
        generator = torch.Generator().manual_seed(0)
        probes = [torch.randn(e.shape, generator=generator, dtype=e.dtype).to(e.device) * 4 if e.dim() else e
                  for e in examples]
        torch_saved.save(save_as, compiled, probes)
    return _runner(call)


def _runner(call: Callable[[list[torch.Tensor]], Any]) -> Callable[..., list[torch.Tensor]]:
    def run(*args: torch.Tensor) -> list[torch.Tensor]:
        return call(list(args))  # type: ignore[no-any-return]

    return run


def kernel(
    role: str,
    spec: Any,
    x: torch.Tensor,
    numbers: tuple[Any, ...],
    tensor_dtypes: tuple[torch.dtype, ...],
    extra: tuple[Any, ...],
    make: Callable[[], Callable[..., Any]],
) -> Callable[..., list[torch.Tensor]] | None:
    """The compiled ``role`` ("forward"/"backward") program for this call, or None for now.

    ``numbers`` are the Python-number parameter values (None in tensor slots),
    ``extra`` anything else the program depends on (which partials are wanted),
    ``make`` returns the function to trace.
    """
    device = x.device
    key = (spec, role, str(x.dtype).removeprefix("torch."), device.type, device.index,
           numbers, tensor_dtypes, extra)
    cpu = device.type == "cpu"  # only CPU programs are saved by xact (torch_saved)

    @functools.cache
    def fp() -> str:  # computed once per call of kernel(), and only when the program is not ready
        return fingerprint(role, spec.name, _code_id(spec), repr(key[2:]), torch.__version__, _xact_version(),
                           _codegen_id())

    def build() -> Callable[..., Any]:
        saved = torch_saved.load(fp()) if cpu else None
        if saved is not None:
            return _runner(saved)
        fn = make()
        examples = [torch.zeros(_EXAMPLE_LENGTH, dtype=x.dtype, device=device)]
        if role == "backward":
            examples.append(torch.zeros(_EXAMPLE_LENGTH, dtype=x.dtype, device=device))
        examples += [torch.ones((), dtype=dt, device=device) for dt in tensor_dtypes]
        program = compile_program(fn, examples, save_as=fp() if cpu else None)
        _COMPILER_LOADED.set()
        write_marker("torch", fp())
        return program

    def known() -> bool:  # loading is quick: a saved program, or Inductor loaded and its cache warm
        return (cpu and torch_saved.has(fp())) or (_COMPILER_LOADED.is_set() and has_marker("torch", fp()))

    return CACHE.get(key, build, known)  # type: ignore[no-any-return]


@functools.cache
def _codegen_id() -> str:
    """This module's source: how programs are traced and generated (a saved program skips Inductor's key)."""
    return hashlib.sha256(open(__file__, "rb").read()).hexdigest()[:16]


@functools.cache
def _xact_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("xact")
    except metadata.PackageNotFoundError:
        return "unknown"


_DEVICES = frozenset(("cpu", "cuda"))


def usable(x: torch.Tensor) -> bool:
    """Whether a kernel can serve this input at all (else the plain path runs)."""
    return (
        x.device.type in _DEVICES
        and x.numel() >= 2
        and not x.is_sparse
        and not torch._C._are_functorch_transforms_active()
        and not torch.compiler.is_compiling()
        and not torch.jit.is_tracing()
    )
