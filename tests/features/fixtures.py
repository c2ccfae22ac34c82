"""Small market-data frames for feature tests (lake schemas, 1-minute bars)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from qbtc.schemas import FUNDING_RATES, OHLCV, TICKERS

T0 = datetime(2026, 1, 5, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT")


def bars(
    symbols: Sequence[str] = SYMBOLS,
    n: int = 200,
    *,
    seed: int = 3,
    start: datetime = T0,
    missing: Sequence[int] = (),
) -> pl.DataFrame:
    """``n`` one-minute OHLCV bars per symbol (random walk), minus the bar indices ``missing``."""
    rng = np.random.default_rng(seed)
    frames = []
    for i, symbol in enumerate(symbols):
        close = 100.0 * (i + 1) * np.exp(np.cumsum(rng.normal(0.0, 0.002, n)))
        open_ = np.concatenate([[close[0]], close[:-1]]) * np.exp(rng.normal(0.0, 2e-4, n))
        high = np.maximum(open_, close) * np.exp(rng.uniform(0.0, 0.002, n))
        low = np.minimum(open_, close) * np.exp(-rng.uniform(0.0, 0.002, n))
        keep = np.setdiff1d(np.arange(n), np.asarray(missing, dtype=int))
        frames.append(
            pl.DataFrame(
                {
                    "symbol": symbol,
                    "timeframe": "1m",
                    "timestamp": [start + MINUTE * int(k) for k in keep],
                    "open": open_[keep],
                    "high": high[keep],
                    "low": low[keep],
                    "close": close[keep],
                    "volume": rng.uniform(1.0, 10.0, n)[keep],
                    "source": "test",
                },
                schema=OHLCV.schema,
            )
        )
    return pl.concat(frames)


def tickers(
    ohlcv: pl.DataFrame, *, every: int = 3, offset_s: int = 20, seed: int = 5
) -> pl.DataFrame:
    """A ticker ``offset_s`` seconds into every ``every``-th bar: mark near close, index below."""
    rng = np.random.default_rng(seed)
    rows = ohlcv.gather_every(every)
    n = rows.height
    mark = rows.get_column("close").to_numpy()
    index = mark * (1.0 - rng.uniform(-1e-3, 1e-3, n))
    return pl.DataFrame(
        {
            "symbol": rows.get_column("symbol"),
            "timestamp": rows.get_column("timestamp") + timedelta(seconds=offset_s),
            "bid": mark - 0.01,
            "ask": mark + 0.01,
            "last": mark,
            "mark": mark,
            "index": index,
            "volume_24h": np.full(n, 1000.0),
            "quote_volume_24h": None,
            "open_interest": None,
            "source": "test",
        },
        schema=TICKERS.schema,
    )


def funding(
    symbols: Sequence[str] = SYMBOLS, *, start: datetime = T0, hours: int = 8, count: int = 3
) -> pl.DataFrame:
    """Funding settlements every ``hours`` from ``start - hours`` with distinct rates."""
    rows = []
    for i, symbol in enumerate(symbols):
        for k in range(count):
            rows.append(
                {
                    "symbol": symbol,
                    "timestamp": start + timedelta(hours=hours * (k - 1), seconds=30),
                    "funding_rate": 1e-4 * (i + 1) * (k + 1),
                    "mark_price": None,
                    "index_price": None,
                    "source": "test",
                }
            )
    return pl.DataFrame(rows, schema=FUNDING_RATES.schema)
