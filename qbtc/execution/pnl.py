"""Positions and PnL derived from fills and funding (pure functions, no IO).

Conventions (all money in USDT, linear USDT-margined contracts):

- quantity is signed (long > 0); the entry price is the average cost of the open quantity;
  adding to a position re-averages it, reducing it realises
  ``closed * (price - entry) * sign(position)``, and a trade through zero opens the
  remainder at the trade price;
- ``realized_pnl`` excludes fees and funding, which are reported apart: ``fees`` paid
  (positive = cost) and ``funding`` received (negative = paid);
- funding settled at time ``t`` applies to the position held just before ``t`` (fills with
  timestamp strictly before ``t``): a position of ``q`` receives ``-q * mark(t) * rate(t)``,
  so longs pay when the rate is positive;
- an option settled at expiry (a ``settlements`` row, not a fill) closes at its settlement
  price: it realises ``quantity * (settlement_price - entry)`` and its delivery fee counts
  with the fees;
- ``unrealized_pnl = quantity * (mark - entry_price)``;
- net PnL = realized + unrealized - fees + funding.

Amounts are in USD, the book's units (:mod:`qbtc.execution.venue_units`), whatever currency
the venue settles in. A coin-settled (inverse) option is also followed in its coin, the
currency its premiums, fees and settlement are paid in: each fill's coin price and fee are
its USD ones divided by the underlying price they were converted at (the fill's
``underlying_price``), a settlement's by its delivery price, and the same rules give
``entry_price_coin``, ``realized_pnl_coin`` and ``fees_coin``; :func:`coin_pnl` adds the
unrealised part at the mark. The coin figures are None for other instruments, and for an
inverse option with a fill whose conversion price is unknown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

import polars as pl

from qbtc.market.contracts import is_option_symbol, parse_option_symbol

_EPSILON = 1e-12


@dataclass(frozen=True)
class PositionPnl:
    """One symbol's position and PnL (USDT) at the given marks."""

    symbol: str
    quantity: float
    entry_price: float
    realized_pnl: float
    fees: float
    funding: float
    mark_price: float | None
    unrealized_pnl: float
    last_fill_at: datetime | None
    entry_price_coin: float | None = None
    realized_pnl_coin: float | None = None
    fees_coin: float | None = None

    @property
    def net_pnl(self) -> float:
        return self.realized_pnl + self.unrealized_pnl - self.fees + self.funding


@lru_cache(maxsize=4096)
def coin_currency(symbol: str) -> str | None:
    """The coin a coin-settled (inverse) option of ``symbol`` settles in; None otherwise."""
    if not is_option_symbol(symbol):
        return None
    contract = parse_option_symbol(symbol)
    return contract.settle if contract.settlement == "inverse" else None


def coin_pnl(position: PositionPnl, forward: float | None) -> float | None:
    """Net PnL of an inverse option in its coin: realised + unrealised - fees, the open
    quantity valued at the mark in coin (``mark_price / forward``, the forward the venue's
    coin mark was converted at). None for other instruments, and for an open position
    without a mark or forward."""
    if position.realized_pnl_coin is None or position.fees_coin is None:
        return None
    unrealised = 0.0
    if position.quantity != 0:
        if position.mark_price is None or not forward or position.entry_price_coin is None:
            return None
        mark = position.mark_price / forward
        unrealised = position.quantity * (mark - position.entry_price_coin)
    return position.realized_pnl_coin + unrealised - position.fees_coin


