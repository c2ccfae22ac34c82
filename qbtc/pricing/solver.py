"""Normalised implied volatility: Jäckel's "Let's Be Rational" (2015), vectorised.

Solves ``b(x, s) = beta`` for the total volatility ``s = vol * sqrt(expiry)`` of an
out-of-the-money call (``x = ln(F/K) <= 0``, ``0 < beta < exp(x/2)``). The domain in ``beta``
splits at three points ``b_l < b_c < b_h`` into four branches, each with its own initial
guess (rational cubic interpolation, on transformed axes in the two outer branches) and its own
objective function, chosen so that two Householder(3) steps reach machine precision.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from qbtc.pricing.inputs import FloatArray
from qbtc.pricing.normalised import normalised_black_call, normalised_vega
from qbtc.pricing.rational import (
    control_for_left_curvature,
    control_for_right_curvature,
    rational_cubic,
)

ITERATIONS = 2
SQRT_THREE = 1.732050807568877293527446341505872366942805253810
TWO_PI = 6.283185307179586476925286766559005768394338798750
TWO_PI_OVER_SQRT_27 = 1.209199576156145233729385505094770488189377498728
PI_OVER_SIX = 0.523598775598298873077107230546583814032861566563
SQRT_PI_OVER_TWO = 1.253314137315500251207882642405522626503493370305
ONE_OVER_SQRT_TWO_PI = 0.3989422804014326779399460599343818684758586311649


def normalised_implied_vol(beta: FloatArray, x: FloatArray) -> FloatArray:
    """Total volatility ``s`` with ``b(x, s) = beta`` (1-d arrays, ``x <= 0``, beta in range)."""
    s = np.empty_like(beta)
    s_c = np.sqrt(-2.0 * x)
    b_c = normalised_black_call(x, s_c)
    v_c = normalised_vega(x, s_c)
    lower = beta < b_c
    _solve_part(s, lower, _solve_lower_half, beta, x, s_c, b_c, v_c)
    _solve_part(s, ~lower, _solve_upper_half, beta, x, s_c, b_c, v_c)
    return s


def _solve_part(out, mask, solve, *arrays) -> None:
    index = np.flatnonzero(mask)
    if index.size:
        out[index] = solve(*(a[index] for a in arrays))


def _solve_lower_half(beta, x, s_c, b_c, v_c):
    s_l = s_c - b_c / v_c
    b_l = normalised_black_call(x, s_l)
    s = np.empty_like(beta)
    lowest = beta < b_l
    _solve_part(s, lowest, _solve_lowest, beta, x, s_l, b_l)
    _solve_part(s, ~lowest, _solve_lower_middle, beta, x, s_l, b_l, s_c, b_c, v_c)
    return s


def _solve_upper_half(beta, x, s_c, b_c, v_c):
    b_max = np.exp(0.5 * x)
    s_h = np.where(v_c > 0, s_c + (b_max - b_c) / v_c, s_c)
    b_h = normalised_black_call(x, s_h)
    s = np.empty_like(beta)
    highest = beta > b_h
    _solve_part(s, highest, _solve_highest, beta, x, s_h, b_h, b_max)
    _solve_part(s, ~highest, _solve_upper_middle, beta, x, s_c, b_c, v_c, s_h, b_h)
    return s


def _solve_lowest(beta, x, s_l, b_l):
    f_l, fp_l, fpp_l = _lower_map(x, s_l)
    zero, one = np.zeros_like(beta), np.ones_like(beta)
    r = control_for_right_curvature(zero, b_l, zero, f_l, one, fp_l, fpp_l, True)
    f = rational_cubic(beta, zero, b_l, zero, f_l, one, fp_l, r)
    t = beta / b_l
    f = np.where(f > 0, f, (f_l * t + b_l * (1.0 - t)) * t)
    s = _inverse_lower_map(x, f)
    return _iterate(s, beta, x, zero, s_l, _lowest_step)


def _solve_lower_middle(beta, x, s_l, b_l, s_c, b_c, v_c):
    v_l = normalised_vega(x, s_l)
    r = control_for_right_curvature(b_l, b_c, s_l, s_c, 1.0 / v_l, 1.0 / v_c, 0.0, False)
    s = rational_cubic(beta, b_l, b_c, s_l, s_c, 1.0 / v_l, 1.0 / v_c, r)
    return _iterate(s, beta, x, s_l, s_c, _middle_step)


def _solve_upper_middle(beta, x, s_c, b_c, v_c, s_h, b_h):
    v_h = normalised_vega(x, s_h)
    r = control_for_left_curvature(b_c, b_h, s_c, s_h, 1.0 / v_c, 1.0 / v_h, 0.0, False)
    s = rational_cubic(beta, b_c, b_h, s_c, s_h, 1.0 / v_c, 1.0 / v_h, r)
    return _iterate(s, beta, x, s_c, s_h, _middle_step)


def _solve_highest(beta, x, s_h, b_h, b_max):
    f_h, fp_h, fpp_h = _upper_map(x, s_h)
    zero, half = np.zeros_like(beta), np.full_like(beta, -0.5)
    r = control_for_left_curvature(b_h, b_max, f_h, zero, fp_h, half, fpp_h, True)
    f = rational_cubic(beta, b_h, b_max, f_h, zero, fp_h, half, r)
    width = b_max - b_h
    t = (beta - b_h) / width
    quadratic = (f_h * (1.0 - t) + 0.5 * width * t) * (1.0 - t)
    f = np.where((f > 0) & np.isfinite(fpp_h), f, quadratic)
    s = -2.0 * special.ndtri(f)
    right = np.full_like(beta, np.inf)
    far = beta > 0.5 * b_max
    out = np.empty_like(beta)
    _solve_part(out, far, _iterate_highest, s, beta, x, s_h, right)
    _solve_part(out, ~far, _iterate_middle, s, beta, x, s_h, right)
    return out


def _iterate(s, beta, x, s_left, s_right, step):
    """Householder(3) steps; a step leaving the bracket restarts from its middle."""
    with np.errstate(all="ignore"):
        for iteration in range(ITERATIONS):
            if iteration:
                inside = (s > s_left) & (s < s_right)
                middle = np.where(np.isfinite(s_right), 0.5 * (s_left + s_right), 2.0 * s_left)
                s = np.where(inside, s, middle)
            b = normalised_black_call(x, s)
            vega = normalised_vega(x, s)
            ds = step(beta, x, s, b, vega)
            s = s + np.maximum(ds, -0.5 * s)
    return s


def _iterate_highest(s, beta, x, s_left, s_right):
    return _iterate(s, beta, x, s_left, s_right, _highest_step)


def _iterate_middle(s, beta, x, s_left, s_right):
    return _iterate(s, beta, x, s_left, s_right, _middle_step)


def _householder(newton, halley, hh3):
    return newton * (1.0 + 0.5 * halley * newton) / (1.0 + newton * (halley + hh3 * newton / 6.0))


def _black_ratios(x, s):
    """b''/b' and b'''/b' of the normalised Black function in s."""
    h_over_s = x / (s * s)
    halley = x * h_over_s / s - 0.25 * s
    hh3 = halley * halley - 3.0 * h_over_s * h_over_s - 0.25
    return halley, hh3


