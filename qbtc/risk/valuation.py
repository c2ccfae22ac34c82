"""The book on the latest marks: positions and quotes to a :class:`~qbtc.risk.book.Book`.

Perps are valued at their ticker mark, options with Black-76 on their quote's forward
(``underlying_price``) and mark IV. The spot of an underlying is the mark of its perp (the
first of ``perp_symbols`` with that base), else the median forward of its option quotes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from qbtc.pricing import year_fraction
from qbtc.risk.book import NO_OPTIONS, NO_PERPS, Book, OptionLegs, PerpLegs, one_coin_perps
from qbtc.risk.inputs import Marks
from qbtc.risk.revaluation import option_values
from qbtc.symbols import base_currency


class MissingMarkError(ValueError):
    """A held position has no mark: the book cannot be valued."""


@dataclass(frozen=True)
class ValuedBook:
    """The book, one-coin books of every tradable symbol, their prices and mark ages (s)."""

    book: Book
    instruments: Mapping[str, Book]
    prices: Mapping[str, float]
    mark_age_s: Mapping[str, float]
    holdings: Mapping[str, float]

    def equity(self, capital: float, positions: pl.DataFrame) -> float:
        """``capital`` + realized - fees + funding of every position + unrealized at marks."""
        if positions.is_empty():
            return capital
        # the columns' own arithmetic and sum, not a query: a backtest values at every decision
        booked = float((positions["realized_pnl"] - positions["fees"] + positions["funding"]).sum())
        unrealized = 0.0
        for symbol, quantity, entry in _held(positions, "entry_price"):
            value = self.instruments[symbol]
            unit = value.perps.price[0] if value.perps.size else _unit_option_value(value)
            unrealized += quantity * (unit - entry)
        return float(capital + booked + unrealized)


def _held(positions: pl.DataFrame, *columns: str) -> list[tuple]:
    """``symbol, quantity, *columns`` of the positions held (quantity neither 0 nor null), in
    the frame's order; read from the columns, not through a polars query per cycle."""
    names = ("symbol", "quantity", *columns)
    rows = zip(*(positions[name].to_list() for name in names), strict=True)
    return [row for row in rows if row[1]]


def _unit_option_value(unit: Book) -> float:
    o = unit.options
    return float(option_values(o.forward, o.strike, o.expiry, o.vol, o.is_call)[0])


def value_book(positions: pl.DataFrame, marks: Marks, perp_symbols: list[str]) -> ValuedBook:
    """Build the book of ``positions`` (latest snapshots) on ``marks``.

    Tradable instruments are ``perp_symbols`` with a mark plus every held symbol.
    Raises :class:`MissingMarkError` when a held position has no mark.
    """
    holdings = {symbol: quantity for symbol, quantity in _held(positions)}
    # marks read by column, not row by row: a backtest values the book at every decision
    perp_marks = _by_symbol(marks.perps, "mark")
    perp_stamps = _by_symbol(marks.perps, "timestamp")
    options = _by_symbol(marks.options)
    missing = [s for s in holdings if s not in perp_marks and s not in options]
    if missing:
        raise MissingMarkError(
            f"no mark for held position(s) {sorted(missing)} at {marks.as_of.isoformat()}: "
            "check the ingest of tickers and option_quotes"
        )
    underlyings, spot = _spots(perp_symbols, holdings, perp_marks, _forwards(marks.options))
    tradable = [s for s in perp_symbols if s in perp_marks] + [
        s for s in holdings if s not in perp_symbols
    ]
    order = list(dict.fromkeys(tradable))
    perps = [s for s in order if s in perp_marks]
    position = {base: i for i, base in enumerate(underlyings)}
    books = dict(
        zip(
            perps,
            one_coin_perps(
                perps,
                [position[base_currency(s)] for s in perps],
                [float(perp_marks[s]) for s in perps],
                underlyings,
                spot,
            ),
            strict=True,
        )
    )
    instruments, prices, ages = {}, {}, {}
    for symbol in order:
        if symbol in books:
            instruments[symbol] = books[symbol]
            prices[symbol] = float(perp_marks[symbol])
            stamp = perp_stamps[symbol]
        else:
            row = marks.options.row(options[symbol], named=True)
            instruments[symbol] = unit_book(symbol, row, underlyings, spot, marks.as_of)
            prices[symbol] = float(row["underlying_price"])
            stamp = row["timestamp"]
        ages[symbol] = (marks.as_of - stamp).total_seconds()
    book = _combine(underlyings, spot, [(instruments[s], q) for s, q in sorted(holdings.items())])
    return ValuedBook(book, instruments, prices, ages, holdings)


