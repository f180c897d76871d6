"""The two classic custom-activation examples: ``square`` and ``spiky``.

Both are the examples people reach for when showing how to wire a NumPy
function into a framework with a hand-written gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xact.spec import define


def square(x: Any, xp: Any = np) -> Any:
    """Square: f(x) = x^2.

    Derivative: f'(x) = 2x. Smooth everywhere (no kinks).

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.square(np.array([-3.0, 2.0]))
        array([9., 4.])
    """
    return xp.square(x)


def d_square(x: Any, xp: Any = np) -> Any:
    return 2.0 * x


def spiky(x: Any, xp: Any = np) -> Any:
    """Spiky (saw tooth): f(x) = r if r <= 1/2 else 0, where r = x mod 1 in [0, 1).

    Derivative: f'(x) = 1 if r <= 1/2 else 0.

    Conventions: at integers (r = 0) the derivative is 1; at the jumps
    x = k + 1/2 the function is left-continuous (f = 1/2) and f' = 1.
    ``x mod 1`` is x - floor(x) (NumPy's ``remainder``), evaluated exactly:
    the branch is chosen on x <= floor(x) + 1/2. Every float beyond 2^53 is
    an integer, where f = 0 and f' = 1, so f(+-inf) = 0 and f'(+-inf) = 1
    are taken as the limits.

    Example:
        >>> import numpy as np, xact.numpy as xnp
        >>> xnp.spiky(np.array([0.25, 0.75, 1.5]))
        array([0.25, 0.  , 0.5 ])
    """
    fl = xp.floor(x)
    # x - floor(x) rounds up to 1/2 just below k + 1, so the branch is chosen on
    # x <= floor(x) + 1/2, which is exact; x - floor(x) is then exact too.
    tooth = xp.where(x > fl + 0.5, 0.0, x - fl)  # not `<=`: NaN must stay NaN
    return xp.where(xp.isinf(x), 0.0, tooth)


def d_spiky(x: Any, xp: Any = np) -> Any:
    return xp.where(x > xp.floor(x) + 0.5, 0.0, 1.0)


define("square", fn=square, grad=d_square, family="classic")

_SPIKY_KINKS = {float(k) / 2: 1.0 for k in range(-20, 21)}
define("spiky", fn=spiky, grad=d_spiky, kinks=_SPIKY_KINKS, family="classic")
