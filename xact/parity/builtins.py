"""Which framework built-ins there are, their own defaults, and how their arguments map to a spec.

Rules:

* The list of built-ins comes from the catalogue's ``twins=`` declarations,
  plus :data:`EXTRAS` (built-ins that no spec declares, such as
  ``keras.ops.gelu``). Nothing else is typed in by hand.
* A built-in's default arguments are *read*, never written here: from
  ``inspect.signature`` (the class ``__init__`` for module and layer forms),
  from the first line of the docstring for torch builtins that have no
  Python signature, and from the operator schema for ONNX. A framework that
  is not installed yields unknown defaults, and callers say so.
* A framework is imported only when something asks about one of its calls.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import xact
from xact.spec import Spec, Twin

__all__ = [
    "EXTRAS",
    "IGNORED_ARGS",
    "REQUIRED",
    "Builtin",
    "Signature",
    "arg_roles",
    "as_number",
    "builtins",
    "installed",
    "resolve",
    "same_value",
    "signature",
]

FRAMEWORK_MODULES = {"torch": "torch", "tf": "tensorflow", "keras": "keras", "onnx": "onnx", "jax": "jax"}

#: Arguments that do not change what is computed (memory, naming, placement,
#: training-time regularisation); they are never compared with a spec.
IGNORED_ARGS = frozenset({
    "inplace", "name", "out", "device", "dtype", "trainable", "alpha_regularizer",
    "alpha_constraint", "shared_axes", "min_value", "max_value_", "kwargs", "args",
})
#: torch.nn.Hardtanh's deprecated aliases of min_val/max_val; ignored as well.
_DEPRECATED = {"torch.nn.Hardtanh": ("min_value", "max_value")}


class _Required:
    def __repr__(self) -> str:
        return "required"


#: Marks an argument without a default value.
REQUIRED: Any = _Required()


# --------------------------------------------------------------------------- the list


@dataclass(frozen=True)
class Extra:
    """A built-in that no spec declares, with the specs it may compute."""

    framework: str
    call: str
    twins: tuple[tuple[str, Mapping[str, Any]], ...]
    note: str = ""
    parity: bool = True  # False: only for porting answers, not measured in the record


#: Built-ins that are not declared as twins on a spec but that users write.
#: Each names candidate specs and the kwargs that should make it compute them;
#: the parity record measures whether they do, and which one they compute
#: under their own defaults.
EXTRAS: tuple[Extra, ...] = (
    Extra("keras", "keras.ops.gelu", (("gelu", {"approximate": False}), ("gelu_tanh", {"approximate": True}))),
    Extra("keras", "keras.ops.leaky_relu", (("leaky_relu", {"negative_slope": 0.01}),)),
    Extra("keras", "keras.ops.elu", (("elu", {"alpha": 1.0}),)),
    Extra("keras", "keras.ops.celu", (("celu", {"alpha": 1.0}),)),
    Extra("keras", "keras.ops.selu", (("selu", {}),)),
    Extra("keras", "keras.ops.relu", (("relu", {}),)),
    Extra("keras", "keras.ops.relu6", (("relu6", {}),)),
    Extra("keras", "keras.ops.silu", (("silu", {}),)),
    Extra("keras", "keras.ops.sigmoid", (("sigmoid", {}),)),
    Extra("keras", "keras.ops.tanh", (("tanh", {}),)),
    Extra("keras", "keras.ops.softplus", (("softplus", {}),)),
    Extra("keras", "keras.ops.softsign", (("softsign", {}),)),
    Extra("keras", "keras.ops.log_sigmoid", (("log_sigmoid", {}),)),
    Extra("keras", "keras.ops.hard_sigmoid", (("hard_sigmoid", {}),)),
    Extra("keras", "keras.ops.hard_silu", (("hard_silu", {}),)),
    Extra("keras", "keras.ops.hard_tanh", (("hard_tanh", {}),)),
    Extra("keras", "keras.ops.squareplus", (("squareplus", {"b": 4}),)),
    Extra("keras", "keras.ops.sparse_plus", (("sparse_plus", {}),)),
    Extra("keras", "keras.ops.sparse_sigmoid", (("sparse_sigmoid", {}),)),
    Extra("keras", "keras.ops.hard_shrink", (("hard_shrink", {"threshold": 0.5}),)),
    Extra("keras", "keras.ops.soft_shrink", (("soft_shrink", {"threshold": 0.5}),)),
    Extra("keras", "keras.ops.tanh_shrink", (("tanh_shrink", {}),)),
    Extra("keras", "keras.ops.sinc", (("sinc", {}),)),
    Extra("torch", "torch.relu", (("relu", {}),)),
    Extra("torch", "torch.nn.functional.sigmoid", (("sigmoid", {}),)),
    Extra("torch", "torch.nn.functional.tanh", (("tanh", {}),)),
    Extra("torch", "torch.special.expit", (("sigmoid", {}),)),
    Extra("tf", "tf.math.softplus", (("softplus", {}),)),
    Extra("jax", "jax.nn.swish", (("silu", {}),)),
    Extra("jax", "jax.nn.hard_swish", (("hard_silu", {}),)),
    # Porting only: a general built-in that computes a different spec with other arguments.
    Extra("keras", "keras.layers.ReLU", (("leaky_relu", {"negative_slope": 0.01}),), parity=False),
    Extra("keras", "keras.activations.relu", (("leaky_relu", {"negative_slope": 0.01}),
                                               ("relu6", {"max_value": 6.0})), parity=False),
    Extra("torch", "torch.nn.functional.hardtanh", (("relu6", {"min_val": 0.0, "max_val": 6.0}),), parity=False),
    Extra("torch", "torch.nn.Hardtanh", (("relu6", {"min_val": 0.0, "max_val": 6.0}),), parity=False),
)


@dataclass
class Builtin:
    """One framework built-in and the specs it is declared (or listed) to compute."""

    framework: str
    call: str
    twins: list[tuple[Spec, Twin]] = field(default_factory=list)
    extra: bool = False  # listed in EXTRAS rather than declared on a spec

    @property
    def module_form(self) -> bool:
        """A class to instantiate (torch.nn.X, keras.layers.X) rather than a function."""
        last = self.call.rsplit(".", 1)[-1]
        return self.framework in ("torch", "keras") and last[:1].isupper()


def builtins(*, parity_only: bool = True) -> list[Builtin]:
    """Every built-in: the catalogue's declared twins, then :data:`EXTRAS`."""
    out: dict[str, Builtin] = {}
    for name in xact.names():
        spec = xact.get(name)
        for twin in spec.twins:
            b = out.setdefault(twin.call, Builtin(twin.framework, twin.call))
            b.twins.append((spec, twin))
    for extra in EXTRAS:
        if parity_only and not extra.parity:
            continue
        if extra.call not in out:
            out[extra.call] = Builtin(extra.framework, extra.call, extra=True)
        b = out[extra.call]
        for spec_name, kwargs in extra.twins:
            b.twins.append((xact.get(spec_name), Twin(extra.framework, extra.call, dict(kwargs),
                                                       extra.note or "listed by xact.parity, not declared on the spec")))
    return list(out.values())


