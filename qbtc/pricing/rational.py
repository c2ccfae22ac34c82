"""Shape-preserving rational cubic interpolation (Delbourgo & Gregory 1985), vectorised.

Used for the initial guesses of the implied-volatility solver, as in Jäckel, "Let's Be
Rational" (2015), section 4. Each function works elementwise on arrays of equal shape.
"""

from __future__ import annotations

import numpy as np

from qbtc.pricing.inputs import FloatArray

_EPS = float(np.finfo(np.float64).eps)
_TINY = float(np.finfo(np.float64).tiny)
MINIMUM_CONTROL = -(1.0 - np.sqrt(_EPS))
MAXIMUM_CONTROL = 2.0 / (_EPS * _EPS)


def rational_cubic(
    x: FloatArray,
    x_l: FloatArray,
    x_r: FloatArray,
    y_l: FloatArray,
    y_r: FloatArray,
    d_l: FloatArray,
    d_r: FloatArray,
    r: FloatArray,
) -> FloatArray:
    """The rational cubic through (x_l, y_l), (x_r, y_r) with slopes d_l, d_r and control r.

    ``r -> ∞`` gives linear interpolation, ``r = 3`` the ordinary cubic Hermite interpolant.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        width = x_r - x_l
        t = (x - x_l) / width
        one_minus_t = 1.0 - t
        t2 = t * t
        omt2 = one_minus_t * one_minus_t
        numerator = (
            y_r * t2 * t
            + (r * y_r - width * d_r) * t2 * one_minus_t
            + (r * y_l + width * d_l) * t * omt2
            + y_l * omt2 * one_minus_t
        )
        cubic = numerator / (1.0 + (r - 3.0) * t * one_minus_t)
        linear = y_r * t + y_l * one_minus_t
    value = np.where(r >= MAXIMUM_CONTROL, linear, cubic)
    return np.where(np.abs(width) > 0, value, 0.5 * (y_l + y_r))


def control_for_left_curvature(
    x_l: FloatArray,
    x_r: FloatArray,
    y_l: FloatArray,
    y_r: FloatArray,
    d_l: FloatArray,
    d_r: FloatArray,
    curvature_l: FloatArray | float,
    prefer_shape: bool,
) -> FloatArray:
    """Control parameter matching the second derivative at the left end, kept shape-preserving."""
    width = x_r - x_l
    numerator = 0.5 * width * curvature_l + (d_r - d_l)
    with np.errstate(divide="ignore", invalid="ignore"):
        denominator = (y_r - y_l) / width - d_l
        r = _control_ratio(numerator, denominator)
        slope = (y_r - y_l) / width
    return np.maximum(r, _minimum_control(d_l, d_r, slope, prefer_shape))


def control_for_right_curvature(
    x_l: FloatArray,
    x_r: FloatArray,
    y_l: FloatArray,
    y_r: FloatArray,
    d_l: FloatArray,
    d_r: FloatArray,
    curvature_r: FloatArray | float,
    prefer_shape: bool,
) -> FloatArray:
    """Control parameter matching the second derivative at the right end, kept shape-preserving."""
    width = x_r - x_l
    numerator = 0.5 * width * curvature_r + (d_r - d_l)
    with np.errstate(divide="ignore", invalid="ignore"):
        denominator = d_r - (y_r - y_l) / width
        r = _control_ratio(numerator, denominator)
        slope = (y_r - y_l) / width
    return np.maximum(r, _minimum_control(d_l, d_r, slope, prefer_shape))


def _control_ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = numerator / denominator
    extreme = np.where(numerator > 0, MAXIMUM_CONTROL, MINIMUM_CONTROL)
    ratio = np.where(np.abs(denominator) < _TINY, extreme, ratio)
    return np.where(np.abs(numerator) < _TINY, 0.0, ratio)


def _minimum_control(
    d_l: FloatArray, d_r: FloatArray, slope: FloatArray, prefer_shape: bool
) -> FloatArray:
    """Smallest control parameter that keeps the interpolant monotone and convex/concave."""
    monotonic = (d_l * slope >= 0) & (d_r * slope >= 0)
    convex = (d_l <= slope) & (slope <= d_r)
    concave = (d_l >= slope) & (slope >= d_r)
    fallback = MAXIMUM_CONTROL if prefer_shape else -np.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        r1 = np.where(np.abs(slope) >= _TINY, (d_r + d_l) / slope, fallback)
        spread = d_r - d_l
        right_gap = d_r - slope
        left_gap = slope - d_l
        r2_value = np.maximum(np.abs(spread / right_gap), np.abs(spread / left_gap))
    r1 = np.where(monotonic, r1, -np.inf)
    gaps_ok = (np.abs(left_gap) >= _TINY) & (np.abs(right_gap) >= _TINY)
    shaped = convex | concave
    r2 = np.where(shaped, np.where(gaps_ok, r2_value, fallback), -np.inf)
    r2 = np.where(~shaped & monotonic & prefer_shape, MAXIMUM_CONTROL, r2)
    result = np.maximum(MINIMUM_CONTROL, np.maximum(r1, r2))
    return np.where(monotonic | shaped, result, MINIMUM_CONTROL)