def _by_symbol(frame: pl.DataFrame, column: str | None = None) -> dict[str, Any]:
    """Symbol -> the ``column`` value (None: the row index) of each symbol's last row."""
    if frame.is_empty():
        return {}
    symbols = frame["symbol"].to_list()
    values = range(len(symbols)) if column is None else frame[column].to_list()
    return dict(zip(symbols, values, strict=True))


def _forwards(options: pl.DataFrame) -> dict[str, list[float]]:
    """Underlying -> the forwards of its option quotes (the last row of each symbol)."""
    out: dict[str, list[float]] = {}
    rows = _by_symbol(options)
    if rows:
        underlying = options["underlying"].to_list()
        forward = options["underlying_price"].to_list()
        for i in rows.values():
            out.setdefault(underlying[i], []).append(forward[i])
    return out


def _spots(
    perp_symbols: list[str],
    holdings: Mapping[str, float],
    perp_marks: Mapping[str, float],
    forwards: Mapping[str, list[float]],
) -> tuple[tuple[str, ...], np.ndarray]:
    bases = [base_currency(s) for s in [*perp_symbols, *holdings]]
    underlyings = tuple(dict.fromkeys(bases))
    listed = set(perp_symbols)
    listed_mark: dict[str, float] = {}  # the first listed perp of each base, else the first
    any_mark: dict[str, float] = {}
    for symbol, mark in perp_marks.items():
        base = base_currency(symbol)
        any_mark.setdefault(base, mark)
        if symbol in listed:
            listed_mark.setdefault(base, mark)
    spot = []
    for base in underlyings:
        if base in listed_mark:
            spot.append(float(listed_mark[base]))
        elif base in any_mark:
            spot.append(float(any_mark[base]))
        elif forwards.get(base):
            spot.append(float(np.median(forwards[base])))
        else:
            raise MissingMarkError(f"no price for {base}: no perp ticker and no option quote")
    return underlyings, np.array(spot)


def unit_book(
    symbol: str, row: dict, underlyings: tuple[str, ...], spot: np.ndarray, as_of: datetime
) -> Book:
    """A book of one coin long of ``symbol`` from its ticker or option quote ``row``."""
    u = np.array([underlyings.index(base_currency(symbol))])
    one = np.ones(1)
    if "mark_iv" not in row:
        price = np.array([float(row["mark"])])
        return Book(underlyings, spot, PerpLegs((symbol,), u, one, price))
    years = max(float(year_fraction(as_of, row["expiry"])), 0.0)
    legs = OptionLegs(
        symbols=(symbol,),
        underlying=u,
        quantity=one,
        forward=np.array([float(row["underlying_price"])]),
        strike=np.array([float(row["strike"])]),
        expiry=np.array([years]),
        vol=np.array([float(row["mark_iv"])]),
        is_call=np.array([row["option_type"] == "call"]),
    )
    return Book(underlyings, spot, options=legs)


def _combine(
    underlyings: tuple[str, ...], spot: np.ndarray, legs: list[tuple[Book, float]]
) -> Book:
    """One book holding ``quantity`` of each one-coin book."""
    perps = [(b.perps, q) for b, q in legs if b.perps.size]
    opts = [(b.options, q) for b, q in legs if b.options.size]
    perp_legs = NO_PERPS  # the shared empty legs when none is held (not checked again)
    if perps:
        perp_legs = PerpLegs(
            symbols=tuple(p.symbols[0] for p, _ in perps),
            underlying=np.array([p.underlying[0] for p, _ in perps], dtype=np.int64),
            quantity=np.array([q for _, q in perps], dtype=np.float64),
            price=np.array([p.price[0] for p, _ in perps], dtype=np.float64),
        )
    if not opts:
        return Book(underlyings, spot, perp_legs, NO_OPTIONS)

    def column(name: str) -> np.ndarray:
        return np.array([getattr(o, name)[0] for o, _ in opts])

    option_legs = OptionLegs(
        symbols=tuple(o.symbols[0] for o, _ in opts),
        underlying=column("underlying").astype(np.int64),
        quantity=np.array([q for _, q in opts], dtype=np.float64),
        forward=column("forward").astype(np.float64),
        strike=column("strike").astype(np.float64),
        expiry=column("expiry").astype(np.float64),
        vol=column("vol").astype(np.float64),
        is_call=column("is_call").astype(bool),
    )
    return Book(underlyings, spot, perp_legs, option_legs)
