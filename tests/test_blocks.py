"""The float32 erfc building block (xact/catalogue/_blocks.py) against mpmath.

The block replaces ``xp.erfc`` in float32 (gelu and its derivative); its error
is measured in float32 ULPs of the mpmath value at 40 digits, at a dense grid,
at its branch and clip points, in both tails and for h < 0. NumPy's float32 exp
is itself up to ~2.4 ULP off (its AVX-512 kernel), torch's within 1; the bounds
are the measured maxima on a denser grid (NumPy 3.8, torch 2.6, JAX 2.7) rounded up.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from xact.catalogue import _blocks
from xact.ops.numpy import namespace as numpy_namespace

TINY32 = float(np.finfo(np.float32).tiny)

# Points where something changes: 0, the small branch's end (1/8), the quotient's q = 0 (a = 2), the last
# normal float32 erfc (a ~ 9.19), the last nonzero one (a ~ 10.05), the fit's
# end (10.1), the clip (16), and gelu's largest |h| (40/sqrt 2).
_SPECIAL = [0.0, 1e-30, 1e-8, 1e-4, 0.01, 0.1, 0.12499999, 0.125, 0.12500001, 0.46875, 0.4769363, 0.5, 1.0, 1.9999999, 2.0, 2.0000002,
            3.0, 5.0, 7.0, 9.0, 9.19, 9.2, 10.0, 10.05, 10.06, 10.1, 12.0, 15.999999, 16.0, 16.000002,
            28.28427, 1e10, 3.4e38]


def _grid() -> np.ndarray:
    rng = np.random.default_rng(7)
    dense = np.linspace(-10.1, 28.3, 6001)
    focus = rng.uniform(-3.0, 10.1, 3000)
    special = np.array(_SPECIAL)
    return np.unique(np.concatenate([dense, focus, special, -special]).astype(np.float32))


def _ulp_errors(h: np.ndarray, got: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ULP error where erfc(h) is a normal float32, absolute error where it is not)."""
    mpmath.mp.dps = 40
    ref = np.array([float(mpmath.erfc(mpmath.mpf(float(v)))) for v in h])
    err = np.abs(got.astype(np.float64) - ref)
    normal = ref >= TINY32
    ulp = np.spacing(ref[normal].astype(np.float32)).astype(np.float64)
    return err[normal] / ulp, err[~normal]


def test_erfc32_numpy_accuracy() -> None:
    h = _grid()
    got = _blocks.erfc(h, numpy_namespace(np.float32))
    assert got.dtype == np.float32
    ulps, sub = _ulp_errors(h, got)
    assert ulps.max() <= 4.0, ulps.max()
    assert sub.max() <= TINY32  # subnormal and zero results: the tolerance table's absolute escape


def test_erfc32_torch_accuracy() -> None:
    torch = pytest.importorskip("torch")
    from xact.ops.torch import namespace

    h = _grid()
    got = _blocks.erfc(torch.from_numpy(h), namespace(torch.float32, torch.device("cpu")))
    assert got.dtype == torch.float32
    ulps, sub = _ulp_errors(h, got.numpy())
    assert ulps.max() <= 3.0, ulps.max()
    assert sub.max() <= TINY32


def test_erfc32_jax_accuracy() -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    from xact.ops.jax import namespace

    h = _grid()
    xp = namespace(jnp.float32)
    got = np.asarray(jax.jit(lambda t: _blocks.erfc(t, xp))(jnp.asarray(h)))
    assert got.dtype == np.float32
    ulps, sub = _ulp_errors(h, got)
    assert ulps.max() <= 3.0, ulps.max()
    assert sub.max() <= TINY32


def test_erfc32_tails_and_sign() -> None:
    xp = numpy_namespace(np.float32)
    a = np.array([0.25, 0.75, 1.5, 3.0, 6.0, 9.0], np.float32)
    # erfc(-a) = 2 - erfc(a) (mpmath), to float32 rounding of a value in (1, 2)
    ref = np.array([float(2 - mpmath.erfc(mpmath.mpf(float(v)))) for v in a])
    got = _blocks.erfc(-a, xp).astype(np.float64)
    assert np.all(np.abs(got - ref) <= 2 * np.spacing(ref.astype(np.float32)))
    # the far tail is 0 and the far negative side exactly 2
    assert np.all(_blocks.erfc(np.array([10.1, 11.0, 30.0, 1e30], np.float32), xp) == 0.0)
    assert np.all(_blocks.erfc(np.array([-4.0, -10.1, -30.0, -1e30], np.float32), xp) == 2.0)


def test_erfc32_special_values() -> None:
    xp = numpy_namespace(np.float32)
    h = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0], np.float32)
    with np.errstate(all="ignore"):
        got = _blocks.erfc(h, xp)
    assert got[0] == 0.0 and got[1] == 2.0 and np.isnan(got[2])
    assert got[3] == 1.0 and got[4] == 1.0


def test_erfc_float64_is_the_namespace_erfc() -> None:
    xp = numpy_namespace(np.float64)
    h = np.linspace(-6.0, 27.0, 1001)
    np.testing.assert_array_equal(_blocks.erfc(h, xp), xp.erfc(h))
    h32 = h.astype(np.float32)
    assert not np.array_equal(_blocks.erfc(h32, numpy_namespace(np.float32)), numpy_namespace(np.float32).erfc(h32))


def test_polyval_estrin_matches_horner_in_float64() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(-1.0, 1.0, 200)
    for n in range(1, 14):
        c = tuple(float(v) for v in rng.normal(size=n))
        want = np.polynomial.polynomial.polyval(x, c)
        np.testing.assert_allclose(_blocks.polyval_estrin(c, x), want, rtol=1e-13, atol=1e-13)
