"""Worker processes for tests/test_keras_backends.py (run as scripts, not collected).

    KERAS_BACKEND=B python keras_workers.py save DIR
    KERAS_BACKEND=B python keras_workers.py load DIR
    KERAS_BACKEND=B python keras_workers.py save+load DIR   (one process for both)

Keras picks its backend at import, so each backend runs in its own process.
``save`` builds one model from fixed NumPy weights, compares its outputs with a
float64 NumPy reference (xact.numpy for the activations, NumPy for the
dense layers), trains one SGD step and compares the update with the declared
derivatives, then writes DIR/B.keras and DIR/B.npz. ``load`` loads every other
backend's file, checks the tampered and undefined-spec configs, and the
TF-only layer. Each prints one JSON line of measurements; the test asserts.
"""

from __future__ import annotations

import io
import json
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

BACKEND = os.environ["KERAS_BACKEND"]
ADAPTER = {"tensorflow": "xact.tf", "torch": "xact.torch", "jax": "xact.jax"}[BACKEND]

import importlib  # noqa: E402

import keras  # noqa: E402

import xact  # noqa: E402
import xact.keras as xk  # noqa: E402
import xact.numpy as xnp  # noqa: E402

# xact.keras imports its adapter on first use only
ADAPTERS_AT_IMPORT = sorted(m for m in ("xact.tf", "xact.torch", "xact.jax") if m in sys.modules)
adapter = importlib.import_module(ADAPTER)


def _half(x, xp=np):
    return xp.where(x > 0, x, 0.5 * x)


def _d_half(x, xp=np):
    return xp.where(x > 0, 1.0, 0.5)


def _cube_host(x):  # no `xp`: the host bridge on every backend
    return np.asarray(x) ** 3 / 3.0


def _d_cube_host(x):
    return np.asarray(x) ** 2


def define_user_specs() -> None:
    xact.define("kw_half", fn=_half, grad=_d_half, kinks={0.0: 0.5}, replace=True)
    xact.define("kw_cube_host", fn=_cube_host, grad=_d_cube_host, replace=True)


define_user_specs()

RNG = np.random.default_rng(12)
X = RNG.uniform(-2.5, 2.5, (16, 4)).astype(np.float32)
WIDTH = 6
# (units, activation name for the NumPy reference, its parameters); the Keras side is in model().
DENSE = [
    (WIDTH, "leaky_relu", {"negative_slope": 0.01}),  # the adapter's own attribute, as activation=
    (WIDTH, "softplus_beta", {"beta": 2.0, "threshold": 20.0}),  # xk attribute with parameters
    (3, None, {}),
]
WEIGHTS = []
_fan_in = X.shape[1]
for _units, _, _ in DENSE:
    WEIGHTS.append((RNG.normal(0, 0.8, (_fan_in, _units)).astype(np.float32),
                    RNG.normal(0, 0.2, (_units,)).astype(np.float32)))
    _fan_in = _units
ELU_ALPHA = np.linspace(0.5, 1.5, WIDTH).astype(np.float32)


def model() -> keras.Model:
    inp = keras.Input((X.shape[1],))
    h = keras.layers.Dense(WIDTH, activation=adapter.leaky_relu)(inp)
    h = xk.Activation("gelu_tanh")(h)
    h = xk.Activation("kw_half")(h)
    h = keras.layers.Dense(WIDTH, activation=xk.softplus_beta.with_params(beta=2.0))(h)
    h = xk.Activation("elu", trainable=True, param_shape=(WIDTH,))(h)
    h = xk.Activation("kw_cube_host")(h)
    out = keras.layers.Dense(3)(h)
    m = keras.Model(inp, out)
    dense = [layer for layer in m.layers if isinstance(layer, keras.layers.Dense)]
    for layer, (w, b) in zip(dense, WEIGHTS):
        layer.set_weights([w, b])
    elu = next(layer for layer in m.layers if getattr(layer, "activation", None) == "elu")
    elu.set_weights([ELU_ALPHA])
    return m


