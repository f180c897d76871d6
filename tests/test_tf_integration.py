"""TensorFlow/Keras integration on real models: saving, XLA, mixed precision, 2nd derivatives.

Fresh-process checks run a child interpreter so nothing registered in this
process can help the loaded model.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")
mpmath = pytest.importorskip("mpmath")

import xact  # noqa: E402
import xact.tf as xtf  # noqa: E402

pytestmark = pytest.mark.tf


def mlp(mode: str = "auto") -> keras.Model:
    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(8),
        xtf.Activation("gelu_tanh", mode=mode),
        keras.layers.Dense(8),
        xtf.Activation("leaky_relu", mode=mode, trainable=True, param_shape=(8,)),
        keras.layers.Dense(2),
        xtf.Activation("silu", mode=mode),
    ])


def cnn(mode: str = "auto") -> keras.Model:
    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input((7, 7, 1)),
        keras.layers.Conv2D(3, 3),
        xtf.Activation("elu", mode=mode, trainable=True, param_shape=(1, 1, 3)),
        keras.layers.Conv2D(2, 3),
        xtf.Activation("mish", mode=mode),
        keras.layers.Flatten(),
    ])


def _inputs(model: keras.Model) -> np.ndarray:
    shape = (3, *model.input_shape[1:])
    return np.linspace(-2, 2, int(np.prod(shape)), dtype=np.float32).reshape(shape)


def _outputs_and_grads(model, x):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = model(x)
    gx, *gw = tape.gradient(y, [x, *model.trainable_weights])
    return y.numpy(), gx.numpy(), [g.numpy() for g in gw]


def _run_child(code: str) -> None:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]


@pytest.mark.parametrize("make", [mlp, cnn], ids=["mlp", "cnn"])
def test_keras_file_loads_in_fresh_process_with_safe_mode(make, tmp_path):
    model = make()
    for w in model.trainable_weights:  # move xact parameters off their defaults
        if w.path.split("/")[-1] in ("negative_slope", "alpha"):
            w.assign(w.numpy() + np.arange(w.numpy().size, dtype=np.float32).reshape(w.shape) * 0.1 + 0.05)
    x = _inputs(model)
    y, gx, gw = _outputs_and_grads(model, x)
    model.save(tmp_path / "m.keras")
    np.save(tmp_path / "x.npy", x)
    _run_child(f"""
        import numpy as np, tensorflow as tf, keras
        import xact.tf
        model = keras.models.load_model({str(tmp_path / "m.keras")!r}, safe_mode=True)
        x = tf.constant(np.load({str(tmp_path / "x.npy")!r}))
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = model(x)
        gx, *gw = tape.gradient(y, [x, *model.trainable_weights])
        np.savez({str(tmp_path / "out.npz")!r}, y=y.numpy(), gx=gx.numpy(), *[g.numpy() for g in gw])
    """)
    got = np.load(tmp_path / "out.npz")
    np.testing.assert_array_equal(got["y"], y)
    np.testing.assert_array_equal(got["gx"], gx)
    for i, g in enumerate(gw):
        np.testing.assert_array_equal(got[f"arr_{i}"], g)


def test_fit_moves_trainable_parameters():
    model = mlp()
    x = _inputs(model)
    target = np.sin(x[:, :2])
    slope = next(w for w in model.trainable_weights if w.path.endswith("negative_slope"))
    before = slope.numpy().copy()
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    history = model.fit(x, target, epochs=5, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert not np.array_equal(slope.numpy(), before)


def _serving_module(model):
    class Serving(tf.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        @tf.function(input_signature=[tf.TensorSpec([None, *model.input_shape[1:]], tf.float32)])
        def __call__(self, v):
            return self.model(v)

    return Serving()


@pytest.mark.parametrize("make", [mlp, cnn], ids=["mlp", "cnn"])
def test_saved_model_native_loads_without_xact(make, tmp_path):
    model = make("native")
    x = _inputs(model)
    y, gx, _ = _outputs_and_grads(model, x)
    tf.saved_model.save(_serving_module(model), str(tmp_path / "sm"))
    np.save(tmp_path / "x.npy", x)
    _run_child(f"""
        import sys, numpy as np, tensorflow as tf
        loaded = tf.saved_model.load({str(tmp_path / "sm")!r})
        x = tf.constant(np.load({str(tmp_path / "x.npy")!r}))
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = loaded(x)
        gx = tape.gradient(y, x)
        assert not any(m == "xact" or m.startswith("xact.") for m in sys.modules), "xact was imported"
        np.savez({str(tmp_path / "out.npz")!r}, y=y.numpy(), gx=gx.numpy())
    """)
    got = np.load(tmp_path / "out.npz")
    np.testing.assert_allclose(got["y"], y, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(got["gx"], gx, rtol=1e-6, atol=1e-7)


def test_saved_model_refuses_bridge_mode(tmp_path):
    with pytest.raises(Exception, match="SavedModel cannot hold"):
        tf.saved_model.save(_serving_module(mlp("numpy")), str(tmp_path / "sm"))


def test_jit_compiled_training_step_matches_eager():
    def make_step(model, optimizer):
        def step(x, t):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(model(x) - t))
            grads = tape.gradient(loss, model.trainable_weights)
            optimizer.apply(grads, model.trainable_weights)
            return loss

        return step

    x = tf.constant(_inputs(mlp()))
    t = tf.sin(x[:, :2])
    eager_model, jit_model = mlp("native"), mlp("native")
    eager = make_step(eager_model, keras.optimizers.SGD(0.1))
    jitted = tf.function(make_step(jit_model, keras.optimizers.SGD(0.1)), jit_compile=True)
    losses = [(float(eager(x, t)), float(jitted(x, t))) for _ in range(3)]
    np.testing.assert_allclose([b for _, b in losses], [a for a, _ in losses], rtol=1e-4)
    assert losses[-1][1] < losses[0][1]
    for a, b in zip(eager_model.trainable_weights, jit_model.trainable_weights):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_keeps_compute_dtype_and_trains(policy):
    keras.mixed_precision.set_global_policy(policy)
    try:
        model = cnn()
        compute = keras.mixed_precision.global_policy().compute_dtype
        x = _inputs(model)
        assert model(x).dtype == compute
        assert model.layers[1](tf.zeros((1, 5, 5, 3))).dtype == compute
        target = np.full((3, 18), 0.5, np.float32)
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
        history = model.fit(x, target, epochs=6, verbose=0)
        losses = history.history["loss"]
        assert np.isfinite(losses).all() and losses[-1] < losses[0]
        assert all(w.dtype == "float32" for w in model.trainable_weights)
    finally:
        keras.mixed_precision.set_global_policy("float32")


# Published formulas in mpmath: the oracle for second derivatives.
MP_FORMULAS = {
    "silu": lambda v: v / (1 + mpmath.exp(-v)),
    "gelu": lambda v: v * (1 + mpmath.erf(v / mpmath.sqrt(2))) / 2,
    "mish": lambda v: v * mpmath.tanh(mpmath.log1p(mpmath.exp(v))),
    "softplus": lambda v: mpmath.log1p(mpmath.exp(v)),
    "tanh": mpmath.tanh,
}


@pytest.mark.parametrize("name", sorted(MP_FORMULAS))
def test_nested_tapes_second_derivative_matches_high_precision(name):
    points = [-4.0, -1.3, -0.2, 0.7, 2.5]
    x = tf.constant(points, tf.float64)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = xtf.apply(name, x, mode="native")
        g = inner.gradient(y, x)
    g2 = outer.gradient(g, x).numpy()
    with mpmath.workdps(40):
        expected = [float(mpmath.diff(MP_FORMULAS[name], mpmath.mpf(p), 2)) for p in points]
    np.testing.assert_allclose(g2, expected, rtol=1e-12, atol=1e-14)


def test_bridge_second_derivative_uses_grad2_or_says_what_to_add(fresh_name):
    cube, d_cube = np.vectorize(lambda v: v**3), np.vectorize(lambda v: 3 * v**2)
    xact.define(fresh_name, fn=cube, grad=d_cube)
    xact.define(fresh_name + "_b", fn=cube, grad=d_cube, grad2=np.vectorize(lambda v: 6 * v))
    x = tf.constant([0.5, 2.0], tf.float64)

    def second(name):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = xtf.apply(name, x)
            g = inner.gradient(y, x)
        return outer.gradient(g, x)

    np.testing.assert_allclose(second(fresh_name + "_b").numpy(), [3.0, 12.0])
    with pytest.raises(xact.ModeError, match="grad2="):
        second(fresh_name)
