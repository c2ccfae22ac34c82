"""Householder(3) steps of the implied-volatility solver.

``log_step`` is the fast path (``qbtc.pricing.solver``): one code for every element, on
``ln b`` below ``s_c`` and ``ln(b_max − b)`` above it. ``middle_step``, ``lowest_step`` and
``highest_step`` are Jäckel's per-branch objectives (``qbtc.pricing.jaeckel``).

Each step needs ``b(x, s)`` and ``∂b/∂s`` at the current guess. They are evaluated from
``Φ`` (``erfc``) values: their rounding error, ~ε times the larger term, moves ``s`` by only
~ε/|h| in the wings and ~ε/b' near the money, so the vol comes out within ~1e-13 even for
one-hour expiries; ``b_max − b`` is summed without cancellation where it is the objective.
Where the terms would underflow (``h = x/s < −10``) the branch steps use the accurate
``normalised_black_call``.

Two steps are always taken (Jäckel 2015): from the initial guesses (relative error up to
~10 %) the first leaves ~1e-5, the second machine precision. The caller silences
floating-point warnings (``np.errstate``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import special

from qbtc.pricing.inputs import FloatArray
from qbtc.pricing.normalised import ETA, normalised_black_call

SQRT_HALF = 0.7071067811865475244008443621048490392848359376887
ONE_OVER_SQRT_TWO_PI = 0.3989422804014326779399460599343818684758586311649
STEPS = 2

Step = Callable[[FloatArray, FloatArray, FloatArray, FloatArray], FloatArray]


def iterate(
    s: FloatArray,
    beta: FloatArray,
    x: FloatArray,
    b_max: FloatArray,
    step: Step,
    s_low: FloatArray | float,
    s_high: FloatArray | float,
) -> FloatArray:
    """``STEPS`` Householder(3) steps from ``s``; a step that leaves the bracket restarts
    from its middle (only reachable for extreme inputs such as ``|x| > 500``)."""
    for iteration in range(STEPS):
        if iteration:
            outside = np.flatnonzero(~((s > s_low) & (s < s_high)))
            if outside.size:
                low = np.broadcast_to(s_low, s.shape)[outside]
                high = np.broadcast_to(s_high, s.shape)[outside]
                s[outside] = np.where(np.isfinite(high), 0.5 * (low + high), 2.0 * low)
        ds = step(s, beta, x, b_max)
        s = s + np.maximum(ds, -0.5 * s)
    return s


def black_and_vega(
    x: FloatArray, s: FloatArray, b_max: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """b(x, s) = b_max Φ(h+t) − Φ(h−t)/b_max and ∂b/∂s = exp(−(h²+t²)/2)/√(2π).

    With ``u = −h/√2`` and ``v = t/√2``: ``Φ(h ± t) = erfc(u ∓ v)/2``, ``h² + t² = 2(u² + v²)``.
    """
    u = x / s
    u *= -SQRT_HALF
    v = (0.5 * SQRT_HALF) * s
    b = b_max * special.erfc(u - v)
    b -= special.erfc(u + v) / b_max
    b *= 0.5
    u *= u
    u += v * v
    np.negative(u, out=u)
    vega = np.exp(u, out=u)
    vega *= ONE_OVER_SQRT_TWO_PI
    return b, vega


def _ratios(x: FloatArray, s: FloatArray) -> tuple[FloatArray, FloatArray]:
    """b''/b' = x²/s³ − s/4 and b'''/b' = (b''/b')² − 3x²/s⁴ − 1/4."""
    x_over_s2 = x / (s * s)
    halley = x * x_over_s2 / s - 0.25 * s
    x_over_s2 *= x_over_s2
    return halley, halley * halley - 3.0 * x_over_s2 - 0.25


def _householder(newton: FloatArray, halley: FloatArray, hh3: FloatArray) -> FloatArray:
    """The Householder(3) step, 0 where it is undefined. Overwrites ``halley`` and ``hh3``."""
    step = _householder_raw(newton, halley, hh3)
    if not np.isfinite(step).all():
        step[~np.isfinite(step)] = 0.0
    return step


def _householder_raw(newton: FloatArray, halley: FloatArray, hh3: FloatArray) -> FloatArray:
    """newton·(1 + halley·newton/2)/(1 + newton·(halley + hh3·newton/6)), NaN if undefined.

    Overwrites ``halley`` and ``hh3``.
    """
    hh3 *= newton
    hh3 *= 1.0 / 6.0
    hh3 += halley
    hh3 *= newton
    hh3 += 1.0
    halley *= newton
    halley *= 0.5
    halley += 1.0
    halley *= newton
    halley /= hh3
    return halley


def middle_step(s: FloatArray, beta: FloatArray, x: FloatArray, b_max: FloatArray) -> FloatArray:
    """Objective g(s) = b(s) − beta (the two middle branches)."""
    b, vega = black_and_vega(x, s, b_max)
    halley, hh3 = _ratios(x, s)
    return _householder((beta - b) / vega, halley, hh3)


def lowest_step(s: FloatArray, ln_beta: FloatArray, x: FloatArray, b_max: FloatArray) -> FloatArray:
    """Objective g(s) = 1/ln b(s) − 1/ln beta: close to linear for tiny prices.

    Takes ``ln beta`` rather than ``beta``.
    """
    b, vega = black_and_vega(x, s, b_max)
    far = np.flatnonzero(x < ETA * s)
    if far.size:
        b[far] = normalised_black_call(x[far], s[far])
    ln_b = np.log(b)
    bpob = vega / b
    b_halley, b_hh3 = _ratios(x, s)
    newton = (ln_beta - ln_b) * ln_b / (ln_beta * bpob)
    inverse_ln_b = 1.0 / ln_b
    factor = 1.0 + 2.0 * inverse_ln_b
    halley = b_halley - bpob * factor
    hh3 = b_hh3 + bpob * (
        2.0 * bpob * (1.0 + 3.0 * inverse_ln_b * (1.0 + inverse_ln_b)) - 3.0 * b_halley * factor
    )
    return _householder(newton, halley, hh3)


def highest_step(s: FloatArray, beta: FloatArray, x: FloatArray, b_max: FloatArray) -> FloatArray:
    """Objective g(s) = ln((b_max − beta)/(b_max − b(s))): close to linear near b_max."""
    u = x / s
    u *= -SQRT_HALF
    v = (0.5 * SQRT_HALF) * s
    gap = b_max * special.erfc(v - u)
    gap += special.erfc(u + v) / b_max
    gap *= 0.5
    vega = ONE_OVER_SQRT_TWO_PI * np.exp(-(u * u + v * v))
    g = np.log((b_max - beta) / gap)
    gp = vega / gap
    b_halley, b_hh3 = _ratios(x, s)
    return _householder(-g / gp, b_halley + gp, b_hh3 + gp * (2.0 * gp + 3.0 * b_halley))


def log_step(
    s: FloatArray,
    x: FloatArray,
    half_b_max: FloatArray,
    half_inv_b_max: FloatArray,
    mid: FloatArray,
    half_span: FloatArray,
) -> FloatArray:
    """One Householder(3) step for ``g(s) = ln Y(s) − ln Y*``, the same code for every element.

    Below ``s_c = sqrt(−2x)`` (``d = −(h + t)/√2 > 0``) ``Y = b`` and ``Y* = beta``; above it
    ``Y = b_max − b`` and ``Y* = b_max − beta``. Either is summed without cancellation from
    ``Φ(−|h + t|)`` and ``Φ(h − t)``, so ``ln Y`` has full precision. ``mid ± half_span`` are
    ``(ln beta + ln(b_max − beta))/2 ± (ln beta − ln(b_max − beta))/2``. Overwrites nothing.
    """
    u = x / s
    u *= -SQRT_HALF  # u = −h/√2 >= 0
    v = (0.5 * SQRT_HALF) * s  # v = t/√2
    d = u - v
    sign = np.copysign(1.0, d)
    y = special.erfc(np.abs(d, out=d))
    y *= half_b_max
    r = special.erfc(u + v)
    r *= half_inv_b_max
    r *= sign
    y -= r  # b (sign +1) or b_max − b (sign −1)
    u *= u
    u += v * v
    np.negative(u, out=u)
    q1 = np.exp(u, out=u)
    q1 *= sign * ONE_OVER_SQRT_TWO_PI
    q1 /= y  # Y'/Y = ±b'/Y
    g = np.log(y, out=y)
    g -= mid
    g -= sign * half_span
    # H = b''/b' = x²/s³ − s/4 and H' = −3x²/s⁴ − 1/4, so b'''/b' = H² + H'.
    x_over_s2 = x / (s * s)
    h_ratio = x_over_s2 * x / s - 0.25 * s
    h_prime = x_over_s2 * x_over_s2
    h_prime *= -3.0
    h_prime -= 0.25
    newton = g / q1
    np.negative(newton, out=newton)
    halley = h_ratio - q1
    hh3 = h_ratio - 3.0 * q1
    hh3 *= h_ratio
    hh3 += h_prime
    q1 *= q1
    q1 *= 2.0
    hh3 += q1
    ds = _householder_raw(newton, halley, hh3)
    ds = np.maximum(ds, -0.5 * s, out=ds)
    ds += s
    return ds