def reference(x: np.ndarray) -> np.ndarray:
    """The same network in float64 NumPy; activations from xact.numpy (the spec itself)."""
    (w1, b1), (w2, b2), (w3, b3) = ((w.astype(np.float64), b.astype(np.float64)) for w, b in WEIGHTS)
    h = x.astype(np.float64) @ w1 + b1
    h = np.where(h > 0, h, 0.01 * h)  # leaky_relu, written out: Keras's own would be slope 0.2
    h = xnp.apply("gelu_tanh", h)
    h = np.where(h > 0, h, 0.5 * h)
    h = xnp.apply("softplus_beta", h @ w2 + b2, beta=2.0)
    h = xnp.apply("elu", h, alpha=ELU_ALPHA.astype(np.float64))
    h = h**3 / 3.0
    return h @ w3 + b3


def rel_err(got: Any, want: np.ndarray) -> float:
    got = np.asarray(got, dtype=np.float64)
    return float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-30))


# ------------------------------------------------------------------ one SGD step

LR = 0.1


def train_step() -> dict[str, Any]:
    """Dense -> elu (trainable, native) -> Dense -> leaky_relu (trainable, host bridge).

    One full-batch SGD step of model.fit, against the same step in float64 NumPy
    with the declared partials (xact.numpy.grads).
    """
    rng = np.random.default_rng(3)
    n, b = 5, 8
    x = rng.uniform(-2, 2, (b, n)).astype(np.float32)
    t = rng.uniform(-1, 1, (b, n)).astype(np.float32)
    k1 = rng.normal(0, 0.7, (n, n)).astype(np.float32)
    k2 = rng.normal(0, 0.7, (n, n)).astype(np.float32)
    alpha = np.linspace(0.6, 1.4, n).astype(np.float32)
    slope = np.linspace(0.05, 0.3, n).astype(np.float32)

    inp = keras.Input((n,))
    d1 = keras.layers.Dense(n, use_bias=False)
    a1 = xk.Activation("elu", trainable=True, param_shape=(n,))
    d2 = keras.layers.Dense(n, use_bias=False)
    a2 = xk.Activation("leaky_relu", mode="numpy", trainable=True, param_shape=(n,))
    m = keras.Model(inp, a2(d2(a1(d1(inp)))))
    d1.set_weights([k1])
    a1.set_weights([alpha])
    d2.set_weights([k2])
    a2.set_weights([slope])
    m.compile(optimizer=keras.optimizers.SGD(LR), loss="mse")
    m.fit(x, t, batch_size=b, epochs=1, shuffle=False, verbose=0)

    f64 = [v.astype(np.float64) for v in (x, t, k1, k2, alpha, slope)]
    x, t, k1, k2, alpha, slope = f64
    z1 = x @ k1
    h1 = xnp.apply("elu", z1, alpha=alpha)
    z2 = h1 @ k2
    y = xnp.apply("leaky_relu", z2, negative_slope=slope)
    dy = 2.0 * (y - t) / y.size  # keras "mse": mean over everything
    g2x, g2s = xnp.grads("leaky_relu", z2, negative_slope=slope)
    dz2 = dy * g2x
    g1x, g1a = xnp.grads("elu", z1, alpha=alpha)
    dh1 = dz2 @ k2.T
    dz1 = dh1 * g1x
    want = {
        "k1": -LR * (x.T @ dz1), "alpha": -LR * (dh1 * g1a).sum(0),
        "k2": -LR * (h1.T @ dz2), "slope": -LR * (dy * g2s).sum(0),
    }
    got = {
        "k1": d1.get_weights()[0] - k1, "alpha": a1.get_weights()[0] - alpha,
        "k2": d2.get_weights()[0] - k2, "slope": a2.get_weights()[0] - slope,
    }
    return {
        "step_rel_err": {k: rel_err(got[k], want[k]) for k in want},
        "step_norm": {k: float(np.abs(got[k]).max()) for k in got},
        "trainable_weights": sorted(w.path for w in m.trainable_weights),
    }


def mixed_precision() -> dict[str, Any]:
    """mixed_float16: float16 activations, float32 parameters; one native and one bridge layer."""
    def build() -> keras.Model:
        m = keras.Sequential([
            keras.Input((4,)),
            keras.layers.Dense(4, kernel_initializer=keras.initializers.Constant(0.3)),
            xk.Activation("elu", trainable=True, param_shape=(4,)),
            keras.layers.Dense(2, kernel_initializer=keras.initializers.Constant(-0.4),
                               activation=xk.gelu_tanh.with_params(mode="numpy")),
        ])
        m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        return m

    full = np.asarray(build().predict(X, verbose=0), np.float64)
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        m = build()
        y = m.predict(X, verbose=0)
        alpha0 = m.layers[1].get_weights()[0].copy()
        m.fit(X, np.zeros((len(X), 2), np.float32), batch_size=len(X), epochs=1, verbose=0)
        return {"dtype": str(y.dtype), "param_dtype": str(alpha0.dtype), "vs_float32": rel_err(y, full),
                "moved": float(np.abs(m.layers[1].get_weights()[0] - alpha0).max())}
    finally:
        keras.mixed_precision.set_global_policy("float32")


