"""Where a spec is evaluated: grids, magnitudes, special values, kinks.

Per dtype, every point is a value of that dtype (stored as float64, exactly):

* ``dense``: the interesting range ``[-R, R]`` (R = 10, widened to cover the
  declared kinks): for bfloat16 *every* representable value with
  ``|x| >= 1/16`` in it, for float16 every other one (about 7k values each);
  for float32 and float64 an even grid of :data:`DENSE_N` points; in all, 257
  geometrically spaced magnitudes from 1e-8 to 1, both signs;
* ``magnitudes``: log-spaced magnitudes, both signs, from the smallest
  subnormal up to the dtype's largest finite value (this is where a forward
  that overflows although the function is finite shows up);
* ``specials``: +-0, +-inf, NaN, subnormals, the smallest normal, the largest
  finite value and its neighbour;
* ``kinks``: every declared kink and the values one ULP either side.

The high-precision oracle runs on a subsample (:func:`oracle_points`): all
magnitudes, specials and kink points of every requested dtype, plus
:data:`ORACLE_DENSE` evenly strided dense points per dtype. The dense grid
of float16/bfloat16/float32 is compared against NumPy float64 (29 or more
bits more precise than the output, so its own error is below 1e-8 ULP); the
float64 dense grid is only used for torch vs TF and native vs bridge.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from xact.testing._floats import FORMATS, Format, round_to, ulp

__all__ = ["DENSE_N", "ORACLE_DENSE", "Points", "interesting_range", "oracle_points", "points_for"]

DENSE_N = 8001
ORACLE_DENSE = 256
TAIL_N = 240
ORACLE_TAIL = 120
ORACLE_BANDS = 160
MAGNITUDES_PER_SIGN = 80


def interesting_range(kinks: dict[float, float]) -> float:
    """R such that [-R, R] holds the typical range and every finite declared kink."""
    ks = [abs(k) for k in kinks if np.isfinite(k)]
    return float(max(10.0, 1.25 * max(ks, default=0.0)))


def _all_values(fmt: Format, r: float) -> np.ndarray:
    """Every value of a 16-bit format with |x| <= r."""
    dt = np.float16 if fmt.name == "float16" else None
    bits = np.arange(0, 1 << 15, dtype=np.uint32)
    with np.errstate(invalid="ignore"):  # the NaN patterns
        v = _decode(bits, dt)
    v = v[np.isfinite(v) & (v <= r)]
    return np.concatenate([-v[::-1], v])


def _decode(bits: np.ndarray, dt: type | None) -> np.ndarray:
    if dt is not None:
        v = bits.astype(np.uint16).view(np.float16).astype(np.float64)
    else:
        v = (bits << np.uint32(16)).view(np.float32).astype(np.float64)
    return v


def _dense(fmt: Format, r: float) -> np.ndarray:
    geo = np.geomspace(1e-8, 1.0, 257)
    if fmt.name in ("float16", "bfloat16"):
        every = _all_values(fmt, r)
        a = np.abs(every)
        # every value with |x| >= 2**-4 (bfloat16) / every other one (float16),
        # and log-spaced below, where the values are dense but the function dull
        keep = a >= 2.0**-4
        if fmt.name == "float16":
            keep &= (np.arange(len(every)) % 2) == 0
        small = round_to(fmt, np.concatenate([geo, -geo]))
        return np.unique(np.concatenate([every[keep], small[np.abs(small) < 2.0**-4]]))
    lin = np.linspace(-r, r, DENSE_N)
    pts = np.concatenate([lin, geo, -geo])
    return np.unique(round_to(fmt, pts))


def _magnitudes(fmt: Format) -> np.ndarray:
    lo_e = fmt.emin - fmt.p + 1
    exps = np.unique(np.round(np.linspace(lo_e, fmt.emax, MAGNITUDES_PER_SIGN)).astype(int))
    mant = np.array([1.0, 1.3125, 1.75, 1.9921875])
    m = mant[np.arange(len(exps)) % len(mant)]
    v = np.ldexp(m, exps)
    v = round_to(fmt, v)
    v = v[np.isfinite(v) & (v > 0)]
    return np.concatenate([v, -v])


def _specials(fmt: Format) -> np.ndarray:
    below_max = fmt.max - 2.0 ** (fmt.emax - fmt.p + 1)
    pos = [fmt.smallest, 3 * fmt.smallest, fmt.tiny - fmt.smallest, fmt.tiny, fmt.max, below_max]
    return np.array([0.0, -0.0, np.inf, -np.inf, np.nan, *pos, *[-v for v in pos]])


def _next(fmt: Format, x: float, direction: float) -> float:
    """The neighbour of ``x`` (a value of ``fmt``) towards ``direction``."""
    u = float(ulp(fmt, np.array([x]))[0])
    y = x + direction * u
    power_of_two = x != 0 and np.frexp(abs(x))[0] == 0.5
    if abs(y) < abs(x) and power_of_two and abs(x) > fmt.tiny:
        y = x + direction * u / 2  # the spacing halves below a power of two
    return float(y)


def _kink_points(fmt: Format, kinks: dict[float, float]) -> tuple[np.ndarray, dict[float, float]]:
    """Kinks representable in ``fmt`` (checked for their convention) plus neighbours."""
    pts: list[float] = []
    exact: dict[float, float] = {}
    for k, conv in kinks.items():
        if not np.isfinite(k):
            continue
        kr = float(round_to(fmt, np.array([k]))[0])
        if kr == k:
            exact[k] = conv
            pts += [k, _next(fmt, k, -1.0), _next(fmt, k, 1.0)]
        else:
            below = kr if kr < k else _next(fmt, kr, -1.0)
            pts += [below, _next(fmt, below, 1.0)]
    return np.array(pts, dtype=np.float64), exact


@dataclass
class Points:
    """The inputs for one dtype; every array holds values of that dtype as float64."""

    dtype: str
    dense: np.ndarray
    magnitudes: np.ndarray
    specials: np.ndarray
    kinks: np.ndarray
    kink_conventions: dict[float, float] = field(default_factory=dict)
    #: log-spaced |x| from R to 2^14, both signs: the tails beyond the dense range
    tail: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: function-driven points (:func:`xact.testing.bands.band_points`): where an
    #: intermediate of the spec is subnormal or crosses a threshold of the dtype
    bands: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def grid(self) -> np.ndarray:
        """Dense grid, tails, bands, magnitudes and kink neighbours: the accuracy check's points."""
        return np.unique(np.concatenate([self.dense, self.tail, self.bands, self.magnitudes, self.kinks]))

    def oracle_dense(self) -> np.ndarray:
        step = max(1, len(self.dense) // ORACLE_DENSE)
        tstep = max(1, len(self.tail) // ORACLE_TAIL)
        bstep = max(1, len(self.bands) // ORACLE_BANDS)
        return np.concatenate([self.dense[::step], self.tail[::tstep], self.bands[::bstep]])


def _tail(fmt: Format, r: float) -> np.ndarray:
    m = np.geomspace(r, 2.0**14, TAIL_N // 2)
    v = round_to(fmt, np.concatenate([-m[::-1], m]))
    return np.unique(v[np.isfinite(v)])


def points_for(dtype: str, kinks: dict[float, float], bands: np.ndarray | None = None) -> Points:
    fmt = FORMATS[dtype]
    r = interesting_range(kinks)
    kp, exact = _kink_points(fmt, kinks)
    return Points(dtype, _dense(fmt, r), _magnitudes(fmt), _specials(fmt), kp, exact,
                  tail=_tail(fmt, r), bands=np.zeros(0) if bands is None else bands)


def oracle_points(points: list[Points]) -> np.ndarray:
    """The high-precision subsample: union over dtypes (finite values only)."""
    parts = []
    for p in points:
        parts += [p.oracle_dense(), p.magnitudes, p.kinks, p.specials]
    x = np.concatenate(parts)
    return np.unique(x[np.isfinite(x)])
