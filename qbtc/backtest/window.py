"""The market data a backtest reads: one pass over the lake for the whole window.

Bars (1-minute closes aligned per symbol), ticker and funding snapshots, option quotes, and
the features of every bar computed in one pass by the live cycle's own feature code. Every
decision later takes from these only what was known at its time (see
:mod:`qbtc.backtest.pointintime`).
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from qbtc.backtest.config import BacktestConfig, BacktestInputError
from qbtc.features.bars import BAR, by_symbol, sort_bars
from qbtc.features.carry import DEFAULT_MAX_FUNDING_AGE, DEFAULT_MAX_TICKER_AGE
from qbtc.features.options import DEFAULT_MAX_REALISED_AGE, compute_option_features
from qbtc.features.perp import COLLECT_ENGINE, WARMUP_BARS, compute_perp_features
from qbtc.features.snapshot import DEFAULT_LOOKBACK
from qbtc.features.update import scan_option_quotes
from qbtc.lake import scan_dataset
from qbtc.risk.inputs import MARK_LOOKBACK
from qbtc.schemas import FUNDING_RATES, OHLCV, OPTION_FEATURES, TICKERS
from qbtc.symbols import base_currency

#: Timeframe of the bars a backtest (like the live cycle) decides and fills on.
TIMEFRAME = "1m"


@dataclass(frozen=True)
class MarketWindow:
    """Market data of a backtest window.

    ``times`` are bar open times (epoch microseconds, ascending) shared by every symbol;
    ``closes[i, j]`` is the close of ``symbols[j]`` at ``times[i]`` (NaN where it has no
    bar). ``features`` and ``option_features`` have their datasets' schemas. ``snapshot`` is
    a SHA-256 of the bars, tickers, funding and option quotes read.
    """

    symbols: tuple[str, ...]
    times: np.ndarray
    closes: np.ndarray
    tickers: pl.DataFrame
    funding: pl.DataFrame
    option_quotes: pl.DataFrame
    features: pl.DataFrame
    option_features: pl.DataFrame
    snapshot: str


def _epoch_us(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def read_bars(lake_dir: Path, symbols: list[str], start: datetime, end: datetime) -> pl.DataFrame:
    """1-minute ``ohlcv`` rows of ``symbols`` opened in ``[start, end]``, in any order."""
    return (
        scan_dataset(lake_dir, OHLCV, symbols=symbols, start=start, end=end, written_order=False)
        .filter(pl.col("timeframe") == TIMEFRAME)
        .collect()
        .rechunk()  # one chunk per file read otherwise (thousands), which slows every pass
    )


def check_coverage(bars: pl.DataFrame, config: BacktestConfig, *, max_gap: timedelta) -> None:
    """One clear error when a symbol has no bars, starts too late, ends too early or has a gap."""
    first_needed = config.start - BAR  # the bar closed at the first decision
    last_needed = config.end - BAR
    hint = (
        "run `qbtc ingest --symbols {s} --as-of {end} --days {days}` (or import Binance files "
        "with `qbtc ingest --from-file`) and try again"
    )
    days = max(1, (config.end - config.start).days + 3)
    stamps = {
        symbol: part.get_column("timestamp")
        for symbol, part in by_symbol(bars.select("symbol", "timestamp")).items()
    }
    for symbol in config.symbols:
        own = stamps.get(symbol, pl.Series("timestamp", [], bars.schema["timestamp"])).sort()
        fix = hint.format(s=symbol, end=config.end.strftime("%Y-%m-%dT%H:%MZ"), days=days)
        if own.is_empty():
            raise BacktestInputError(
                f"{symbol} has no 1m bars between {config.start:%Y-%m-%d %H:%M} and "
                f"{config.end:%Y-%m-%d %H:%M} UTC in the lake: {fix}"
            )
        first, last = own[0], own[-1]
        if first > first_needed or last < last_needed - max_gap:
            raise BacktestInputError(
                f"{symbol} has bars only from {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} "
                f"UTC, the window needs {first_needed:%Y-%m-%d %H:%M} to "
                f"{last_needed:%Y-%m-%d %H:%M}: {fix}"
            )
        inside = own.filter(own >= first_needed)
        steps = inside.diff().drop_nulls()
        if steps.len() and steps.max() > max_gap:  # type: ignore[operator]
            where = int(steps.arg_max())  # type: ignore[arg-type]
            raise BacktestInputError(
                f"{symbol} has a gap in its bars from {inside[where]:%Y-%m-%d %H:%M} to "
                f"{inside[where + 1]:%Y-%m-%d %H:%M} UTC (longer than {max_gap}): {fix}"
            )


def check_window(lake_dir: Path, config: BacktestConfig, *, max_gap: timedelta) -> None:
    """:func:`check_coverage` of the lake's bars for ``config`` (reads only what it needs)."""
    bars = read_bars(lake_dir, list(config.symbols), config.start - BAR, config.end - BAR)
    check_coverage(bars, config, max_gap=max_gap)


