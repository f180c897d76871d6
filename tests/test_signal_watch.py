"""The opt-in training guards: xact.torch.watch and xact.tf.WatchCallback.

The issue's story: an MLP with x^2 activations, SGD with momentum at lr 0.1,
diverges; the guard must stop it the first time an xact activation's output
or incoming gradient is non-finite or over the threshold, and say where.
"""

from __future__ import annotations

import numpy as np
import pytest

from xact.errors import DivergenceError, XactError

RNG = np.random.default_rng(0)
# Features with second moment 4 (not standardised): at unit scale the x^2 MLP merely
# memorises these 256 random points; at this scale it diverges within a few dozen steps.
X = (2.0 * RNG.standard_normal((256, 64))).astype(np.float32)
Y = RNG.integers(0, 10, 256)


# ---------------------------------------------------------------------- torch


@pytest.fixture
def torch_mlp():
    torch = pytest.importorskip("torch")
    import xact.torch as xt

    def make(act):
        torch.manual_seed(0)
        return torch.nn.Sequential(
            torch.nn.Linear(64, 128), xt.Activation(act), torch.nn.Linear(128, 128), xt.Activation(act),
            torch.nn.Linear(128, 10),
        )

    return torch, xt, make


def _torch_train(torch, net, steps):
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    x, y = torch.from_numpy(X), torch.from_numpy(Y)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()


@pytest.mark.torch
def test_torch_watch_stops_square_mlp(torch_mlp):
    torch, xt, make = torch_mlp
    net = make("square")
    with xt.watch(net) as guard, pytest.raises(DivergenceError) as err:
        _torch_train(torch, net, 200)
    msg = str(err.value)
    assert "'square'" in msg and "layer '" in msg and f"step {guard.step}:" in msg
    assert "Largest input it has seen: |x| = " in msg
    assert 1 < guard.step < 200
    assert isinstance(err.value, FloatingPointError) and isinstance(err.value, XactError)


@pytest.mark.torch
def test_torch_watch_catches_exploding_incoming_gradient(torch_mlp):
    torch, xt, make = torch_mlp
    net = make("tanh")  # bounded output: only the gradient can trip the guard
    xt.watch(net, threshold=1e6)
    out = net[:2](torch.from_numpy(X))
    with pytest.raises(DivergenceError, match=r"layer '1' \(xact activation 'tanh'\): the incoming gradient became 1e\+09"):
        (1e9 * out.sum()).backward()


@pytest.mark.torch
def test_torch_watch_non_finite_without_threshold(torch_mlp):
    torch, xt, make = torch_mlp
    net = make("square")
    xt.watch(net, threshold=None)
    x = torch.from_numpy(X).clone()
    with torch.no_grad():
        net(x)  # finite, large values are allowed with threshold=None
        x[0, 0] = float("inf")
        with pytest.raises(DivergenceError, match="non-finite"):
            net(x)


@pytest.mark.torch
def test_torch_watch_quiet_on_relu_and_removable(torch_mlp):
    torch, xt, make = torch_mlp
    net = make("relu")
    guard = xt.watch(net)
    _torch_train(torch, net, 20)
    assert guard.step == 20
    guard.remove()
    net(torch.full((1, 64), 1e30))  # no hooks left
    with pytest.raises(XactError, match=r"no xact\.torch\.Activation"):
        xt.watch(torch.nn.Linear(2, 2))


# ------------------------------------------------------------------------- tf


@pytest.fixture
def keras_mlp():
    pytest.importorskip("tensorflow")
    import keras

    import xact.tf as xtf

    def make(act, loss="sparse_categorical_crossentropy"):
        keras.utils.set_random_seed(0)
        m = keras.Sequential([
            keras.Input((64,)), keras.layers.Dense(128), xtf.Activation(act, name="act1"),
            keras.layers.Dense(128), xtf.Activation(act, name="act2"), keras.layers.Dense(10),
        ])
        m.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss=loss)
        return m

    return keras, xtf, make


@pytest.mark.tf
def test_keras_watch_stops_square_mlp(keras_mlp):
    _, xtf, make = keras_mlp
    m = make("square")
    guard = xtf.WatchCallback()
    with pytest.raises(DivergenceError) as err:
        m.fit(X, Y, epochs=50, batch_size=64, verbose=0, callbacks=[guard])
    msg = str(err.value)
    assert "'square'" in msg and "layer 'act" in msg and f"step {guard.step}:" in msg
    assert "Largest input it has seen: |x| = " in msg
    assert "call" not in vars(m.layers[1])  # the layer has its own call back


@pytest.mark.tf
def test_keras_watch_catches_exploding_incoming_gradient(keras_mlp):
    keras, xtf, make = keras_mlp

    def huge(y_true, y_pred):
        return 1e9 * keras.ops.mean(y_pred)

    m = make("tanh", loss=huge)
    with pytest.raises(DivergenceError, match=r"layer 'act[12]' .*the incoming gradient became"):
        m.fit(X, Y, epochs=1, batch_size=64, verbose=0, callbacks=[xtf.WatchCallback(threshold=1e6)])


@pytest.mark.tf
def test_keras_watch_quiet_on_relu(keras_mlp):
    keras, xtf, make = keras_mlp
    m = make("relu")
    guard = xtf.WatchCallback()
    m.fit(X, Y, epochs=2, batch_size=64, verbose=0, callbacks=[guard])
    assert guard.step == 8
    with pytest.raises(XactError, match=r"no xact\.tf\.Activation"):
        d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
        d.compile(optimizer="sgd", loss="mse")
        d.fit(np.zeros((4, 2)), np.zeros((4, 2)), verbose=0, callbacks=[xtf.WatchCallback()])