# ------------------------------------------------------------------ save

def save(out: Path) -> dict[str, Any]:
    m = model()
    y = np.asarray(m.predict(X, verbose=0))
    lines: list[str] = []
    m.summary(print_fn=lambda line, *a, **k: lines.append(line))
    # Compiled as a user would: on jax, jit_compile="auto" is saved as True, and the
    # host-bridge layer (kw_cube_host) must still load and run on tensorflow.
    m.compile(optimizer="sgd", loss="mse")
    path = out / f"{BACKEND}.keras"
    m.save(path)
    np.savez(out / f"{BACKEND}.npz", x=X, y=y)

    # The issue-11 regression on its own: the adapter's attribute, slope 0.01 at negative inputs.
    inp = keras.Input((1,))
    tiny = keras.Model(inp, keras.layers.Dense(1, use_bias=False, kernel_initializer="ones",
                                               activation=adapter.leaky_relu)(inp))
    tiny.save(out / f"{BACKEND}-leaky.keras")

    if BACKEND == "tensorflow":  # a file saved with the TF-only layer, for the other backends
        inp = keras.Input((X.shape[1],))
        keras.Model(inp, adapter.Activation("elu", alpha=0.5)(inp)).save(out / "tf-layer.keras")

    return {
        "backend": keras.backend.backend(),
        "adapters_at_import": ADAPTERS_AT_IMPORT,
        "ref_rel_err": rel_err(y, reference(X)),
        "summary": "\n".join(lines),
        "dense_activation_config": m.get_config()["layers"][1]["config"]["activation"],
        **train_step(),
        "mixed": mixed_precision(),
    }


# ------------------------------------------------------------------ load

def _error(fn: Any) -> list[str] | None:
    try:
        fn()
    except Exception as e:
        return [type(e).__module__ + "." + type(e).__name__, str(e)]
    return None


def _tampered(src: Path, dst: Path, edit: Any) -> Path:
    with zipfile.ZipFile(src) as z:
        entries = {name: z.read(name) for name in z.namelist()}
    config = json.loads(entries["config.json"])
    edit(config)
    entries["config.json"] = json.dumps(config).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    dst.write_bytes(buf.getvalue())
    return dst


def _layer_config(config: dict[str, Any], class_name: str, activation: str) -> dict[str, Any]:
    for layer in config["config"]["layers"]:
        if layer["class_name"] == class_name and (
            layer["config"].get("activation") == activation
            or (isinstance(layer["config"].get("activation"), dict)
                and layer["config"]["activation"]["config"].get("activation") == activation)
        ):
            return layer["config"]  # type: ignore[no-any-return]
    raise LookupError(f"{class_name} with {activation} not in the saved config")


