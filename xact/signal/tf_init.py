"""Keras initialisation from an xact gain: ``xact.tf.initializer``.

Imported by ``xact.tf`` only; the gain itself is framework-free NumPy. The
initializer is Keras's own ``VarianceScaling`` (untruncated normal, so it
matches ``torch.nn.init.kaiming_normal_`` and ``xact.torch.init_``) with
the scale set to gain^2; its config holds the activation's name and
parameters, so a saved model reloads it (once ``xact.tf`` is imported).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras

from xact.errors import ParameterError
from xact.signal._diagnose import gain
from xact.spec import Spec, get

__all__ = ["Initializer", "initializer"]


@keras.saving.register_keras_serializable(package="xact")
class Initializer(keras.initializers.VarianceScaling):
    """N(0, gain^2 / fan) with gain = ``xact.gain(activation, **params)``.

    Args:
        activation: a registered name or alias (a Spec is stored by its name).
        mode: "fan_in" (keeps the forward second moment), "fan_out" or "fan_avg".
        seed: as for any Keras initializer.
        params: the activation's parameters (also accepted as keywords).
    """

    def __init__(
        self,
        activation: str | Spec,
        mode: str = "fan_in",
        seed: Any = None,
        params: Mapping[str, float] | None = None,
        **kw_params: float,
    ) -> None:
        overlap = set(params or ()) & set(kw_params)
        if overlap:
            raise ParameterError(f"initializer: parameter(s) {sorted(overlap)} given twice")
        self.activation = get(activation).name
        self.params = {**(params or {}), **kw_params}
        self.gain = gain(self.activation, **self.params)
        super().__init__(scale=self.gain**2, mode=mode, distribution="untruncated_normal", seed=seed)

    def get_config(self) -> dict[str, Any]:
        seed = super().get_config().get("seed")
        return {"activation": self.activation, "mode": self.mode, "seed": seed, "params": dict(self.params)}


def initializer(activation: str | Spec, mode: str = "fan_in", *, seed: Any = None, **params: float) -> Initializer:
    """A Keras initializer scaled by the xact gain of ``activation``.

    Example:
        >>> import keras, xact.tf as xtf
        >>> layer = keras.layers.Dense(256, kernel_initializer=xtf.initializer("gelu"))
    """
    return Initializer(activation, mode=mode, seed=seed, params=params)


def second_moments(
    activation: str | Spec,
    depth: int = 64,
    *,
    width: int = 256,
    batch: int = 64,
    sigma_w: float | None = None,
    sigma_b: float = 0.0,
    q0: float = 1.0,
    seed: int = 0,
    **params: float,
) -> list[float]:
    """Mean h^2 after each layer of a random TF MLP h <- phi(h) W + b (float32); see torch_init."""
    import tensorflow as tf

    from xact import tf as xtf

    kw: dict[str, Any] = dict(params)
    rng = tf.random.Generator.from_seed(seed)
    sw = gain(activation, **params) if sigma_w is None else float(sigma_w)
    h = rng.normal((batch, width)) * q0**0.5
    out = []
    for _ in range(depth):
        w = rng.normal((width, width)) * (sw / width**0.5)
        b = rng.normal((width,)) * sigma_b
        h = tf.matmul(xtf.apply(activation, h, **kw), w) + b
        out.append(float(tf.reduce_mean(tf.square(h))))
    return out
