"""An opt-in training guard for Keras: ``xact.tf.WatchCallback``.

At the start of ``fit`` the callback wraps the ``call`` of every
``xact.tf.Activation`` layer in the model (and rebuilds the train function so
the wrapped calls are traced): the wrapper records, in small non-trainable
variables, the largest finite input, the largest output and the largest
incoming gradient (through an identity with a custom gradient), and counts
non-finite values. After each batch the callback reads them; the first time
an output or gradient is non-finite or above ``threshold`` it raises a
:class:`~xact.errors.DivergenceError` naming the layer, the activation, the
step (batches since the start of training) and the largest input seen. The
layers get their own ``call`` back at the end of training.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import tensorflow as tf

from xact.errors import DivergenceError, XactError

__all__ = ["WatchCallback"]


class _Probe:
    def __init__(self, layer: Any) -> None:
        self.layer = layer
        mk = lambda: tf.Variable(0.0, trainable=False, dtype=tf.float32)  # noqa: E731
        self.max_in, self.max_out, self.max_grad = mk(), mk(), mk()
        self.bad_out, self.bad_grad = mk(), mk()
        self.largest_input, self.at_step = 0.0, 0

    def record(self, var_max: tf.Variable, var_bad: tf.Variable, t: tf.Tensor) -> list[Any]:
        a = tf.abs(tf.cast(t, tf.float32))
        finite = tf.math.is_finite(a)
        big = tf.reduce_max(tf.where(finite, a, tf.zeros_like(a)))
        return [
            var_max.assign(tf.maximum(var_max, big)),
            var_bad.assign_add(tf.reduce_sum(tf.cast(tf.logical_not(finite), tf.float32))),
        ]

    def wrap(self, call: Any) -> Any:
        probe = self

        @tf.custom_gradient
        def grad_probe(y: tf.Tensor) -> Any:
            def grad(dy: tf.Tensor) -> tf.Tensor:
                with tf.control_dependencies(probe.record(probe.max_grad, probe.bad_grad, dy)):
                    return tf.identity(dy)

            return tf.identity(y), grad

        def watched(inputs: Any, *args: Any, **kwargs: Any) -> Any:
            y = call(inputs, *args, **kwargs)
            x = tf.convert_to_tensor(inputs)
            a = tf.abs(tf.cast(x, tf.float32))
            big_in = tf.reduce_max(tf.where(tf.math.is_finite(a), a, tf.zeros_like(a)))
            ops = [probe.max_in.assign(tf.maximum(probe.max_in, big_in))]
            ops += probe.record(probe.max_out, probe.bad_out, y)
            with tf.control_dependencies(ops):
                return grad_probe(tf.identity(y))

        return watched


def _layers(layer: Any) -> list[Any]:
    out = []
    for sub in getattr(layer, "layers", None) or getattr(layer, "_layers", None) or []:
        out.append(sub)
        out += _layers(sub)
    return out


class WatchCallback(keras.callbacks.Callback):
    """Raise :class:`xact.errors.DivergenceError` when an xact activation blows up in ``fit``.

    Args:
        threshold: also raise when |output| or |incoming gradient| exceeds it
            (None: only on inf/NaN).

    Example:
        >>> import xact.tf as xtf
        >>> guard = xtf.WatchCallback(threshold=1e6)   # model.fit(..., callbacks=[guard])
    """

    def __init__(self, threshold: float | None = 1e6) -> None:
        super().__init__()
        self.threshold = threshold
        self.step = 0
        self._probes: list[_Probe] = []

    def on_train_begin(self, logs: Any = None) -> None:
        from xact.tf import Activation

        acts = [la for la in _layers(self.model) if isinstance(la, Activation)]
        if not acts:
            raise XactError(
                "WatchCallback: the model has no xact.tf.Activation layer to watch; use "
                "xtf.Activation(name) layers (a Dense(activation=...) function cannot be hooked)"
            )
        self.step = 0
        self._probes = []
        for layer in acts:
            p = _Probe(layer)
            layer.call = p.wrap(layer.call)  # type: ignore[method-assign]  # instance attr, deleted at the end
            self._probes.append(p)
        self.model.make_train_function(force=True)

    def on_train_end(self, logs: Any = None) -> None:
        self._restore()

    def _restore(self) -> None:
        for p in self._probes:
            if "call" in vars(p.layer):
                del p.layer.call
        if self._probes and self.model is not None:
            self.model.make_train_function(force=True)
        self._probes = []

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        self.step += 1
        for p in self._probes:
            big_in = float(p.max_in.numpy())
            if big_in > p.largest_input:
                p.largest_input, p.at_step = big_in, self.step
            for what, vmax, vbad in (("output", p.max_out, p.bad_out), ("incoming gradient", p.max_grad, p.bad_grad)):
                bad, big = float(vbad.numpy()), float(vmax.numpy())
                if bad > 0 or (self.threshold is not None and big > self.threshold):
                    state = (f"non-finite ({bad:.0f} values)" if bad > 0 else
                             f"{big:.3g} (over the threshold {self.threshold:g})")
                    name, act = p.layer.name, p.layer.activation
                    self._restore()
                    raise DivergenceError(
                        f"step {self.step}: layer {name!r} (xact activation {act!r}): the {what} "
                        f"became {state}. Largest input it has seen: |x| = {p.largest_input:.3g} "
                        f"(step {p.at_step}). Run xact.diagnose({act!r}) to see whether the "
                        "activation can be stable; lower the learning rate, clip gradients "
                        "(optimizer clipnorm=...) or normalise between layers."
                    )
            p.max_out.assign(0.0)
            p.max_grad.assign(0.0)
            if not math.isfinite(big_in):
                p.max_in.assign(0.0)
