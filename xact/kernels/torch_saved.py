"""Compiled torch CPU programs kept by xact itself, loadable without Inductor.

Inductor's FX-graph cache lets a second process skip compiling, but loading
from it imports Inductor and probes the CPU's vector ISA first: about 4.5 s
before the first fused call (measured on 2 CPUs), which is why a warm process
ran its first calls on the plain path. What Inductor produces for an xact
program is small: one or more C++ kernels, each built as a Python extension
module (``CppPythonBindingsCodeCache``: a ``kernel(*tensors, *sizes)``
function), and a Python ``call(args)`` that allocates the outputs and calls
the kernels. xact keeps both, the extension modules copied into its cache
directory and the ``call`` source beside them, and a later process loads
them with ``importlib`` in milliseconds.

Only what can be checked is kept: a program whose ``call`` needs nothing but
its kernels and the tensor helpers of ``torch._C._dynamo.guards``, and whose
reloaded copy returns bit-identical results on the build's own inputs before
it is saved. Everything else (CUDA programs, calls into other Inductor
machinery) keeps using Inductor's own cache. The key includes the machine
(CPU flags, Python version): a kernel built for one vector ISA must not load
on another.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import sys
import tempfile
import textwrap
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from xact.kernels import cache_dir

_FORMAT = "1"
_MANIFEST = "program.json"


@functools.cache
def machine_id() -> str:
    """CPU model and flags, architecture and Python version: what a kernel binary depends on."""
    parts = [platform.machine(), sys.version, torch.__version__]
    try:  # the first processor's block (every core of a machine has the same ISA)
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    break
                if line.startswith(("flags", "model name", "Features")):
                    parts.append(line.strip())
    except OSError:
        parts.append(platform.processor())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _dir(fp: str) -> Path:
    return cache_dir() / "torch-programs" / f"{fp}-{machine_id()}"


def has(fp: str) -> bool:
    """Whether a saved program exists for this fingerprint on this machine."""
    return (_dir(fp) / _MANIFEST).is_file()


def _helpers() -> dict[str, Any]:
    guards = torch._C._dynamo.guards
    return {
        "torch": torch,
        "empty_strided_cpu": guards._empty_strided_cpu,
        "assert_size_stride": guards.assert_size_stride,
        "reinterpret_tensor": guards._reinterpret_tensor,
    }


def _call_source(wrapper_source: str) -> str | None:
    """The body of the wrapper's ``Runner.call`` as a plain function ``call(args)``."""
    lines = wrapper_source.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "def call(self, args):")
    except StopIteration:
        return None
    indent = len(lines[start]) - len(lines[start].lstrip())
    body = [lines[start].replace("def call(self, args):", "def call(args):")]
    for line in lines[start + 1:]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        body.append(line)
    return textwrap.dedent("\n".join(body)) + "\n"


def _load_kernel(path: Path, module_name: str) -> Any:
    # The same set-up Inductor's loader does before importing one of its binding modules.
    os.environ["_TORCHINDUCTOR_PYOBJECT_TENSOR_DATA_PTR"] = str(
        torch._C._dynamo.guards._torchinductor_pyobject_tensor_data_ptr  # type: ignore[attr-defined]
    )
    name = f"{module_name}.kernel"  # the extension's init function is PyInit_kernel
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return module.kernel


def _assemble(source: str, kernels: dict[str, Any]) -> Callable[[list[torch.Tensor]], Any]:
    namespace = _helpers()
    namespace.update(kernels)
    exec(compile(source, "<xact saved program>", "exec"), namespace)
    return namespace["call"]  # type: ignore[no-any-return]


def load(fp: str) -> Callable[[list[torch.Tensor]], Any] | None:
    """The saved program's ``call(args)``, or None when none is saved (or it cannot load)."""
    d = _dir(fp)
    try:
        manifest = json.loads((d / _MANIFEST).read_text())
        if manifest.get("format") != _FORMAT:
            return None
        kernels = {name: _load_kernel(d / file, f"xact_program_{fp}_{name}")
                   for name, file in manifest["kernels"].items()}
        return _assemble(manifest["call"], kernels)
    except (OSError, ValueError, KeyError, ImportError):
        return None


def save(fp: str, compiled: Any, examples: Sequence[torch.Tensor]) -> bool:
    """Keep ``compiled`` (Inductor's CompiledFxGraph) under ``fp`` if it can be reloaded exactly.

    Returns whether it was saved. Never raises: saving is an optimisation only.
    """
    try:
        return _save(fp, compiled, examples)
    except Exception:  # a layout this module does not know: Inductor's own cache still serves
        return False


def _save(fp: str, compiled: Any, examples: Sequence[torch.Tensor]) -> bool:
    if any(e.device.type != "cpu" for e in examples):
        return False
    call = getattr(compiled, "current_callable", None)
    module = sys.modules.get(getattr(getattr(call, "__func__", call), "__module__", "") or "")
    source = getattr(compiled, "source_code", None) or (getattr(module, "__file__", None) and Path(module.__file__).read_text())
    if module is None or not source:
        return False
    call_source = _call_source(source)
    if call_source is None:
        return False
    kernels: dict[str, Path] = {}
    for name, value in vars(module).items():
        owner = getattr(value, "__self__", None)
        file = getattr(owner, "__file__", None)
        if name.startswith("cpp_fused") and isinstance(owner, types.ModuleType) and file and file.endswith(".so"):
            kernels[name] = Path(file)
    if not kernels:
        return False
    # Check before keeping: the reassembled call, on the kernels Inductor loaded, must
    # reproduce the compiled program bit for bit (it fails on any name it lacks).
    loaded = {name: getattr(module, name) for name in kernels}
    expected = compiled.current_callable(list(examples))
    got = _assemble(call_source, loaded)(list(examples))
    if len(got) != len(expected) or not all(torch.equal(a, b) and a.dtype == b.dtype for a, b in zip(got, expected)):
        return False
    target = _dir(fp)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target.parent))
    try:
        files = {}
        for name, path in kernels.items():
            shutil.copy2(path, staging / f"{name}.so")
            files[name] = f"{name}.so"
        manifest = {"format": _FORMAT, "kernels": files, "call": call_source, "torch": torch.__version__}
        (staging / _MANIFEST).write_text(json.dumps(manifest, indent=1))
        try:
            staging.rename(target)
        except OSError:  # another process saved it first
            shutil.rmtree(staging, ignore_errors=True)
        return True
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        return False