def _middle_step(beta, x, s, b, vega):
    """Objective g(s) = b(s) − beta."""
    halley, hh3 = _black_ratios(x, s)
    return _householder((beta - b) / vega, halley, hh3)


def _lowest_step(beta, x, s, b, vega):
    """Objective g(s) = 1/ln b(s) − 1/ln beta: nearly linear for tiny prices."""
    ln_b = np.log(b)
    ln_beta = np.log(beta)
    bpob = vega / b
    b_halley, b_hh3 = _black_ratios(x, s)
    newton = (ln_beta - ln_b) * ln_b / ln_beta / bpob
    factor = 1.0 + 2.0 / ln_b
    halley = b_halley - bpob * factor
    hh3 = (
        b_hh3
        + 2.0 * bpob * bpob * (1.0 + 3.0 / ln_b * (1.0 + 1.0 / ln_b))
        - 3.0 * b_halley * bpob * factor
    )
    ds = _householder(newton, halley, hh3)
    return np.where((b > 0) & (vega > 0), ds, 0.0)


def _highest_step(beta, x, s, b, vega):
    """Objective g(s) = ln((b_max − beta)/(b_max − b(s))): nearly linear near b_max."""
    b_max = np.exp(0.5 * x)
    gap = b_max - b
    g = np.log((b_max - beta) / gap)
    gp = vega / gap
    b_halley, b_hh3 = _black_ratios(x, s)
    ds = _householder(-g / gp, b_halley + gp, b_hh3 + gp * (2.0 * gp + 3.0 * b_halley))
    return np.where((gap > 0) & (vega > 0), ds, 0.0)


def _lower_map(x, s):
    """f(beta) = 2π/√27·|x|·Φ(−z)³ with z = |x|/(√3 s), and df/dbeta, d²f/dbeta² at s."""
    with np.errstate(all="ignore"):
        ax = np.abs(x)
        z = ax / (SQRT_THREE * s)
        y = z * z
        s2 = s * s
        big_phi = special.ndtr(-z)
        small_phi = ONE_OVER_SQRT_TWO_PI * np.exp(-0.5 * y)
        fpp = (
            PI_OVER_SIX
            * y
            / (s2 * s)
            * big_phi
            * (
                8.0 * SQRT_THREE * s * ax
                + (3.0 * s2 * (s2 - 8.0) - 8.0 * x * x) * big_phi / small_phi
            )
            * np.exp(2.0 * y + 0.25 * s2)
        )
        fp = TWO_PI * y * big_phi * big_phi * np.exp(y + 0.125 * s2)
        f = TWO_PI_OVER_SQRT_27 * ax * big_phi * big_phi * big_phi
    return f, fp, fpp


def _inverse_lower_map(x, f):
    with np.errstate(all="ignore"):
        ratio = np.cbrt(f / (TWO_PI_OVER_SQRT_27 * np.abs(x)))
        s = np.abs(x / (SQRT_THREE * special.ndtri(ratio)))
    return np.where(f > 0, s, 0.0)


def _upper_map(x, s):
    """f(beta) = Φ(−s/2), and df/dbeta, d²f/dbeta² at s."""
    with np.errstate(all="ignore"):
        f = special.ndtr(-0.5 * s)
        w = (x / s) ** 2
        fp = -0.5 * np.exp(0.5 * w)
        fpp = SQRT_PI_OVER_TWO * np.exp(w + 0.125 * s * s) * w / s
    return f, fp, fpp
