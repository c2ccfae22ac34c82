"""Jäckel's "Let's Be Rational" (2015), vectorised: the reference path of the solver.

Solves ``b(x, s) = beta`` for the total volatility ``s = vol * sqrt(expiry)`` of an
out-of-the-money call (``x = ln(F/K) <= 0``, ``0 < beta < exp(x/2)``). The domain in ``beta``
splits at three points ``b_l < b_c < b_h`` into four branches, each with its own initial
guess (``qbtc.pricing.guesses``) and its own objective function (``qbtc.pricing.householder``),
chosen so that two Householder(3) steps reach machine precision. Elements are partitioned by
branch with index arrays so that each one is only computed on its own branch.

``qbtc.pricing.solver`` uses this for the table of initial guesses, for the elements outside
that table, and for any element its fast path could not finish.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from qbtc.pricing.guesses import (
    control,
    inverse_lower_map,
    inverse_upper_map,
    lower_map,
    rational_cubic,
    upper_map,
)
from qbtc.pricing.householder import (
    black_and_vega,
    highest_step,
    iterate,
    lowest_step,
    middle_step,
)
from qbtc.pricing.inputs import FloatArray

SQRT_TWO_PI = 2.506628274631000502415765284811045253006986740610


def jaeckel_implied_vol(beta: FloatArray, x: FloatArray, b_max: FloatArray) -> FloatArray:
    """Total volatility ``s`` with ``b(x, s) = beta``.

    1-d arrays with ``x <= 0``, ``0 < beta < b_max`` and ``b_max = exp(x/2)``.
    """
    with np.errstate(all="ignore"):
        s_c = np.sqrt(-2.0 * x)
        # At s_c, h + t = 0: b_c = b_max/2 − Φ(−s_c)/b_max and b'(s_c) = b_max/√(2π).
        b_c = 0.5 * (b_max - special.erfc(np.sqrt(-x)) / b_max)
        lower = beta < b_c
        # The tangent at s_c meets b = 0 at s_l and b = b_max at s_h: the outer nodes.
        s_node = s_c + SQRT_TWO_PI * (np.where(lower, 0.0, b_max) - b_c) / b_max
        b_node, v_node = black_and_vega(x, s_node, b_max)
        outer = np.where(lower, beta < b_node, beta > b_node)
        s = np.empty_like(beta)
        arrays = (beta, x, b_max, s_node, b_node, v_node, s_c, b_c)
        _split(s, lower & outer, _solve_lowest, arrays)
        _split(s, lower & ~outer, _solve_lower_middle, arrays)
        _split(s, ~lower & ~outer, _solve_upper_middle, arrays)
        _split(s, ~lower & outer, _solve_highest, arrays)
    return s


def _split(out, mask, solve, arrays) -> None:
    """``out[mask] = solve(*(a[mask] for a in arrays))``, without copies when all are in."""
    index = np.flatnonzero(mask)
    if index.size == out.size:
        out[:] = solve(*arrays)
    elif index.size:
        out[index] = solve(*(a[index] for a in arrays))


def _solve_lowest(beta, x, b_max, s_l, b_l, v_l, s_c, b_c):
    # Interpolate f_lower(beta) between (0, 0) with slope 1 and (b_l, f_l), then invert it.
    f_l, fp_l, fpp_l = lower_map(x, s_l)
    slope = f_l / b_l
    r = control(0.5 * b_l * fpp_l + (fp_l - 1.0), fp_l - slope, 1.0, fp_l, slope, True)
    f = rational_cubic(beta, 0.0, b_l, 0.0, f_l, 1.0, fp_l, r)
    t = beta / b_l
    f = np.where(f > 0, f, (f_l * t + b_l * (1.0 - t)) * t)  # quadratic if the cubic fails
    s = inverse_lower_map(x, f)
    return iterate(s, np.log(beta), x, b_max, lowest_step, 0.0, s_l)


def _solve_lower_middle(beta, x, b_max, s_l, b_l, v_l, s_c, b_c):
    # Interpolate s(beta) between (b_l, s_l) and (b_c, s_c) with slopes 1/b'.
    width = b_c - b_l
    d_l, d_r = 1.0 / v_l, SQRT_TWO_PI / b_max
    slope = (s_c - s_l) / width
    r = control(d_r - d_l, d_r - slope, d_l, d_r, slope, False)
    s = rational_cubic(beta, b_l, width, s_l, s_c, d_l, d_r, r)
    return iterate(s, beta, x, b_max, middle_step, s_l, s_c)


def _solve_upper_middle(beta, x, b_max, s_h, b_h, v_h, s_c, b_c):
    width = b_h - b_c
    d_l, d_r = SQRT_TWO_PI / b_max, 1.0 / v_h
    slope = (s_h - s_c) / width
    r = control(d_r - d_l, slope - d_l, d_l, d_r, slope, False)
    s = rational_cubic(beta, b_c, width, s_c, s_h, d_l, d_r, r)
    return iterate(s, beta, x, b_max, middle_step, s_c, s_h)


def _solve_highest(beta, x, b_max, s_h, b_h, v_h, s_c, b_c):
    # Interpolate f_upper(beta) between (b_h, f_h) and (b_max, 0) with slope -1/2 there.
    f_h, fp_h, fpp_h = upper_map(x, s_h)
    width = b_max - b_h
    slope = -f_h / width
    r = control(0.5 * width * fpp_h + (-0.5 - fp_h), slope - fp_h, fp_h, -0.5, slope, True)
    f = rational_cubic(beta, b_h, width, f_h, 0.0, fp_h, -0.5, r)
    t = (beta - b_h) / width
    quadratic = (f_h * (1.0 - t) + 0.5 * width * t) * (1.0 - t)
    f = np.where((f > 0) & np.isfinite(fpp_h), f, quadratic)
    s = inverse_upper_map(f)
    out = np.empty_like(beta)
    far = beta > 0.5 * b_max  # the log objective pays off only close to b_max
    _split(out, far, _iterate_highest, (s, beta, x, b_max, s_h))
    _split(out, ~far, _iterate_upper, (s, beta, x, b_max, s_h))
    return out


def _iterate_highest(s, beta, x, b_max, s_h):
    return iterate(s, beta, x, b_max, highest_step, s_h, np.inf)


def _iterate_upper(s, beta, x, b_max, s_h):
    return iterate(s, beta, x, b_max, middle_step, s_h, np.inf)
