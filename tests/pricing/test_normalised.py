"""The normalised Black function against 40-digit reference values, region by region."""

from __future__ import annotations

import numpy as np
import pytest

from qbtc.pricing.normalised import normalised_black, normalised_black_call, normalised_vega

# (x, s) -> b(x, s), computed at 40 significant digits with mpmath.
REFERENCE = [
    ((-5.0, 0.25), 3.3985079188089021572e-91),  # far wing, asymptotic expansion
    ((-12.0, 0.5), 2.7981648649099245816e-129),
    ((-1.2, 0.1), 1.4587197790646221504e-35),
    ((-0.3, 0.02), 4.8518096706762589507e-54),
    ((-20.0, 1.5), 6.2396444621897882843e-42),
    ((-0.01, 0.1), 0.035077145834097829725),  # small t expansion
    ((0.0, 1e-3), 0.00039894226377883829287),
    ((-0.001, 0.3), 0.11873605708903154763),
    ((-1.0, 0.5), 0.0041423587506785749349),  # erfcx differences
    ((-0.5, 2.0), 0.46664622891935130748),  # plain Φ differences
]


@pytest.mark.parametrize(("point", "expected"), REFERENCE)
def test_normalised_black_call_matches_reference_to_a_few_ulps(point, expected):
    x, s = point
    value = normalised_black_call(np.array([x]), np.array([s]))[0]
    assert value == pytest.approx(expected, rel=2e-14, abs=0)


def test_small_t_expansion_loses_two_digits_at_the_far_wing_boundary():
    # a = 1 + h·Y(h) cancels like 1/h²: at h = -10 about two digits go (Jäckel 2015, §3).
    value = normalised_black_call(np.array([-2.0]), np.array([0.2]))[0]
    assert value == pytest.approx(1.4875954084044469621e-25, rel=1e-13, abs=0)


def test_regions_join_continuously():
    # Walk across each region boundary: neighbouring values differ only by the slope.
    s = np.linspace(0.3, 0.5, 2001)  # crosses t = τ ≈ 0.211 ... at s ≈ 0.42
    for x in (-0.05, -1.0, -4.5):
        b = normalised_black_call(np.full_like(s, x), s)
        ratio = b[1:] / b[:-1]
        assert np.all(np.diff(ratio) < 1e-9 + 1e-6 * np.abs(ratio[:-1]))


def test_zero_total_vol_is_worth_nothing_out_of_the_money():
    assert normalised_black_call(np.array([-0.5, 0.0]), np.array([0.0, 0.0])).tolist() == [0, 0]


def test_put_call_symmetry_and_intrinsic():
    x = np.array([-0.7, 0.0, 0.4])
    s = np.array([0.3, 0.3, 0.3])
    call = normalised_black(x, s, np.ones(3))
    put = normalised_black(x, s, -np.ones(3))
    parity = np.exp(x / 2) - np.exp(-x / 2)
    np.testing.assert_allclose(call - put, parity, rtol=0, atol=1e-15)


def test_normalised_vega_at_the_money_limit():
    assert normalised_vega(np.array([0.0]), np.array([0.0]))[0] == pytest.approx(
        1 / np.sqrt(2 * np.pi), rel=1e-15
    )
