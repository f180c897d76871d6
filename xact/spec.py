"""The Spec object and the registry of activations.

A spec is data: a name, the forward function ``fn`` and its declared
derivative ``grad`` (both written with NumPy names against an array namespace
``xp``), the parameters with their defaults, the derivative convention at each
non-smooth point, aliases and built-in twins. Adapters read specs; they never
re-implement the formula.

The registry is one dict of canonical names plus one dict of aliases. A name
or alias that is taken is refused unless ``replace=True`` is given. The
built-in catalogue is loaded on first use of the registry, so ``import xact``
stays cheap.
"""

from __future__ import annotations

import difflib
import inspect
import keyword
import os
import threading
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from xact.errors import DuplicateActivationError, SpecError, UnknownActivationError

__all__ = ["Spec", "Twin", "aliases", "define", "get", "names", "unregister"]

Kinks = Mapping[float, float] | Callable[..., Mapping[float, float]]


@dataclass(frozen=True)
class Twin:
    """A framework built-in that is meant to compute the same thing as a spec.

    ``call`` is the dotted path of the built-in (``"torch.nn.functional.gelu"``),
    ``kwargs`` the arguments that make it match the spec, ``note`` any caveat.
    Filled in by the catalogue; measured, not trusted, by the parity record.
    """

    framework: str
    call: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True, eq=False)
