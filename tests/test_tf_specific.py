"""TensorFlow-only behaviour: tf.function, XLA, Keras layer, nested tapes."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

import xact  # noqa: E402
import xact.numpy as xnp  # noqa: E402
import xact.tf as xtf  # noqa: E402

pytestmark = pytest.mark.tf

NATIVE = [n for n in xact.names() if xact.get(n).takes_xp]


def _value_and_grad(name, x, mode):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = xtf.apply(name, x, mode=mode)
    return y, tape.gradient(y, x)


@pytest.mark.parametrize("name", NATIVE)
@pytest.mark.parametrize("jit", [False, True], ids=["tf.function", "xla"])
def test_tf_function_and_xla_match_eager(name, jit):
    grid = np.linspace(-5, 5, 41)
    # XLA may contract a*b + c into one fused multiply-add, which moves a point
    # that sits exactly on a kink to the other side and perturbs error-free
    # transformations (Dekker products, compensated Horner) by a few ULP.
    kinks = np.array(list(xact.get(name).kinks_at()))
    if jit and kinks.size:
        grid = grid[np.abs(grid[:, None] - kinks[None, :]).min(axis=1) > 1e-6]
    x = tf.constant(grid, tf.float32)
    fn = tf.function(lambda v: _value_and_grad(name, v, "native"), jit_compile=jit)
    y, g = fn(x)
    ye, ge = _value_and_grad(name, x, "native")
    rtol = 1e-6 if jit else 4e-7  # 8 float32 ULP under XLA, 3 otherwise
    np.testing.assert_allclose(y.numpy(), ye.numpy(), rtol=rtol, atol=1e-7)
    np.testing.assert_allclose(g.numpy(), ge.numpy(), rtol=rtol, atol=1e-7)


def test_bridge_in_tf_function_keeps_static_shape_and_dtype():
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.bfloat16)])
    def f(v):
        y = xtf.apply("softplus", v, mode="numpy")
        assert y.shape.as_list() == [None, 3] and y.dtype == tf.bfloat16
        return y

    x = tf.cast(tf.reshape(tf.range(6, dtype=tf.float32) - 3, (2, 3)), tf.bfloat16)
    y = f(x)
    expected = xnp.apply("softplus", tf.cast(x, tf.float64).numpy())
    np.testing.assert_allclose(tf.cast(y, tf.float64).numpy(), expected, rtol=2**-8)


def test_nested_tapes_give_second_derivative_native():
    x = tf.constant([-1.0, 0.3, 2.0], tf.float64)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = xtf.apply("silu", x)
        g = inner.gradient(y, x)
    g2 = outer.gradient(g, x).numpy()
    a = x.numpy()
    s = 1 / (1 + np.exp(-a))
    np.testing.assert_allclose(g2, s * (1 - s) * (2 + a * (1 - 2 * s)), rtol=1e-12)


def test_keras_layer_trainable_weights_and_config_round_trip():
    layer = xtf.Activation("leaky_relu", negative_slope=0.2, trainable=True, param_shape=(3,))
    (w,) = layer.trainable_weights
    assert tuple(w.shape) == (3,) and w.dtype == "float32"
    np.testing.assert_array_equal(w.numpy(), np.full(3, 0.2, np.float32))
    x = tf.constant([[-1.0, 2.0, -3.0]])
    with tf.GradientTape() as tape:
        y = layer(x)
    np.testing.assert_allclose(tape.gradient(y, w).numpy(), [-1.0, 0.0, -3.0])
    config = layer.get_config()
    clone = xtf.Activation.from_config(config)
    assert clone.activation == "leaky_relu" and clone.trainable
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x).numpy(), y.numpy())


def test_keras_layer_in_a_model_with_fixed_parameter():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), xtf.Activation("elu", alpha=0.5)])
    out = model(np.ones((2, 4), np.float32))
    assert out.shape == (2, 3)
    assert model.layers[-1].get_config()["params"] == {"alpha": 0.5}


def test_numpy_input_is_converted():
    y = xtf.apply("relu", np.array([-1.0, 2.0], np.float32))
    assert isinstance(y, tf.Tensor) and y.dtype == tf.float32
    np.testing.assert_array_equal(y.numpy(), [0.0, 2.0])


def test_keras_config_holds_names_and_numbers_only():
    layer = xtf.Activation("swish_beta", beta=1.5, trainable=True, param_shape=(2,))
    config = keras.saving.serialize_keras_object(layer)

    def leaves(v):
        if isinstance(v, dict):
            for k, item in v.items():
                assert isinstance(k, str)
                yield from leaves(item)
        elif isinstance(v, (list, tuple)):
            for item in v:
                yield from leaves(item)
        else:
            yield v

    assert all(v is None or isinstance(v, (str, int, float, bool)) for v in leaves(config))
    assert config["config"]["activation"] == "swish_beta"
    assert config["config"]["params"] == {"beta": 1.5}
    restored = keras.saving.deserialize_keras_object(config, safe_mode=True)
    assert isinstance(restored, xtf.Activation) and restored.param_shape == (2,)


@pytest.mark.parametrize("mode", ["native", "numpy"])
@pytest.mark.parametrize("rank", [9, 10])
def test_any_rank_works_for_specs_using_where(mode, rank):
    a = np.linspace(-3.0, 3.0, 2**rank).reshape((2,) * rank)
    for name in ("relu", "elu", "hardtanh", "gelu_tanh"):
        x = tf.constant(a)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = xtf.apply(name, x, mode=mode)
        g = tape.gradient(y, x)
        assert y.shape == a.shape
        np.testing.assert_allclose(y.numpy(), xnp.apply(name, a), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(g.numpy(), xnp.grad(name, a), rtol=1e-12, atol=1e-15)


def test_rank_nine_with_a_broadcast_tensor_parameter_and_unknown_rank():
    a = np.linspace(-3.0, 3.0, 2**9).reshape((2,) * 9).astype(np.float32)
    alpha = tf.Variable(np.full((2,) + (1,) * 8, 0.5, np.float32))
    with tf.GradientTape() as tape:
        y = xtf.apply("elu", tf.constant(a), alpha=alpha)
    g = tape.gradient(y, alpha)
    np.testing.assert_allclose(y.numpy(), xnp.apply("elu", a, alpha=0.5), rtol=1e-6)
    want = xnp.grads("elu", a, alpha=0.5)[1].astype(np.float64).sum(axis=tuple(range(1, 9)), keepdims=True)
    np.testing.assert_allclose(g.numpy(), want, rtol=1e-5)

    f = tf.function(lambda t: xtf.apply("relu", t), input_signature=[tf.TensorSpec(None, tf.float32)])
    np.testing.assert_array_equal(f(tf.constant(a)).numpy(), np.maximum(a, 0))


def test_op_cache_is_bounded_and_nan_is_one_entry():
    from xact import tf as adapter

    adapter._op.cache_clear()
    x = tf.constant([-1.0, 2.0])
    for _ in range(5):  # NaN makes every output NaN: refused before any op is built
        with pytest.raises(xact.ParameterError, match="NaN"):
            xtf.apply("elu", x, alpha=float("nan"))
    assert adapter._op.cache_info().currsize == 0
    for i in range(adapter._OP_CACHE_SIZE + 50):
        xtf.apply("elu", x, alpha=0.001 * (i + 1))
    assert adapter._op.cache_info().currsize <= adapter._OP_CACHE_SIZE
    np.testing.assert_allclose(xtf.apply("elu", x, alpha=0.7).numpy(), [0.7 * np.expm1(-1.0), 2.0], rtol=1e-6)



def _bad_alpha(t):
    return xtf.apply("elu", t, alpha="abc")


def _unknown(t):
    return xtf.apply("no_such_unit", t)


def _bad_keyword(t):
    return xtf.relu(t, beta=1.0)


def _integer_input(t):
    return xtf.apply("relu", tf.cast(t, tf.int32))


def _bad_layer(t):
    return xtf.Activation("elu", alpha="abc")(t)


# Named functions, one per line: AutoGraph converts them (it cannot parse lambdas
# that share a line, and then runs them unconverted, which would hide the wrapping).
@pytest.mark.parametrize(
    "call,error,text",
    [
        (_bad_alpha, xact.ParameterError, "parameter 'alpha' must be a number"),
        (_unknown, xact.UnknownActivationError, "no activation named 'no_such_unit'"),
        (_bad_keyword, xact.ParameterError, "unexpected parameter(s) 'beta'"),
        (_integer_input, xact.XactTypeError, "needs a floating input"),
        (_bad_layer, xact.ParameterError, "'alpha'"),
    ],
)
def test_errors_inside_tf_function_keep_their_xact_type_and_message(call, error, text):
    with pytest.raises(error) as info:
        tf.function(call)(tf.ones(3))
    assert text in str(info.value)


def test_redefinition_after_tracing_warns_and_new_traces_use_the_new_spec(fresh_name):
    xact.define(fresh_name, fn=lambda x, xp=np: 2.0 * x, grad=lambda x, xp=np: 2.0 + 0.0 * x)
    x = tf.constant([1.0, -3.0])
    traced = tf.function(lambda t: xtf.apply(fresh_name, t))
    assert traced(x).numpy().tolist() == [2.0, -6.0]
    with pytest.warns(xact.XactWarning, match="traced with it keep computing the old definition"):
        xact.define(fresh_name, fn=lambda x, xp=np: 5.0 * x, grad=lambda x, xp=np: 5.0 + 0.0 * x, replace=True)
    assert xtf.apply(fresh_name, x).numpy().tolist() == [5.0, -15.0]  # eager: the new spec
    fresh = tf.function(lambda t: xtf.apply(fresh_name, t))
    assert fresh(x).numpy().tolist() == [5.0, -15.0]  # a new trace: the new spec
    assert traced(x).numpy().tolist() == [2.0, -6.0]  # the old graph: the old spec, as warned
    with pytest.warns(xact.XactWarning, match="redefined or unregistered"):
        xact.unregister(fresh_name)


def test_redefining_a_spec_used_only_eagerly_does_not_warn(fresh_name):
    import warnings

    xact.define(fresh_name, fn=lambda x, xp=np: 2.0 * x, grad=lambda x, xp=np: 2.0 + 0.0 * x)
    xtf.apply(fresh_name, tf.constant([1.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        xact.define(fresh_name, fn=lambda x, xp=np: 3.0 * x, grad=lambda x, xp=np: 3.0 + 0.0 * x, replace=True)
