"""The TensorFlow side of the benchmark: implementations and memory probes.

Mirrors ``torch_suite`` (same functions, same meaning). Every
implementation's ``step`` is one forward under a ``tf.GradientTape`` and one
``tape.gradient(y, x, output_gradients=gy)`` with a fixed upstream tensor.
The whole step is eager, or one ``tf.function`` (shape ``[None]``, traced
once), or one ``tf.function(jit_compile=True)`` (XLA compiles per shape at
warm-up).

Imported only when the TF benchmark runs.
"""

from __future__ import annotations

import functools
import os
import tracemalloc
from collections.abc import Callable
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import tensorflow as tf

import xact.tf as xtf
from xact import get
from xact._call import call_fn
from xact.bench import baselines
from xact.bench.timing import Impl
from xact.ops.tf import namespace

FRAMEWORK = "tf"


def _mish(t: tf.Tensor) -> tf.Tensor:
    return keras.activations.mish(t)


BUILTINS: dict[str, Callable[[tf.Tensor], tf.Tensor]] = {
    "gelu_tanh": lambda t: tf.nn.gelu(t, approximate=True),
    "silu": tf.nn.silu,
    "mish": _mish,
    "softplus": tf.nn.softplus,
    "elu": tf.nn.elu,
    "leaky_relu": lambda t: tf.nn.leaky_relu(t, alpha=0.01),
    "gelu": lambda t: tf.nn.gelu(t, approximate=False),
    "sigmoid": tf.math.sigmoid,
    "tanh": tf.math.tanh,
}
BUILTIN_NAMES = {
    "gelu_tanh": "tf.nn.gelu(approximate=True)", "silu": "tf.nn.silu",
    "mish": "keras.activations.mish", "softplus": "tf.nn.softplus", "elu": "tf.nn.elu",
    "leaky_relu": "tf.nn.leaky_relu(0.01)", "gelu": "tf.nn.gelu(approximate=False)",
    "sigmoid": "tf.math.sigmoid", "tanh": "tf.math.tanh",
}

_SIG = [tf.TensorSpec([None], tf.float32), tf.TensorSpec([None], tf.float32)]
# tf.functions are reused across sizes: traced once for shape [None].
_FUNCTIONS: dict[tuple[str, str, str], Any] = {}


def available() -> bool:
    return True


def info() -> dict[str, Any]:
    return {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads() or "default",
    }


def inputs(n: int, seed: int = 0) -> tuple[tf.Tensor, tf.Tensor]:
    g = tf.random.Generator.from_seed(seed)
    return g.normal([n], dtype=tf.float32), g.normal([n], dtype=tf.float32)