class Spec:
    """One activation: forward, declared derivative, parameters, conventions.

    Instances are immutable and hashed by identity. Create them with
    :func:`xact.define`, which validates and registers them.
    """

    name: str
    fn: Callable[..., Any]
    grad: Callable[..., Any]
    params: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    kinks: Kinks = field(default_factory=lambda: MappingProxyType({}))
    aliases: tuple[str, ...] = ()
    twins: tuple[Twin, ...] = ()
    grad2: Callable[..., Any] | None = None
    doc: str = ""
    family: str = "user"
    monotonic: bool | None = None
    tolerances: Mapping[str, tuple[float, str]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    takes_xp: bool = False
    #: ``(lo, hi)``: where the spec is meant to be accurate; conformance measures
    #: points outside it too but reports them as notes, never as failures
    domain: tuple[float, float] | None = None

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(self.params)

    def kinks_at(self, **params: float) -> dict[float, float]:
        """The non-smooth points and the derivative taken there, for these parameters."""
        if callable(self.kinks):
            merged = {**self.params, **params}
            return dict(self.kinks(**merged))
        return dict(self.kinks)

    def __repr__(self) -> str:
        extra = f", params={dict(self.params)}" if self.params else ""
        mode = "native+numpy" if self.takes_xp else "numpy-only"
        return f"Spec({self.name!r}{extra}, {mode})"


# --------------------------------------------------------------------------- registry

# Names the adapters and layers take themselves (Keras layers also take name, dtype).
_RESERVED_PARAMS = ("xp", "mode", "x", "trainable", "param_shape", "params", "name", "dtype")

# Every activation is an attribute of xact.torch, xact.tf and xact.numpy (xt.gelu), but a
# module's own globals win over its __getattr__: these names can never be activations.
# tests/test_names.py checks that the adapters define no public global missing here.
_ADAPTER_NAMES = frozenset(
    """
    Activation apply grad grads set_fusion
    Any Call Callable ModeError ParameterError Params Real Sequence Spec SpecError
    XactTypeError annotations call_fn call_grad compute_dtype dataclasses functools get
    inspect keras named_attributes namespace np numpy_namespace private readonly
    require_float resolve tf tf_namespace torch torch_namespace warnings weakref
    XactWarning param_shape_of number check_broadcast TYPE_CHECKING
    init_ watch initializer Initializer WatchCallback
    """.split()
)

# A parameter becomes an attribute or weight of the layers (xt.Activation registers an
# nn.Parameter of that name, xtf.Activation a Keras weight) and a keyword of their
# constructors, so it must not be an nn.Module or Keras Layer attribute either.
# tests/test_names.py checks these against the installed torch and keras.
_LAYER_ATTRIBUTES = frozenset(
    """
    activation mode param_shape params trainable values
    T_destination add_module apply bfloat16 buffers call_super_init children compile cpu
    cuda double dump_patches eval extra_repr float forward get_buffer get_extra_state
    get_parameter get_submodule half ipu load_state_dict modules mtia named_buffers
    named_children named_modules named_parameters parameters register_backward_hook
    register_buffer register_forward_hook register_forward_pre_hook
    register_full_backward_hook register_full_backward_pre_hook
    register_load_state_dict_post_hook register_load_state_dict_pre_hook register_module
    register_parameter register_state_dict_post_hook register_state_dict_pre_hook
    requires_grad_ set_extra_state set_submodule share_memory state_dict to to_empty train
    training type xpu zero_grad
    activity_regularizer add_loss add_metric add_variable add_weight autocast build
    build_from_config built call call_signature_parameters compute_dtype compute_mask
    compute_output_shape compute_output_spec count_params dtype dtype_policy from_config
    get_build_config get_config get_weights input input_dtype input_shape input_spec
    load_own_variables losses metrics metrics_variables name non_trainable_variables
    non_trainable_weights output path quantization_mode quantize quantized_build
    quantized_call rematerialized_call save_own_variables seed_generators set_weights
    stateless_call supports_jit supports_masking symbolic_call trainable_variables
    trainable_weights variable_dtype variables weights
    """.split()
)
_LOCK = threading.RLock()
_SPECS: dict[str, Spec] = {}
_ALIASES: dict[str, str] = {}
_CATALOGUE_LOADED = False  # set only once every catalogue spec is registered
_LOADER: int | None = None  # the thread importing the catalogue, while it does


def _loading_here() -> bool:
    """Whether this thread is the one registering the built-in catalogue."""
    return _LOADER is not None and _LOADER == threading.get_ident()


def _ensure_catalogue() -> None:
    """Load the catalogue exactly once; every other thread waits until it is complete."""
    global _CATALOGUE_LOADED, _LOADER
    if _CATALOGUE_LOADED:
        return
    with _LOCK:
        if _CATALOGUE_LOADED or _loading_here():  # the catalogue's own define() calls
            return
        _LOADER = threading.get_ident()
        try:
            import xact.catalogue  # noqa: F401  (registers on import)
        except BaseException:
            _SPECS.clear()  # nothing but catalogue specs can be registered before the load
            _ALIASES.clear()
            raise
        finally:
            _LOADER = None
        _CATALOGUE_LOADED = True


def _reinit_after_fork() -> None:
    # The parent held _LOCK across the fork (see below), so the registry is whole; the
    # child gets a fresh lock, not a copy owned by a thread that does not exist here.
    global _LOCK
    _LOCK = threading.RLock()


if hasattr(os, "register_at_fork"):  # POSIX
    # A fork waits for the registry lock: a child never starts half-way through the
    # catalogue load or a registration made by another thread.
    os.register_at_fork(
        before=lambda: _LOCK.acquire(),
        after_in_parent=lambda: _LOCK.release(),
        after_in_child=_reinit_after_fork,
    )


def _accepts(fn: Callable[..., Any], name: str) -> bool | None:
    """Whether ``fn`` accepts keyword ``name``; None when the signature is opaque."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    ps = sig.parameters
    if name in ps and ps[name].kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    ):
        return True
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in ps.values()):
        # np.vectorize and functools.partial often hide the real signature.
        return None
    return False


def _takes_xp(fn: Callable[..., Any]) -> bool:
    return _accepts(fn, "xp") is True


def _check_name(name: str, what: str = "activation name") -> None:
    """Refuse a name that cannot be an attribute, or that an attribute already is."""
    if not isinstance(name, str) or not name.isidentifier():
        raise SpecError(
            f"{what} {name!r} must be a Python identifier (it becomes an "
            "attribute: xact.torch.<name>); use letters, digits and underscores"
        )
    if unicodedata.normalize("NFKC", name) != name:
        raise SpecError(
            f"{what} {name!r} is not in Unicode normal form NFKC: Python would read "
            f"the attribute as {unicodedata.normalize('NFKC', name)!r}; use that spelling"
        )
    if keyword.iskeyword(name):
        raise SpecError(f"{what} {name!r} is a Python keyword; pick another name")
    if name.startswith("_"):
        raise SpecError(
            f"{what} {name!r} starts with an underscore: private names are the "
            f"adapters' own (xact.torch.{name} would not find it); drop the underscore"
        )


def _check_activation_name(name: str, what: str = "activation name") -> None:
    _check_name(name, what)
    if name in _ADAPTER_NAMES:
        raise SpecError(
            f"{what} {name!r} is taken by the adapters (xact.torch.{name}, "
            f"xact.tf.{name} and xact.numpy.{name} are their own functions or imports, so "
            "the activation could not be reached as an attribute); pick another name"
        )


def _check_param_name(spec_name: str, p: str) -> None:
    _check_name(p, f"define({spec_name!r}): parameter name")
    if p in _RESERVED_PARAMS:
        raise SpecError(
            f"define({spec_name!r}): parameter name {p!r} is reserved "
            f"({', '.join(_RESERVED_PARAMS)} are taken by the adapters); rename it"
        )
    if p in _LAYER_ATTRIBUTES:
        raise SpecError(
            f"define({spec_name!r}): parameter name {p!r} clashes with an attribute of "
            "torch.nn.Module or keras.layers.Layer (xact.torch.Activation and "
            "xact.tf.Activation hold each parameter under its name); rename it, e.g. "
            f"{p + '_'!r}"
        )


def _check_domain(name: str, domain: Any) -> tuple[float, float] | None:
    if domain is None:
        return None
    try:
        lo, hi = (float(v) for v in domain)
    except (TypeError, ValueError):
        raise SpecError(f"define({name!r}): domain must be a pair (lo, hi) of numbers, got {domain!r}") from None
    if not lo < hi:
        raise SpecError(f"define({name!r}): domain {domain!r} needs lo < hi")
    return lo, hi


def define(
    name: str,
    fn: Callable[..., Any],
    grad: Callable[..., Any],
    *,
    params: Mapping[str, float] | None = None,
    kinks: Kinks | None = None,
    aliases: Iterable[str] = (),
    twins: Iterable[Twin] = (),
    grad2: Callable[..., Any] | None = None,
    doc: str | None = None,
    family: str = "user",
    monotonic: bool | None = None,
    tolerances: Mapping[str, tuple[float, str]] | None = None,
    replace: bool = False,
    domain: tuple[float, float] | None = None,
) -> Spec:
    """Define an activation from its forward function and declared derivative.

    Args:
        name: registry name; must be a Python identifier.
        fn: ``fn(x, **params[, xp=np])``. With an ``xp`` parameter the spec runs
            natively in every framework; without one it runs through the host
            NumPy bridge.
        grad: ``grad(x, **params[, xp=np])``: the elementwise derivative with
            respect to ``x``; with parameters, a tuple ``(d/dx, d/dp1, ...)``
            in the order of ``params``.
        params: parameter names and defaults, e.g. ``{"beta": 1.0}``.
        kinks: ``{point: derivative_value_there}`` for each non-smooth point,
            or a callable of the parameters returning that mapping.
        aliases: other names that resolve to this spec.
        twins: framework built-ins meant to compute the same function.
        grad2: optional second derivative with respect to ``x``.
        doc: documentation; defaults to ``fn.__doc__``.
        family: catalogue family ("user" for user specs).
        monotonic: True when the function is non-decreasing everywhere.
        tolerances: per-spec tolerance overrides ``{quantity: (ulps, reason)}``.
        replace: allow replacing an existing spec of the same name. Eager calls
            and new traces use the new spec at once; a ``tf.function`` traced
            with the old one keeps computing it (xact.tf warns): build it again.
        domain: ``(lo, hi)``, the inputs the spec is meant for (default: the
            whole line). Conformance still measures points outside it and
            reports them as notes, never as failures.

    Returns:
        The registered :class:`Spec`.

    Raises:
        DuplicateActivationError: the name or an alias is taken (pass
            ``replace=True`` to redefine a spec of that name on purpose).
        SpecError: the spec is malformed.
    """
    _check_activation_name(name)
    if not callable(fn) or not callable(grad):
        raise SpecError(f"define({name!r}): fn and grad must both be callable")
    params = dict(params or {})
    for p, default in params.items():
        _check_param_name(name, p)
        try:
            if isinstance(default, (str, bytes, bool)):
                raise TypeError
            params[p] = float(default)
        except (TypeError, ValueError, OverflowError):
            raise SpecError(
                f"define({name!r}): default of parameter {p!r} must be a number, "
                f"got {default!r}"
            ) from None
        for role, f in (("fn", fn), ("grad", grad)):
            if _accepts(f, p) is False:
                raise SpecError(
                    f"define({name!r}): {role} does not accept parameter {p!r}; "
                    f"give it a keyword argument {p}={params[p]!r}"
                )
    fn_xp, grad_xp = _takes_xp(fn), _takes_xp(grad)
    if fn_xp != grad_xp:
        which = "fn" if fn_xp else "grad"
        raise SpecError(
            f"define({name!r}): only {which} takes an `xp` parameter; give both fn "
            "and grad `xp=np` to run natively, or neither to use the NumPy bridge"
        )
    alias_t = tuple(dict.fromkeys(aliases))
    for a in alias_t:
        _check_activation_name(a, "alias")
    dom = _check_domain(name, domain)
    spec = Spec(
        name=name,
        fn=fn,
        grad=grad,
        params=MappingProxyType(params),
        kinks=kinks if callable(kinks) else MappingProxyType(
            {float(k): float(v) for k, v in (kinks or {}).items()}
        ),
        aliases=alias_t,
        twins=tuple(twins),
        grad2=grad2,
        doc=inspect.cleandoc(doc if doc is not None else (fn.__doc__ or "")),
        family=family,
        monotonic=monotonic,
        tolerances=MappingProxyType(dict(tolerances or {})),
        takes_xp=fn_xp,
        domain=dom,
    )
    if not _loading_here():  # the catalogue is checked by its tests and conformance
        from xact._probe import probe  # imports NumPy; kept out of `import xact`

        probe(spec)  # before registering: a failed define leaves the registry as it was
    _ensure_catalogue()  # so a user name cannot shadow a catalogue name
    with _LOCK:
        old = _register(spec, replace=replace)
    if old is not None:
        _retired(old)
    return spec


# Called (outside the lock) with each spec that define(replace=True) or unregister()
# retires, so an adapter can say what it cached for it (xact.tf: traced graphs).
_RETIRE_HOOKS: list[Callable[[Spec], None]] = []


def _retired(spec: Spec) -> None:
    for hook in list(_RETIRE_HOOKS):
        hook(spec)


def _register(spec: Spec, *, replace: bool) -> Spec | None:
    taken = [n for n in (spec.name, *spec.aliases) if n in _SPECS or n in _ALIASES]
    old = _SPECS.get(spec.name)
    if replace and old is not None:
        # A replacement may keep the old spec's own aliases.
        taken = [n for n in taken if n != spec.name and _ALIASES.get(n) != spec.name]
    if taken:
        owners = ", ".join(f"{n!r} (-> {_ALIASES.get(n, n)!r})" for n in taken)
        raise DuplicateActivationError(
            f"cannot define {spec.name!r}: {owners} already registered. Pick another "
            f"name, or pass replace=True to redefine {spec.name!r} on purpose."
        )
    if old is not None:
        for a in old.aliases:
            _ALIASES.pop(a, None)
    _SPECS[spec.name] = spec
    for a in spec.aliases:
        _ALIASES[a] = spec.name
    return old


def unregister(name: str) -> Spec:
    """Remove a spec (and its aliases) from the registry; returns it."""
    with _LOCK:
        spec = get(name)
        del _SPECS[spec.name]
        for a in spec.aliases:
            _ALIASES.pop(a, None)
    _retired(spec)
    return spec


def get(name: str | Spec) -> Spec:
    """Return the spec registered under ``name`` or one of its aliases.

    A :class:`Spec` is returned unchanged. Unknown names raise
    :class:`UnknownActivationError` suggesting close matches.
    """
    if isinstance(name, Spec):
        return name
    _ensure_catalogue()
    if not isinstance(name, str):
        raise UnknownActivationError(
            f"activation must be given by name (str) or Spec, got {type(name).__name__}"
        )
    spec = _SPECS.get(name) or _SPECS.get(_ALIASES.get(name, ""))
    if spec is not None:
        return spec
    close = difflib.get_close_matches(name, [*_SPECS, *_ALIASES], n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    raise UnknownActivationError(
        f"no activation named {name!r}.{hint} `xact list` (or xact.names()) shows "
        "every name; xact.define() registers your own."
    )


def names(*, include_aliases: bool = False) -> list[str]:
    """Sorted canonical names of every registered activation (aliases on request)."""
    _ensure_catalogue()
    with _LOCK:
        out = list(_SPECS)
        if include_aliases:
            out += list(_ALIASES)
    return sorted(out)


def aliases() -> dict[str, str]:
    """A copy of the alias table: alias -> canonical name."""
    _ensure_catalogue()
    with _LOCK:
        return dict(_ALIASES)