# --------------------------------------------------------------------------- resolving


def installed(framework: str) -> bool:
    return importlib.util.find_spec(FRAMEWORK_MODULES[framework]) is not None


def _module_path(call: str) -> str:
    if call == "tf" or call.startswith("tf."):
        return "tensorflow" + call[2:]
    return call


def resolve(call: str) -> Any:
    """The object a dotted call names (``tf.`` means tensorflow); imports its framework."""
    parts = call.split(".")
    for i in range(len(parts) - 1, 0, -1):
        mod = _module_path(".".join(parts[:i]))
        try:
            obj: Any = importlib.import_module(mod)
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(f"cannot import {call!r}")


# --------------------------------------------------------------------------- signatures


@dataclass
class Signature:
    """A built-in's own arguments (name -> default or REQUIRED), in order, without the tensor."""

    known: bool
    source: str
    params: dict[str, Any] = field(default_factory=dict)
    tensor: str | None = None  # the input tensor's parameter name (functions)
    var_kwargs: bool = False
    why: str = ""

    def defaults(self) -> dict[str, Any]:
        """The arguments that have defaults, without the ignored ones."""
        return {k: v for k, v in self.params.items() if v is not REQUIRED and k not in IGNORED_ARGS}


_TENSOR_NAMES = ("input", "x", "features", "inputs", "X", "a", "self")


