"""Incremental feature computation over the lake: new bars plus the warm-up they need.

Each stage keeps an event-time watermark: the last row it stored per symbol (perps) or per
underlying (options). A run recomputes from the watermark minus ``overlap`` (so bars or
tickers that landed a little late are picked up), reads :data:`~qbtc.features.perp.WARMUP_BARS`
bars before that for the windows, and returns only rows from the start on. Rows equal to the
stored ones are skipped by the lake's upsert, so an idle re-run writes nothing. Older late
data needs an explicit ``since``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from qbtc.features.bars import BAR
from qbtc.features.carry import DEFAULT_MAX_FUNDING_AGE, DEFAULT_MAX_TICKER_AGE
from qbtc.features.options import (
    DEFAULT_MAX_REALISED_AGE,
    compute_option_features,
    perp_symbol,
)
from qbtc.features.perp import (
    COLLECT_ENGINE,
    WARMUP_BARS,
    compute_symbol_features,
    rank_perp_features,
)
from qbtc.lake import scan_dataset
from qbtc.lake.integrity import sound_files
from qbtc.lake.layout import prune_files
from qbtc.parallel import Mapper, map_in_process
from qbtc.schemas import (
    FEATURES,
    FUNDING_RATES,
    OHLCV,
    OPTION_FEATURES,
    OPTION_QUOTES,
    TICKERS,
    TS,
    WRITTEN_AT,
)

DEFAULT_OVERLAP = timedelta(minutes=60)
FEATURE_CHUNK_SYMBOLS = 50
"""Symbols per chunk of perp features: the unit of work on a cluster. Fixed, so results do
not depend on where (or how many at once) the chunks run; the default universe is one."""
#: Windows read in turn for a key's latest row: a steady cycle finds every key in the first.
_RECENT = (timedelta(hours=2), timedelta(days=2), None)
_JUST_AFTER = timedelta(microseconds=1)


@dataclass(frozen=True)
class FeatureUpdate:
    """Rows computed by one incremental run of a stage (``start`` None: nothing new)."""

    dataset: str
    frame: pl.DataFrame
    start: datetime | None
    until: datetime

    def summary(self, rows_written: int) -> dict[str, object]:
        """What the run did, for run artifacts and manifests."""
        key = "symbol" if "symbol" in self.frame.columns else "underlying"
        return {
            "dataset": self.dataset,
            "start": self.start.isoformat() if self.start else None,
            "until": self.until.isoformat(),
            "rows": self.frame.height,
            "rows_written": rows_written,
            "keys": sorted(set(self.frame.get_column(key).to_list())),
        }


def last_closed_bar_time(as_of: datetime) -> datetime:
    """Open time of the last 1-minute bar closed at ``as_of`` (UTC-aware)."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC), e.g. datetime(..., tzinfo=UTC)")
    minute = as_of.replace(second=0, microsecond=0)
    return minute - BAR


def scan_option_quotes(
    lake_dir: Path, *, start: datetime | None = None, end: datetime | None = None
) -> pl.LazyFrame:
    """``option_quotes`` rows (latest version of each) with ``underlying`` restored.

    The lake writer drops a partition's source column when the partition has the same name
    (``underlying=BTC``), so stored files lack ``underlying``. It is the option symbol's base
    currency by construction (``BTC/USDT:USDT-261127-90000-C`` -> ``BTC``); this keeps
    working once files carry the column again.
    """
    ds = OPTION_QUOTES
    files = sound_files(lake_dir, prune_files(lake_dir, ds, start=start, end=end))
    if not files:
        return ds.empty().lazy()
    stored = {n: t for n, t in ds.columns.items() if n != "underlying"} | {WRITTEN_AT: TS}
    lf = pl.scan_parquet(
        files,
        schema=pl.Schema(stored),
        hive_partitioning=False,
        missing_columns="insert",
        extra_columns="ignore",
    )
    if start is not None:
        lf = lf.filter(pl.col("timestamp") >= start)
    if end is not None:
        lf = lf.filter(pl.col("timestamp") <= end)
    lf = lf.sort(WRITTEN_AT, maintain_order=True).unique(
        subset=list(ds.primary_key), keep="last", maintain_order=True
    )
    base = pl.col("symbol").str.split("/").list.first().alias("underlying")
    return lf.with_columns(base).select(list(ds.columns))


def _scan(lake_dir: Path, dataset: str, **filters: object) -> pl.LazyFrame:
    if dataset == OPTION_QUOTES.name:
        return scan_option_quotes(lake_dir, start=filters.get("start"), end=filters.get("end"))  # type: ignore[arg-type]
    return scan_dataset(lake_dir, dataset, **filters)  # type: ignore[arg-type]


def _times(frame: pl.LazyFrame, key: str, keys: Sequence[str], how: str) -> dict[str, datetime]:
    stamp = pl.col("timestamp").max() if how == "max" else pl.col("timestamp").min()
    rows = frame.filter(pl.col(key).is_in(list(keys))).group_by(key).agg(stamp).collect()
    return dict(zip(rows.get_column(key).to_list(), rows.get_column("timestamp"), strict=True))


def _latest(
    lake_dir: Path, dataset: str, key: str, keys: Sequence[str], *, until: datetime
) -> dict[str, datetime]:
    """Latest ``timestamp`` per key at or before ``until``: the windows of :data:`_RECENT`
    read in turn, each for the keys not found yet (a key found in a window has its latest
    row there)."""
    found: dict[str, datetime] = {}
    missing = list(keys)
    for window in _RECENT:
        symbols = missing if key == "symbol" else None
        start = until - window if window is not None else None
        frame = _scan(lake_dir, dataset, symbols=symbols, start=start, end=until)
        found |= _times(frame, key, missing, "max")
        missing = [k for k in keys if k not in found]
        if not missing:
            break
    return found


