"""Historical-simulation VaR: the book revalued on the moves the market made."""

from __future__ import annotations

import numpy as np
import pytest

from qbtc.risk.historical import MIN_SCENARIOS, historical_scenarios
from qbtc.risk.inputs import PriceHistory
from qbtc.risk.montecarlo import scenario_pnl
from qbtc.risk.var import var_historical
from tests.risk.books import perp_book

MINUTES_PER_YEAR = 525_600.0


def _prices(returns: np.ndarray) -> PriceHistory:
    """Closes of BTC and ETH perps whose one-bar returns are ``returns`` (shape (T, 2))."""
    closes = np.vstack([[40_000.0, 2_000.0], 1.0 + returns]).cumprod(axis=0)
    return PriceHistory(("BTC/USDT:USDT", "ETH/USDT:USDT"), closes, MINUTES_PER_YEAR)


def test_scenarios_are_past_returns_scaled_by_the_square_root_of_time():
    rng = np.random.default_rng(3)
    returns = rng.normal(0.0, 0.001, size=(500, 2))
    scenarios = historical_scenarios(_prices(returns), ("ETH", "BTC"), horizon_days=1.0)
    assert scenarios.underlyings == ("ETH", "BTC")
    assert scenarios.size == 500
    np.testing.assert_allclose(scenarios.spot_returns[:, 1], returns[:, 0] * np.sqrt(1440.0))
    np.testing.assert_allclose(scenarios.spot_returns[:, 0], returns[:, 1] * np.sqrt(1440.0))
    assert not scenarios.vol_shifts.any()


def test_a_linear_book_loses_its_exposure_times_the_past_move_quantile():
    rng = np.random.default_rng(4)
    returns = rng.standard_t(4, size=(2_000, 2)) * 0.0005
    prices = _prices(returns)
    book = perp_book(btc=10.0, eth=-100.0)
    scenarios = historical_scenarios(prices, book.underlyings, horizon_days=1.0)
    pnl = scenario_pnl(book, scenarios, "full")
    spot = dict(zip(book.underlyings, book.spot, strict=True))
    expected = (
        10.0 * spot["BTC"] * scenarios.spot_returns[:, book.underlyings.index("BTC")]
        - 100.0 * spot["ETH"] * scenarios.spot_returns[:, book.underlyings.index("ETH")]
    )
    np.testing.assert_allclose(pnl, expected, rtol=1e-9)
    assert var_historical(pnl, 0.99) > 0


def test_too_little_history_is_refused_not_made_up():
    returns = np.zeros((MIN_SCENARIOS - 1, 2))
    with pytest.raises(ValueError, match=f"at least {MIN_SCENARIOS} past returns"):
        historical_scenarios(_prices(returns), ("BTC",), horizon_days=1.0)
    with pytest.raises(ValueError, match="no perp price history"):
        historical_scenarios(_prices(np.zeros((200, 2))), ("SOL",), horizon_days=1.0)
