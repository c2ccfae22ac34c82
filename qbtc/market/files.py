"""Import kline files in the Binance public data format (``data.binance.vision``).

A kline CSV has one bar per line: ``open_time, open, high, low, close, volume, close_time,
quote_volume, count, taker_buy_volume, taker_buy_quote_volume, ignore`` (only the first six
are required). Files may start with a header row or not; times are epoch milliseconds, or
microseconds (Binance spot data from 2025 on), told apart per value; a ``.zip`` holds one or
more such CSVs (read in name order). The bar length is read from ``close_time - open_time``,
or from the file name (``BTCUSDT-1m-2024-01.zip``) when there is no close time.

Values are parsed, never repaired: a ``NaN`` price stays NaN so that the quality gate
quarantines that row; only text that is not a number at all is a format error. Two things
are put right before the gate sees the rows, because neither loses information: lines that
are exact copies of another are collapsed into one (``duplicates`` counts the copies
dropped), and rows are sorted by open time (``reordered`` says whether the file was out of
order). Two different bars with the same open time stay: the gate quarantines both.

A spot symbol (``BTC/USDT``) is a market of its own, stored under that symbol, never under
the perpetual (``BTC/USDT:USDT``).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from qbtc.schemas import OHLCV

KLINE_COLUMNS = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "count",
    "taker_buy_volume",
    "taker_buy_quote_volume",
    "ignore",
)
_MICROSECONDS_FROM = 10**14
"""Epoch values at or above this are microseconds (10**14 ms is the year 5138)."""

_NAME_RE = re.compile(r"^(?P<market>[A-Z0-9]+)-(?P<timeframe>\d+[smhdwM])-", re.IGNORECASE)
_TIMEFRAMES = {60: "1m", 180: "3m", 300: "5m", 900: "15m", 1800: "30m", 3600: "1h"}
_TIMEFRAMES |= {7200: "2h", 14400: "4h", 21600: "6h", 28800: "8h", 43200: "12h", 86400: "1d"}
_TIMEFRAMES |= {3 * 86400: "3d", 7 * 86400: "1w"}


class KlineFileError(ValueError):
    """A file that is not a Binance kline CSV (or zip of them); nothing was imported."""


@dataclass(frozen=True)
class KlineFile:
    """A parsed kline file: OHLCV rows by open time, the bar length and the time unit;
    ``duplicates`` exact duplicate lines collapsed, ``reordered`` whether rows were sorted."""

    path: Path
    symbol: str
    timeframe: str
    frame: pl.DataFrame
    time_unit: str
    duplicates: int = 0
    reordered: bool = False


def _csv_payloads(path: Path) -> list[tuple[str, bytes]]:
    if not path.is_file():
        raise KlineFileError(f"{path}: no such file; pass the path of a kline .csv or .zip")
    if not zipfile.is_zipfile(path):
        return [(path.name, path.read_bytes())]
    with zipfile.ZipFile(path) as archive:
        names = sorted(n for n in archive.namelist() if n.lower().endswith(".csv"))
        if not names:
            raise KlineFileError(f"{path}: the zip holds no .csv file")
        return [(f"{path.name}:{name}", archive.read(name)) for name in names]


def _has_header(data: bytes) -> bool:
    first = data.lstrip()[:200].split(b"\n", 1)[0].split(b",", 1)[0].strip()
    return not first.lstrip(b"-").isdigit()


def _read_text_table(name: str, data: bytes) -> tuple[pl.DataFrame, int]:
    """Every field as text, named after :data:`KLINE_COLUMNS`; plus the header line count."""
    header = _has_header(data)
    try:
        raw = pl.read_csv(io.BytesIO(data), has_header=header, infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        raise KlineFileError(f"{name}: not a CSV file ({str(exc).splitlines()[0]})") from None
    if raw.width < 6:
        raise KlineFileError(
            f"{name}: {raw.width} column(s), a kline file has at least 6 "
            "(open_time, open, high, low, close, volume)"
        )
    raw = raw.select(raw.columns[: len(KLINE_COLUMNS)])
    return raw.rename(dict(zip(raw.columns, KLINE_COLUMNS, strict=False))), int(header)


def _cast(name: str, raw: pl.DataFrame, column: str, dtype: pl.DataType, offset: int) -> pl.Expr:
    """``column`` cast to ``dtype``; text that is no number raises with its line number."""
    text = pl.col(column).str.strip_chars()
    cast = text.cast(dtype, strict=False)
    broken = raw.select((text.is_not_null() & (text != "") & cast.is_null()).arg_true()).to_series()
    if broken.len():
        line = int(broken[0]) + 1 + offset
        value = raw[column][int(broken[0])]
        raise KlineFileError(f"{name} line {line}: {column} {value!r} is not a number")
    return cast.alias(column)


def _to_us(column: str) -> pl.Expr:
    value = pl.col(column)
    return pl.when(value >= _MICROSECONDS_FROM).then(value).otherwise(value * 1000)


def _timeframe(name: str, frame: pl.DataFrame) -> str:
    """Bar length from ``close_time - open_time`` (its most common value), else the name."""
    if "close_time_us" in frame.columns:
        spans = frame.select(
            ((pl.col("close_time_us") - pl.col("open_time_us") + 1) / 1e6).round().cast(pl.Int64)
        ).to_series()
        seconds = spans.drop_nulls().mode().sort()
        if seconds.len() and int(seconds[0]) in _TIMEFRAMES:
            return _TIMEFRAMES[int(seconds[0])]
    match = _NAME_RE.match(Path(name.split(":")[-1]).name)
    if match:
        return match.group("timeframe")
    raise KlineFileError(
        f"{name}: cannot tell the bar length (no close_time column, no '-1m-' in the name)"
    )


def _parse_one(name: str, data: bytes, symbol: str) -> tuple[pl.DataFrame, str, str]:
    raw, offset = _read_text_table(name, data)
    times = [c for c in ("open_time", "close_time") if c in raw.columns]
    numbers = [_cast(name, raw, c, pl.Int64(), offset) for c in times]
    numbers += [_cast(name, raw, c, pl.Float64(), offset) for c in KLINE_COLUMNS[1:6]]
    parsed = raw.select(numbers)
    if parsed["open_time"].null_count():
        line = int(parsed["open_time"].is_null().arg_true()[0]) + 1 + offset
        raise KlineFileError(f"{name} line {line}: open_time is missing")
    micro = parsed["open_time"] >= _MICROSECONDS_FROM
    unit = "us" if micro.all() else "ms" if not micro.any() else "mixed"
    parsed = parsed.with_columns(*(_to_us(c).alias(f"{c}_us") for c in times))
    timeframe = _timeframe(name, parsed)
    frame = parsed.select(
        pl.lit(symbol).alias("symbol"),
        pl.lit(timeframe).alias("timeframe"),
        pl.col("open_time_us").cast(pl.Datetime("us", "UTC")).alias("timestamp"),
        *KLINE_COLUMNS[1:6],
        pl.lit(f"file:{Path(name.split(':')[-1]).name}").alias("source"),
    )
    return frame, timeframe, unit


def check_file_symbol(path: Path, symbol: str) -> None:
    """Refuse a file whose Binance name (``ETHUSDT-1m-...``) names another market."""
    match = _NAME_RE.match(path.name)
    if not match:
        return
    market = match.group("market").upper()
    wanted = re.sub(r"[^A-Z0-9]", "", symbol.split(":", 1)[0].upper())
    if market != wanted:
        raise KlineFileError(
            f"{path.name} holds {market} klines but --symbol is {symbol}; pass the matching "
            "symbol (ccxt form, e.g. BTC/USDT:USDT for BTCUSDT)"
        )


def read_kline_file(path: Path | str, *, symbol: str) -> KlineFile:
    """Parse a Binance kline ``.csv`` or ``.zip`` into OHLCV rows of ``symbol`` by open time.

    Raises :class:`KlineFileError` when the file is not in that format (nothing is imported).
    The rows are not checked here: the quality gate does that.
    """
    path = Path(path)
    check_file_symbol(path, symbol)
    frames, timeframes, units = [], set(), set()
    for name, data in _csv_payloads(path):
        if not data.strip():
            continue
        frame, timeframe, unit = _parse_one(name, data, symbol)
        frames.append(frame)
        timeframes.add(timeframe)
        units.add(unit)
    if not frames:
        raise KlineFileError(f"{path}: the file is empty")
    if len(timeframes) > 1:
        raise KlineFileError(f"{path}: files of several bar lengths {sorted(timeframes)}")
    frame = pl.concat(frames).select(OHLCV.schema.names())
    values = [c for c in frame.columns if c != "source"]  # a zip's members differ in source
    distinct = frame.unique(subset=values, keep="first", maintain_order=True)
    ordered = distinct.sort("timestamp", maintain_order=True, nulls_last=True)
    reordered = not ordered["timestamp"].equals(distinct["timestamp"])
    unit = units.pop() if len(units) == 1 else "mixed"
    duplicates = frame.height - distinct.height
    return KlineFile(path, symbol, timeframes.pop(), ordered, unit, duplicates, reordered)