def _from_inspect(obj: Any, module_form: bool) -> Signature:
    target = obj.__init__ if module_form else obj
    sig = inspect.signature(target)
    params: dict[str, Any] = {}
    var_kw = False
    tensor = None
    items = list(sig.parameters.values())
    if module_form and items and items[0].name == "self":
        items = items[1:]
    elif not module_form and items:
        tensor = items[0].name
        items = items[1:]
    for p in items:
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            var_kw = True
            continue
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        params[p.name] = REQUIRED if p.default is inspect.Parameter.empty else p.default
    return Signature(True, "inspect.signature", params, tensor, var_kw)


def _from_docstring(obj: Any) -> Signature | None:
    """torch builtins: ``gelu(input, approximate = 'none') -> Tensor`` on the first line."""
    doc = (getattr(obj, "__doc__", None) or "").strip()
    if not doc:
        return None
    head = doc.splitlines()[0].split("->")[0].strip()
    try:
        fn = ast.parse(f"def {head}: pass").body[0]
    except SyntaxError:
        return None
    assert isinstance(fn, ast.FunctionDef)
    a = fn.args
    pos = [*a.posonlyargs, *a.args]
    defaults = [REQUIRED] * (len(pos) - len(a.defaults)) + [ast.literal_eval(d) for d in a.defaults]
    names = [p.arg for p in pos]
    params = dict(zip(names[1:], defaults[1:]))
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        params[p.arg] = REQUIRED if d is None else ast.literal_eval(d)
    return Signature(True, "docstring", params, names[0] if names else None, a.kwarg is not None)


def _onnx_signature(op: str) -> Signature:
    import onnx
    from onnx import helper

    schema = onnx.defs.get_schema(op)
    params: dict[str, Any] = {}
    for inp in list(schema.inputs)[1:]:
        optional = inp.option == onnx.defs.OpSchema.FormalParameterOption.Optional
        params[inp.name] = None if optional else REQUIRED
    for name, attr in schema.attributes.items():
        if attr.required:
            params[name] = REQUIRED
        elif attr.default_value is not None and attr.default_value.type != 0:
            v = helper.get_attribute_value(attr.default_value)
            params[name] = v.decode() if isinstance(v, bytes) else v
        else:
            params[name] = None
    return Signature(True, f"ONNX schema {op} (opset {schema.since_version})", params, schema.inputs[0].name)


def signature(framework: str, call: str) -> Signature:
    """The built-in's own arguments and defaults, read from the installed framework."""
    if not installed(framework):
        return Signature(False, "", why=f"{FRAMEWORK_MODULES[framework]} is not installed: its defaults are unknown")
    if framework == "onnx":
        try:
            return _onnx_signature(call.rsplit(".", 1)[-1])
        except Exception as e:
            return Signature(False, "", why=f"no ONNX schema for {call}: {e}")
    try:
        obj = resolve(call)
    except (ImportError, AttributeError) as e:
        return Signature(False, "", why=f"{call} is not in the installed {framework}: {e}")
    module_form = isinstance(obj, type)
    try:
        sig = _from_inspect(obj, module_form)
    except (TypeError, ValueError):
        doc = _from_docstring(obj)
        if doc is None:
            return Signature(False, "", why=f"{call} has neither a signature nor a docstring signature")
        sig = doc
    for dep in _DEPRECATED.get(call, ()):
        sig.params.pop(dep, None)
    return sig


# --------------------------------------------------------------------------- argument roles


