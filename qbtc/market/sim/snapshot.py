"""State of a simulated perp at the venue clock, from closed bars only (no look-ahead)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from qbtc.market.sim.daily import symbol_paths
from qbtc.market.sim.intraday import minute_bars
from qbtc.market.sim.universe import (
    BY_SYMBOL,
    DAY_MS,
    EPOCH_MS,
    MINUTE_MS,
)


class BeforeEpochError(ValueError):
    """A time before the simulated venue's first day of data."""


def last_closed_bar_ms(now_ms: int, timeframe_ms: int = MINUTE_MS) -> int:
    """Open time (ms) of the last bar of ``timeframe_ms`` that is closed at ``now_ms``."""
    closed = (now_ms // timeframe_ms) * timeframe_ms - timeframe_ms
    if closed < EPOCH_MS:
        raise BeforeEpochError(
            "the simulated venue has data from 2020-01-01T00:00Z on; use a later --as-of"
        )
    return closed


def iso8601(timestamp_ms: int) -> str:
    """ccxt's datetime string of a millisecond timestamp: ``2026-01-05T00:00:00.000Z``."""
    moment = datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def day_and_minute(timestamp_ms: int) -> tuple[int, int]:
    """(day since the epoch, minute of day) of a bar open time."""
    offset = timestamp_ms - EPOCH_MS
    return offset // DAY_MS, (offset % DAY_MS) // MINUTE_MS


@dataclass(frozen=True)
class PerpSnapshot:
    """A perp at the close of the last closed minute before the venue clock.

    Prices in USDT; ``vol`` annualised (today's diffusive vol); ``premium`` the current
    8-hour interval's premium of perp over index (a fraction per 8 hours); ``last_return``
    the previous full day's log return.
    """

    symbol: str
    bar_ms: int
    last: float
    index: float
    mark: float
    vol: float
    premium: float
    last_return: float


def perp_snapshot(seed: int, symbol: str, now_ms: int) -> PerpSnapshot:
    """Snapshot of ``symbol`` at ``now_ms`` (last closed minute)."""
    bar_ms = last_closed_bar_ms(now_ms)
    day, minute = day_and_minute(bar_ms)
    bars = minute_bars(seed, symbol, day)
    spec = BY_SYMBOL[symbol]
    paths, row = symbol_paths(seed, symbol, day + 1)
    vol = math.hypot(spec.beta * float(paths.factor_vol[day]), float(paths.idio_vol[row, day]))
    previous = paths.log_open(row, day - 1) if day >= 1 else paths.log_open(row, 0)
    return PerpSnapshot(
        symbol=symbol,
        bar_ms=bar_ms,
        last=float(bars.close[minute]),
        index=float(bars.index[minute]),
        mark=float(bars.mark[minute]),
        vol=vol,
        premium=float(paths.premium[row, 3 * day + minute // 480]),
        last_return=paths.log_open(row, day) - previous,
    )


def minute_window(seed: int, symbol: str, start_ms: int, stop_ms: int) -> dict[str, np.ndarray]:
    """One-minute bars with open time in ``[start_ms, stop_ms)`` (both on the minute grid).

    Returns arrays ``timestamp`` (ms, int64), ``open, high, low, close, volume, index, mark``.
    """
    first_day, _ = day_and_minute(start_ms)
    last_day, _ = day_and_minute(stop_ms - MINUTE_MS)
    days = [minute_bars(seed, symbol, day) for day in range(first_day, last_day + 1)]
    begin = (start_ms - EPOCH_MS - first_day * DAY_MS) // MINUTE_MS
    count = (stop_ms - start_ms) // MINUTE_MS
    out: dict[str, np.ndarray] = {
        "timestamp": start_ms + MINUTE_MS * np.arange(count, dtype=np.int64)
    }
    for name in ("open", "high", "low", "close", "volume", "index", "mark"):
        joined = np.concatenate([getattr(bars, name) for bars in days])
        out[name] = joined[begin : begin + count]
    return out
