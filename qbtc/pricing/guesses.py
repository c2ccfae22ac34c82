"""Initial guesses of the implied-volatility solver (Jäckel, "Let's Be Rational", §4–5).

Shape-preserving rational cubic interpolation (Delbourgo & Gregory 1985) between points
where ``b`` and its derivatives are known, on the price axis in the two middle branches and on
the transformed axes ``f_lower``/``f_upper`` in the two outer ones. All functions work
elementwise on equal-shape arrays and expect the caller to have silenced floating-point
warnings (``np.errstate``): infinities and NaNs are resolved by ``fmax``/``fmin`` choices.
"""

from __future__ import annotations

import numpy as np
from scipy import special

_EPS = float(np.finfo(np.float64).eps)
MINIMUM_CONTROL = -(1.0 - np.sqrt(_EPS))
MAXIMUM_CONTROL = 2.0 / (_EPS * _EPS)
SQRT_HALF = 0.7071067811865475244008443621048490392848359376887
SQRT_THREE = 1.732050807568877293527446341505872366942805253810
ONE_OVER_SQRT_TWO_PI = 0.3989422804014326779399460599343818684758586311649
TWO_PI = 6.283185307179586476925286766559005768394338798750
TWO_PI_OVER_SQRT_27 = 1.209199576156145233729385505094770488189377498728
PI_OVER_SIX = 0.523598775598298873077107230546583814032861566563
SQRT_PI_OVER_TWO = 1.253314137315500251207882642405522626503493370305


def rational_cubic(x, x_l, width, y_l, y_r, d_l, d_r, r):
    """Rational cubic through (x_l, y_l), (x_l + width, y_r), slopes d_l, d_r, control r.

    ``r = 3`` is the cubic Hermite interpolant; ``r -> MAXIMUM_CONTROL`` tends to the chord.
    """
    t = (x - x_l) / width
    u = 1.0 - t
    tu = t * u
    numerator = (y_r * t + (r * y_r - width * d_r) * u) * t * t + (
        (r * y_l + width * d_l) * t + y_l * u
    ) * u * u
    return numerator / (1.0 + (r - 3.0) * tu)


def control(numerator, denominator, d_l, d_r, slope, prefer_shape: bool):
    """Control parameter ``numerator/denominator``, raised to the least shape-preserving value.

    Monotone data are assumed (true on every branch of the solver); convex or concave data
    get the bound of Delbourgo & Gregory (3.18), otherwise the chord when ``prefer_shape``.
    """
    r = numerator / denominator
    spread = d_r - d_l
    monotone = (d_l + d_r) / slope
    convex = np.fmax(np.abs(spread / (d_r - slope)), np.abs(spread / (slope - d_l)))
    shaped = (slope - d_l) * (d_r - slope) >= 0
    floor = np.where(
        shaped, np.fmax(monotone, convex), MAXIMUM_CONTROL if prefer_shape else monotone
    )
    r = np.fmax(np.fmax(r, floor), MINIMUM_CONTROL)
    return np.fmin(r, MAXIMUM_CONTROL)


def lower_map(x, s):
    """f = 2π/√27·|x|·Φ(−z)³ (z = |x|/(√3 s)) and df/dbeta, d²f/dbeta² at s (x <= 0)."""
    ax = -x
    z = ax / (SQRT_THREE * s)
    y = z * z
    s2 = s * s
    big_phi = 0.5 * special.erfc(SQRT_HALF * z)
    small_phi = ONE_OVER_SQRT_TWO_PI * np.exp(-0.5 * y)
    phi2 = big_phi * big_phi
    f = TWO_PI_OVER_SQRT_27 * ax * phi2 * big_phi
    fp = TWO_PI * y * phi2 * np.exp(y + 0.125 * s2)
    inner = 8.0 * SQRT_THREE * s * ax + (3.0 * s2 * (s2 - 8.0) - 8.0 * x * x) * big_phi / small_phi
    fpp = PI_OVER_SIX * y / (s2 * s) * big_phi * inner * np.exp(2.0 * y + 0.25 * s2)
    return f, fp, fpp


def inverse_lower_map(x, f):
    """s with lower_map(x, s)[0] == f."""
    ratio = np.cbrt(f / (TWO_PI_OVER_SQRT_27 * -x))
    return np.abs(x / (SQRT_THREE * special.ndtri(ratio)))


def upper_map(x, s):
    """f = Φ(−s/2) and df/dbeta, d²f/dbeta² at s."""
    f = 0.5 * special.erfc(0.5 * SQRT_HALF * s)
    w = x / s
    w *= w
    fp = -0.5 * np.exp(0.5 * w)
    fpp = SQRT_PI_OVER_TWO * np.exp(w + 0.125 * s * s) * w / s
    return f, fp, fpp


def inverse_upper_map(f):
    """s with upper_map(x, s)[0] == f."""
    return -2.0 * special.ndtri(f)
