"""Port a Keras model that uses xact activations to PyTorch, and prove they agree.

Run:  python examples/port_keras_to_torch.py

The Keras model is a small CNN: Conv2D -> per-channel trainable ELU -> Conv2D
-> GELU (tanh) -> Dense -> trainable-beta swish. Its PyTorch twin uses the same
xact activations by name, so the activation math cannot drift; only the
layouts differ and are transposed when the weights are copied:

* Conv2D kernel (H, W, in, out) -> Conv2d weight (out, in, H, W)
* Dense kernel (in, out) -> Linear weight (out, in)
* inputs NHWC -> NCHW, and a per-channel parameter (1, 1, C) -> (C, 1, 1)
* Flatten after the convolutions: NHWC order -> NCHW order, so the Dense
  kernel's rows are permuted to match.

It prints the largest differences in outputs and input gradients (float32),
which stay within a few float32 ulps of the outputs' scale.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf
import torch

import xact.tf as xtf
import xact.torch as xt

H = W = 8
C_IN, C1, C2, OUT = 2, 4, 3, 5


def keras_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((H, W, C_IN)),
        keras.layers.Conv2D(C1, 3),
        xtf.Activation("elu", trainable=True, param_shape=(1, 1, C1)),
        keras.layers.Conv2D(C2, 3),
        xtf.Activation("gelu_tanh"),
        keras.layers.Flatten(),
        keras.layers.Dense(OUT),
        xtf.Activation("swish_beta", trainable=True),
    ])
    # Trained-looking parameters, not the defaults: the port must carry them.
    model.layers[1].weights[0].assign(np.array([[[0.5, 1.0, 1.5, 2.0]]], np.float32))
    model.layers[-1].weights[0].assign(np.array(1.7, np.float32))
    return model


def torch_twin() -> torch.nn.Module:
    side = H - 4  # two valid 3x3 convolutions
    return torch.nn.Sequential(
        torch.nn.Conv2d(C_IN, C1, 3),
        xt.Activation("elu", trainable=True, param_shape=(C1, 1, 1)),
        torch.nn.Conv2d(C1, C2, 3),
        xt.Activation("gelu_tanh"),
        torch.nn.Flatten(),
        torch.nn.Linear(C2 * side * side, OUT),
        xt.Activation("swish_beta", trainable=True),
    )


def copy_weights(src: keras.Model, dst: torch.nn.Module) -> None:
    """Copy every Keras weight into the twin, transposing layouts."""
    k = [layer.get_weights() for layer in src.layers]
    side = H - 4
    with torch.no_grad():
        dst[0].weight.copy_(torch.from_numpy(k[0][0].transpose(3, 2, 0, 1)))
        dst[0].bias.copy_(torch.from_numpy(k[0][1]))
        dst[1].alpha.copy_(torch.from_numpy(k[1][0].reshape(C1, 1, 1)))
        dst[2].weight.copy_(torch.from_numpy(k[2][0].transpose(3, 2, 0, 1)))
        dst[2].bias.copy_(torch.from_numpy(k[2][1]))
        # Keras flattens (h, w, c); torch flattens (c, h, w): permute the rows.
        dense = k[5][0].reshape(side, side, C2, OUT).transpose(2, 0, 1, 3).reshape(-1, OUT)
        dst[5].weight.copy_(torch.from_numpy(dense.T.copy()))
        dst[5].bias.copy_(torch.from_numpy(k[5][1]))
        dst[6].beta.copy_(torch.from_numpy(np.asarray(k[6][0])))


def compare(n: int = 16, seed: int = 1) -> dict[str, float]:
    """Largest |difference| of outputs and input gradients, and the outputs' scale."""
    src, dst = keras_model(), torch_twin()
    copy_weights(src, dst)
    x = np.random.default_rng(seed).standard_normal((n, H, W, C_IN)).astype(np.float32)
    upstream = np.random.default_rng(seed + 1).standard_normal((n, OUT)).astype(np.float32)

    xk = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xk)
        yk = src(xk)
    gk = tape.gradient(yk, xk, output_gradients=tf.constant(upstream)).numpy()

    xt_ = torch.from_numpy(x.transpose(0, 3, 1, 2).copy()).requires_grad_(True)
    yt = dst(xt_)
    yt.backward(torch.from_numpy(upstream))
    gt = xt_.grad.numpy().transpose(0, 2, 3, 1)

    yk, yt_np = yk.numpy(), yt.detach().numpy()
    return {
        "output_max_abs_diff": float(np.abs(yk - yt_np).max()),
        "output_scale": float(np.abs(yk).max()),
        "input_grad_max_abs_diff": float(np.abs(gk - gt).max()),
        "input_grad_scale": float(np.abs(gk).max()),
    }


if __name__ == "__main__":
    for key, value in compare().items():
        print(f"{key:>24}: {value:.3g}")
