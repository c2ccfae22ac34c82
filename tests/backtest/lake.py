"""A small lake of simulated-venue data for backtest tests (real venue code, real Parquet)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from qbtc.lake import write_dataset
from qbtc.market.ingest import fetch_option_chains, fetch_tickers
from qbtc.market.normalize import fetch_funding_frame, fetch_ohlcv_frame
from qbtc.market.venue import open_exchange
from qbtc.schemas import FUNDING_RATES, OHLCV, OPTION_QUOTES, TICKERS

if TYPE_CHECKING:
    from flows.backtest import BacktestParameters

SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT")
START = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
END = START + timedelta(hours=5)
#: The data reach past ``END`` (a funding settlement at 08:00).
DATA_END = START + timedelta(hours=9)


def sim_frames(
    symbols: Sequence[str] = SYMBOLS,
    *,
    start: datetime = START,
    end: datetime = DATA_END,
    seed: int = 7,
    history: timedelta = timedelta(days=2),
    tickers_every: timedelta | None = timedelta(hours=1),
    chains: bool = False,
) -> dict[str, pl.DataFrame]:
    """Bars from ``start - history`` to ``end``, funding, tickers (and with ``chains`` the
    BTC and ETH option chains) at each hour."""
    venue = open_exchange("sim", seed=seed, as_of=end, symbols=symbols)
    since = start - history
    bars = pl.concat([fetch_ohlcv_frame(venue, s, since=since, until=end) for s in symbols])
    funding = pl.concat([fetch_funding_frame(venue, s, since=since, until=end) for s in symbols])
    tickers, quotes = [], []
    moment = start
    while tickers_every is not None and moment <= end:
        at = open_exchange("sim", seed=seed, as_of=moment, symbols=symbols)
        tickers.append(fetch_tickers(at, symbols, as_of=moment))
        if chains:
            quotes.append(fetch_option_chains(at, ["BTC", "ETH"], as_of=moment))
        moment += tickers_every
    return {
        "ohlcv": bars,
        "funding_rates": funding,
        "tickers": pl.concat(tickers) if tickers else TICKERS.empty(),
        "option_quotes": pl.concat(quotes) if quotes else OPTION_QUOTES.empty(),
    }


def write_frames(lake_dir: Path, frames: dict[str, pl.DataFrame]) -> None:
    write_dataset(lake_dir, OHLCV, frames["ohlcv"])
    write_dataset(lake_dir, FUNDING_RATES, frames["funding_rates"])
    if frames["tickers"].height:
        write_dataset(lake_dir, TICKERS, frames["tickers"])
    if frames.get("option_quotes") is not None and frames["option_quotes"].height:
        write_dataset(lake_dir, OPTION_QUOTES, frames["option_quotes"])


def spike_after(
    moment: datetime, factor: float = 3.0
) -> Callable[[dict[str, pl.DataFrame]], dict[str, pl.DataFrame]]:
    """A change of every price stamped at or after ``moment`` (bars and tickers) by ``factor``."""

    def plant(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        later = pl.col("timestamp") >= moment
        prices = ["open", "high", "low", "close"]
        bars = frames["ohlcv"].with_columns(
            [pl.when(later).then(pl.col(c) * factor).otherwise(pl.col(c)).alias(c) for c in prices]
        )
        quotes = ["bid", "ask", "last", "mark", "index"]
        tickers = frames["tickers"].with_columns(
            [pl.when(later).then(pl.col(c) * factor).otherwise(pl.col(c)).alias(c) for c in quotes]
        )
        return {**frames, "ohlcv": bars, "tickers": tickers}

    return plant


def backtest_parameters(**changes: Any) -> BacktestParameters:
    """The backtest form over this lake's window: hourly, its perps, 500 VaR scenarios."""
    from flows.backtest import BacktestParameters

    return BacktestParameters(
        start=START,
        end=END,
        interval="1h",
        symbols=list(SYMBOLS),
        var_scenarios=500,
        backfill=False,
        **changes,
    )