def _grad_step(act: Callable[[tf.Tensor], tf.Tensor]) -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor]:
    def step(x: tf.Tensor, gy: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = act(x)
        return tape.gradient(y, x, output_gradients=gy)

    return step


def _wrapped(key: str, name: str, form: str, act: Callable[[tf.Tensor], tf.Tensor]) -> Any:
    if form == "eager":
        return _grad_step(act)
    if (key, name, form) not in _FUNCTIONS:
        # functools.partial: TF counts retraces per code object (see xact/tf.py _fused)
        _FUNCTIONS[key, name, form] = tf.function(
            functools.partial(_grad_step(act)), input_signature=_SIG, jit_compile=(form == "xla"), reduce_retracing=True
        )
    return _FUNCTIONS[key, name, form]


def _composed(name: str) -> Callable[[tf.Tensor], tf.Tensor]:
    """The spec's own forward on TF ops, differentiated by TF (no declared gradient)."""
    spec = get(name)
    return lambda t: call_fn(spec, t, spec.params, namespace(t.dtype))


def _host(pair: baselines.Pair, tag: str) -> Callable[[tf.Tensor], tf.Tensor]:
    """A NumPy forward and derivative through tf.numpy_function, wired by hand."""
    fwd, der = pair

    @tf.custom_gradient
    def op(x: tf.Tensor) -> Any:
        y = tf.numpy_function(fwd, [x], Tout=x.dtype, stateful=False, name=f"{tag}_fwd")
        y.set_shape(x.shape)

        def grad(gy: tf.Tensor) -> tf.Tensor:
            d = tf.numpy_function(der, [x], Tout=x.dtype, stateful=False, name=f"{tag}_der")
            d.set_shape(x.shape)
            return gy * d

        return y, grad

    return op  # type: ignore[no-any-return]


FORMS = (("eager", "eager"), ("function", "tf.function"), ("xla", "tf.function(jit_compile=True)"))


def implementations(name: str, x: tf.Tensor, gy: tf.Tensor, *, compiled: bool, seed: bool) -> list[Impl]:
    """Every TF way of computing ``name`` forward+backward on ``x``."""
    native = lambda t: xtf.apply(name, t, mode="native")  # noqa: E731
    bridge = lambda t: xtf.apply(name, t, mode="numpy")  # noqa: E731
    forms = FORMS if compiled else FORMS[:2]
    acts: list[tuple[str, str, str, Any]] = []
    for form, label in forms:
        suffix = "" if form == "eager" else f"_{form}"
        acts.append((f"xact_native{suffix}", f"xact native, {label}", "xact",
                     _wrapped("xact", name, form, native)))
    acts.append(("xact_bridge", "xact bridge (mode='numpy'), eager", "xact",
                 _wrapped("bridge", name, "eager", bridge)))
    acts.append(("xact_bridge_function", "xact bridge, tf.function", "xact",
                 _wrapped("bridge", name, "function", bridge)))
    if name in BUILTINS:
        for form, label in forms:
            suffix = "" if form == "eager" else f"_{form}"
            acts.append((f"builtin{suffix}", f"built-in {BUILTIN_NAMES[name]}, {label}", "builtin",
                         _wrapped("builtin", name, form, BUILTINS[name])))
    else:  # no built-in: the spec's formula on TF ops, differentiated by TF, stands in
        for form, label in forms:
            suffix = "" if form == "eager" else f"_{form}"
            acts.append((f"composed{suffix}", f"spec formula, TF autodiff, {label}", "baseline",
                         _wrapped("composed", name, form, _composed(name))))
    if name in baselines.NAMES:
        acts.append(("numpy_vectorized", "hand-written NumPy via tf.numpy_function, eager", "baseline",
                     _wrapped("numpy", name, "eager", _host(baselines.vectorized(name), "np"))))
        acts.append(("numpy_vectorized_function", "hand-written NumPy via tf.numpy_function, tf.function",
                     "baseline",
                     _wrapped("numpy", name, "function", _host(baselines.vectorized(name), "np"))))
    if seed and name in baselines.NAMES:
        acts.append(("seed", "seed recipe: np.vectorize via tf.numpy_function, eager", "baseline",
                     _wrapped("seed", name, "eager", _host(baselines.seed(name), "seed"))))
        acts.append(("seed_function", "seed recipe, tf.function", "baseline",
                     _wrapped("seed", name, "function", _host(baselines.seed(name), "seed"))))
    return [Impl(k, label, functools.partial(f, x, gy), kind) for k, label, kind, f in acts]


HOST_IMPLS = frozenset({
    "xact_bridge", "xact_bridge_function", "numpy_vectorized", "numpy_vectorized_function",
    "seed", "seed_function",
})


def _forward_only(impl_key: str, name: str) -> Callable[[tf.Tensor], tf.Tensor] | None:
    """The forward of ``impl_key`` in its own form, for measuring what the tape keeps."""
    form = "xla" if impl_key.endswith("_xla") else "function" if impl_key.endswith("_function") else "eager"
    base = impl_key.removesuffix("_xla").removesuffix("_function")
    act: Callable[[tf.Tensor], tf.Tensor]
    if base == "xact_native":
        act = lambda t: xtf.apply(name, t, mode="native")  # noqa: E731
    elif base == "xact_bridge":
        act = lambda t: xtf.apply(name, t, mode="numpy")  # noqa: E731
    elif base == "builtin":
        act = BUILTINS[name]
    elif base == "composed":
        act = _composed(name)
    elif base == "numpy_vectorized":
        act = _host(baselines.vectorized(name), "np")
    else:
        return None
    if form == "eager":
        return act
    key = ("fwd:" + base, name, form)
    if key not in _FUNCTIONS:
        _FUNCTIONS[key] = tf.function(functools.partial(act), input_signature=_SIG[:1], jit_compile=(form == "xla"))
    return _FUNCTIONS[key]  # type: ignore[no-any-return]


def _mem() -> dict[str, int]:
    return tf.config.experimental.get_memory_info("CPU:0")  # type: ignore[no-any-return]


def memory(impl: Impl, x: tf.Tensor, gy: tf.Tensor, name: str) -> dict[str, Any]:
    """What the tape keeps after the forward, and the peak of one step (TF's CPU allocator).

    TF has no saved-tensor hooks. ``saved_extra_bytes`` is what the CPU
    allocator frees when the tape and the output of a forward are dropped,
    minus the output itself: the bytes the tape (or a tf.function's forward)
    keeps alive for the backward beyond the input, which is already allocated
    and costs nothing extra.
    """
    out: dict[str, Any] = {"saved_bytes": None, "saved": None, "saved_extra_bytes": None}
    fwd = _forward_only(impl.key, name)
    if fwd is not None:
        fwd(x)  # trace / compile outside the measurement
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fwd(x)
        held = _mem()["current"]
        out_bytes = y.shape.num_elements() * y.dtype.size
        del tape, y
        # What dropping the tape and the output frees, minus the output: caches
        # that outlive the tape (XLA buffers, function state) are not counted.
        out["saved_extra_bytes"] = max(0, held - _mem()["current"] - out_bytes)
    tf.config.experimental.reset_memory_stats("CPU:0")
    base = _mem()["current"]
    host_peak = None
    if impl.key in HOST_IMPLS:
        tracemalloc.start()
    try:
        impl.step()
        if impl.key in HOST_IMPLS:
            host_peak = tracemalloc.get_traced_memory()[1]
    finally:
        if impl.key in HOST_IMPLS:
            tracemalloc.stop()
    peak = _mem()["peak"] - base
    out.update(peak_bytes=peak + (host_peak or 0), peak_framework_bytes=peak, peak_host_bytes=host_peak)
    return out
