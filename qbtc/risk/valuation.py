"""The book on the latest marks: positions and quotes to a :class:`~qbtc.risk.book.Book`.

Perps are valued at their ticker mark, options with Black-76 on their quote's forward
(``underlying_price``) and mark IV. The spot of an underlying is the mark of its perp (the
first of ``perp_symbols`` with that base), else the median forward of its option quotes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl

from qbtc.pricing import year_fraction
from qbtc.risk.book import Book, OptionLegs, PerpLegs
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
        booked = positions.select(
            (pl.col("realized_pnl") - pl.col("fees") + pl.col("funding")).sum()
        ).item()
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
    perp_rows = {r["symbol"]: r for r in marks.perps.iter_rows(named=True)}
    option_rows = {r["symbol"]: r for r in marks.options.iter_rows(named=True)}
    missing = [s for s in holdings if s not in perp_rows and s not in option_rows]
    if missing:
        raise MissingMarkError(
            f"no mark for held position(s) {sorted(missing)} at {marks.as_of.isoformat()}: "
            "check the ingest of tickers and option_quotes"
        )
    underlyings, spot = _spots(perp_symbols, holdings, perp_rows, option_rows)
    tradable = [s for s in perp_symbols if s in perp_rows] + [
        s for s in holdings if s not in perp_symbols
    ]
    instruments, prices, ages = {}, {}, {}
    for symbol in dict.fromkeys(tradable):
        row = perp_rows.get(symbol) or option_rows[symbol]
        instruments[symbol] = unit_book(symbol, row, underlyings, spot, marks.as_of)
        prices[symbol] = (
            float(row["mark"]) if symbol in perp_rows else float(row["underlying_price"])
        )
        ages[symbol] = (marks.as_of - row["timestamp"]).total_seconds()
    book = _combine(underlyings, spot, [(instruments[s], q) for s, q in sorted(holdings.items())])
    return ValuedBook(book, instruments, prices, ages, holdings)


def _spots(
    perp_symbols: list[str],
    holdings: Mapping[str, float],
    perp_rows: Mapping[str, dict],
    option_rows: Mapping[str, dict],
) -> tuple[tuple[str, ...], np.ndarray]:
    bases = [base_currency(s) for s in [*perp_symbols, *holdings]]
    underlyings = tuple(dict.fromkeys(bases))
    listed = set(perp_symbols)
    base_of = {s: base_currency(s) for s in perp_rows}
    spot = []
    for base in underlyings:
        perps = [r for s, r in perp_rows.items() if base_of[s] == base and s in listed]
        perps = perps or [r for s, r in perp_rows.items() if base_of[s] == base]
        forwards = [r["underlying_price"] for r in option_rows.values() if r["underlying"] == base]
        if perps:
            spot.append(float(perps[0]["mark"]))
        elif forwards:
            spot.append(float(np.median(forwards)))
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
    perp_legs = PerpLegs(
        symbols=tuple(p.symbols[0] for p, _ in perps),
        underlying=np.array([p.underlying[0] for p, _ in perps], dtype=np.int64),
        quantity=np.array([q for _, q in perps], dtype=np.float64),
        price=np.array([p.price[0] for p, _ in perps], dtype=np.float64),
    )

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