def plan_start(
    lake_dir: Path,
    *,
    output: str,
    source: str,
    key: str,
    keys: Sequence[str],
    until: datetime,
    overlap: timedelta,
) -> datetime | None:
    """First timestamp a stage must (re)compute, or None when ``source`` has nothing new.

    For each key with source rows newer than its last output row: just after the last
    output time, minus ``overlap`` (or the key's first source row when it has no output yet); the
    earliest of those.
    """
    done = _latest(lake_dir, output, key, keys, until=until)
    newest = _latest(lake_dir, source, key, keys, until=until)
    stale = [k for k in keys if k in newest and (k not in done or newest[k] > done[k])]
    if not stale:
        return None
    fresh = [k for k in stale if k not in done]
    starts = [done[k] + _JUST_AFTER - overlap for k in stale if k in done]
    if fresh:
        symbols = fresh if key == "symbol" else None
        first = _scan(lake_dir, source, symbols=symbols, end=until)
        starts += _times(first, key, fresh, "min").values()
    return min(starts)


def compute_perp_update(
    lake_dir: Path,
    symbols: Sequence[str],
    *,
    as_of: datetime,
    since: datetime | None = None,
    overlap: timedelta = DEFAULT_OVERLAP,
    mapper: Mapper = map_in_process,
) -> FeatureUpdate:
    """``features`` rows of ``symbols`` for the bars closed at ``as_of`` not yet computed.

    ``since`` forces a recomputation from that bar on (back-fills, late data). The symbols'
    own features are computed in the chunks of :func:`feature_chunks`, run by ``mapper``
    (in this process by default; on a Dask cluster from the flows), and ranked across the
    universe here: the rows are bit-identical wherever the chunks ran.
    """
    until = last_closed_bar_time(as_of)
    start = since or plan_start(
        lake_dir,
        output=FEATURES.name,
        source=OHLCV.name,
        key="symbol",
        keys=symbols,
        until=until,
        overlap=overlap,
    )
    if start is None or start > until:
        return FeatureUpdate(FEATURES.name, FEATURES.empty(), None, until)
    calls = [(lake_dir, chunk, start, until) for chunk in feature_chunks(symbols)]
    parts = mapper(compute_symbol_chunk, calls)
    frame = rank_perp_features(pl.concat(parts).lazy(), start=pl.col("timestamp") >= start).collect(
        engine=COLLECT_ENGINE
    )
    return FeatureUpdate(FEATURES.name, frame, start, until)


def feature_chunks(symbols: Sequence[str]) -> list[list[str]]:
    """The universe in sorted order, cut into chunks of :data:`FEATURE_CHUNK_SYMBOLS`."""
    ordered = sorted(set(symbols))
    size = FEATURE_CHUNK_SYMBOLS
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def compute_symbol_chunk(
    lake_dir: Path, symbols: list[str], start: datetime, until: datetime
) -> pl.DataFrame:
    """The unranked features of ``symbols`` from :data:`WARMUP_BARS` bars before ``start``
    to ``until`` (reads the lake: a worker elsewhere needs it on shared storage)."""
    read_from = start - WARMUP_BARS * BAR
    ohlcv = scan_dataset(lake_dir, OHLCV, symbols=symbols, start=read_from, end=until)
    # Tickers and funding count for a bar up to its close (see qbtc.features.carry).
    closed = until + BAR
    tickers = scan_dataset(
        lake_dir, TICKERS, symbols=symbols, start=start - DEFAULT_MAX_TICKER_AGE, end=closed
    )
    funding = scan_dataset(
        lake_dir,
        FUNDING_RATES,
        symbols=symbols,
        start=start - DEFAULT_MAX_FUNDING_AGE,
        end=closed,
    )
    lf = compute_symbol_features(ohlcv, tickers=tickers, funding=funding)
    return lf.collect(engine=COLLECT_ENGINE)


def compute_option_update(
    lake_dir: Path,
    underlyings: Sequence[str],
    *,
    as_of: datetime,
    since: datetime | None = None,
    overlap: timedelta = DEFAULT_OVERLAP,
) -> FeatureUpdate:
    """``option_features`` rows of the chain snapshots taken at or before ``as_of``.

    Reads the ``features`` rows of each underlying's perp for ``iv_minus_rv``, so run it
    after :func:`compute_perp_update`.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC), e.g. datetime(..., tzinfo=UTC)")
    start = since or plan_start(
        lake_dir,
        output=OPTION_FEATURES.name,
        source=OPTION_QUOTES.name,
        key="underlying",
        keys=underlyings,
        until=as_of,
        overlap=overlap,
    )
    if start is None or start > as_of:
        return FeatureUpdate(OPTION_FEATURES.name, OPTION_FEATURES.empty(), None, as_of)
    quotes = scan_option_quotes(lake_dir, start=start, end=as_of).filter(
        pl.col("underlying").is_in(list(underlyings))
    )
    perps = [perp_symbol(underlying) for underlying in underlyings]
    realised = scan_dataset(
        lake_dir, FEATURES, symbols=perps, start=start - BAR - DEFAULT_MAX_REALISED_AGE, end=as_of
    ).select("symbol", "timestamp", "rv_cc_1440")
    frame = compute_option_features(quotes, realised=realised).collect(engine=COLLECT_ENGINE)
    return FeatureUpdate(OPTION_FEATURES.name, frame, start, as_of)
