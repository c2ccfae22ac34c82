"""The feature rows a decision is made on: one snapshot per cycle, identified by its content."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
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


def snapshot_id(perps: pl.DataFrame, options: pl.DataFrame) -> str:
    """Stable content hash of the snapshot rows (independent of polars' internal hashing)."""
    digest = hashlib.sha256()
    for frame in (perps, options):
        digest.update(json.dumps(frame.columns).encode())
        for row in frame.iter_rows():
            digest.update(json.dumps([_canonical(v) for v in row]).encode())
        digest.update(b"\x00")
    return digest.hexdigest()


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