def tampering(own: Path, tmp: Path) -> dict[str, Any]:
    """Edited configs: what loading them raises, beside what the direct API raises."""
    def elu_params(**p: Any):
        return lambda c: _layer_config(c, "Activation", "elu")["params"].update(p)

    def dense_params(**p: Any):
        return lambda c: _layer_config(c, "Dense", "softplus_beta")["activation"]["config"]["params"].update(p)

    def elu_key(key: str, value: Any):
        return lambda c: _layer_config(c, "Activation", "elu").__setitem__(key, value)

    def dense_key(key: str, value: Any):
        return lambda c: _layer_config(c, "Dense", "softplus_beta")["activation"]["config"].__setitem__(key, value)

    cases = {
        # name: (edit, the direct call that validates the same value)
        "layer_param_str": (elu_params(alpha="2.0"), lambda: xk.Activation("elu", alpha="2.0")),
        "layer_param_nan_str": (elu_params(alpha="nan"), lambda: xk.Activation("elu", alpha="nan")),
        "layer_param_nan": (elu_params(alpha=float("nan")), lambda: xk.Activation("elu", alpha=float("nan"))),
        "layer_param_unknown": (elu_params(beta=1.0), lambda: xk.Activation("elu", beta=1.0)),
        "layer_mode_bad": (elu_key("mode", "numpyy"), lambda: xk.Activation("elu", mode="numpyy")),
        "layer_key_unknown": (elu_key("gain", 3.0), None),
        "act_param_str": (dense_params(beta="2.0"), lambda: xk.softplus_beta.with_params(beta="2.0")),
        "act_param_nan": (dense_params(beta=float("nan")), lambda: xk.softplus_beta.with_params(beta=float("nan"))),
        "act_param_unknown": (dense_params(gamma=1.0), lambda: xk.softplus_beta.with_params(gamma=1.0)),
        "act_mode_native_host": (
            lambda c: _layer_config(c, "Activation", "kw_cube_host").__setitem__("mode", "native"),
            lambda: xk.Activation("kw_cube_host", mode="native"),
        ),
        "act_key_unknown": (dense_key("scale", 2.0), None),
    }
    out: dict[str, Any] = {}
    for name, (edit, direct) in cases.items():
        path = _tampered(own, tmp / f"{BACKEND}-{name}.keras", edit)
        out[name] = {
            "load": _error(lambda p=path: keras.models.load_model(p, safe_mode=True)),
            "direct": _error(direct) if direct is not None else None,
        }
    # mode switched to "numpy": a valid mode, so it loads, as the direct API accepts it,
    # and computes the same function through the host bridge.
    path = _tampered(own, tmp / f"{BACKEND}-mode-numpy.keras", elu_key("mode", "numpy"))
    m = keras.models.load_model(path, safe_mode=True)
    elu = next(layer for layer in m.layers if getattr(layer, "activation", None) == "elu")
    out["layer_mode_numpy"] = {"mode": elu.mode, "ref_rel_err": rel_err(m.predict(X, verbose=0), reference(X))}
    return out


def load(out: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"backend": keras.backend.backend(), "loaded": {}, "leaky": {}}
    for npz in sorted(out.glob("*.npz")):
        source = npz.stem
        saved = np.load(npz)
        m = keras.models.load_model(out / f"{source}.keras", safe_mode=True)
        y = np.asarray(m.predict(saved["x"], verbose=0))
        result["loaded"][source] = {
            "vs_saved": rel_err(y, saved["y"].astype(np.float64)),
            "vs_reference": rel_err(y, reference(saved["x"])),
        }
        tiny = keras.models.load_model(out / f"{source}-leaky.keras", safe_mode=True)
        result["leaky"][source] = {
            "y": np.asarray(tiny.predict(np.array([[-3.0], [2.0]], np.float32), verbose=0)).ravel().tolist(),
            "activation": repr(tiny.layers[-1].activation),
        }

    tf_layer_file = out / "tf-layer.keras"
    if tf_layer_file.exists():
        m = keras.models.load_model(tf_layer_file, safe_mode=True)
        result["tf_layer_file"] = {
            "class": f"{type(m.layers[-1]).__module__}.{type(m.layers[-1]).__name__}",
            "ref_rel_err": rel_err(m.predict(X, verbose=0), xnp.apply("elu", X.astype(np.float64), alpha=0.5)),
        }

    own = out / f"{BACKEND}.keras"
    xact.unregister("kw_half")
    result["undefined"] = _error(lambda: keras.models.load_model(own, safe_mode=True))
    inp = keras.Input((2,))
    act_only = keras.Model(inp, keras.layers.Dense(2, activation=xk.kw_cube_host)(inp))
    act_only.save(out / f"{BACKEND}-act-only.keras")
    xact.unregister("kw_cube_host")
    result["undefined_activation_arg"] = _error(
        lambda: keras.models.load_model(out / f"{BACKEND}-act-only.keras", safe_mode=True))
    define_user_specs()

    result["tampered"] = tampering(own, out)

    if BACKEND != "tensorflow":
        try:
            import xact.tf as xtf
        except ImportError:
            result["tf_layer"] = None
        else:
            result["tf_layer"] = _error(lambda: xtf.Activation("gelu_tanh"))
    return result


if __name__ == "__main__":
    commands, directory = sys.argv[1].split("+"), Path(sys.argv[2])
    outcome = {c: {"save": save, "load": load}[c](directory) for c in commands}
    print("RESULT " + json.dumps(outcome))
