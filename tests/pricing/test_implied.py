"""Implied vol: round trips to ~1e-12 across the domain, reason codes, settlement, shapes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbtc.pricing import (
    ImpliedVolReason,
    black76_price,
    greeks,
    implied_vol,
    implied_vol_with_reason,
)
from qbtc.pricing.normalised import normalised_black_call

EPS = np.finfo(np.float64).eps


def exact_price(forward, strike, expiry, vol, is_call, discount=1.0):
    """Premium to a few ulps everywhere: the out-of-the-money part from the normalised Black
    function (with its wing expansions) plus the intrinsic value in price space."""
    x = -np.abs(np.log(forward / strike))
    otm = np.sqrt(forward * strike) * normalised_black_call(x, vol * np.sqrt(expiry))
    intrinsic = np.maximum(np.where(is_call, forward - strike, strike - forward), 0.0)
    return discount * (intrinsic + otm)


def tolerance(forward, strike, expiry, vol, is_call, discount, price):
    """1e-12, or what a few ulps of the price allow where vega is negligible."""
    vega = greeks(forward, strike, expiry, vol, is_call, discount).vega
    with np.errstate(divide="ignore"):
        return 1e-12 + 16 * EPS * price / vega


@given(
    st.floats(1000.0, 200_000.0),  # forward
    st.floats(-3.0, 3.0),  # log-moneyness in units of vol·sqrt(T)
    st.floats(1 / 365, 2.0),  # expiry
    st.floats(0.05, 3.0),  # vol
    st.booleans(),
    st.floats(0.9, 1.0),  # discount
)
def test_round_trip_recovers_the_vol(forward, depth, expiry, vol, is_call, discount):
    strike = forward * np.exp(depth * vol * np.sqrt(expiry))
    price = exact_price(forward, strike, expiry, vol, is_call, discount)
    recovered = implied_vol(price, forward, strike, expiry, is_call, discount)
    allowed = tolerance(forward, strike, expiry, vol, is_call, discount, price)
    assert abs(recovered - vol) <= allowed


@given(
    st.floats(1000.0, 200_000.0),
    st.floats(-3.0, 3.0),
    st.floats(1 / 365, 2.0),
    st.floats(0.05, 3.0),
    st.booleans(),
    st.sampled_from(["linear", "inverse"]),
)
def test_round_trip_through_black76_price(forward, depth, expiry, vol, is_call, settlement):
    strike = forward * np.exp(depth * vol * np.sqrt(expiry))
    price = black76_price(forward, strike, expiry, vol, is_call, settlement=settlement)
    recovered = implied_vol(price, forward, strike, expiry, is_call, settlement=settlement)
    linear = price * forward if settlement == "inverse" else price
    vega = greeks(forward, strike, expiry, vol, is_call).vega
    # The fast kernel rounds at the scale of F·Φ(d1) and K·Φ(d2), not of the premium.
    allowed = 1e-12 + 64 * EPS * (forward + strike + linear) / vega
    assert abs(recovered - vol) <= allowed


def test_wings_and_short_expiries_on_a_grid():
    rng = np.random.default_rng(11)
    n = 20_000
    expiry = np.exp(rng.uniform(np.log(1 / 8760), np.log(2.0), n))  # one hour to two years
    vol = rng.uniform(0.05, 3.0, n)
    depth = rng.uniform(-8.0, 8.0, n)
    forward = 60_000.0
    strike = forward * np.exp(depth * vol * np.sqrt(expiry))
    is_call = strike >= forward  # out of the money: the prices the wings are quoted in
    price = exact_price(forward, strike, expiry, vol, is_call)
    recovered = implied_vol(price, forward, strike, expiry, is_call)
    error = np.abs(recovered - vol)
    assert np.all(error <= tolerance(forward, strike, expiry, vol, is_call, 1.0, price))
    assert error.max() <= 1e-12


def test_at_the_money_and_vector_shapes():
    vol = np.array([[0.05, 0.5], [1.0, 3.0]])
    price = exact_price(100.0, 100.0, 1 / 365, vol, True)
    recovered = implied_vol(price, 100.0, 100.0, 1 / 365, True)
    assert recovered.shape == (2, 2)
    np.testing.assert_allclose(recovered, vol, rtol=0, atol=1e-13)
    scalar = implied_vol(7.965567455405804, 100.0, 100.0, 1.0, True)
    assert isinstance(scalar, np.floating)
    assert scalar == pytest.approx(0.2, abs=1e-14)


def test_reason_codes_for_each_kind_of_unusable_price():
    cases = [
        # price, forward, strike, expiry, is_call -> reason
        ((5.0, 100.0, 100.0, 1.0, True), ImpliedVolReason.OK),
        ((9.0, 100.0, 90.0, 1.0, True), ImpliedVolReason.BELOW_INTRINSIC),
        ((5.0, 90.0, 100.0, 1.0, False), ImpliedVolReason.BELOW_INTRINSIC),
        ((100.0, 100.0, 90.0, 1.0, True), ImpliedVolReason.ABOVE_MAXIMUM),
        ((95.0, 100.0, 95.0, 1.0, False), ImpliedVolReason.ABOVE_MAXIMUM),
        ((5.0, -100.0, 100.0, 1.0, True), ImpliedVolReason.NON_POSITIVE_INPUT),
        ((5.0, 100.0, 0.0, 1.0, True), ImpliedVolReason.NON_POSITIVE_INPUT),
        ((-0.1, 100.0, 100.0, 1.0, True), ImpliedVolReason.NON_POSITIVE_INPUT),
        ((5.0, 100.0, 100.0, 0.0, True), ImpliedVolReason.EXPIRED),
        ((5.0, 100.0, 100.0, -0.1, True), ImpliedVolReason.EXPIRED),
        ((np.nan, 100.0, 100.0, 1.0, True), ImpliedVolReason.NOT_FINITE),
        ((5.0, 100.0, np.inf, 1.0, True), ImpliedVolReason.NOT_FINITE),
        ((10.0, 100.0, 90.0, 1.0, True), ImpliedVolReason.AT_INTRINSIC),
        ((0.0, 100.0, 120.0, 1.0, True), ImpliedVolReason.AT_INTRINSIC),
    ]
    columns = list(zip(*(args for args, _ in cases), strict=True))
    result = implied_vol_with_reason(*columns)
    assert result.reasons() == [reason for _, reason in cases]
    assert np.isnan(result.vol[1:]).all()
    assert np.isfinite(result.vol[0])
    assert result.reason.dtype == np.int8


def test_discount_is_removed_before_the_bounds():
    # 95 < F = 100 but above the discounted maximum 0.9 * 100 = 90.
    result = implied_vol_with_reason(95.0, 100.0, 100.0, 1.0, True, 0.9)
    assert result.reason == ImpliedVolReason.ABOVE_MAXIMUM
    price = black76_price(100.0, 100.0, 1.0, 0.7, True, 0.9)
    assert implied_vol(price, 100.0, 100.0, 1.0, True, 0.9) == pytest.approx(0.7, abs=1e-14)


def test_inverse_prices_in_coin_round_trip():
    forward = 65_000.0
    strikes = np.array([40_000.0, 60_000.0, 65_000.0, 90_000.0])
    coin = black76_price(
        forward, strikes, 14 / 365, 0.55, [False, False, True, True], settlement="inverse"
    )
    recovered = implied_vol(
        coin, forward, strikes, 14 / 365, [False, False, True, True], settlement="inverse"
    )
    np.testing.assert_allclose(recovered, 0.55, rtol=0, atol=1e-12)


def test_invalid_elements_in_a_long_array_leave_the_others_exact():
    # Longer than one chunk, with unusable prices scattered over several chunks.
    rng = np.random.default_rng(3)
    n = 30_000
    forward = np.full(n, 100.0)
    strike = 100.0 * np.exp(rng.uniform(-0.5, 0.5, n))
    expiry = rng.uniform(0.05, 2.0, n)
    vol = rng.uniform(0.2, 2.0, n)
    is_call = strike >= forward
    price = exact_price(forward, strike, expiry, vol, is_call)
    broken = {5: np.nan, 9_000: -1.0, 17_000: 1e9}
    for index, value in broken.items():
        price[index] = value
    expiry[25_000] = 0.0
    result = implied_vol_with_reason(price, forward, strike, expiry, is_call)
    assert result.reason[[5, 9_000, 17_000, 25_000]].tolist() == [5, 3, 2, 4]
    keep = np.ones(n, dtype=bool)
    keep[[5, 9_000, 17_000, 25_000]] = False
    assert (result.reason[keep] == 0).all()
    assert np.abs(result.vol[keep] - vol[keep]).max() <= 1e-12


def test_extreme_inputs_fall_back_to_the_jaeckel_path():
    # Far beyond the guess table: ln(F/K) = -40 (h = -27) and a price at 95 % of its maximum.
    strike = 100.0 * np.exp(40.0)
    price = exact_price(100.0, strike, 1.0, 1.5, True)
    assert 0 < price < 1e-140
    assert implied_vol(price, 100.0, strike, 1.0, True) == pytest.approx(1.5, abs=1e-10)
    high = exact_price(100.0, 100.0, 1.0, 4.0, True)
    assert high > 0.95 * 100.0
    assert implied_vol(high, 100.0, 100.0, 1.0, True) == pytest.approx(4.0, abs=1e-12)


def test_price_at_the_supremum_is_above_maximum_even_for_far_strikes():
    # K + (F - K) would round away F here; the bound is read exactly.
    strike = 100.0 * np.exp(40.0)
    result = implied_vol_with_reason([100.0, strike], 100.0, strike, 1.0, [True, False])
    assert result.reasons() == [ImpliedVolReason.ABOVE_MAXIMUM] * 2