def as_number(v: Any) -> float | None:
    """A numeric argument as a float; a Keras Constant initializer as its value; else None."""
    if isinstance(v, bool) or v is None or v is REQUIRED:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, Mapping):
        cfg = v.get("config") or {}
        kind = str(v.get("class_name", "")).lower()
        if kind == "constant" and "value" in cfg:
            return as_number(cfg["value"])
        return {"zeros": 0.0, "ones": 1.0}.get(kind)
    if isinstance(v, str):
        return {"zeros": 0.0, "ones": 1.0}.get(v.lower())
    value = getattr(v, "value", None)  # keras.initializers.Constant instance
    if type(v).__name__ == "Constant" and value is not None:
        return as_number(value)
    return None


def same_value(a: Any, b: Any) -> bool:
    """Equal arguments; numbers agree to float32 rounding (ONNX and TF store float32)."""
    na, nb = as_number(a), as_number(b)
    if na is not None and nb is not None:
        return math.isclose(na, nb, rel_tol=1e-6, abs_tol=1e-12)
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return (bool(a == b) and type(a) is type(b)) or (a is None and b is None)


@dataclass(frozen=True)
class Roles:
    """How a built-in's arguments relate to one spec under one twin declaration.

    ``params``: built-in argument -> spec parameter it sets. ``fixed``: built-in
    argument -> the value it must have for the built-in to compute the spec
    (the twin's value, else the built-in's own default). ``unmapped``: spec
    parameters no argument sets (the built-in computes them at the spec default only).
    """

    params: dict[str, str]
    fixed: dict[str, Any]
    unmapped: tuple[str, ...]


def arg_roles(spec: Spec, twin: Twin, sig: Signature) -> Roles:
    """Map twin kwargs onto spec parameters: by name, else by a unique equal default value."""
    params: dict[str, str] = {}
    fixed: dict[str, Any] = {}
    taken: set[str] = set()
    pending = []
    for k, v in twin.kwargs.items():
        if k in spec.params and k not in taken:
            params[k] = k
            taken.add(k)
        else:
            pending.append((k, v))
    for k, v in pending:
        n = as_number(v)
        hits = [p for p in spec.params if p not in taken and n is not None
                and math.isclose(spec.params[p], n, rel_tol=1e-6, abs_tol=1e-12)]
        tied = [p for p in taken if n is not None and math.isclose(spec.params[p], n, rel_tol=1e-6, abs_tol=1e-12)]
        if len(hits) == 1:
            params[k] = hits[0]
            taken.add(hits[0])
        elif not hits and len(tied) == 1:
            params[k] = tied[0]  # a second argument that must equal the same parameter (ONNX Shrink's bias)
        else:
            fixed[k] = v
    for k, d in sig.params.items():
        if k in params or k in fixed or k in IGNORED_ARGS:
            continue
        if k in spec.params and k not in taken:  # the built-in names the spec's parameter
            params[k] = k
            taken.add(k)
        elif d is not REQUIRED:
            fixed[k] = d
    return Roles(params, fixed, tuple(p for p in spec.params if p not in taken))


def spec_params_from(spec: Spec, roles: Roles, args: Mapping[str, Any]) -> dict[str, float]:
    """The spec's parameters computed by a built-in called with ``args`` (unset: spec default)."""
    out = dict(spec.params)
    for arg, p in roles.params.items():
        n = as_number(args.get(arg))
        if n is not None:
            out[p] = n
    return out


def twin_args(spec: Spec, twin: Twin, roles: Roles, params: Mapping[str, float]) -> dict[str, Any]:
    """The built-in's arguments that compute ``spec`` at ``params`` (params first, then fixed)."""
    out: dict[str, Any] = {}
    for arg, p in roles.params.items():
        v: Any = params.get(p, spec.params[p])
        declared = twin.kwargs.get(arg)
        if isinstance(declared, Mapping):  # a Keras initializer config: keep its form
            v = {**declared, "config": {**declared.get("config", {}), "value": v}}
        elif isinstance(declared, int) and float(v).is_integer():
            v = int(v)
        out[arg] = v
    for arg, v in roles.fixed.items():
        if arg in twin.kwargs:  # the rest are the built-in's own defaults
            out[arg] = v
    return out
