"""Positions and PnL from fills and funding: golden values and accounting identities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbtc.execution.pnl import compute_positions
from qbtc.schemas import FILLS, FUNDING_RATES

DAY = datetime(2026, 1, 5, tzinfo=UTC)


def fills(*rows: tuple[str, datetime, str, float, float, float]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "fill_id": f"f{i}",
                "client_order_id": f"o{i}",
                "venue_order_id": str(i),
                "portfolio_id": "main",
                "symbol": symbol,
                "timestamp": at,
                "side": side,
                "quantity": quantity,
                "price": price,
                "fee": fee,
                "fee_currency": "USDT",
                "liquidity": "taker",
            }
            for i, (symbol, at, side, quantity, price, fee) in enumerate(rows)
        ],
        schema=FILLS.schema,
    )


def funding(*rows: tuple[str, datetime, float, float]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "symbol": s,
                "timestamp": t,
                "funding_rate": r,
                "mark_price": m,
                "index_price": m,
                "source": "test",
            }
            for s, t, r, m in rows
        ],
        schema=FUNDING_RATES.schema,
    )


def at(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


def test_a_hand_computed_sequence_gives_the_exact_pnl() -> None:
    trades = fills(
        (BTC, at(1), "buy", 2.0, 100.0, 0.10),
        (BTC, at(3), "buy", 1.0, 130.0, 0.065),  # long 3 @ 110
        (ETH, at(8), "buy", 10.0, 50.0, 0.25),  # exactly at 08:00: after that settlement
        (BTC, at(9), "sell", 4.0, 125.0, 0.25),  # realise 3 x 15 = 45, short 1 @ 125
        (BTC, at(17), "buy", 0.5, 115.0, 0.02875),  # realise 0.5 x 10 = 5, short 0.5 @ 125
    )
    rates = funding(
        (BTC, at(8), 0.0001, 120.0),  # long 3 pays 3 x 120 x 0.0001 = 0.036
        (ETH, at(8), 0.001, 50.0),  # no ETH position before 08:00
        (BTC, at(16), -0.0002, 118.0),  # short 1 pays 1 x 118 x 0.0002 = 0.0236
        (ETH, at(16), 0.001, 52.0),  # long 10 pays 10 x 52 x 0.001 = 0.52
        (BTC, at(24), 0.01, 100.0),  # after `until`: not counted
    )
    books = compute_positions(
        trades, marks={BTC: 100.0, ETH: 55.0}, funding_rates=rates, until=at(20)
    )
    btc, eth = books[BTC], books[ETH]
    assert btc.quantity == pytest.approx(-0.5)
    assert btc.entry_price == pytest.approx(125.0)
    assert btc.realized_pnl == pytest.approx(50.0)
    assert btc.fees == pytest.approx(0.44375)
    assert btc.funding == pytest.approx(-0.0596)
    assert btc.unrealized_pnl == pytest.approx(12.5)
    assert btc.net_pnl == pytest.approx(61.99665)
    assert (eth.quantity, eth.entry_price, eth.realized_pnl) == (10.0, 50.0, 0.0)
    assert eth.fees == pytest.approx(0.25)
    assert eth.funding == pytest.approx(-0.52)
    assert eth.unrealized_pnl == pytest.approx(50.0)


def test_a_flat_position_has_no_entry_price_and_no_unrealised_pnl() -> None:
    books = compute_positions(
        fills((BTC, at(1), "buy", 1.0, 100.0, 0.0), (BTC, at(2), "sell", 1.0, 90.0, 0.0)),
        marks={BTC: 80.0},
    )
    assert (books[BTC].quantity, books[BTC].entry_price) == (0.0, 0.0)
    assert books[BTC].realized_pnl == pytest.approx(-10.0)
    assert books[BTC].unrealized_pnl == 0.0


def test_without_a_mark_the_open_quantity_is_not_valued() -> None:
    books = compute_positions(fills((BTC, at(1), "buy", 1.0, 100.0, 0.1)))
    assert books[BTC].mark_price is None
    assert books[BTC].unrealized_pnl == 0.0


def test_fills_after_until_do_not_count() -> None:
    both = fills((BTC, at(1), "buy", 1.0, 100.0, 0.1), (BTC, at(3), "buy", 2.0, 110.0, 0.1))
    books = compute_positions(both, until=at(2))
    assert books[BTC].quantity == 1.0


trade = st.tuples(
    st.sampled_from(["buy", "sell"]),
    st.integers(min_value=1, max_value=50).map(lambda n: n / 10),
    st.integers(min_value=50, max_value=150).map(float),
)


@given(st.lists(trade, min_size=1, max_size=25), st.integers(min_value=50, max_value=150))
def test_realised_plus_unrealised_is_the_cash_flow_plus_the_marked_position(
    trades: list[tuple[str, float, float]], mark: int
) -> None:
    frame = fills(*((BTC, at(i / 60), s, q, p, 0.0) for i, (s, q, p) in enumerate(trades)))
    book = compute_positions(frame, marks={BTC: float(mark)})[BTC]
    signed = [q if s == "buy" else -q for s, q, _ in trades]
    assert book.quantity == pytest.approx(sum(signed), abs=1e-9)
    cash = -sum(n * p for n, (_, _, p) in zip(signed, trades, strict=True))
    total = book.realized_pnl + book.unrealized_pnl
    assert total == pytest.approx(cash + book.quantity * mark, abs=1e-6)
