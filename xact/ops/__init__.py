"""The array vocabulary ``xp`` that specs are written against.

A spec's ``fn`` and ``grad`` take ``xp=np`` and call ``xp.exp``, ``xp.where``
and so on. xact hands them a namespace per backend and compute dtype, all
with the same names and the same semantics:

* every function is elementwise and broadcasts like NumPy;
* Python scalars never promote: with float32 inputs the result is float32
  (``xp.where(c, 1.0, 0.0)`` gives the namespace's dtype, not float64);
* ``where``, ``maximum``, ``minimum``, ``clip``, ``power``, ``remainder`` and
  ``logaddexp`` accept Python scalars in any position on every backend;
* ``erf`` exists everywhere; NaN propagates through every function.

Arithmetic (``+ - * / ** -x abs(x)``) and comparisons (``< <= > >= == !=``)
are the arrays' own operators; boolean masks combine with ``& | ~`` or
``logical_and/or/not``.

Backend namespaces live in sibling modules with identical class and method
names (``xact/ops/numpy.py``, ``torch.py``, ``tf.py``); a backend module is
imported only when a tensor of that framework is seen, never on a guess.

Why not array-api-compat: it follows the Array API standard names (``atan``,
``pow``), has no ``erf``, does not cover TensorFlow, and keeps each library's
own scalar promotion; specs here are written with NumPy names and need one
promotion rule on all three backends, so the thin namespaces are hand-written.
"""

from __future__ import annotations

#: Every name a spec may use, with what it computes. Each backend namespace
#: implements all of them; ``tests/test_ops.py`` checks each against NumPy.
VOCABULARY: dict[str, str] = {
    "abs": "absolute value",
    "exp": "e**x",
    "expm1": "e**x - 1, accurate near 0",
    "log": "natural logarithm",
    "log1p": "log(1 + x), accurate near 0",
    "sqrt": "square root",
    "square": "x * x",
    "power": "x ** y (scalars accepted on either side)",
    "tanh": "hyperbolic tangent",
    "sinh": "hyperbolic sine",
    "cosh": "hyperbolic cosine",
    "sin": "sine",
    "cos": "cosine",
    "tan": "tangent",
    "arctan": "inverse tangent",
    "arcsinh": "inverse hyperbolic sine",
    "arctanh": "inverse hyperbolic tangent",
    "erf": "error function",
    "erfc": "complementary error function, 1 - erf(x) without cancellation",
    "where": "where(cond, a, b): a where cond else b (scalars accepted)",
    "maximum": "elementwise max, NaN-propagating (scalars accepted)",
    "minimum": "elementwise min, NaN-propagating (scalars accepted)",
    "clip": "clip(x, lo, hi); lo or hi may be None",
    "sign": "-1, 0 or 1 (0 at +-0, NaN at NaN)",
    "floor": "largest integer <= x",
    "ceil": "smallest integer >= x",
    "remainder": "x - y*floor(x/y), sign of y (NumPy/Python semantics)",
    "logaddexp": "log(exp(a) + exp(b)) without overflow",
    "isfinite": "True where x is neither inf nor NaN",
    "isnan": "True where x is NaN",
    "isinf": "True where x is +-inf",
    "logical_and": "elementwise and of boolean masks",
    "logical_or": "elementwise or of boolean masks",
    "logical_not": "elementwise not of a boolean mask",
    "zeros_like": "zeros with x's shape, in the namespace's dtype",
    "ones_like": "ones with x's shape, in the namespace's dtype",
    "full_like": "full_like(x, v): v with x's shape, in the namespace's dtype",
    "asarray": "a constant array in the namespace's dtype",
    "finfo": "numpy.finfo of the namespace's dtype (eps, max, tiny)",
    "pi": "the constant pi",
    "e": "the constant e",
    "inf": "positive infinity",
    "nan": "not a number",
}

__all__ = ["VOCABULARY"]
