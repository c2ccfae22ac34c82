"""The feature rows a decision is made on: one snapshot per cycle, identified by its content."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import polars as pl

from qbtc.features.bars import BAR
from qbtc.lake import scan_dataset
from qbtc.schemas import FEATURES, OPTION_FEATURES
from qbtc.symbols import base_currency

DEFAULT_LOOKBACK = timedelta(days=1)


class FeaturesNotFoundError(LookupError):
    """No feature rows for the requested symbols at or before ``as_of``."""


@dataclass(frozen=True)
class FeatureSnapshot:
    """Feature rows of one decision.

    Attributes
    ----------
    snapshot_id
        SHA-256 (hex) of the rows' content (columns, values, order): equal rows give an
        equal id across runs, processes and machines.
    timestamp
        The decision bar: the latest bar (open time, UTC) among ``perps``.
    perps
        ``features`` rows, one per symbol, at the symbol's last bar closed at ``as_of``.
    options
        ``option_features`` rows (every expiry) of the latest chain snapshot at or before
        ``as_of`` of each underlying of the symbols; may be empty.
    """

    snapshot_id: str
    timestamp: datetime
    perps: pl.DataFrame
    options: pl.DataFrame


def _canonical(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)  # round-trips exactly; also covers nan and inf
    return value


# The canonical text of a row is ``json.dumps([_canonical(v) for v in row])``: its values'
# JSON texts joined by ", " inside brackets. :func:`canonical_lines` writes those texts a
# column at a time in polars (a backtest hashes ~175,000 rows a year) and leaves to the
# per-value form above whatever polars would write differently.

_UTC_NAMES = (None, "UTC", "Etc/UTC")
#: JSON strings that need no escape: printable ASCII other than the quote and the backslash.
_NEEDS_ESCAPE = r"[^\x20\x21\x23-\x5b\x5d-\x7e]"
#: Stands for a null until the lines are joined (no JSON text holds a raw NUL).
_NULL = "\x00"


def _python_texts(column: pl.Series) -> pl.Series:
    """Each value's JSON text as the per-row form writes it (the general path)."""
    return pl.Series([json.dumps(_canonical(v)) for v in column.to_list()], dtype=pl.String)


def _float_texts(column: pl.Series) -> pl.Series:
    """``repr`` of each float. Polars writes the same shortest round-trip digits in the same
    form from 1e-4 up (tested); below 1e-4 (``1.5e-05``, not ``0.000015``) and NaN are
    written by ``repr`` itself."""
    values = column.cast(pl.Float64)
    texts = values.cast(pl.String)
    odd = ((values.abs() < 1e-4) & (values != 0.0) | values.is_nan()).fill_null(False)
    where = odd.arg_true()
    if where.len():
        texts = texts.scatter(where, list(map(repr, values.gather(where).to_list())))
    return texts


def _datetime_texts(column: pl.Series) -> pl.Series | None:
    """``isoformat()`` of each datetime, or None when polars cannot write it the same way
    (another time zone, nanoseconds, a year outside 1000-9999)."""
    dtype = column.dtype
    assert isinstance(dtype, pl.Datetime)
    if dtype.time_unit == "ns" or dtype.time_zone not in _UTC_NAMES:
        return None
    years = column.dt.year().drop_nulls()
    if years.len() and not 1000 <= years.min() <= years.max() <= 9999:  # type: ignore[operator]
        return None
    value = pl.col("v")
    micros = value.dt.microsecond()
    fraction = (
        pl.when(micros == 0).then(pl.lit("")).otherwise("." + micros.cast(pl.String).str.zfill(6))
    )
    offset = "" if dtype.time_zone is None else "+00:00"
    text = pl.format("{}{}" + offset, value.dt.strftime("%Y-%m-%dT%H:%M:%S"), fraction)
    return pl.DataFrame({"v": column}).select(text).to_series()


