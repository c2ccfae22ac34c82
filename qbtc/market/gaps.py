"""Which bars a run must fetch: the back-fill, the incremental tail and the gaps.

A run covers ``[as_of - days, last closed bar]``, on the timeframe grid. A bar counts as
present when it is stored clean, or quarantined for its values (a deterministic venue would
send the same bad bar again, and refetching it every run would fail every small batch);
bars refused for transient reasons (not closed yet, duplicated or out of order in a batch)
are fetched again. Everything else in the window is missing: all of it on a first run (the
back-fill), the bars after the last stored one (incremental), holes in between (gaps).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import polars as pl

from qbtc.lake import scan_dataset
from qbtc.quality import timeframe_step
from qbtc.schemas import FUNDING_RATES, OHLCV, QUARANTINE

TRANSIENT_REASONS = frozenset({"bar_not_closed", "duplicate_key", "out_of_order"})
"""Quarantine reasons that say nothing about a bar's values: such bars are fetched again."""


@dataclass(frozen=True)
class Window:
    """Bars of ``symbol`` opening in ``[start, end)`` to fetch; ``kind`` says why."""

    symbol: str
    start: datetime
    end: datetime
    kind: str  # backfill | incremental | gap

    def bars(self, step: timedelta) -> int:
        return (self.end - self.start) // step


@dataclass(frozen=True)
class IngestPlan:
    """What a run fetches, decided from the lake before any request is sent."""

    symbols: tuple[str, ...]
    timeframe: str
    as_of: datetime
    window_start: datetime
    windows: tuple[Window, ...]
    funding_since: Mapping[str, datetime]
    latest_stored: Mapping[str, datetime]
    reference: pl.DataFrame = field(repr=False)

    @property
    def step(self) -> timedelta:
        return timeframe_step(self.timeframe)

    def window_counts(self) -> dict[str, int]:
        counts = {"backfill": 0, "incremental": 0, "gap": 0}
        for window in self.windows:
            counts[window.kind] += window.bars(self.step)
        return counts


def _floor(moment: datetime, step: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((moment - epoch) // step) * step


def _known_bars(
    lake_dir: Path, symbols: Sequence[str], timeframe: str, start: datetime
) -> pl.DataFrame:
    """``symbol, timestamp`` of bars stored clean or quarantined for their values."""
    stored = scan_dataset(lake_dir, OHLCV, symbols=list(symbols), start=start)
    stored = stored.filter(pl.col("timeframe") == timeframe).select("symbol", "timestamp")
    bad = scan_dataset(lake_dir, QUARANTINE, start=start).filter(pl.col("dataset") == OHLCV.name)
    key = pl.col("row_key").str.split("|")
    reasons = pl.col("reasons").str.split(";")
    bad = bad.filter(
        (key.list.get(1, null_on_oob=True) == timeframe)
        & (reasons.list.set_difference(list(TRANSIENT_REASONS)).list.len() > 0)
    ).select(key.list.get(0).alias("symbol"), "timestamp")
    bad = bad.filter(pl.col("symbol").is_in(list(symbols)))
    return pl.concat([stored, bad]).unique().sort("symbol", "timestamp").collect()


def missing_windows(
    known: pl.DataFrame, symbols: Sequence[str], *, start: datetime, end: datetime, step: timedelta
) -> list[Window]:
    """Ranges of ``[start, end)`` where ``known`` (``symbol, timestamp``) has no bar."""
    windows: list[Window] = []
    for symbol in symbols:
        stored = known.filter(pl.col("symbol") == symbol)["timestamp"]
        times = stored.filter((stored >= start) & (stored < end)).unique().sort().to_list()
        if not times:
            windows.append(Window(symbol, start, end, "backfill"))
            continue
        edges = [start - step, *times, end]
        for before, after in pairwise(edges):
            if after - before > step:
                kind = "incremental" if after == end else "gap"
                windows.append(Window(symbol, before + step, after, kind))
    return windows


def plan_ingest(
    lake_dir: Path, symbols: Sequence[str], *, timeframe: str, days: int, as_of: datetime
) -> IngestPlan:
    """Decide which bars and funding settlements to fetch for a run at ``as_of``."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    step = timeframe_step(timeframe)
    end = _floor(as_of, step)  # exclusive: the bar opening at `end` is still in progress
    start = _floor(as_of - timedelta(days=days), step)
    known = _known_bars(lake_dir, symbols, timeframe, start)
    reference = (
        scan_dataset(lake_dir, OHLCV, symbols=list(symbols), start=start)
        .filter(pl.col("timeframe") == timeframe)
        .collect()
    )
    latest = dict(reference.group_by("symbol").agg(pl.col("timestamp").max()).iter_rows())
    stored_funding = scan_dataset(lake_dir, FUNDING_RATES, symbols=list(symbols), start=start)
    last_funding = dict(
        stored_funding.group_by("symbol").agg(pl.col("timestamp").max()).collect().iter_rows()
    )
    funding_since = {
        s: last_funding[s] + timedelta(milliseconds=1) if s in last_funding else start
        for s in symbols
    }
    return IngestPlan(
        symbols=tuple(symbols),
        timeframe=timeframe,
        as_of=as_of,
        window_start=start,
        windows=tuple(missing_windows(known, symbols, start=start, end=end, step=step)),
        funding_since=funding_since,
        latest_stored=latest,
        reference=reference,
    )