@dataclass
class PositionBook:
    """One symbol's running position: quantity, average entry, realised PnL, fees, funding."""

    quantity: float = 0.0
    entry_price: float = 0.0
    realized: float = 0.0
    fees: float = 0.0
    funding: float = 0.0
    last_price: float | None = None
    last_fill_at: datetime | None = None
    coin_entry_price: float = 0.0
    coin_realized: float = 0.0
    coin_fees: float = 0.0
    coin_known: bool = True

    def trade(
        self,
        signed: float,
        price: float,
        fee: float,
        at: datetime,
        *,
        in_coin: bool = False,
        coin_rate: float | None = None,
    ) -> None:
        """Apply a trade (USD price and fee); ``in_coin`` also follows it in coin at
        ``coin_rate`` USD per coin (unknown from the first trade without one)."""
        old = self.quantity
        self.entry_price, realized = _average_cost(old, self.entry_price, signed, price)
        self.realized += realized
        if in_coin and self.coin_known and coin_rate is not None and coin_rate > 0:
            coin_price = price / coin_rate
            self.coin_entry_price, realized = _average_cost(
                old, self.coin_entry_price, signed, coin_price
            )
            self.coin_realized += realized
            self.coin_fees += fee / coin_rate
        elif in_coin:
            self.coin_known = False
        self.quantity = old + signed
        if abs(self.quantity) <= _EPSILON * max(abs(old), abs(signed), 1.0):
            self.quantity, self.entry_price, self.coin_entry_price = 0.0, 0.0, 0.0
        self.fees += fee
        self.last_price, self.last_fill_at = price, at


def _average_cost(old: float, entry: float, signed: float, price: float) -> tuple[float, float]:
    """(new entry price, realised PnL) of trading ``signed`` at ``price`` against a position
    of ``old`` entered at ``entry``: average cost; a trade through zero opens the rest at
    ``price``."""
    if old == 0 or old * signed > 0:
        return (old * entry + signed * price) / (old + signed), 0.0
    closed = min(abs(signed), abs(old))
    realized = closed * (price - entry) * math.copysign(1.0, old)
    return (price if abs(signed) > abs(old) else entry), realized


def funding_events(
    funding_rates: pl.DataFrame | None,
) -> list[tuple[datetime, str, float, float | None]]:
    """Funding settlements (timestamp, symbol, rate, mark or index price) in time order."""
    if funding_rates is None or funding_rates.is_empty():
        return []
    frame = funding_rates.select(
        "timestamp",
        "symbol",
        "funding_rate",
        pl.coalesce("mark_price", "index_price").alias("mark"),
    ).sort("timestamp", "symbol")
    return [(t, s, float(r), m) for t, s, r, m in frame.iter_rows()]


def compute_positions(
    fills: pl.DataFrame,
    *,
    marks: Mapping[str, float] | None = None,
    funding_rates: pl.DataFrame | None = None,
    until: datetime | None = None,
    settlements: pl.DataFrame | None = None,
) -> dict[str, PositionPnl]:
    """Positions and PnL per symbol from ``fills`` (``fills`` schema) and funding.

    ``funding_rates`` has the ``funding_rates`` schema (rate a fraction per interval; the
    mark price, else the index price, else the last fill price values the position);
    only fills and settlements at or before ``until`` count. ``marks`` values the open quantity
    (a symbol without a mark has ``mark_price`` None and zero unrealised PnL).
    ``settlements`` (the ``settlements`` schema) close option positions at expiry.
    Fills and settlements are applied in (timestamp, id) order.
    """
    books: dict[str, PositionBook] = {}
    trades = trade_rows(fills, settlements)
    if until is not None:
        trades = trades.filter(pl.col("timestamp") <= until)
    funding = [f for f in funding_events(funding_rates) if until is None or f[0] <= until]
    fold_trades(books, trades, funding)
    return {
        symbol: position_pnl(symbol, book, (marks or {}).get(symbol))
        for symbol, book in books.items()
    }


