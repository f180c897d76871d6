"""The contract examples of DESIGN.md, run verbatim in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from conftest import HAS_JAX, HAS_TF, HAS_TORCH

pytestmark = [
    pytest.mark.torch,
    pytest.mark.tf,
    pytest.mark.skipif(not (HAS_TORCH and HAS_TF), reason="needs torch and tensorflow"),
]

# The block from DESIGN.md, with the inputs `a`, `t`, `tensor` it leaves to the reader.
CONTRACT = """
import numpy as np
import xact

def spiky(x, xp=np):
    r = xp.remainder(x, 1.0)
    return xp.where(r <= 0.5, r, 0.0)

def d_spiky(x, xp=np):
    r = xp.remainder(x, 1.0)
    return xp.where(r <= 0.5, 1.0, 0.0)

spec = xact.define("spiky_user", fn=spiky, grad=d_spiky)   # returns the Spec
xact.get("spiky_user") is spec
"spiky_user" in xact.names()

xact.define("square_np", fn=np.vectorize(lambda v: v * v), grad=np.vectorize(lambda v: 2 * v))

def swish(x, beta=1.0, xp=np):
    return x / (1.0 + xp.exp(-beta * x))
def d_swish(x, beta=1.0, xp=np):
    s = 1.0 / (1.0 + xp.exp(-beta * x))
    return s + beta * x * s * (1 - s), x * x * s * (1 - s)
xact.define("swish_beta_user", fn=swish, grad=d_swish, params={"beta": 1.0})

xact.define("relu_user", fn=lambda x, xp=np: xp.maximum(x, 0.0),
            grad=lambda x, xp=np: xp.where(x > 0, 1.0, 0.0), kinks={0.0: 0.0})

import xact.numpy as xnp
xnp.apply("spiky_user", a)            # reference value
xnp.grad("spiky_user", a)             # reference derivative

import xact.torch as xt
y = xt.apply("spiky_user", t)         # autograd-aware, dtype/device preserved
y = xt.gelu_tanh(t)                   # every registered name is an attribute
y = xt.apply("swish_beta_user", t, beta=1.5)
m = xt.Activation("swish_beta_user", beta=1.5, trainable=True)   # torch.nn.Module

import xact.tf as xtf
y = xtf.apply("spiky_user", tensor)   # works eagerly, in tf.function, and (native) under XLA
y = xtf.gelu_tanh(tensor)
layer = xtf.Activation("swish_beta_user", beta=1.5, trainable=True)  # Keras 3 layer
"""

CHECKS = """
assert xact.get("spiky_user") is spec and "spiky_user" in xact.names()
ref = xnp.apply("spiky_user", a)
np.testing.assert_array_equal(ref, np.where(np.remainder(a, 1.0) <= 0.5, np.remainder(a, 1.0), 0.0))
y = xt.apply("spiky_user", t.requires_grad_())
y.backward(torch.ones_like(y))
np.testing.assert_array_equal(y.detach().numpy(), ref.astype(np.float32))
np.testing.assert_array_equal(t.grad.numpy(), xnp.grad("spiky_user", a).astype(np.float32))
np.testing.assert_array_equal(xtf.apply("spiky_user", tensor).numpy(), ref.astype(np.float32))
jit = tf.function(lambda v: xtf.apply("spiky_user", v), jit_compile=True)
np.testing.assert_array_equal(jit(tensor).numpy(), ref.astype(np.float32))
np.testing.assert_allclose(xt.square_np(t).detach().numpy(), (a * a).astype(np.float32))
np.testing.assert_allclose(xtf.square_np(tensor).numpy(), (a * a).astype(np.float32))
assert [p.item() for p in m.parameters()] == [1.5]
assert [float(w.numpy()) for w in layer.trainable_weights] == [1.5]
print("CONTRACT OK")
"""

PRELUDE = """
import numpy as np, torch, tensorflow as tf
a = np.linspace(-2.0, 2.0, 17)
t = torch.tensor(a, dtype=torch.float32)
tensor = tf.constant(a, tf.float32)
"""


def test_design_contract_runs_verbatim():
    code = textwrap.dedent(PRELUDE) + CONTRACT + CHECKS
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "CONTRACT OK" in out.stdout


# The second-round block of DESIGN.md, verbatim, with the inputs it leaves to the reader.
SECOND_ROUND = """
import xact, xact.jax as xj, xact.keras as xk          # JAX adapter; one Keras layer for every backend
y = xj.gelu_tanh(x)                                     # jit, grad, jvp, vmap, hessian through the declared grad
layer = xk.Activation("swish_beta", trainable=True)     # same layer under KERAS_BACKEND=tensorflow|torch|jax
keras.layers.Dense(32, activation=xk.leaky_relu)        # survives .keras save/load as the xact spec

xact.gain("silu")                                       # 1/sqrt(E[phi(z)^2]), z ~ N(0, 1), from the spec
d = xact.diagnose("square"); d.stable, d.chi1, d.depth_scale; print(d)   # why it will (not) train
xact.torch.init_(linear.weight, "gelu"); xact.tf.initializer("gelu")    # initialisers from the gain

xact.define("my_act", fn=f, grad=g, domain=(-50.0, 50.0))   # conformance judges this range
report = xact.testing.check("my_act", domain=(-10.0, 10.0))
"""

SECOND_PRELUDE = """
import math
import numpy as np, torch, keras, jax.numpy as jnp
x = jnp.linspace(-3.0, 3.0, 7)
linear = torch.nn.Linear(64, 32)
def f(x, xp=np):  # softsign, written out: no cancellation anywhere
    return x / (1.0 + xp.abs(x))
def g(x, xp=np):
    return 1.0 / xp.square(1.0 + xp.abs(x))
"""

SECOND_CHECKS = """
np.testing.assert_allclose(np.asarray(y), xact.numpy.gelu_tanh(np.linspace(-3.0, 3.0, 7)), rtol=1e-6, atol=1e-7)
assert abs(xact.gain("relu") - math.sqrt(2.0)) < 1e-9   # published: E[relu(z)^2] = 1/2
assert d.stable is False
std = float(linear.weight.std())
assert 0.5 * xact.gain("gelu") / 8.0 < std < 2.0 * xact.gain("gelu") / 8.0   # gain / sqrt(fan_in = 64)
assert report.passed, report
print("SECOND ROUND OK")
"""


@pytest.mark.skipif(not HAS_JAX, reason="needs jax")
def test_design_second_round_contract_runs_verbatim():
    code = textwrap.dedent(SECOND_PRELUDE) + SECOND_ROUND + SECOND_CHECKS
    env = {**os.environ, "XACT_FUSE": "off"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "SECOND ROUND OK" in out.stdout
