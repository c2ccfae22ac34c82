"""Small deterministic frames for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def ohlcv_frame(
    symbols: tuple[str, ...] = ("BTC/USDT:USDT", "ETH/USDT:USDT"),
    n: int = 30,
    start: datetime = T0,
    seed: int = 1,
) -> pl.DataFrame:
    """``n`` one-minute bars per symbol, a clean random walk."""
    rng = np.random.default_rng(seed)
    frames = []
    for i, symbol in enumerate(symbols):
        close = 100.0 * (i + 1) * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
        open_ = np.concatenate([[close[0]], close[:-1]])
        high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.001, n))
        low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.001, n))
        frames.append(
            pl.DataFrame(
                {
                    "symbol": [symbol] * n,
                    "timeframe": ["1m"] * n,
                    "timestamp": [start + timedelta(minutes=k) for k in range(n)],
                    "open": open_,
                    "high": high,
                    "low": low,
                    "close": close,
                    "volume": rng.uniform(1, 10, n),
                    "source": ["test"] * n,
                },
                schema_overrides={"timestamp": pl.Datetime("us", "UTC")},
            )
        )
    return pl.concat(frames)
