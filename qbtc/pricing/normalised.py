"""The normalised Black function, evaluated to (near) full relative precision.

With ``x = ln(F/K)`` and total volatility ``s = vol * sqrt(expiry)``, the undiscounted
Black-76 price divided by ``sqrt(F * K)`` is

    b(x, s, θ) = θ · [exp(x/2) Φ(θ(x/s + s/2)) − exp(−x/2) Φ(θ(x/s − s/2))],   θ = ±1.

By put-call symmetry every option reduces to an out-of-the-money call (``x <= 0``) plus the
normalised intrinsic value, so only ``b(x, s)`` for ``x <= 0`` is computed here, following
P. Jäckel, "Let's Be Rational" (Wilmott, 2015), section 3: four regions in ``h = x/s`` and
``t = s/2``, each with the form that does not cancel there (an asymptotic expansion for the
far wing, a small-``t`` expansion, ``erfcx`` differences, and plain ``Φ`` differences).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import special

from qbtc.pricing.inputs import FloatArray

ONE_OVER_SQRT_TWO = 0.7071067811865475244008443621048490392848359376887
ONE_OVER_SQRT_TWO_PI = 0.3989422804014326779399460599343818684758586311649
SQRT_PI_OVER_TWO = 1.253314137315500251207882642405522626503493370305
# Region boundaries (Jäckel 2015): h below ETA is the far wing, t below TAU is "small t".
ETA = -10.0
TAU = 2.0 * np.finfo(np.float64).eps ** (1.0 / 16.0)
NORM_CDF_REGION = 0.85
# Terms of the far-wing expansion: the 25th term is ~1e-16 of the first at h = -10.
ASYMPTOTIC_TERMS = 25

Kernel = Callable[[FloatArray, FloatArray], FloatArray]


def normalised_vega(x: FloatArray, s: FloatArray) -> FloatArray:
    """∂b/∂s = φ(x/s + s/2) exp(x/2) = exp(−(x²/s² + s²/4)/2) / sqrt(2π)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        h = np.where(x == 0, 0.0, x / s)  # at the money the limit s -> 0 is 1/sqrt(2π)
        vega = ONE_OVER_SQRT_TWO_PI * np.exp(-0.5 * (h * h + 0.25 * s * s))
    return np.where(np.isnan(vega), 0.0, vega)


def normalised_intrinsic(x: FloatArray, theta: FloatArray) -> FloatArray:
    """max(θ(exp(x/2) − exp(−x/2)), 0) = max(2θ sinh(x/2), 0)."""
    return np.maximum(2.0 * theta * np.sinh(0.5 * x), 0.0)


def normalised_black(x: FloatArray, s: FloatArray, theta: FloatArray) -> FloatArray:
    """b(x, s, θ) for any sign of x: the out-of-the-money part plus the intrinsic value."""
    return normalised_intrinsic(x, theta) + normalised_black_call(-np.abs(x), s)


def normalised_black_call(x: FloatArray, s: FloatArray) -> FloatArray:
    """b(x, s) of an out-of-the-money call: ``x <= 0``, ``s >= 0`` (1-d or any shape).

    Relative accuracy is a few ulps except where the value underflows.
    """
    x, s = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(s, np.float64))
    shape = x.shape
    x, s = x.ravel(), s.ravel()
    out = np.zeros(x.shape, dtype=np.float64)
    live = s > 0
    far_wing = live & (x < s * ETA) & (0.5 * s * s + x < s * (TAU + ETA))
    small_t = live & ~far_wing & (0.5 * s < TAU)
    rest = live & ~far_wing & ~small_t
    by_cdf = rest & (x + 0.5 * s * s > s * NORM_CDF_REGION)
    by_erfcx = rest & ~by_cdf
    _apply(out, far_wing, x, s, _asymptotic_expansion)
    _apply(out, small_t, x, s, _small_t_expansion)
    _apply(out, by_cdf, x, s, _black_call_by_norm_cdf)
    _apply(out, by_erfcx, x, s, _black_call_by_erfcx)
    return out.reshape(shape)


def _apply(out: FloatArray, mask: np.ndarray, x: FloatArray, s: FloatArray, kernel: Kernel) -> None:
    """Evaluate ``kernel`` on the masked elements only, writing into ``out``."""
    index = np.flatnonzero(mask)
    if index.size == out.size:
        out[:] = kernel(x, s)
    elif index.size:
        out[index] = kernel(x[index], s[index])


def _black_call_by_norm_cdf(x: FloatArray, s: FloatArray) -> FloatArray:
    """Φ(h+t)·exp(x/2) − Φ(h−t)·exp(−x/2): fine where Φ(h+t) is not small (h + t > 0.85)."""
    h = x / s
    t = 0.5 * s
    b_max = np.exp(0.5 * x)
    value = special.ndtr(h + t) * b_max - special.ndtr(h - t) / b_max
    return np.maximum(value, 0.0)


