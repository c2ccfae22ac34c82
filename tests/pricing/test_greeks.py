"""Greeks: golden values, finite differences (linear and inverse), parity, units."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbtc.pricing import black76_price, greeks

cases = st.tuples(
    st.floats(1000.0, 100_000.0),  # forward
    st.floats(-0.8, 0.8),  # ln(K/F)
    st.floats(7 / 365, 2.0),  # expiry
    st.floats(0.1, 2.0),  # vol
    st.booleans(),
    st.floats(0.9, 1.0),  # discount
    st.sampled_from(["linear", "inverse"]),
)


def test_golden_at_the_money_linear():
    # F = K = 100, T = 1, vol = 0.2: d1 = 0.1, d2 = -0.1.
    g = greeks(100.0, 100.0, 1.0, 0.2, True)
    assert g.price == pytest.approx(7.965567455405804, rel=1e-14)
    assert g.delta == pytest.approx(0.539827837277029, rel=1e-14)  # Φ(0.1)
    assert g.gamma == pytest.approx(0.01984762737385059, rel=1e-14)  # φ(0.1)/(100·0.2)
    assert g.vega == pytest.approx(39.69525474770118, rel=1e-14)  # 100·φ(0.1)
    assert g.theta == pytest.approx(-3.969525474770118, rel=1e-14)  # -100·φ(0.1)·0.2/2
    assert g.vanna == pytest.approx(0.1984762737385059, rel=1e-14)  # φ(0.1)·0.1/0.2
    assert g.volga == pytest.approx(-1.984762737385059, rel=1e-14)  # vega·d1·d2/vol
    assert g.vega_per_vol_point == pytest.approx(0.3969525474770118, rel=1e-14)
    assert g.theta_per_day == pytest.approx(-3.969525474770118 / 365, rel=1e-14)


def test_golden_at_the_money_inverse_is_deribit_coin_delta():
    g = greeks(100.0, 100.0, 1.0, 0.2, True, settlement="inverse")
    assert g.price == pytest.approx(0.07965567455405804, rel=1e-14)
    # Deribit's coin delta N(d1) - premium_in_coin equals F * dP/dF.
    assert 100.0 * g.delta == pytest.approx(0.539827837277029 - 0.07965567455405804, rel=1e-13)


def _price(forward, strike, expiry, vol, call, discount, settlement):
    return float(black76_price(forward, strike, expiry, vol, call, discount, settlement=settlement))


def _slope(fn, x, h):
    """Central first difference, Richardson-extrapolated (error O(h⁴))."""

    def central(step):
        return (fn(x + step) - fn(x - step)) / (2 * step)

    return (4 * central(h / 2) - central(h)) / 3


def _curvature(fn, x, h):
    """Central second difference, Richardson-extrapolated (error O(h⁴))."""

    def central(step):
        return (fn(x + step) - 2 * fn(x) + fn(x - step)) / step**2

    return (4 * central(h / 2) - central(h)) / 3


@given(cases)
def test_greeks_match_finite_differences(case):
    forward, moneyness, expiry, vol, call, discount, settlement = case
    strike = forward * np.exp(moneyness)
    g = greeks(forward, strike, expiry, vol, call, discount, settlement=settlement)
    rate = -np.log(discount) / expiry

    def p(f=forward, v=vol, t=expiry):
        return _price(f, strike, t, v, call, np.exp(-rate * t), settlement)

    # Steps small on the scale where d1 moves by O(1): h = ln(K/F)/s is the wing depth.
    total = vol * np.sqrt(expiry)
    depth = max(1.0, abs(moneyness) / total)
    hf, hv, ht = 5e-3 * forward * total / depth, 5e-3 * vol / depth**2, 5e-3 * expiry / depth**2
    delta = _slope(lambda f: p(f=f), forward, hf)
    gamma = _curvature(lambda f: p(f=f), forward, hf)
    vega = _slope(lambda v: p(v=v), vol, hv)
    volga = _curvature(lambda v: p(v=v), vol, hv)
    vanna = _slope(lambda f: _slope(lambda v: p(f=f, v=v), vol, hv), forward, hf)
    theta = -_slope(lambda t: p(t=t), expiry, ht)
    unit = forward if settlement == "linear" else 1.0
    # Absolute floors: rounding of the premium's terms (F·Φ(d1), K·Φ(d2)) amplified by the
    # differences.
    noise = 64 * np.finfo(float).eps * (forward + strike) * (unit / forward)
    assert g.delta == pytest.approx(delta, rel=1e-7, abs=noise / hf)
    assert g.gamma == pytest.approx(gamma, rel=1e-5, abs=noise / hf**2)
    assert g.vega == pytest.approx(vega, rel=1e-7, abs=noise / hv)
    assert g.volga == pytest.approx(volga, rel=1e-5, abs=noise / hv**2)
    assert g.vanna == pytest.approx(vanna, rel=1e-5, abs=noise / (hf * hv))
    assert g.theta == pytest.approx(theta, rel=1e-7, abs=noise / ht)


@given(cases)
def test_call_minus_put_delta_is_the_discount(case):
    forward, moneyness, expiry, vol, _, discount, _ = case
    strike = forward * np.exp(moneyness)
    calls = greeks(forward, strike, expiry, vol, True, discount)
    puts = greeks(forward, strike, expiry, vol, False, discount)
    assert calls.delta - puts.delta == pytest.approx(discount, abs=1e-14)
    assert calls.gamma == pytest.approx(puts.gamma, rel=1e-14)
    assert calls.vega == pytest.approx(puts.vega, rel=1e-14)


def test_inverse_greeks_follow_from_linear_by_the_product_rule():
    f, k = np.array([50_000.0, 50_000.0]), np.array([40_000.0, 65_000.0])
    lin = greeks(f, k, 0.3, 0.7, [True, False], 0.99)
    inv = greeks(f, k, 0.3, 0.7, [True, False], 0.99, settlement="inverse")
    np.testing.assert_allclose(inv.delta, lin.delta / f - lin.price / f**2, rtol=1e-12)
    np.testing.assert_allclose(
        inv.gamma, lin.gamma / f - 2 * lin.delta / f**2 + 2 * lin.price / f**3, rtol=1e-10
    )
    np.testing.assert_allclose(inv.vanna, lin.vanna / f - lin.vega / f**2, rtol=1e-12)
    np.testing.assert_allclose(inv.vega, lin.vega / f, rtol=1e-15)
    assert inv.settlement == "inverse"


def test_expired_and_zero_vol_give_limits_and_invalid_gives_nan():
    g = greeks(100.0, [90.0, 110.0, 100.0, -5.0], [0.0, 0.0, 0.5, 0.5], [0.5, 0.5, 0.0, 0.5], True)
    np.testing.assert_allclose(g.delta[:2], [1.0, 0.0])
    np.testing.assert_allclose(g.gamma[:3], 0.0)
    np.testing.assert_allclose(g.vega[:2], 0.0)
    np.testing.assert_allclose(g.theta[:3], 0.0)
    # At the money the vol-0 limits stay finite: vega -> F·φ(0)·√T, vanna -> φ(0)·√T/2.
    assert g.vega[2] == pytest.approx(100.0 * np.sqrt(0.5) / np.sqrt(2 * np.pi), rel=1e-14)
    assert g.vanna[2] == pytest.approx(np.sqrt(0.5) / 2 / np.sqrt(2 * np.pi), rel=1e-14)
    small = greeks(100.0, 100.0, 0.5, 1e-9, True)
    assert small.vanna == pytest.approx(g.vanna[2], rel=1e-8)
    assert np.isnan([g.price[3], g.delta[3], g.gamma[3], g.theta[3]]).all()
