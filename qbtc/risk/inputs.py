"""What the risk stage reads from the lake: positions, marks, signals, prices, equity.

Every reader looks only at rows stamped at or before ``as_of``, so a replayed cycle sees the
data the original cycle saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from qbtc.execution.ledger import Ledger
from qbtc.lake import scan_dataset
from qbtc.lake.layout import prune_files
from qbtc.market.contracts import is_option_symbol
from qbtc.market.normalize import timeframe_ms
from qbtc.schemas import (
    OHLCV,
    OPTION_QUOTES,
    ORDER_INTENTS,
    POSITIONS,
    RISK_METRICS,
    SIGNALS,
    TICKERS,
    VOL_VIEWS,
)

#: How far back marks are searched (older ones are stale anyway and refused by the checks).
MARK_LOOKBACK = timedelta(days=2)
#: Method whose risk_metrics rows carry the equity history.
EQUITY_METHOD = "monte_carlo"


@dataclass(frozen=True)
class Marks:
    """Latest perp tickers and option quotes at or before ``as_of``, one row per symbol."""

    as_of: datetime
    perps: pl.DataFrame
    options: pl.DataFrame


def _latest(lf: pl.LazyFrame, key: str, as_of: datetime) -> pl.DataFrame:
    return (
        lf.filter(pl.col("timestamp") <= as_of)
        .sort("timestamp")
        .group_by(key, maintain_order=True)
        .last()
        .sort(key)
        .collect()
    )


def load_marks(lake_dir: Path, as_of: datetime) -> Marks:
    """Latest ``tickers`` and ``option_quotes`` rows per symbol at ``as_of``."""
    start = as_of - MARK_LOOKBACK
    tickers = scan_dataset(lake_dir, TICKERS, start=start, end=as_of)
    quotes = scan_dataset(lake_dir, OPTION_QUOTES, start=start, end=as_of)
    return Marks(as_of, _latest(tickers, "symbol", as_of), _latest(quotes, "symbol", as_of))


def load_positions(lake_dir: Path, portfolio_id: str, as_of: datetime) -> pl.DataFrame:
    """Latest snapshot of every position of ``portfolio_id`` (closed ones included)."""
    lf = scan_dataset(lake_dir, POSITIONS).filter(pl.col("portfolio_id") == portfolio_id)
    return _latest(lf, "id", as_of)


def close_expired_options(positions: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """Options past their expiry at ``as_of`` held as quantity 0: they await settlement.

    The venue settles an option at expiry and reconciliation (in the orders stage, after the
    risk stage) books the settlement; until then the last snapshot still shows the position,
    whose option no longer has a quote. Held as closed, it neither blocks the cycle as a
    stale mark nor asks the planner to trade it; its realised PnL, fees and funding stay,
    and its settlement value is booked by the next orders stage.
    """
    if positions.is_empty():
        return positions
    expired = (pl.col("type") == "option") & pl.col("expiry").is_not_null()
    expired = expired & (pl.col("expiry") <= as_of) & (pl.col("quantity") != 0)
    return positions.with_columns(
        pl.when(expired).then(0.0).otherwise(pl.col("quantity")).alias("quantity"),
        pl.when(expired).then(0.0).otherwise(pl.col("unrealized_pnl")).alias("unrealized_pnl"),
        pl.when(expired).then(pl.lit("flat")).otherwise(pl.col("side")).alias("side"),
    )


def load_signals(lake_dir: Path, as_of: datetime) -> pl.DataFrame:
    """The signals of the latest decision bar at or before ``as_of`` (empty when none).

    Several runs (providers) may have signalled the same bar; only the newest run's signals
    are kept, so each symbol has at most one signal.
    """
    lf = scan_dataset(lake_dir, SIGNALS, start=as_of - MARK_LOOKBACK, end=as_of)
    frame = lf.collect()
    if frame.is_empty():
        return frame
    latest = frame.filter(pl.col("timestamp") == frame["timestamp"].max())
    newest_run = latest.sort("created_at").tail(1)["run_id"].item()
    return latest.filter(pl.col("run_id") == newest_run).sort("symbol")


def load_vol_views(lake_dir: Path, as_of: datetime) -> pl.DataFrame:
    """The volatility views of the latest decision bar at or before ``as_of`` (newest run)."""
    frame = scan_dataset(lake_dir, VOL_VIEWS, start=as_of - MARK_LOOKBACK, end=as_of).collect()
    if frame.is_empty():
        return frame
    latest = frame.filter(pl.col("timestamp") == frame["timestamp"].max())
    newest_run = latest.sort("created_at").tail(1)["run_id"].item()
    return latest.filter(pl.col("run_id") == newest_run).sort("underlying")


def load_structure_ids(lake_dir: Path, portfolio_id: str) -> dict[str, str]:
    """Option symbol -> the structure id of its latest accepted intent in ``portfolio_id``."""
    frame = (
        scan_dataset(lake_dir, ORDER_INTENTS)
        .filter(
            (pl.col("portfolio_id") == portfolio_id)
            & pl.col("structure_id").is_not_null()
            & (pl.col("status") == "accepted")
        )
        .sort("timestamp")
        .group_by("symbol", maintain_order=True)
        .last()
        .select("symbol", "structure_id")
        .collect()
    )
    return dict(zip(frame["symbol"].to_list(), frame["structure_id"].to_list(), strict=True))


def load_working_orders(lake_dir: Path, portfolio_id: str) -> dict[str, float]:
    """Option symbol -> signed quantity still to fill (coins, buy > 0) of the orders the
    ledger last saw working at the venue (submitted or open: a limit order resting there)."""
    working: dict[str, float] = {}
    for state in Ledger(lake_dir, portfolio_id).open_order_states().values():
        if state.status not in ("submitted", "open") or not is_option_symbol(state.symbol):
            continue
        left = max(state.quantity - state.filled_quantity, 0.0)
        signed = left if state.side == "buy" else -left
        working[state.symbol] = working.get(state.symbol, 0.0) + signed
    return working


@dataclass(frozen=True)
class PriceHistory:
    """Aligned close prices (rows in time order, one column per symbol) and bars per year."""

    symbols: tuple[str, ...]
    closes: np.ndarray
    periods_per_year: float


def load_closes(
    lake_dir: Path, symbols: list[str], as_of: datetime, *, timeframe: str, bars: int
) -> PriceHistory:
    """The last ``bars`` closes of each symbol, aligned on the timestamps all of them have.

    Read from the last ``bars`` bar lengths plus a quarter first; only when those hold fewer
    than ``bars`` complete rows (gaps, a short history) is the whole history read. Either way
    the rows are the same: a timestamp complete in the window is complete in the history.

    The stages of one cycle (risk, hedge, book) ask for the same closes: the last answer
    read from the window is kept with the window's files (name, size, modification time)
    and given again while they are unchanged, as a read-only array.
    """
    if not symbols:
        raise ValueError("no symbol to load prices for")
    window = (bars + bars // 4 + 1) * timedelta(milliseconds=timeframe_ms(timeframe))
    start = as_of - window
    key = (lake_dir, tuple(symbols), as_of, timeframe, bars)
    files = _files_state(lake_dir, symbols, start, as_of)
    last = _LAST_CLOSES.get("window")
    if last is not None and last[0] == (key, files):
        return last[1]
    frame = _aligned_closes(lake_dir, symbols, as_of, timeframe, start=start)
    from_window = frame.height >= bars and all(s in frame.columns for s in symbols)
    if not from_window:
        frame = _aligned_closes(lake_dir, symbols, as_of, timeframe, start=None)
    frame = frame.tail(bars)
    missing = [s for s in symbols if s not in frame.columns]
    if missing or frame.height < 3:
        raise ValueError(
            f"not enough {timeframe} price history to estimate risk for "
            f"{missing or symbols} at {as_of.isoformat()}: run `qbtc ingest` (backfill) first"
        )
    seconds = np.diff(frame["timestamp"].dt.epoch("s").to_numpy())
    per_year = 365.0 * 86_400.0 / float(np.median(seconds))
    closes = frame.select(symbols).to_numpy()
    closes.flags.writeable = False
    prices = PriceHistory(tuple(symbols), closes, per_year)
    if from_window:
        _LAST_CLOSES["window"] = ((key, files), prices)
    return prices


#: The last closes read from a window, with their key and the window's files state.
_LAST_CLOSES: dict[str, tuple[Any, PriceHistory]] = {}


def _files_state(
    lake_dir: Path, symbols: list[str], start: datetime, end: datetime
) -> tuple[tuple[str, int, int], ...]:
    """Name, size and modification time of every ``ohlcv`` file the window reads."""
    state = []
    for path in prune_files(lake_dir, OHLCV, symbols=symbols, start=start, end=end):
        try:
            stat = path.stat()
        except FileNotFoundError:  # compacted away meanwhile: the state differs anyway
            continue
        state.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(state)


def _aligned_closes(
    lake_dir: Path, symbols: list[str], as_of: datetime, timeframe: str, *, start: datetime | None
) -> pl.DataFrame:
    """Closes from ``start`` to ``as_of``, one column per symbol, complete rows in time order."""
    return (
        scan_dataset(lake_dir, OHLCV, symbols=symbols, start=start, end=as_of)
        .filter(pl.col("timeframe") == timeframe)
        .select("timestamp", "symbol", "close")
        .collect()
        .pivot(on="symbol", index="timestamp", values="close")
        .drop_nulls()
        .sort("timestamp")
    )


def load_equity_history(lake_dir: Path, portfolio_id: str, as_of: datetime) -> pl.DataFrame:
    """Equity (USDT) recorded by earlier risk runs, in time order: ``timestamp, equity``.

    One value per timestamp: the book as held when both phases were recorded then.
    """
    return (
        scan_dataset(lake_dir, RISK_METRICS, end=as_of)
        .filter((pl.col("portfolio_id") == portfolio_id) & (pl.col("method") == EQUITY_METHOD))
        .filter(pl.col("timestamp") < as_of)
        .sort("timestamp", pl.col("phase") == "book")
        .unique(subset="timestamp", keep="last", maintain_order=True)
        .select("timestamp", "equity")
        .collect()
    )
