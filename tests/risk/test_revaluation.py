from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr

from qbtc.risk import portfolio_greeks, stress_test
from qbtc.risk.revaluation import option_values, plan_revaluation, revalue
from qbtc.risk.stress import StressScenario
from tests.risk.books import option_book, perp_book, single_option

PDF_0125 = float(np.exp(-0.5 * 0.125**2) / np.sqrt(2 * np.pi))


def black_call(f: float, k: float, t: float, v: float) -> float:
    d1 = (np.log(f / k) + 0.5 * v * v * t) / (v * np.sqrt(t))
    return f * ndtr(d1) - k * ndtr(d1 - v * np.sqrt(t))


def pnl(book, r: float, dv: float = 0.0, horizon_days: float = 0.0) -> float:
    u = len(book.underlyings)
    shocks = np.full((1, u), r), np.full((1, u), dv)
    return float(revalue(plan_revaluation(book, horizon_days), *shocks)[0])


def test_no_move_no_time_no_pnl():
    assert pnl(option_book(), 0.0) == 0.0


def test_perps_are_repriced_linearly():
    assert pnl(perp_book(10.0, -100.0), 0.05) == pytest.approx(0.05 * (500_000 - 300_000))


def test_option_is_repriced_with_black76_golden_value():
    now = black_call(50_000, 50_000, 0.25, 0.5)
    assert now == pytest.approx(4_973.82, abs=0.01)  # ATM: F (2 N(s/2) - 1), s = 0.25
    after = black_call(55_000, 50_000, 0.25 - 1 / 365, 0.55)
    book = single_option(2.0)
    assert pnl(book, 0.10, 0.05, horizon_days=1.0) == pytest.approx(2 * (after - now), rel=1e-9)


def test_option_expiring_within_the_horizon_is_worth_its_intrinsic_value():
    book = single_option(1.0, strike=45_000.0, expiry=1 / 365, is_call=False)
    value_now = black_call(50_000, 45_000, 1 / 365, 0.5) - 5_000  # put by parity
    assert pnl(book, -0.2, horizon_days=2.0) == pytest.approx(5_000 - value_now, rel=1e-9)
    assert (
        option_values(np.array([90.0]), np.array([100.0]), 0.0, np.array([0.5]), np.array([True]))[
            0
        ]
        == 0.0
    )


def test_greeks_agree_with_finite_differences_of_the_revaluation():
    book = option_book()
    greeks = portfolio_greeks(book)
    h = 1e-4
    up, down = pnl(book, h), pnl(book, -h)
    assert greeks.delta_usd == pytest.approx((up - down) / (2 * h), rel=1e-5)
    assert greeks.gamma_usd == pytest.approx((up + down) / h**2 * 0.01, rel=1e-3)
    vega = (pnl(book, 0.0, 1e-5) - pnl(book, 0.0, -1e-5)) / 2e-5 * 0.01
    assert greeks.vega_usd == pytest.approx(vega, rel=1e-5)
    assert greeks.theta_usd == pytest.approx(pnl(book, 0.0, horizon_days=0.01) * 100, rel=1e-2)


def test_greeks_of_perps_golden_values():
    greeks = portfolio_greeks(perp_book(2.0, -10.0))
    btc, eth = greeks.by_underlying
    assert (btc.delta_coin, btc.delta_usd) == (2.0, 100_000.0)
    assert (eth.delta_coin, eth.delta_usd) == (-10.0, -30_000.0)
    assert greeks.delta_usd == 70_000.0
    assert (greeks.gamma_usd, greeks.vega_usd, greeks.theta_usd) == (0.0, 0.0, 0.0)


def test_atm_call_greeks_golden_values():
    # F = 50,000, T = 0.25, vol 0.5: d1 = 0.125
    greeks = portfolio_greeks(single_option(1.0)).by_underlying[0]
    assert greeks.delta_coin == pytest.approx(ndtr(0.125), rel=1e-9)
    dollar_gamma = PDF_0125 / (50_000 * 0.25) * 50_000**2 * 0.01
    assert greeks.gamma_usd == pytest.approx(dollar_gamma, rel=1e-9)
    assert greeks.vega_usd == pytest.approx(50_000 * PDF_0125 * 0.5 * 0.01, rel=1e-9)
    theta = -50_000 * PDF_0125 * 0.5 / (2 * 0.5) / 365
    assert greeks.theta_usd == pytest.approx(theta, rel=1e-9)


def test_standard_stress_scenarios():
    names = [r.name for r in stress_test(perp_book(1.0, 0.0))]
    assert names[:6] == [
        "spot -20%",
        "spot -10%",
        "spot +10%",
        "spot +20%",
        "vol -20 pts",
        "vol +20 pts",
    ]
    assert names[6].startswith("crash")
    results = {r.name: r.pnl for r in stress_test(perp_book(1.0, 0.0))}
    assert results["spot -10%"] == pytest.approx(-5_000.0)
    assert results["spot +20%"] == pytest.approx(10_000.0)
    assert results["vol +20 pts"] == 0.0


def test_long_put_gains_in_a_crash_and_vol_floor_holds():
    put = single_option(1.0, strike=50_000.0, is_call=False)
    crash = {r.name: r.pnl for r in stress_test(put)}
    assert crash["crash: spot -30%, vol +40 pts"] > 15_000 - 4_973.82
    floor = stress_test(put, (StressScenario("vol to floor", 0.0, -5.0),))[0]
    assert floor.pnl == pytest.approx(black_call(50_000, 50_000, 0.25, 0.01) - 4_973.82, abs=1)
