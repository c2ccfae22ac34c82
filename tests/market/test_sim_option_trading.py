"""The simulated venue's option rules: fills against the quote and its size, short margin."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import ccxt
import pytest

from qbtc.market.contracts import parse_option_symbol
from qbtc.market.sim import SimExchange
from qbtc.market.sim.option_trading import Touch, fillable, short_margin
from qbtc.market.sim.trading import SimTrading

AS_OF = datetime(2026, 1, 5, 12, tzinfo=UTC)
TOUCH = Touch(bid=100.0, ask=110.0, bid_size=2.0, ask_size=1.5, index=90_000.0)


@pytest.mark.parametrize(
    ("side", "limit", "remaining", "minutes", "expected"),
    [
        ("buy", 110.0, 1.0, 1.0, (1.0, 110.0)),  # marketable: at the ask
        ("buy", 120.0, 5.0, 1.0, (1.5, 110.0)),  # no more than the quoted size
        ("buy", 105.0, 1.0, 1.0, (0.0, 0.0)),  # below the ask: rests
        ("sell", 100.0, 5.0, 3.0, (5.0, 100.0)),  # three refreshes of 2 contracts
        ("sell", 101.0, 1.0, 1.0, (0.0, 0.0)),
        ("buy", None, 3.0, 1.0, (1.5, 110.0)),  # a market order takes the quoted size
    ],
)
def test_fills_against_the_quote_and_its_size(
    side: str, limit: float | None, remaining: float, minutes: float, expected: tuple
) -> None:
    assert fillable(side, limit, TOUCH, remaining, minutes) == expected


def test_no_bid_no_sale() -> None:
    empty = Touch(bid=None, ask=5.0, bid_size=0.0, ask_size=1.0, index=90_000.0)
    assert fillable("sell", None, empty, 1.0, 1.0) == (0.0, 0.0)


def test_short_option_margin_is_the_mark_plus_deribits_minimum() -> None:
    call = parse_option_symbol("BTC/USDT:USDT-260106-100000-C")
    # 10,000 out of the money at 90,000: max(13,500 - 10,000, 9,000) + mark 200
    assert short_margin(call, 200.0, 90_000.0) == pytest.approx(9_200.0)
    put = parse_option_symbol("BTC/USDT:USDT-260106-90000-P")
    assert short_margin(put, 1_500.0, 90_000.0) == pytest.approx(13_500.0 + 1_500.0)


def test_a_market_option_order_takes_the_quote_and_the_rest_expires(data_dir: Path) -> None:
    venue = SimExchange(
        seed=7, as_of=AS_OF, symbols=("BTC/USDT:USDT",), trading=SimTrading(data_dir)
    )
    symbol = next(s for s in venue.load_markets() if s.startswith("BTC/USDT:USDT-260106-"))
    ticker = venue.fetch_ticker(symbol)
    size = ticker["askVolume"]
    order = venue.create_order(symbol, "market", "buy", round(size + 1.0, 2), None, {})
    assert order["status"] == "expired"
    assert order["filled"] == pytest.approx(size)
    assert order["average"] == ticker["ask"]


def test_selling_more_options_than_the_margin_allows_is_refused(data_dir: Path) -> None:
    venue = SimExchange(
        seed=7, as_of=AS_OF, symbols=("BTC/USDT:USDT",), trading=SimTrading(data_dir)
    )
    symbol = next(s for s in venue.load_markets() if s.startswith("BTC/USDT:USDT-260106-"))
    with pytest.raises(ccxt.InsufficientFunds, match="-2019"):
        venue.create_order(symbol, "limit", "sell", 200.0, 5.0, {})
