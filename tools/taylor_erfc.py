"""Print the Taylor coefficients of erfc at 3/4 used by xact/ops/_xla.py (run: python tools/taylor_erfc.py [degree]).

erfc(3/4 + t) = sum c_k t^k for |t| <= 1/4, from mpmath at 50 digits; each c_k
rounded to the nearest double. Also prints the truncation error, max over 2,001
points of the interval, relative to erfc (the polynomial must stay well under
2^-53 = 1.1e-16 there).
"""

from __future__ import annotations

import sys

import mpmath

mpmath.mp.dps = 50
CENTER, RADIUS = mpmath.mpf(3) / 4, mpmath.mpf(1) / 4


def coefficients(degree: int) -> list[mpmath.mpf]:
    return list(mpmath.taylor(mpmath.erfc, CENTER, degree))


def truncation_error(cs: list[mpmath.mpf]) -> mpmath.mpf:
    worst = mpmath.mpf(0)
    for i in range(2001):
        t = -RADIUS + 2 * RADIUS * i / 2000
        approx = mpmath.polyval(cs[::-1], t)
        worst = max(worst, abs(approx / mpmath.erfc(CENTER + t) - 1))
    return worst


if __name__ == "__main__":
    degree = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    cs = coefficients(degree)
    print("coefficients (ascending):", ", ".join(repr(float(c)) for c in cs))
    print(f"truncation error relative to erfc: {float(truncation_error(cs)):.3g}")
    rounded = [mpmath.mpf(float(c)) for c in cs]
    print(f"with the coefficients rounded to doubles: {float(truncation_error(rounded)):.3g}")
