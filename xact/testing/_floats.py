"""Floating-point formats as data: ULPs, correct rounding and ULP distance.

Rules this module implements (used by every comparison in the engine):

* All arithmetic here is done in float64 on values that are exactly
  representable, so nothing in a measurement adds rounding of its own.
* A high-precision reference is carried as a double-double ``(hi, lo)``:
  ``hi`` is the reference rounded to nearest float64 and ``lo`` the rest.
  :func:`round_to` rounds that pair *correctly* to a narrower format
  (float32, float16, bfloat16), using ``lo`` to break the ties that a plain
  float64 -> float32 cast would break wrongly (double rounding).
* The error of a result is its ULP *distance* from the correctly rounded
  reference: the number of representable values of the output format between
  them (:func:`ulp_distance`). A correctly rounded result scores 0; the
  largest finite value and infinity are one step apart. +0 and -0 are equal
  (mpmath has no signed zero, and no activation contract depends on it).
* Non-finite values must match exactly: both NaN, or the same infinity;
  anything else is an infinite distance.

Nothing here imports a framework; bfloat16 values are handled through their
float32 bit patterns, so ``ml_dtypes`` is not needed either.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FORMATS", "Format", "abs_error", "representable", "round_to", "ulp", "ulp_distance"]


@dataclass(frozen=True)
class Format:
    """An IEEE-style binary format: ``p`` significand bits (with the implicit one)."""

    name: str
    p: int
    emin: int
    emax: int

    @property
    def max(self) -> float:
        return float((2.0 - 2.0 ** (1 - self.p)) * 2.0**self.emax)

    @property
    def tiny(self) -> float:
        """Smallest positive normal number."""
        return float(2.0**self.emin)

    @property
    def smallest(self) -> float:
        """Smallest positive subnormal number."""
        return float(2.0 ** (self.emin - self.p + 1))

    @property
    def eps(self) -> float:
        return float(2.0 ** (1 - self.p))


FORMATS: dict[str, Format] = {
    "float16": Format("float16", 11, -14, 15),
    "bfloat16": Format("bfloat16", 8, -126, 127),
    "float32": Format("float32", 24, -126, 127),
    "float64": Format("float64", 53, -1022, 1023),
}


def ulp(fmt: Format, r: np.ndarray) -> np.ndarray:
    """The unit in the last place of ``fmt`` at magnitude ``|r|`` (subnormal ULP near 0)."""
    r = np.abs(np.asarray(r, dtype=np.float64))
    _, e = np.frexp(np.where(np.isfinite(r) & (r > 0), r, 1.0))
    e = np.where(r == 0, fmt.emin, np.maximum(e.astype(np.int64) - 1, fmt.emin))
    return np.ldexp(1.0, (e - fmt.p + 1).astype(np.int32))


def round_to(fmt: Format, hi: np.ndarray, lo: np.ndarray | None = None) -> np.ndarray:
    """Round the double-double ``hi + lo`` to nearest-even in ``fmt`` (as float64 values).

    Overflow gives a signed infinity, as IEEE rounding to nearest does; NaN and
    infinities pass through.
    """
    hi = np.asarray(hi, dtype=np.float64)
    if fmt.name == "float64":
        return hi.copy()
    lo = np.zeros_like(hi) if lo is None else np.asarray(lo, dtype=np.float64)
    sign = np.where(np.signbit(hi), -1.0, 1.0)
    a = np.abs(hi)
    fin = np.isfinite(a)
    a0 = np.where(fin, a, 0.0)
    lo_m = np.where(fin, lo * sign, 0.0)
    u = ulp(fmt, a0)
    q = a0 / u  # exact: scaling by a power of two
    n = np.floor(q)
    frac = q - n
    odd = np.fmod(n, 2.0) == 1.0
    up = (frac > 0.5) | ((frac == 0.5) & ((lo_m > 0) | ((lo_m == 0) & odd)))
    res = (n + up) * u
    res = np.where(res > fmt.max, np.inf, res)
    res = np.where(fin, res, a)
    return sign * res


def representable(fmt: Format, x: np.ndarray) -> np.ndarray:
    """True where ``x`` (float64) is exactly a value of ``fmt`` (NaN and inf count)."""
    x = np.asarray(x, dtype=np.float64)
    return (round_to(fmt, x) == x) | ~np.isfinite(x)


def _magnitude_bits(fmt: Format, v: np.ndarray) -> np.ndarray:
    """Monotone integer code of |v| (exactly representable in ``fmt``), as uint64."""
    a = np.abs(v)
    if fmt.name == "float64":
        return a.view(np.uint64).astype(np.uint64)
    if fmt.name == "float32":
        return a.astype(np.float32).view(np.uint32).astype(np.uint64)
    if fmt.name == "float16":
        return a.astype(np.float16).view(np.uint16).astype(np.uint64)
    # bfloat16: the upper half of the float32 pattern (exact for bfloat16 values)
    return (a.astype(np.float32).view(np.uint32) >> np.uint32(16)).astype(np.uint64)


def ulp_distance(fmt: Format, got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Representable steps of ``fmt`` between ``got`` and ``want`` (float64 arrays).

    Both must hold values of ``fmt``. Non-finite values must match exactly
    (distance 0), or the distance is ``inf``.
    """
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    fin = np.isfinite(got) & np.isfinite(want)
    g = np.where(fin, got, 0.0)
    w = np.where(fin, want, 0.0)
    mg, mw = _magnitude_bits(fmt, g), _magnitude_bits(fmt, w)
    same_side = (np.signbit(g) == np.signbit(w)) | (mg == 0) | (mw == 0)
    d_same = np.where(mg >= mw, mg - mw, mw - mg)
    d = np.where(same_side, d_same, mg + mw).astype(np.float64)
    both_nan = np.isnan(got) & np.isnan(want)
    same_inf = np.isinf(got) & (got == want)
    exact = both_nan | same_inf
    return np.where(fin, d, np.where(exact, 0.0, np.inf))


def abs_error(got: np.ndarray, hi: np.ndarray, lo: np.ndarray | None = None) -> np.ndarray:
    """``|got - (hi + lo)|`` in float64; 0 where both match non-finitely, inf on mismatch."""
    got = np.asarray(got, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    lo = np.zeros_like(hi) if lo is None else np.asarray(lo, dtype=np.float64)
    fin = np.isfinite(got) & np.isfinite(hi)
    with np.errstate(all="ignore"):
        e = np.abs((got - hi) - lo)
    exact = (np.isnan(got) & np.isnan(hi)) | (np.isinf(got) & (got == hi))
    return np.where(fin, e, np.where(exact, 0.0, np.inf))