def _digest(*frames: pl.DataFrame) -> str:
    digest = hashlib.sha256()
    for frame in frames:
        digest.update(",".join(frame.columns).encode())
        for name in frame.columns:
            column = frame.get_column(name)
            if column.dtype == pl.String:
                _update_joined(digest, column.fill_null(""))
            else:  # the array's own buffer, not a copy of its bytes
                digest.update(
                    np.ascontiguousarray(column.to_physical().fill_null(0).to_numpy()).data
                )
    return digest.hexdigest()


def _update_joined(digest: hashlib._Hash, column: pl.Series) -> None:
    """Feed ``digest`` the column's strings joined by ``\x1f``, one run of equal strings at a
    time (a year of bars repeats each symbol ~500k times: no 150 MB joined copy)."""
    runs = column.rle().struct.unnest()
    last = runs.height - 1
    for i, (length, value) in enumerate(runs.iter_rows()):
        piece = (value + "\x1f") * length
        digest.update((piece[:-1] if i == last else piece).encode())


def align_closes(bars: pl.DataFrame, symbols: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Bar open times (epoch microseconds, ascending, of any symbol) and the closes of
    ``symbols`` at them (times x symbols, NaN where a symbol has no bar)."""
    frame = bars.select("symbol", "timestamp", "close")
    parts = by_symbol(frame)
    stamps = {symbol: part["timestamp"].dt.epoch("us").to_numpy() for symbol, part in parts.items()}
    first = next(iter(stamps.values()), np.empty(0, dtype=np.int64))
    # every symbol on the same ascending bar times (the usual case): their union is any one's
    same = all(np.array_equal(own, first) for own in stamps.values()) and bool(
        np.all(np.diff(first) > 0)
    )
    # else polars' unique on the column (threads), not numpy's hash over a year of rows
    times = (
        first.copy()
        if same
        else frame["timestamp"].dt.epoch("us").unique().sort().to_numpy(writable=True)
    )
    closes = np.full((times.size, len(symbols)), np.nan)
    column = {symbol: j for j, symbol in enumerate(symbols)}
    for symbol, part in parts.items():
        if symbol in column:
            rows = slice(None) if same else np.searchsorted(times, stamps[symbol])
            closes[rows, column[symbol]] = part["close"].cast(pl.Float64).to_numpy()
    return times, closes


def load_window(lake_dir: Path, config: BacktestConfig, *, max_gap: timedelta) -> MarketWindow:
    """Read and featurise everything the window's decisions may look at (one pass).

    Bars are read from :data:`~qbtc.features.perp.WARMUP_BARS` before ``start`` (the feature
    windows' warm-up, which also covers the risk stage's price history). Raises
    :class:`BacktestInputError` when a symbol lacks bars for the window.
    """
    symbols = list(config.symbols)
    read_from = config.start - WARMUP_BARS * BAR
    bars = read_bars(lake_dir, symbols, read_from, config.end - BAR)
    bars = sort_bars(bars)
    check_coverage(bars, config, max_gap=max_gap)
    since = config.start - max(MARK_LOOKBACK, DEFAULT_MAX_TICKER_AGE, DEFAULT_MAX_FUNDING_AGE)
    tickers = scan_dataset(lake_dir, TICKERS, symbols=symbols, start=since, end=config.end)
    funding = scan_dataset(lake_dir, FUNDING_RATES, symbols=symbols, start=since, end=config.end)
    tickers_df = tickers.sort("timestamp", "symbol").collect()
    funding_df = funding.sort("timestamp", "symbol").collect()
    underlyings = sorted({base_currency(s) for s in symbols})
    quotes = (
        scan_option_quotes(lake_dir, start=config.start - MARK_LOOKBACK, end=config.end)
        .filter(pl.col("underlying").is_in(underlyings))
        .collect()
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        # SHA-256 of ~600 MB in a thread while the features are computed (hashlib and polars
        # release the GIL)
        snapshot = pool.submit(
            _digest,
            bars.select("symbol", "timestamp", "open", "high", "low", "close", "volume"),
            tickers_df.drop("source"),
            funding_df.drop("source"),
            quotes,
        )
        decide_from = config.start - DEFAULT_LOOKBACK
        features = compute_perp_features(
            bars.lazy(),
            tickers=tickers_df.lazy(),
            funding=funding_df.lazy(),
            start=pl.col("timestamp") >= decide_from - DEFAULT_MAX_REALISED_AGE,
        ).collect(engine=COLLECT_ENGINE)
        option_features = (
            compute_option_features(
                quotes.filter(pl.col("timestamp") >= decide_from).lazy(),
                realised=features.lazy().select("symbol", "timestamp", "rv_cc_1440"),
            ).collect(engine=COLLECT_ENGINE)
            if quotes.height
            else OPTION_FEATURES.empty()
        )
        times, closes = align_closes(bars, symbols)
    return MarketWindow(
        symbols=tuple(symbols),
        times=times,
        closes=closes,
        tickers=tickers_df,
        funding=funding_df,
        option_quotes=quotes,
        features=features,
        option_features=option_features,
        snapshot=snapshot.result(),
    )
