"""Porting help: which xact spec a framework built-in computes, and the same call elsewhere.

``port("torch.nn.LeakyReLU(0.2)")`` reads the call as written in a model,
fills in the built-in's own defaults, and answers with the xact spec and its
exact parameters, the xact calls for torch, TF/Keras and JAX, and the built-in
calls of the other frameworks with every argument explicit, each with a
warning where that framework's default would silently compute something
else. ``xact port "torch.nn.LeakyReLU()"`` prints the same.

Rules:

* The call is parsed with :mod:`ast`; nothing the user wrote is evaluated.
  Arguments must be literals (numbers, strings, booleans, None), or a Keras
  ``Constant(v)`` initializer; the input tensor may be any expression.
* Defaults are read from the installed framework (:mod:`xact.parity.builtins`),
  never typed here. A framework that is not installed makes its defaults
  unknown, and the answer says so instead of guessing. Keras layers and
  torch modules are instantiated with the literal arguments (when
  installed) and their effective settings read back, so deprecated aliases
  such as Keras 2's ``LeakyReLU(alpha=...)`` are understood as Keras does.
* Where a parity record (``parity.json`` from ``xact parity``) is found, the
  measured differences of each call (kink gradients, NaN/inf behaviour,
  constants) are attached as notes.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import sys
import types
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xact.errors import XactError
from xact.parity.builtins import (
    IGNORED_ARGS,
    REQUIRED,
    Builtin,
    Signature,
    arg_roles,
    as_number,
    builtins,
    installed,
    resolve,
    same_value,
    signature,
    spec_params_from,
    twin_args,
)
from xact.spec import Spec, Twin

__all__ = ["Equivalent", "PortError", "PortResult", "port", "run_port"]

#: Import aliases seen in model code, longest first: prefix -> canonical prefix.
ALIASES: tuple[tuple[str, str], ...] = (
    ("tensorflow.keras.", "keras."),
    ("tf.keras.", "keras."),
    ("tensorflow.", "tf."),
    ("torch.nn.modules.activation.", "torch.nn."),
    ("nn.functional.", "torch.nn.functional."),
    ("functional.", "torch.nn.functional."),
    ("F.", "torch.nn.functional."),
    ("nn.", "torch.nn."),
    ("layers.", "keras.layers."),
    ("activations.", "keras.activations."),
    ("ops.", "keras.ops."),
    ("jnn.", "jax.nn."),
    ("jax.numpy.", "jax.numpy."),
    ("onnx.", "ai.onnx."),
)
_ROOTS = ("torch.", "tf.", "keras.", "jax.", "ai.onnx.")
_FRAMEWORK_OF = {"torch": "torch", "tf": "tf", "keras": "keras", "jax": "jax", "ai": "onnx"}
DEFAULT_PARITY = Path("conformance/report/parity.json")


class PortError(XactError, ValueError):
    """The call cannot be ported: unknown built-in, unreadable or unsupported arguments."""


@dataclass
class Equivalent:
    """A built-in of another framework that computes the same spec, with explicit arguments."""

    framework: str
    call: str
    code: str
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    declared: bool = True  # declared on the spec (not one of xact.parity's extras)


@dataclass
class PortResult:
    """What a built-in call computes, and how to write it with xact or another framework."""

    source: str
    framework: str
    call: str
    arguments: dict[str, Any]
    defaulted: list[str]
    spec: str
    params: dict[str, float]
    xact_torch: str
    xact_tf: str
    xact_jax: str = ""
    equivalents: list[Equivalent] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    alternatives: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        args = ", ".join(f"{k}={_lit(v)}" + (" (default)" if k in self.defaulted else "")
                         for k, v in self.arguments.items()) or "none"
        lines = [
            f"{self.source}   [{self.framework}]",
            f"  arguments : {args}",
            f"  computes  : xact {_spec_text(self.spec, self.params)}",
        ]
        if self.alternatives:
            lines.append(f"  (also the same function: {', '.join(self.alternatives)})")
        lines += [f"  xact      : {self.xact_torch}", f"              {self.xact_tf}"]
        if self.xact_jax:
            lines.append(f"              {self.xact_jax}")
        for w in self.warnings:
            lines.append(f"  ! {w}")
        for n in self.notes:
            label = "note      " if n.startswith("catalogue note") else "measured  "
            lines.append(f"  {label}: {n}")
        if self.defaulted:
            lines.append(f"  note      : {', '.join(self.defaulted)} not written in the call: "
                         f"{self.call}'s own default{'s' if len(self.defaulted) > 1 else ''}")
        if self.equivalents:
            lines.append("  same in other frameworks:")
            for e in self.equivalents:
                lines.append(f"    {e.code}")
                lines += [f"      ! {w}" for w in e.warnings]
                lines += [f"      {'note' if n.startswith('catalogue note') else 'measured'}: {n}" for n in e.notes]
        else:
            lines.append("  no built-in of the other framework computes this; use the xact call")
        return "\n".join(lines)


# --------------------------------------------------------------------------- parsing


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


_ALWAYS = ("tensorflow.keras.", "tf.keras.", "tensorflow.", "torch.nn.modules.activation.")


def _canonical(name: str) -> str:
    """``nn.GELU`` -> ``torch.nn.GELU``, ``tf.keras.layers.X`` -> ``keras.layers.X`` and so on."""
    for prefix, to in ALIASES:
        if name.startswith(prefix) and (prefix in _ALWAYS or not name.startswith(_ROOTS)):
            return to + name[len(prefix):]
    return name


class _NotLiteral(Exception):
    pass


def _value(node: ast.AST) -> Any:
    """A literal argument; a Keras Constant(v) initializer as its config."""
    try:
        return ast.literal_eval(node)
    except ValueError:
        pass
    if isinstance(node, ast.Call):
        name = _dotted(node.func) or ""
        if name.rsplit(".", 1)[-1] in ("Constant", "constant"):
            v = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "value"), None)
            if v is not None:
                return {"class_name": "Constant", "config": {"value": _value(v)}}
    raise _NotLiteral(ast.unparse(node))


@dataclass
class _Parsed:
    call: str
    called: bool
    args: list[Any]
    kwargs: dict[str, Any]


def _parse(text: str) -> _Parsed:
    src = text.strip()
    try:
        node = ast.parse(src, mode="eval").body
    except SyntaxError as e:
        raise PortError(f"cannot parse {text!r} as a Python call: {e.msg}") from None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # activation="gelu"
        return _Parsed(f"keras.activations.{node.value}", False, [], {})
    if isinstance(node, ast.Call):
        name = _dotted(node.func)
        if name is None:
            raise PortError(f"{text!r}: the called object must be a dotted name such as torch.nn.GELU")
        name = _canonical(name)
        # a layer that only wraps an activation: Activation("gelu"), Dense(..., activation="relu")
        act = next((k.value for k in node.keywords if k.arg == "activation"), None)
        if name.endswith(".Activation") and node.args:
            act = node.args[0]
        if act is not None:
            return _activation_arg(name, act, text)
        args, kwargs = [], {}
        for i, a in enumerate(node.args):
            try:
                args.append(_value(a))
            except _NotLiteral as e:
                args.append(_Tensor(str(e), i))
        for k in node.keywords:
            if k.arg is None:
                raise PortError(f"{text!r}: **kwargs cannot be read; write the arguments out")
            try:
                kwargs[k.arg] = _value(k.value)
            except _NotLiteral as e:
                kwargs[k.arg] = _Tensor(str(e), -1)
        return _Parsed(name, True, args, kwargs)
    name = _dotted(node)
    if name is None:
        raise PortError(f"{text!r} is neither a call nor a dotted name of a built-in")
    return _Parsed(_canonical(name), False, [], {})


def _activation_arg(outer: str, act: ast.AST, text: str) -> _Parsed:
    if isinstance(act, ast.Constant) and isinstance(act.value, str):
        if outer.startswith("torch."):
            return _Parsed(f"torch.nn.functional.{act.value}", False, [], {})
        return _Parsed(f"keras.activations.{act.value}", False, [], {})
    return _parse(ast.unparse(act))


@dataclass
class _Tensor:
    """A non-literal argument (the input tensor, or something we cannot read)."""

    source: str
    position: int


# --------------------------------------------------------------------------- finding the built-in


def _find(call: str) -> Builtin:
    table = {b.call: b for b in builtins(parity_only=False)}
    if call in table:
        return table[call]
    root = call.split(".", 1)[0]
    fw = _FRAMEWORK_OF.get(root)
    if fw is None:
        raise PortError(f"{call!r}: not a torch, tf, keras, jax or ONNX (ai.onnx.*) call. " + _known_hint(call, table))
    if fw != "onnx" and installed(fw):
        # the same object under another name: tf.sigmoid is tf.nn.sigmoid, keras.activations.swish is silu
        obj = _resolve_user(call)
        if obj is None:
            raise PortError(f"{call!r} does not exist in the installed {fw}. " + _known_hint(call, table))
        family = {"tf", "keras"} if fw in ("tf", "keras") else {fw}
        for b in table.values():
            if b.framework in family:
                try:
                    if resolve(b.call) is obj:
                        return b
                except (ImportError, AttributeError):
                    continue
    raise PortError(f"no xact spec is known to compute {call!r}. " + _known_hint(call, table))


def _resolve_user(call: str) -> Any:
    try:
        return resolve(call)
    except (ImportError, AttributeError):
        pass
    if call.startswith("keras.activations."):  # a string identifier, as Keras reads it
        try:
            import keras

            return keras.activations.get(call.rsplit(".", 1)[-1])
        except Exception:
            return None
    return None


def _known_hint(call: str, table: Mapping[str, Builtin]) -> str:
    close = difflib.get_close_matches(call, list(table), n=3, cutoff=0.6)
    hint = f"Did you mean {', '.join(close)}? " if close else ""
    return hint + "`xact list` shows every spec; xact.define() registers your own."


# --------------------------------------------------------------------------- arguments


def _bind(b: Builtin, sig: Signature, parsed: _Parsed, source: str) -> tuple[dict[str, Any], list[str]]:
    """The built-in's effective arguments (user's, then its own defaults) and which were defaulted."""
    names = [k for k in sig.params]
    user: dict[str, Any] = {}
    positional = list(parsed.args)
    if positional and not b.module_form and b.framework != "onnx":
        positional = positional[1:]  # the input tensor
    if sig.known:
        if len(positional) > len(names):
            raise PortError(f"{source}: {b.call} takes at most {len(names)} argument(s) besides the input")
        for n, v in zip(names, positional):
            user[n] = v
    elif positional:
        raise PortError(f"{source}: cannot place positional arguments ({sig.why}); pass them by keyword")
    for k, v in parsed.kwargs.items():
        if k == sig.tensor:
            continue
        if sig.known and k not in sig.params and not sig.var_kwargs:
            raise PortError(f"{source}: {b.call} has no argument {k!r} (it takes "
                            f"{', '.join(sig.params) or 'no arguments'})")
        user[k] = v
    for k, v in user.items():
        if isinstance(v, _Tensor) and k not in IGNORED_ARGS:
            raise PortError(f"{source}: argument {k}={v.source} is not a literal; write its value "
                            "(a number, string or boolean) so it can be read without running your code")
    effective = dict(user)
    defaulted = []
    if sig.known:
        for k, d in sig.params.items():
            if k not in effective and k not in IGNORED_ARGS:
                if d is REQUIRED:
                    continue
                effective[k] = d
                defaulted.append(k)
        effective = _read_back(b, sig, user, effective, source)
    effective = {k: v for k, v in effective.items() if k not in IGNORED_ARGS}
    if sig.known:
        # arguments outside the signature (Keras' deprecated alpha=) were read back into it
        effective = {k: v for k, v in effective.items() if k in sig.params}
        defaulted = [k for k in defaulted if k not in user and same_value(effective.get(k), sig.params[k])]
    return effective, defaulted


def _read_back(b: Builtin, sig: Signature, user: dict[str, Any], effective: dict[str, Any], source: str) -> dict[str, Any]:
    """Instantiate a module/layer with the user's literal arguments and read its settings back."""
    if not b.module_form or not installed(b.framework):
        return effective
    try:
        cls = resolve(b.call)
        kw = {k: v for k, v in user.items() if not isinstance(v, _Tensor)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obj = cls(**kw)
    except Exception as e:
        raise PortError(f"{source}: {b.call} refuses these arguments: {type(e).__name__}: {e}") from None
    if b.framework == "keras":
        cfg = obj.get_config()
        out = dict(effective)
        for k in sig.params:
            if k in cfg and k not in IGNORED_ARGS:
                v = cfg[k]
                if isinstance(v, Mapping) and "class_name" in v:  # a serialised initializer
                    v = {"class_name": v["class_name"], "config": dict(v.get("config", {}))}
                out[k] = v
        return out
    out = dict(effective)
    for k in sig.params:
        if k in IGNORED_ARGS or not hasattr(obj, k):
            continue
        v = getattr(obj, k)
        if isinstance(v, (bool, int, float, str)) or v is None:
            out[k] = v
    return out


# --------------------------------------------------------------------------- matching a spec


@dataclass
class _Candidate:
    spec: Spec
    twin: Twin
    params: dict[str, float]


def _candidates(b: Builtin, sig: Signature, effective: Mapping[str, Any]) -> tuple[list[_Candidate], list[str]]:
    ok, why_not = [], []
    for spec, twin in b.twins:
        roles = arg_roles(spec, twin, sig)
        bad = []
        for arg, want in roles.fixed.items():
            if arg in IGNORED_ARGS:
                continue
            have = effective.get(arg, want if not sig.known else REQUIRED)
            if have is REQUIRED or not same_value(have, want):
                bad.append(f"{arg}={_lit(want)} (got {_lit(have) if have is not REQUIRED else 'nothing'})")
        by_param: dict[str, list[Any]] = {}
        for arg, p in roles.params.items():
            if arg in effective:
                by_param.setdefault(p, []).append(effective[arg])
        for p, vals in by_param.items():
            nums = [as_number(v) for v in vals]
            if any(n is None for n in nums):
                bad.append(f"a number for {spec.name}'s {p} (got {', '.join(map(_lit, vals))})")
            elif len({round(n, 12) for n in nums if n is not None}) > 1:
                args = [a for a, q in roles.params.items() if q == p]
                bad.append(f"{' and '.join(args)} to be equal ({spec.name}'s {p})")
        if bad:
            why_not.append(f"{spec.name} needs " + ", ".join(bad))
            continue
        ok.append(_Candidate(spec, twin, spec_params_from(spec, roles, effective)))
    ok.sort(key=lambda c: (len(c.spec.params), "listed by xact.parity" in c.twin.note))
    return ok, why_not


# --------------------------------------------------------------------------- the other framework


def _targets(framework: str) -> tuple[str, ...]:
    if framework == "torch":
        return ("tf", "keras", "jax")
    if framework in ("tf", "keras"):
        return ("torch", "jax")
    if framework == "jax":
        return ("torch", "keras", "tf")
    return ("torch", "keras", "tf", "jax")


def _equivalents(source: Builtin, cand: _Candidate, parity: Mapping[str, Any] | None) -> list[Equivalent]:
    spec, params = cand.spec, cand.params
    out = []
    seen = set()
    for b in builtins(parity_only=False):
        if b.framework not in _targets(source.framework) or b.call in seen:
            continue
        for s, twin in b.twins:
            if s is not spec:
                continue
            sig = signature(b.framework, b.call)
            roles = arg_roles(s, twin, sig)
            if any(not same_value(params[p], spec.params[p]) for p in roles.unmapped):
                continue  # cannot express these parameters (tf.nn.elu has no alpha)
            kwargs = twin_args(s, twin, roles, params)
            seen.add(b.call)
            eq = Equivalent(b.framework, b.call, _code(b, kwargs), declared="listed by xact.parity" not in twin.note)
            for arg, v in kwargs.items():
                if not sig.known:
                    eq.warnings.append(f"{b.call}'s default for {arg} is unknown ({sig.why}); keep {arg}={_lit(v)}")
                    continue
                d = sig.params.get(arg, REQUIRED)
                if d is REQUIRED:
                    continue
                if not same_value(d, v):
                    eq.warnings.append(f"without {arg}=..., {_code(b, {})} computes {arg}={_lit(d)}, not {_lit(v)}")
            if twin.note and "listed by xact.parity" not in twin.note:
                eq.notes.append(f"catalogue note: {twin.note}")
            eq.notes += _parity_notes(parity, b.call, spec.name)
            out.append(eq)
            break
    prefer_module = source.module_form
    out.sort(key=lambda e: (not e.declared, e.framework == "tf" and source.framework == "torch",
                            not (_is_module(e.call) == prefer_module)))
    return out


def _is_module(call: str) -> bool:
    return call.rsplit(".", 1)[-1][:1].isupper() and not call.startswith("ai.onnx.")


def _code(b: Builtin, kwargs: Mapping[str, Any]) -> str:
    args = ", ".join(f"{k}={_lit(v)}" for k, v in kwargs.items())
    if b.module_form:
        return f"{b.call}({args})"
    return f"{b.call}(x{', ' + args if args else ''})"


def _lit(v: Any) -> str:
    if isinstance(v, Mapping) and as_number(v) is not None:
        return f"keras.initializers.Constant({_lit(as_number(v))})"
    if isinstance(v, float):
        return repr(int(v)) + ".0" if v == int(v) and abs(v) < 1e15 else repr(v)
    if isinstance(v, _Tensor):
        return v.source
    return repr(v)


def _spec_text(name: str, params: Mapping[str, float]) -> str:
    return f"{name}({', '.join(f'{k}={_lit(v)}' for k, v in params.items())})" if params else name


def _parity_record(path: str | Path | None) -> Mapping[str, Any] | None:
    p = Path(path) if path is not None else DEFAULT_PARITY
    if not p.is_file():
        if path is not None:
            raise PortError(f"no parity record at {str(p)!r}; write one with `xact parity --out DIR` "
                            "(it writes DIR/parity.json) or leave --parity out")
        return None
    try:
        return json.loads(p.read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError) as e:
        if path is not None:
            raise PortError(f"{str(p)!r} is not a parity record ({type(e).__name__}: {e})") from None
        return None


def _parity_notes(record: Mapping[str, Any] | None, call: str, spec: str) -> list[str]:
    if not record:
        return []
    for b in record.get("builtins", []):
        if b.get("call") == call:
            return [f"[{d.get('cause', d.get('kind'))}] {d['text']}" for d in b.get("differences", [])
                    if d.get("spec") == spec and d.get("run") == "twin" and d.get("kind") in ("kink", "nonfinite", "value", "gradient")][:4]
    return []


# --------------------------------------------------------------------------- the answer


def port(call: str, *, parity: str | Path | None = None) -> PortResult:
    """The xact spec a framework built-in call computes, and the same call in the other framework.

    Args:
        call: the call as written in a model: ``"torch.nn.LeakyReLU(0.2)"``,
            ``"nn.GELU(approximate='tanh')"``, ``"tf.nn.gelu(x, approximate=True)"``,
            ``"keras.layers.LeakyReLU()"``, ``"F.elu"``, ``"layers.Activation('swish')"``.
        parity: a ``parity.json`` whose measured differences are attached as
            notes; default ``conformance/report/parity.json`` when it exists.

    Returns:
        A :class:`PortResult`; ``str(result)`` is a readable report.

    Raises:
        PortError: the call is not a known built-in, or its arguments cannot be
            read or match no spec.

    Example:
        >>> from xact.port import port
        >>> r = port("torch.nn.LeakyReLU()")  # doctest: +SKIP
        >>> r.spec, r.params  # doctest: +SKIP
        ('leaky_relu', {'negative_slope': 0.01})
    """
    parsed = _parse(call)
    b = _find(parsed.call)
    sig = signature(b.framework, b.call)
    effective, defaulted = _bind(b, sig, parsed, call.strip())
    cands, why_not = _candidates(b, sig, effective)
    if not cands:
        raise PortError(
            f"{call.strip()}: no xact spec computes {b.call} with "
            f"{', '.join(f'{k}={_lit(v)}' for k, v in effective.items()) or 'these arguments'}: "
            + "; ".join(why_not) + ". Define it with xact.define() to port it exactly."
        )
    best = cands[0]
    spec, params = best.spec, best.params
    record = _parity_record(parity)
    kw = "".join(f", {k}={_lit(v)}" for k, v in params.items())
    res = PortResult(
        source=call.strip(), framework=b.framework, call=b.call, arguments=effective,
        defaulted=[d for d in defaulted if d in effective], spec=spec.name, params=dict(params),
        xact_torch=f'xact.torch.apply("{spec.name}", x{kw})  or  xact.torch.Activation("{spec.name}"{kw})',
        xact_tf=f'xact.tf.apply("{spec.name}", x{kw})  or  xact.tf.Activation("{spec.name}"{kw})',
        xact_jax=f'xact.jax.apply("{spec.name}", x{kw})  or  xact.jax.{spec.name}(x{kw})',
        alternatives=[_spec_text(c.spec.name, c.params) for c in cands[1:]],
    )
    if not sig.known:
        res.warnings.append(f"{sig.why}; the answer assumes the arguments the xact catalogue declares for {b.call}")
    for k in parsed.kwargs:
        if sig.known and k not in sig.params and k != sig.tensor:
            res.warnings.append(f"{k}= is not in {b.call}'s signature; {b.call} itself read the arguments as "
                                f"{', '.join(f'{a}={_lit(v)}' for a, v in effective.items())}")
    if not sig.known and len(cands) > 1:
        res.warnings.append(
            f"which spec {b.call} computes depends on defaults that cannot be read here: "
            + "; ".join(f"with {', '.join(f'{a}={_lit(v)}' for a, v in c.twin.kwargs.items()) or 'its declared arguments'}"
                        f" it computes {_spec_text(c.spec.name, c.params)}" for c in cands))
    if best.twin.note and "listed by xact.parity" not in best.twin.note:
        res.notes.append(f"catalogue note on {b.call}: {best.twin.note}")
    res.notes += _parity_notes(record, b.call, spec.name)
    res.equivalents = _equivalents(b, best, record)
    return res


def run_port(args: argparse.Namespace) -> int:
    """``xact port CALL``: print the answer; exit 1 with the reason for a call that cannot be ported."""
    try:
        print(port(args.call, parity=getattr(args, "parity", None)))
    except PortError as e:
        print(f"xact port: {e}", file=sys.stderr)
        return 1
    return 0


class _CallableModule(types.ModuleType):
    """Lets ``xact.port(...)`` call :func:`port` while ``xact.port`` stays this module."""

    def __call__(self, call: str, **kwargs: Any) -> PortResult:
        return port(call, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
