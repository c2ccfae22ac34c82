"""A table of initial guesses for the implied-volatility solver, read by bilinear interpolation.

Two Householder(3) steps on ``ln b`` (``qbtc.pricing.householder.log_step``) reach machine
precision from any guess within ~10 % of the answer, so the guess only needs to be cheap
and roughly right. Jäckel's guess needs four Φ evaluations and a partition of the elements;
this table needs two logarithms and four table reads, and is computed once per process from
the Jäckel path itself (~30 ms).

Coordinates are chosen scale-free: with ``m = beta + |x|``, for small ``m`` (the Bachelier
limit) ``s/m`` depends on ``|x|/beta`` only. So the table holds ``ln(s/m)`` on

    a = m / (1 + m)                       in [0, A_MAX]
    v = ln(1 + ln(1 + |x|/beta))          in [0, V_MAX]   (beta down to ~1e-300)

where the stored function is smooth (median error 1e-5, worst ~7 % at ``s ~ 6``). Above
``beta = P_UP · b_max`` (``s`` grows without bound as ``beta -> b_max``) or beyond ``A_MAX``
(``|x| > ~18``) the elements are reported as outside and get Jäckel's guess.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numpy.typing import NDArray

from qbtc.pricing.inputs import FloatArray

A_CELLS, V_CELLS = 127, 255
A_MAX, V_MAX = 0.95, 6.6
P_UP = 0.9
_A_SCALE = A_CELLS / A_MAX
_V_SCALE = V_CELLS / V_MAX


@cache
def _table() -> FloatArray:
    """ln(s/m) on the (a, v) nodes, flattened row-major (a major), built by the Jäckel path."""
    from qbtc.pricing.jaeckel import jaeckel_implied_vol

    a = np.maximum(np.linspace(0.0, A_MAX, A_CELLS + 1), 1e-7)  # a = 0 is the limit m -> 0
    v = np.linspace(0.0, V_MAX, V_CELLS + 1)
    grid_a, grid_v = np.meshgrid(a, v, indexing="ij")
    m = grid_a / (1.0 - grid_a)
    w = np.expm1(grid_v)  # ln(1 + |x|/beta)
    with np.errstate(over="ignore"):
        # beta = m/(1 + R) and |x| = m·R/(1 + R) with R = |x|/beta = e^w − 1.
        fraction = np.where(w > 30.0, np.exp(-w), 1.0 / (1.0 + np.expm1(w)))
    beta = m * fraction
    x = -m * (1.0 - fraction)
    b_max = np.exp(0.5 * x)
    beta = np.clip(beta, 1e-300, P_UP * b_max)  # nodes past the edge only steady the interpolation
    s = jaeckel_implied_vol(beta.ravel(), x.ravel(), b_max.ravel())
    return np.ascontiguousarray(np.log(s) - np.log(beta.ravel() - x.ravel()))


def table_guess(
    beta: FloatArray, x: FloatArray, b_max: FloatArray
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Guess of ``s`` for each element and a mask of the elements outside the table.

    The guess of an element outside the table is meaningless. Warnings must be silenced by
    the caller (``np.errstate``).
    """
    table = _table()
    m = beta - x
    a = m / (1.0 + m)
    v = np.log1p(np.log1p(-x / beta))
    outside = (a > A_MAX) | (beta > P_UP * b_max)
    fa = a * _A_SCALE
    fv = v * _V_SCALE
    np.clip(fa, 0.0, A_CELLS - 1e-9, out=fa)
    np.clip(fv, 0.0, V_CELLS - 1e-9, out=fv)
    ia = fa.astype(np.intp)
    iv = fv.astype(np.intp)
    fa -= ia
    fv -= iv
    k = ia * (V_CELLS + 1)
    k += iv
    low = table.take(k)
    high = table.take(k + (V_CELLS + 1))
    low += (table.take(k + 1) - low) * fv
    high += (table.take(k + (V_CELLS + 2)) - high) * fv
    low += (high - low) * fa
    guess = np.exp(low, out=low)
    guess *= m
    return guess, outside
