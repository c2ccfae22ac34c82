from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from qbtc.lake import write_dataset
from qbtc.portfolio.flatten import flatten_intents, open_positions
from qbtc.schemas import POSITIONS
from tests.risk.lake import position

BAR = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)


def _position(symbol: str, quantity: float, mark: float, at: datetime) -> dict:
    return position(symbol, quantity, mark, timestamp=at)


def test_flatten_closes_every_open_position_with_reduce_only_orders(lake_dir):
    earlier = datetime(2026, 1, 7, 11, 0, tzinfo=UTC)
    rows = [
        _position("BTC/USDT:USDT", 1.0, 90_000.0, earlier),
        _position("BTC/USDT:USDT", 0.5, 91_000.0, BAR),  # latest snapshot wins
        _position("ETH/USDT:USDT", -3.0, 3_000.0, BAR),
        _position("SOL/USDT:USDT", 0.0, 150.0, BAR),  # already flat
    ]
    write_dataset(lake_dir, POSITIONS, pl.DataFrame(rows, schema=POSITIONS.schema))
    book = open_positions(lake_dir, "main")
    assert book["symbol"].to_list() == ["BTC/USDT:USDT", "ETH/USDT:USDT"]
    intents = flatten_intents(book, run_id="r", portfolio_id="main", decision_bar=BAR)
    got = {(i.symbol, i.side, i.quantity, i.reduce_only, i.status) for i in intents}
    assert got == {
        ("BTC/USDT:USDT", "sell", 0.5, True, "accepted"),
        ("ETH/USDT:USDT", "buy", 3.0, True, "accepted"),
    }
    again = flatten_intents(book, run_id="r2", portfolio_id="main", decision_bar=BAR)
    assert [i.client_order_id for i in again] == [i.client_order_id for i in intents]


def test_an_empty_book_needs_no_order(lake_dir):
    assert open_positions(lake_dir, "main").is_empty()