def _texts(column: pl.Series) -> tuple[pl.Series, bool]:
    """Each value's JSON text, as ``json.dumps(_canonical(v))`` writes it, and whether it is
    still to be quoted (nulls are :data:`_NULL`)."""
    dtype = column.dtype
    if dtype in (pl.Float64, pl.Float32):
        return _float_texts(column).fill_null(_NULL), True
    if dtype.is_integer() or dtype == pl.Boolean:  # polars writes JSON's 12, true, false
        return column.cast(pl.String).fill_null(_NULL), False
    if dtype == pl.String and not column.str.contains(_NEEDS_ESCAPE).any():
        return column.fill_null(_NULL), True
    if isinstance(dtype, pl.Datetime) and (texts := _datetime_texts(column)) is not None:
        return texts.fill_null(_NULL), True
    return _python_texts(column), False


def canonical_lines(frame: pl.DataFrame) -> list[str]:
    """The canonical text of each row of ``frame`` (what :func:`snapshot_id` hashes)."""
    if frame.width == 0 or frame.height == 0:
        return []
    texts, template = {}, []
    for i in range(frame.width):
        texts[f"c{i}"], quoted = _texts(frame.to_series(i))
        template.append('"{}"' if quoted else "{}")
    line = pl.format("[" + ", ".join(template) + "]", *texts)
    line = line.str.replace_all(f'"{_NULL}"', "null", literal=True)
    line = line.str.replace_all(_NULL, "null", literal=True)
    return pl.DataFrame(texts).select(line).to_series().to_list()


@lru_cache(maxsize=64)
def _header(columns: tuple[str, ...]) -> bytes:
    """The columns' canonical text (a backtest hashes the same columns at every decision)."""
    return json.dumps(list(columns)).encode()


def content_id(*parts: tuple[Sequence[str], Sequence[str]]) -> str:
    """SHA-256 (hex) of frames given as (columns, :func:`canonical_lines`), in order."""
    digest = hashlib.sha256()
    for columns, lines in parts:
        digest.update(_header(tuple(columns)))
        digest.update("".join(lines).encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def snapshot_id(perps: pl.DataFrame, options: pl.DataFrame) -> str:
    """Stable content hash of the snapshot rows (independent of polars' internal hashing)."""
    return content_id(
        (perps.columns, canonical_lines(perps)), (options.columns, canonical_lines(options))
    )


def _latest_rows(frame: pl.LazyFrame, key: str) -> pl.LazyFrame:
    return frame.filter(pl.col("timestamp") == pl.col("timestamp").max().over(key))


def latest_snapshot(
    lake_dir: Path,
    symbols: Sequence[str],
    as_of: datetime,
    *,
    lookback: timedelta = DEFAULT_LOOKBACK,
) -> FeatureSnapshot:
    """The latest features of ``symbols`` known at ``as_of`` (no look-ahead).

    A bar is used only once closed: its open time + 1 minute <= ``as_of``. Option features
    are known at their snapshot ``timestamp`` <= ``as_of``. Rows older than ``lookback``
    before ``as_of`` are ignored (a symbol without a recent row is left out).

    Raises
    ------
    ValueError
        ``as_of`` is naive or ``symbols`` is empty.
    FeaturesNotFoundError
        None of the symbols has a feature row in that window.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC), e.g. datetime(..., tzinfo=UTC)")
    if not symbols:
        raise ValueError("latest_snapshot needs at least one symbol")
    last_bar = as_of - BAR
    rows = scan_dataset(
        lake_dir, FEATURES, symbols=list(symbols), start=as_of - lookback, end=last_bar
    )
    perps = _latest_rows(rows, "symbol").sort("symbol").collect()
    if perps.height == 0:
        raise FeaturesNotFoundError(
            f"no features for {', '.join(symbols)} between {as_of - lookback:%Y-%m-%d %H:%M} "
            f"and {as_of:%Y-%m-%d %H:%M} UTC in {lake_dir}: run `qbtc ingest` and the features "
            "flow first"
        )
    underlyings = sorted({base_currency(symbol) for symbol in symbols})
    chains = scan_dataset(lake_dir, OPTION_FEATURES, start=as_of - lookback, end=as_of)
    chains = chains.filter(pl.col("underlying").is_in(underlyings))
    options = _latest_rows(chains, "underlying").sort(*OPTION_FEATURES.primary_key).collect()
    return FeatureSnapshot(
        snapshot_id=snapshot_id(perps, options),
        timestamp=perps.get_column("timestamp").max(),  # type: ignore[arg-type]
        perps=perps,
        options=options,
    )
