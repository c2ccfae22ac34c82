"""Settlement currencies, expiry values and settlement PnL: golden values."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from qbtc.execution.ledger import Fill, Settlement, fills_frame, settlements_frame
from qbtc.execution.pnl import compute_positions
from qbtc.execution.settlements import settlement_from_venue
from qbtc.market.contracts import parse_option_symbol
from qbtc.market.settlement import expiry_value, venue_expiry_value
from qbtc.market.sim.option_trading import OptionFees, delivery_fee, option_fee
from qbtc.market.venue_settlements import binance_settlement

LINEAR_CALL = "BTC/USDT:USDT-260106-90000-C"
LINEAR_PUT = "BTC/USDT:USDT-260106-90000-P"
INVERSE_CALL = "BTC/USD:BTC-260106-90000-C"
OPEN = datetime(2026, 1, 5, 12, tzinfo=UTC)
EXPIRY = datetime(2026, 1, 6, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("symbol", "delivery", "usd", "paid"),
    [
        (LINEAR_CALL, 92_000.0, 2_000.0, 2_000.0),
        (LINEAR_CALL, 88_000.0, 0.0, 0.0),
        (LINEAR_PUT, 88_000.0, 2_000.0, 2_000.0),
        (LINEAR_PUT, 92_000.0, 0.0, 0.0),
        (INVERSE_CALL, 100_000.0, 10_000.0, 0.1),  # 10,000 USD paid as 0.1 BTC
    ],
)
def test_expiry_values(symbol: str, delivery: float, usd: float, paid: float) -> None:
    contract = parse_option_symbol(symbol)
    assert expiry_value(contract, delivery) == pytest.approx(usd)
    assert venue_expiry_value(contract, delivery) == pytest.approx(paid)


def test_a_coin_settlement_is_stored_in_usd() -> None:
    """A coin settlement (Binance's exercise record shape, a BTC fee): the delivery fee in
    BTC becomes USD at the delivery price."""
    row = binance_settlement(
        {
            "symbol": INVERSE_CALL,
            "price": 100_000.0,
            "timestamp": int(EXPIRY.timestamp() * 1000),
            "info": {"quantity": "2", "positionSide": "SHORT", "fee": "0.0003", "currency": "BTC"},
        }
    )
    settled = settlement_from_venue(row, portfolio_id="main", source="deribit")
    assert (settled.quantity, settled.settlement_price) == (-2.0, 10_000.0)
    assert (settled.fee, settled.fee_currency) == (pytest.approx(30.0), "USD")
    assert settled.settlement_id == f"{INVERSE_CALL}:{int(EXPIRY.timestamp() * 1000)}"


def test_option_fee_is_three_bps_of_the_index_capped_at_an_eighth_of_the_price() -> None:
    fees = OptionFees()
    # 0.03% of 90,000 = 27 USDT per contract, below 12.5% of a 600 premium (75)
    assert option_fee(2.0, 600.0, 90_000.0, fees) == pytest.approx(54.0)
    # a 100 USDT wing: the cap, 12.5 USDT per contract, binds
    assert option_fee(2.0, 100.0, 90_000.0, fees) == pytest.approx(25.0)


def test_delivery_fee_only_in_the_money_and_capped() -> None:
    fees = OptionFees()
    assert delivery_fee(2.0, 0.0, 90_000.0, fees) == 0.0
    assert delivery_fee(-2.0, 2_000.0, 90_000.0, fees) == pytest.approx(27.0)  # 13.5 each
    assert delivery_fee(2.0, 40.0, 90_000.0, fees) == pytest.approx(10.0)  # 12.5% of 40


def test_settlement_closes_the_position_and_realises_its_pnl() -> None:
    fills = fills_frame(
        [
            Fill("a", "v1", "main", LINEAR_CALL, OPEN, "buy", 2.0, 600.0, 54.0, fill_id="a:2"),
            Fill("b", "v2", "main", LINEAR_PUT, OPEN, "sell", 1.0, 500.0, 27.0, fill_id="b:1"),
        ]
    )
    settlements = settlements_frame(
        [
            Settlement("s1", "main", LINEAR_CALL, EXPIRY, 2.0, 92_000.0, 2_000.0, 27.6),
            Settlement("s2", "main", LINEAR_PUT, EXPIRY, -1.0, 92_000.0, 0.0, 0.0),
        ]
    )
    books = compute_positions(fills, settlements=settlements)
    call, put = books[LINEAR_CALL], books[LINEAR_PUT]
    assert (call.quantity, put.quantity) == (0.0, 0.0)
    assert call.realized_pnl == pytest.approx(2.0 * (2_000.0 - 600.0))  # 2,800
    assert call.fees == pytest.approx(54.0 + 27.6)
    assert put.realized_pnl == pytest.approx(500.0)  # the premium kept
    before = compute_positions(fills, settlements=settlements, until=OPEN)
    assert before[LINEAR_CALL].quantity == 2.0


def test_no_settlements_changes_nothing() -> None:
    fills = fills_frame(
        [Fill("a", "v1", "main", LINEAR_CALL, OPEN, "buy", 2.0, 600.0, 1.0, fill_id="a:2")]
    )
    empty = settlements_frame([])
    assert compute_positions(fills, settlements=empty) == compute_positions(fills)
    assert isinstance(empty, pl.DataFrame)