def _black_call_by_erfcx(x: FloatArray, s: FloatArray) -> FloatArray:
    """½·exp(−(h²+t²)/2)·[erfcx(−(h+t)/√2) − erfcx(−(h−t)/√2)]: one exponential only."""
    h = x / s
    t = 0.5 * s
    bracket = special.erfcx(-ONE_OVER_SQRT_TWO * (h + t)) - special.erfcx(
        -ONE_OVER_SQRT_TWO * (h - t)
    )
    with np.errstate(under="ignore"):
        value = 0.5 * np.exp(-0.5 * (h * h + t * t)) * bracket
    return np.maximum(value, 0.0)


def _small_t_expansion(x: FloatArray, s: FloatArray) -> FloatArray:
    """Taylor expansion of Y(h+t) − Y(h−t) in t to 12th order (t < τ ≈ 0.21).

    ``Y(z) = Φ(z)/φ(z)``; ``a = 1 + h·Y(h)`` carries all the dependence on Φ.
    """
    h = x / s
    t = 0.5 * s
    a = 1.0 + h * SQRT_PI_OVER_TWO * special.erfcx(-ONE_OVER_SQRT_TWO * h)
    w = t * t
    h2 = h * h
    c6 = (
        -89055.0
        + 135135.0 * a
        + h2
        * (
            -82845.0
            + 270270.0 * a
            + h2
            * (
                -20370.0
                + 135135.0 * a
                + h2
                * (
                    -1926.0
                    + 25740.0 * a
                    + h2 * (-75.0 + 2145.0 * a + h2 * (-1.0 + 78.0 * a + a * h2))
                )
            )
        )
    ) / 6227020800.0
    c5 = (
        -6555.0
        + 10395.0 * a
        + h2
        * (
            -4680.0
            + 17325.0 * a
            + h2
            * (-840.0 + 6930.0 * a + h2 * (-52.0 + 990.0 * a + h2 * (-1.0 + 55.0 * a + a * h2)))
        )
    ) / 39916800.0
    c4 = (
        -561.0
        + 945.0 * a
        + h2 * (-285.0 + 1260.0 * a + h2 * (-33.0 + 378.0 * a + h2 * (-1.0 + 36.0 * a + a * h2)))
    ) / 362880.0
    c3 = (-57.0 + 105.0 * a + h2 * (-18.0 + 105.0 * a + h2 * (-1.0 + 21.0 * a + a * h2))) / 5040.0
    c2 = (-7.0 + 15.0 * a + h2 * (-1.0 + 10.0 * a + a * h2)) / 120.0
    c1 = (-1.0 + 3.0 * a + a * h2) / 6.0
    series = a + w * (c1 + w * (c2 + w * (c3 + w * (c4 + w * (c5 + w * c6)))))
    with np.errstate(under="ignore"):
        value = ONE_OVER_SQRT_TWO_PI * np.exp(-0.5 * (h * h + t * t)) * 2.0 * t * series
    return np.maximum(value, 0.0)


def _asymptotic_expansion(x: FloatArray, s: FloatArray) -> FloatArray:
    """Far wing (h < −10): Abramowitz & Stegun 26.2.12 for Y(h+t) − Y(h−t), without cancellation.

    ``Y(z) ~ Σ_k c_k z^−(2k+1)`` with ``c_k = (−1)^(k+1) (2k−1)!!``. With ``p = 1/(h+t)`` and
    ``q = 1/(h−t)``, ``p^n − q^n = (p − q)·R_n`` where ``R_n = Σ_j p^j q^(n−1−j)`` is a sum of
    terms of one sign, computed by ``R_(n+1) = (p+q) R_n − pq R_(n−1)``, and
    ``p − q = −2t·pq`` is taken in that form because ``p`` and ``q`` are close.
    """
    h = x / s
    t = 0.5 * s
    p = 1.0 / (h + t)
    q = 1.0 / (h - t)
    p_plus_q = p + q
    pq = p * q
    previous, current = np.zeros_like(p), np.ones_like(p)  # R_0, R_1
    total = -current  # k = 0: c_0 R_1 with c_0 = -1
    coefficient = -1.0
    for k in range(1, ASYMPTOTIC_TERMS):
        for _ in range(2):  # R_(2k-1) -> R_(2k+1)
            previous, current = current, p_plus_q * current - pq * previous
        coefficient *= -(2 * k - 1)
        total = total + coefficient * current
    with np.errstate(under="ignore"):
        value = ONE_OVER_SQRT_TWO_PI * np.exp(-0.5 * (h * h + t * t)) * (-2.0 * t * pq) * total
    return np.maximum(value, 0.0)
