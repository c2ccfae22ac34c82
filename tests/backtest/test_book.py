from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from qbtc.backtest.book import BarBook, simulate_targets
from qbtc.backtest.window import load_window
from qbtc.execution.intents import OrderIntent
from qbtc.execution.pnl import compute_positions
from qbtc.schemas import FILLS, FUNDING_RATES, TICKERS
from tests.backtest.helpers import MAX_GAP, config, run
from tests.backtest.lake import write_frames

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _intent(symbol: str, side: str, quantity: float, minute: int) -> OrderIntent:
    return OrderIntent(
        run_id="r",
        portfolio_id="main",
        strategy="qbtc",
        symbol=symbol,
        leg="perp",
        decision_bar=T0 + timedelta(minutes=minute),
        side=side,  # type: ignore[arg-type]
        quantity=quantity,
        notional=quantity * 100.0,
    )


def test_the_running_book_agrees_with_the_ledger_arithmetic_on_fills_and_funding():
    book = BarBook(capital=1_000.0, portfolio_id="main")
    trades = [
        ("A", "buy", 2.0, 100.0, 0),
        ("A", "sell", 3.0, 110.0, 60),
        ("B", "sell", 1.0, 50.0, 90),
    ]
    funding = [
        (T0 + timedelta(minutes=30), "A", 0.001, 105.0),
        (T0 + timedelta(minutes=120), "A", -0.002, None),
    ]
    fills = []
    for symbol, side, qty, price, minute in trades:
        at = T0 + timedelta(minutes=minute)
        book.settle_funding(
            [f for f in funding if f[0] <= at and f[0] > at - timedelta(minutes=60)]
        )
        made = book.fill(
            [_intent(symbol, side, qty, minute)],
            {symbol: price},
            at,
            fee_rate=0.001,
            slippage_bps=0,
        )
        fills += [
            {
                "fill_id": f.fill_id,
                "client_order_id": f.intent.client_order_id,
                "venue_order_id": "v",
                "portfolio_id": "main",
                "symbol": symbol,
                "timestamp": at,
                "side": side,
                "quantity": qty,
                "price": price,
                "fee": f.fee,
                "fee_currency": "USDT",
                "liquidity": "taker",
            }
            for f in made
        ]
    book.settle_funding([funding[1]])
    frame = pl.DataFrame(fills, schema=FILLS.schema)
    rates = pl.DataFrame(
        [
            {
                "symbol": s,
                "timestamp": t,
                "funding_rate": r,
                "mark_price": m,
                "index_price": None,
                "interval_hours": 8,
                "source": "test",
            }
            for t, s, r, m in funding
        ],
        schema=FUNDING_RATES.schema,
    )
    expected = compute_positions(frame, funding_rates=rates, marks={"A": 120.0, "B": 40.0})
    rows = book.positions({"A": 120.0, "B": 40.0}, T0 + timedelta(hours=3))
    for row in rows.iter_rows(named=True):
        pnl = expected[row["symbol"]]
        assert row["quantity"] == pytest.approx(pnl.quantity)
        assert row["realized_pnl"] == pytest.approx(pnl.realized_pnl)
        assert row["funding"] == pytest.approx(pnl.funding)
        assert row["fees"] == pytest.approx(pnl.fees)
        assert row["unrealized_pnl"] == pytest.approx(pnl.unrealized_pnl)


def test_the_vectorised_path_reproduces_the_backtests_equity(lake_dir: Path, sim_data):
    """Marks from bars, no funding: the equity of the loop equals a cash-shared vector path
    that trades to the same holdings at the same closes with the same fee."""
    frames = {**sim_data, "tickers": TICKERS.empty(), "funding_rates": FUNDING_RATES.empty()}
    write_frames(lake_dir, frames)
    cfg = config(fee_rate=0.0007)
    result = run(lake_dir, cfg)
    window = load_window(lake_dir, cfg, max_gap=MAX_GAP)
    stamps = [int((d.at - timedelta(minutes=1)).timestamp() * 1e6) for d in result.decisions]
    rows = np.searchsorted(window.times, stamps)
    equity = simulate_targets(
        window.closes, rows, np.array(result.holdings), fee_rate=0.0007, capital=cfg.initial_equity
    )
    assert result.fills
    assert equity[rows[-1]] == pytest.approx(result.final_equity, rel=1e-9)
