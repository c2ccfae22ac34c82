"""Fetch market data from any :class:`~qbtc.market.protocol.Exchange` into lake-ready frames.

Each ``fetch_*_frame`` returns a polars frame with exactly the columns and types of its
dataset in :mod:`qbtc.schemas` (``ohlcv``, ``tickers``, ``funding_rates``, ``option_quotes``);
``source`` is the exchange id (:func:`source_of`: ``binanceusdm-testnet`` on a test environment). The ``*_to_frame`` functions do the same from ccxt-shaped
values already fetched (pure, no IO). Values the venue did not give stay null; the quality
gate decides what to do with such rows. Timestamps are ``Datetime("us", "UTC")``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl

from qbtc.market.options_frame import option_chain_to_frame
from qbtc.market.protocol import Exchange
from qbtc.market.venue import source_of
from qbtc.schemas import FUNDING_RATES, OHLCV, TICKERS, TS

__all__ = [
    "fetch_funding_frame",
    "fetch_ohlcv_frame",
    "fetch_option_chain_frame",
    "fetch_tickers_frame",
    "funding_to_frame",
    "ohlcv_to_frame",
    "option_chain_to_frame",
    "source_of",
    "tickers_to_frame",
    "timeframe_ms",
    "to_ms",
]

_UNIT_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_CANDLE_COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")


def timeframe_ms(timeframe: str) -> int:
    """Length of a ccxt timeframe (``1m``, ``4h``, ``1d``, ``1w``) in milliseconds."""
    try:
        amount, unit = int(timeframe[:-1]), timeframe[-1]
        return amount * _UNIT_MS[unit]
    except (ValueError, KeyError):
        raise ValueError(f"unknown timeframe {timeframe!r}; use e.g. 1m, 5m, 1h, 4h, 1d") from None


def to_ms(moment: datetime) -> int:
    """Unix milliseconds of a datetime (naive means UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1000)


def _ms_to_timestamp(column: str) -> pl.Expr:
    return pl.from_epoch(pl.col(column), time_unit="ms").cast(TS)


def _number(value: Any) -> float | None:
    """A float from a ccxt number or a venue's string; None for missing or NaN."""
    if value is None or value == "":
        return None
    number = float(value)
    return None if math.isnan(number) else number


# -- OHLCV -------------------------------------------------------------------------------------


def ohlcv_to_frame(
    candles: Sequence[Sequence[float]], *, symbol: str, timeframe: str, source: str
) -> pl.DataFrame:
    """ccxt candles ``[ms, open, high, low, close, volume]`` -> an ``ohlcv`` frame.

    Duplicated timestamps keep the last candle; rows come out sorted by timestamp.
    """
    schema = {"timestamp": pl.Int64, **{name: pl.Float64 for name in _CANDLE_COLUMNS[1:]}}
    raw = pl.DataFrame(list(candles), schema=schema, orient="row", strict=False)
    frame = raw.select(
        pl.lit(symbol, pl.String).alias("symbol"),
        pl.lit(timeframe, pl.String).alias("timeframe"),
        _ms_to_timestamp("timestamp").alias("timestamp"),
        *_CANDLE_COLUMNS[1:],
        pl.lit(source, pl.String).alias("source"),
    )
    frame = frame.unique(subset="timestamp", keep="last", maintain_order=True)
    return frame.sort("timestamp").select(list(OHLCV.columns))


def fetch_ohlcv_frame(
    exchange: Exchange,
    symbol: str,
    *,
    timeframe: str = "1m",
    since: datetime,
    until: datetime | None = None,
    page_limit: int = 1000,
) -> pl.DataFrame:
    """Closed bars of ``symbol`` opening in ``[since, until)``, paginated, as an ``ohlcv`` frame.

    Pages of ``page_limit`` candles are requested from ``since`` on, each starting after the
    last candle received, until ``until`` (default: the venue clock) or the last closed bar. A
    bar is kept only if it is closed at the venue clock (open time + timeframe <= now), so the
    bar in progress is never returned.
    """
    step = timeframe_ms(timeframe)
    now = exchange.milliseconds()
    stop = min(to_ms(until) if until is not None else now, now - step + 1)
    cursor = to_ms(since)
    candles: list[list[float]] = []
    while cursor < stop:  # the cursor strictly advances, so this ends
        page = exchange.fetch_ohlcv(symbol, timeframe, since=cursor, limit=page_limit)
        fresh = [c for c in page if cursor <= c[0] < stop]
        if not fresh:
            break
        candles.extend(fresh)
        cursor = int(fresh[-1][0]) + step
    return ohlcv_to_frame(candles, symbol=symbol, timeframe=timeframe, source=source_of(exchange))