def trade_rows(fills: pl.DataFrame, settlements: pl.DataFrame | None = None) -> pl.DataFrame:
    """Fills and settlements as trades (timestamp, symbol, side, quantity, price, fee, rate:
    the USD price of a coin-settled option's coin, key: the fill or settlement id), in the
    order they are applied: (timestamp, key)."""
    columns = ["timestamp", "symbol", "side", "quantity", "price", "fee", "rate", "key"]
    conversion = (
        pl.col("underlying_price")
        if "underlying_price" in fills.columns
        else pl.lit(None, dtype=pl.Float64)
    )
    keyed = fills.with_columns(pl.col("fill_id").alias("key"), conversion.alias("rate"))
    frames = [keyed.select(columns)]
    if settlements is not None and not settlements.is_empty():
        frames.append(_settlement_trades(settlements).select(columns))
    return pl.concat(frames).sort("timestamp", "key")


def fold_trades(
    books: dict[str, PositionBook],
    trades: pl.DataFrame,
    funding: list[tuple[datetime, str, float, float | None]],
) -> None:
    """Apply ``trades`` (:func:`trade_rows`, in order) and ``funding`` (:func:`funding_events`)
    to ``books`` in place: funding settled at ``t`` applies to the position held just before
    ``t`` (trades strictly before it)."""
    rows = trades.drop("key").iter_rows()
    pending = next(rows, None)
    for at, symbol, rate, mark in funding:
        while pending is not None and pending[0] < at:
            _apply(books, pending)
            pending = next(rows, None)
        book = books.get(symbol)
        if book is not None and book.quantity != 0:
            price = mark if mark is not None else book.last_price
            book.funding += -book.quantity * float(price or 0.0) * rate
    while pending is not None:
        _apply(books, pending)
        pending = next(rows, None)


def _settlement_trades(settlements: pl.DataFrame) -> pl.DataFrame:
    """Settlements as closing trades at the settlement price (the delivery fee as the fee)."""
    return settlements.select(
        "timestamp",
        "symbol",
        pl.when(pl.col("quantity") > 0).then(pl.lit("sell")).otherwise(pl.lit("buy")).alias("side"),
        pl.col("quantity").abs().alias("quantity"),
        pl.col("settlement_price").alias("price"),
        "fee",
        pl.col("delivery_price").alias("rate"),
        pl.col("settlement_id").alias("key"),
    )


def _apply(books: dict[str, PositionBook], row: tuple[Any, ...]) -> None:
    at, symbol, side, quantity, price, fee, rate = row
    signed = float(quantity) if side == "buy" else -float(quantity)
    book = books.setdefault(symbol, PositionBook())
    in_coin = coin_currency(symbol) is not None
    book.trade(signed, float(price), float(fee), at, in_coin=in_coin, coin_rate=rate)


def with_marks(
    books: Mapping[str, PositionPnl], marks: Mapping[str, float]
) -> dict[str, PositionPnl]:
    """``books`` valued at ``marks`` (as :func:`compute_positions` with ``marks`` would be),
    without a second pass over the fills."""
    out = {}
    for symbol, book in books.items():
        mark = marks.get(symbol)
        unrealised = book.quantity * (mark - book.entry_price) if mark is not None else 0.0
        out[symbol] = replace(
            book, mark_price=mark, unrealized_pnl=unrealised if book.quantity != 0 else 0.0
        )
    return out


def position_pnl(symbol: str, book: PositionBook, mark: float | None) -> PositionPnl:
    unrealised = book.quantity * (mark - book.entry_price) if mark is not None else 0.0
    return PositionPnl(
        symbol=symbol,
        quantity=book.quantity,
        entry_price=book.entry_price,
        realized_pnl=book.realized,
        fees=book.fees,
        funding=book.funding,
        mark_price=mark,
        unrealized_pnl=unrealised if book.quantity != 0 else 0.0,
        last_fill_at=book.last_fill_at,
        **_coin_figures(symbol, book),
    )


def _coin_figures(symbol: str, book: PositionBook) -> dict[str, float | None]:
    """The coin figures of an inverse option's book (None when unknown or not one)."""
    if coin_currency(symbol) is None or not book.coin_known:
        return {}
    return {
        "entry_price_coin": book.coin_entry_price,
        "realized_pnl_coin": book.coin_realized,
        "fees_coin": book.coin_fees,
    }
