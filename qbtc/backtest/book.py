"""The backtest's book for ``bars`` fills: fills at the last close, funding at its timestamps.

Positions, PnL and funding use the ledger's own arithmetic
(:class:`qbtc.execution.pnl.PositionBook`, as :func:`~qbtc.execution.pnl.compute_positions`
applies it to stored fills) and the ``positions`` rows the live book writes
(:func:`qbtc.execution.positions.position_rows`), kept running in memory instead of being
recomputed from the whole ledger at every step.

:func:`simulate_targets` is the same step for a whole path of target positions at once
(what a vectorised peer such as vectorbt computes), used to check the book and to time it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl

from qbtc.execution.intents import OrderIntent
from qbtc.execution.pnl import PositionBook, position_pnl
from qbtc.execution.positions import position_rows
from qbtc.schemas import POSITIONS


@dataclass(frozen=True)
class SimFill:
    """One simulated fill (quantity positive, price and fee in USDT)."""

    intent: OrderIntent
    timestamp: datetime
    quantity: float
    price: float
    fee: float
    fill_id: str


def fill_price(side: str, close: float, slippage_bps: float) -> float:
    """The bar fill price: the close moved against the order by ``slippage_bps``."""
    slip = slippage_bps / 1e4
    return close * (1.0 + slip) if side == "buy" else close * (1.0 - slip)


class BarBook:
    """The running book of one backtest (USDT-margined linear perps)."""

    def __init__(self, *, capital: float, portfolio_id: str) -> None:
        self.capital = capital
        self.portfolio_id = portfolio_id
        self.books: dict[str, PositionBook] = {}

    def settle_funding(self, events: Sequence[tuple[datetime, str, float, float | None]]) -> float:
        """Apply funding settlements (time order); returns the funding received (USDT)."""
        received = 0.0
        for _, symbol, rate, mark in events:
            book = self.books.get(symbol)
            if book is not None and book.quantity != 0:
                price = mark if mark is not None else book.last_price
                amount = -book.quantity * float(price or 0.0) * rate
                book.funding += amount
                received += amount
        return received

    def fill(
        self,
        intents: Sequence[OrderIntent],
        closes: Mapping[str, float],
        at: datetime,
        *,
        fee_rate: float,
        slippage_bps: float,
    ) -> list[SimFill]:
        """Fill every intent in full at its symbol's last close (with slippage and fee)."""
        fills = []
        for intent in intents:
            price = fill_price(intent.side, closes[intent.symbol], slippage_bps)
            fee = intent.quantity * price * fee_rate
            signed = intent.quantity if intent.side == "buy" else -intent.quantity
            self.books.setdefault(intent.symbol, PositionBook()).trade(signed, price, fee, at)
            fills.append(
                SimFill(
                    intent,
                    at,
                    intent.quantity,
                    price,
                    fee,
                    f"{intent.client_order_id}:{intent.quantity:.12g}",
                )
            )
        return fills

    def positions(self, marks: Mapping[str, float], at: datetime) -> pl.DataFrame:
        """The ``positions`` rows of the book at ``at`` valued at ``marks``."""
        if not self.books:
            return POSITIONS.empty()
        pnl = {s: position_pnl(s, b, marks.get(s)) for s, b in self.books.items()}
        return position_rows(pnl, portfolio_id=self.portfolio_id, timestamp=at)


def book_equity(positions: pl.DataFrame, marks: Mapping[str, float], capital: float) -> float:
    """Equity (USDT) of a perp book as the risk stage values it: capital, realised PnL minus
    fees plus funding, and the open quantity at ``marks`` (see ``ValuedBook.equity``)."""
    if positions.is_empty():
        return capital
    booked = float((positions["realized_pnl"] - positions["fees"] + positions["funding"]).sum())
    unrealized = 0.0
    columns = (positions[name].to_list() for name in ("symbol", "quantity", "entry_price"))
    for symbol, quantity, entry in zip(*columns, strict=True):
        if quantity != 0:
            unrealized += quantity * (marks[symbol] - entry)
    return float(capital + booked + unrealized)


def simulate_targets(
    closes: np.ndarray,
    decision_rows: np.ndarray,
    targets: np.ndarray,
    *,
    fee_rate: float,
    capital: float,
) -> np.ndarray:
    """Equity (USDT) at every bar of a path that trades to ``targets`` at ``decision_rows``.

    ``closes`` is bars x symbols; ``targets[k]`` the positions (contracts) held from bar
    ``decision_rows[k]`` on, bought or sold at that bar's close with ``fee_rate`` of notional
    as fee (no slippage, no funding). Cash and marks as a cash-shared portfolio accounts them.
    """
    bars, symbols = closes.shape
    held = np.zeros((bars, symbols))
    cash = np.full(bars, float(capital))
    position = np.zeros(symbols)
    balance = float(capital)
    bounds = [*decision_rows.tolist(), bars]
    held[: bounds[0]] = 0.0
    for k in range(len(decision_rows)):
        row = bounds[k]
        price = closes[row]
        trade = targets[k] - position
        traded = trade != 0
        balance -= float(np.sum(trade[traded] * price[traded]))
        balance -= float(np.sum(np.abs(trade[traded] * price[traded]))) * fee_rate
        position = targets[k].copy()
        held[row : bounds[k + 1]] = position
        cash[row : bounds[k + 1]] = balance
    values = np.where(held != 0, held * np.nan_to_num(closes), 0.0)
    return cash + values.sum(axis=1)