# -- tickers -----------------------------------------------------------------------------------


def _ticker_row(symbol: str, ticker: Mapping[str, Any]) -> dict[str, Any]:
    info = ticker.get("info") or {}
    mark = ticker.get("markPrice") or info.get("markPrice")
    index = ticker.get("indexPrice") or info.get("indexPrice")
    return {
        "symbol": symbol,
        "bid": _number(ticker.get("bid")),
        "ask": _number(ticker.get("ask")),
        "last": _number(ticker.get("last")),
        "mark": _number(mark),
        "index": _number(index),
        "volume_24h": _number(ticker.get("baseVolume")),
        "quote_volume_24h": _number(ticker.get("quoteVolume")),
        "open_interest": _number(ticker.get("openInterest") or info.get("openInterest")),
    }


def tickers_to_frame(
    tickers: Mapping[str, Mapping[str, Any]], *, now: datetime, source: str
) -> pl.DataFrame:
    """ccxt tickers (symbol -> ticker) -> a ``tickers`` frame stamped ``now`` (one row each)."""
    rows = [_ticker_row(symbol, ticker) for symbol, ticker in sorted(tickers.items())]
    schema = {
        name: dtype
        for name, dtype in TICKERS.columns.items()
        if name not in {"timestamp", "source"}
    }
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    moment = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return frame.with_columns(
        pl.lit(moment).cast(TS).alias("timestamp"), pl.lit(source, pl.String).alias("source")
    ).select(list(TICKERS.columns))


def fetch_tickers_frame(
    exchange: Exchange, symbols: Iterable[str], *, now: datetime
) -> pl.DataFrame:
    """Tickers (top of book, last, mark, index, 24h volume) of ``symbols`` at ``now``."""
    wanted = list(symbols)
    tickers = exchange.fetch_tickers(wanted)
    return tickers_to_frame(
        {symbol: tickers[symbol] for symbol in wanted if symbol in tickers},
        now=now,
        source=source_of(exchange),
    )


# -- funding -----------------------------------------------------------------------------------


def funding_to_frame(entries: Iterable[Mapping[str, Any]], *, source: str) -> pl.DataFrame:
    """ccxt funding rate history entries -> a ``funding_rates`` frame (sorted, deduplicated)."""
    rows = []
    for entry in entries:
        info = entry.get("info") or {}
        rows.append(
            {
                "symbol": entry["symbol"],
                "timestamp": int(entry["timestamp"]),
                "funding_rate": _number(entry.get("fundingRate")),
                "mark_price": _number(entry.get("markPrice") or info.get("markPrice")),
                "index_price": _number(entry.get("indexPrice") or info.get("indexPrice")),
            }
        )
    schema = {
        "symbol": pl.String,
        "timestamp": pl.Int64,
        "funding_rate": pl.Float64,
        "mark_price": pl.Float64,
        "index_price": pl.Float64,
    }
    frame = pl.DataFrame(rows, schema=schema, orient="row").with_columns(
        _ms_to_timestamp("timestamp"), pl.lit(source, pl.String).alias("source")
    )
    frame = frame.unique(subset=["symbol", "timestamp"], keep="last", maintain_order=True)
    return frame.sort("symbol", "timestamp").select(list(FUNDING_RATES.columns))


def fetch_funding_frame(
    exchange: Exchange,
    symbol: str,
    *,
    since: datetime,
    until: datetime | None = None,
    page_limit: int = 1000,
) -> pl.DataFrame:
    """Funding settlements of ``symbol`` with ``since <= timestamp <= until``, paginated.

    ``until`` defaults to the venue clock; a settlement is at the end of its interval, so
    every row returned has been settled.
    """
    end = min(to_ms(until), exchange.milliseconds()) if until else exchange.milliseconds()
    cursor = to_ms(since)
    entries: list[dict[str, Any]] = []
    while cursor <= end:
        page = exchange.fetch_funding_rate_history(symbol, since=cursor, limit=page_limit)
        fresh = [e for e in page if cursor <= int(e["timestamp"]) <= end]
        if not fresh:
            break
        entries.extend(fresh)
        cursor = int(fresh[-1]["timestamp"]) + 1
    return funding_to_frame(entries, source=source_of(exchange))


# -- options -----------------------------------------------------------------------------------


def fetch_option_chain_frame(exchange: Exchange, underlying: str, *, now: datetime) -> pl.DataFrame:
    """The option chain of ``underlying`` (``BTC``) at ``now`` as an ``option_quotes`` frame."""
    chain = exchange.fetch_option_chain(underlying)
    return option_chain_to_frame(chain, underlying=underlying, now=now, source=source_of(exchange))
