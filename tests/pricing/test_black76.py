"""Black-76 prices: golden values, parity, monotonicity, settlement, degenerate inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbtc.pricing import PricingInputError, black76_price

# (forward, strike, expiry, vol, is_call, discount) -> price, 40-digit reference (mpmath).
GOLDEN = [
    ((100.0, 100.0, 1.0, 0.2, True, 1.0), 7.965567455405804),
    ((100.0, 110.0, 0.5, 0.3, False, 0.98), 14.450770137188926),
    ((60000.0, 80000.0, 30 / 365, 0.65, True, 1.0), 341.0949478016892),
    ((60000.0, 40000.0, 7 / 365, 0.9, False, 0.999), 0.9249235594196233),
    ((100.0, 100.0, 1 / 365, 0.05, True, 1.0), 0.10440793685061494),
]

forwards = st.floats(100.0, 200_000.0)
log_moneyness = st.floats(-2.0, 2.0)
expiries = st.floats(1 / 365, 2.0)
vols = st.floats(0.05, 3.0)
discounts = st.floats(0.8, 1.0)


@pytest.mark.parametrize(("args", "expected"), GOLDEN)
def test_golden_prices(args, expected):
    assert black76_price(*args) == pytest.approx(expected, rel=1e-13)


@given(forwards, log_moneyness, expiries, vols, discounts)
def test_put_call_parity(forward, moneyness, expiry, vol, discount):
    strike = forward * np.exp(moneyness)
    call = black76_price(forward, strike, expiry, vol, True, discount)
    put = black76_price(forward, strike, expiry, vol, False, discount)
    scale = forward + strike
    assert call - put == pytest.approx(discount * (forward - strike), abs=1e-13 * scale)


@given(forwards, log_moneyness, expiries, st.booleans())
def test_price_rises_with_vol_between_its_bounds(forward, moneyness, expiry, is_call):
    strike = forward * np.exp(moneyness)
    vol = np.linspace(0.05, 3.0, 60)
    price = black76_price(forward, strike, expiry, vol, is_call)
    assert np.all(np.diff(price) >= 0)
    intrinsic = max(forward - strike, 0.0) if is_call else max(strike - forward, 0.0)
    upper = forward if is_call else strike
    assert np.all(price >= intrinsic - 1e-12 * upper)
    assert np.all(price <= upper)


@given(forwards, log_moneyness, expiries, vols, st.booleans())
def test_inverse_premium_is_linear_premium_over_forward(forward, moneyness, expiry, vol, call):
    strike = forward * np.exp(moneyness)
    linear = black76_price(forward, strike, expiry, vol, call)
    inverse = black76_price(forward, strike, expiry, vol, call, settlement="inverse")
    assert inverse == pytest.approx(linear / forward, rel=1e-15, abs=1e-300)


def test_broadcasting_and_kind_words():
    strikes = np.array([[90.0], [100.0], [110.0]])
    prices = black76_price(100.0, strikes, 0.25, [0.4, 0.5], ["call", "P"])
    assert prices.shape == (3, 2)
    assert prices[1, 0] == pytest.approx(black76_price(100.0, 100.0, 0.25, 0.4, True))
    assert prices[1, 1] == pytest.approx(black76_price(100.0, 100.0, 0.25, 0.5, False))


def test_no_time_or_no_vol_leaves_discounted_intrinsic():
    prices = black76_price(100.0, [90.0, 100.0, 110.0], [0.0, 0.0, 0.5], [0.5, 0.5, 0.0], True, 0.9)
    np.testing.assert_allclose(prices, [9.0, 0.0, 0.0], atol=1e-14)
    assert black76_price(100.0, 110.0, 0.0, 0.5, False) == pytest.approx(10.0)


def test_invalid_elements_are_nan_and_the_rest_priced():
    prices = black76_price([100.0, -1.0, 100.0, 100.0], 100.0, [1.0, 1.0, -1.0, 1.0], 0.2, True)
    assert np.isnan(prices[1:3]).all()
    assert prices[0] == pytest.approx(7.965567455405804, rel=1e-13)


def test_unclear_kinds_and_settlements_are_refused():
    with pytest.raises(PricingInputError, match="call"):
        black76_price(100.0, 100.0, 1.0, 0.2, ["call", "straddle"])
    with pytest.raises(PricingInputError, match="booleans"):
        black76_price(100.0, 100.0, 1.0, 0.2, -1)
    with pytest.raises(PricingInputError, match="settlement"):
        black76_price(100.0, 100.0, 1.0, 0.2, True, settlement="quanto")
    with pytest.raises(PricingInputError, match="broadcast"):
        black76_price([1.0, 2.0], [1.0, 2.0, 3.0], 1.0, 0.2, True)


def test_empty_inputs_give_empty_results():
    from qbtc.pricing import greeks, implied_vol

    empty, flags = np.array([]), np.array([], dtype=bool)
    assert black76_price(empty, empty, empty, empty, flags).shape == (0,)
    assert implied_vol(empty, empty, empty, empty, flags).shape == (0,)
    assert greeks(empty, empty, empty, empty, flags).delta.shape == (0,)
