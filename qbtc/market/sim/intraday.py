"""One day of one-minute bars of one perp: a Brownian bridge between daily anchors.

The minute path of ``(seed, symbol, day)`` is drawn from its own counter-based stream plus the
shared factor stream of ``(seed, day)``, so minute returns of different perps are correlated
through the factor, and the path ends exactly at the day's daily anchor. Jumps of the day
happen at their own minute. Variance and volume follow an intraday profile (Asia, Europe and
US sessions). A jump unfolds over :data:`JUMP_MINUTES` minutes. Prices are on the venue's
tick grid; volume is in base currency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from qbtc.market.sim.daily import symbol_paths
from qbtc.market.sim.rng import generator
from qbtc.market.sim.universe import (
    BY_SYMBOL,
    DAYS_PER_YEAR,
    MINUTES_PER_DAY,
)

_HOURS = (np.arange(MINUTES_PER_DAY) + 0.5) / 60.0


def _session(center_h: float, width_h: float) -> np.ndarray:
    distance = np.minimum(np.abs(_HOURS - center_h), 24.0 - np.abs(_HOURS - center_h))
    return np.exp(-0.5 * (distance / width_h) ** 2)


_ACTIVITY = 1.0 + 0.3 * _session(0.5, 1.5) + 0.35 * _session(8.0, 1.5) + 0.9 * _session(14.5, 2.0)
VOLUME_PROFILE: np.ndarray = _ACTIVITY / _ACTIVITY.sum()
"""Share of a day's volume traded in each minute (sums to 1)."""
VARIANCE_PROFILE: np.ndarray = _ACTIVITY**0.7 / (_ACTIVITY**0.7).sum()
"""Share of a day's return variance in each minute (sums to 1)."""
_CUMULATIVE_VARIANCE = np.cumsum(VARIANCE_PROFILE)
_MINUTES = np.arange(MINUTES_PER_DAY)
_ABS_NORMAL_MEAN = math.sqrt(2.0 / math.pi)
JUMP_MINUTES = 30
"""A jump unfolds over half an hour (a liquidation cascade), not in one bar: the daily
returns keep their fat tails, and a single-bar move of tens of sigmas stays what it is on a
real venue, a sign of bad data for the quality gate."""


@dataclass(frozen=True)
class DayBars:
    """Minute bars of one perp over one UTC day (arrays of 1440, bar open times 00:00..23:59).

    ``premium`` is the perp's premium over its index in each minute (a fraction); ``index``
    and ``mark`` prices are derived from it as Binance does (mark = index x (1 + the
    funding interval's premium)).
    """

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    index: np.ndarray
    mark: np.ndarray


@lru_cache(maxsize=64)
def _factor_minutes(seed: int, day: int) -> np.ndarray:
    return generator(seed, "factor", "minute", day).standard_normal(MINUTES_PER_DAY)


def _jump_ramp(start: int) -> np.ndarray:
    """Share of a jump done by the end of each minute: linear over ``JUMP_MINUTES`` minutes.

    The ramp starts early enough to finish within the day (the daily anchor includes it).
    """
    first = min(start, MINUTES_PER_DAY - JUMP_MINUTES)
    return np.clip((_MINUTES - first + 1) / JUMP_MINUTES, 0.0, 1.0)


def _log_path(seed: int, symbol: str, day: int, draws: np.ndarray) -> np.ndarray:
    """Log close of each minute: a variance-profiled bridge plus the day's jumps."""
    spec = BY_SYMBOL[symbol]
    paths, row = symbol_paths(seed, symbol, day + 1)
    start, end = paths.log_open(row, day), float(paths.log_close[row, day])
    factor_jump = spec.beta * float(paths.factor_jump[day])
    idio_jump = float(paths.idio_jump[row, day])
    diffusive = end - start - factor_jump - idio_jump
    scale = np.sqrt(VARIANCE_PROFILE / DAYS_PER_YEAR)
    increments = scale * (
        spec.beta * float(paths.factor_vol[day]) * _factor_minutes(seed, day)
        + float(paths.idio_vol[row, day]) * draws[0]
    )
    walk = np.cumsum(increments)
    bridge = walk - _CUMULATIVE_VARIANCE * (walk[-1] - diffusive)
    bridge += factor_jump * _jump_ramp(int(paths.factor_jump_minute[day]))
    bridge += idio_jump * _jump_ramp(int(paths.idio_jump_minute[row, day]))
    log_close = start + bridge
    log_close[-1] = end
    return log_close


@lru_cache(maxsize=512)
def minute_bars(seed: int, symbol: str, day: int) -> DayBars:
    """The 1440 one-minute bars of ``symbol`` on ``day`` (days since the epoch)."""
    spec = BY_SYMBOL[symbol]
    draws = generator(seed, symbol, "minute", day).standard_normal((5, MINUTES_PER_DAY))
    paths, row = symbol_paths(seed, symbol, day + 1)
    log_close = _log_path(seed, symbol, day, draws)
    digits = spec.price_decimals
    close = np.round(np.exp(log_close), digits)
    open_ = np.empty_like(close)
    open_[0] = round(math.exp(paths.log_open(row, day)), digits)
    open_[1:] = close[:-1]
    sigma = math.hypot(spec.beta * float(paths.factor_vol[day]), float(paths.idio_vol[row, day]))
    minute_sd = sigma * np.sqrt(VARIANCE_PROFILE / DAYS_PER_YEAR)
    high = np.round(np.maximum(open_, close) * np.exp(0.6 * minute_sd * np.abs(draws[1])), digits)
    low = np.round(np.minimum(open_, close) * np.exp(-0.6 * minute_sd * np.abs(draws[2])), digits)
    high = np.maximum(high, np.maximum(open_, close))
    low = np.minimum(low, np.minimum(open_, close))
    low = np.maximum(low, 10.0**-digits)

    move = np.abs(np.diff(log_close, prepend=paths.log_open(row, day))) / minute_sd
    activity = (0.5 + 0.5 * move) / (0.5 + 0.5 * _ABS_NORMAL_MEAN)
    regime = sigma / spec.total_vol
    notional = spec.daily_notional * regime * VOLUME_PROFILE * activity
    noise = np.exp(0.5 * draws[3] - 0.125)
    volume = np.round(notional * noise / close, spec.amount_decimals)

    interval_premium = paths.premium[row, 3 * day + _MINUTES // 480]
    premium = interval_premium + 0.0001 * draws[4]
    index = np.round(close / (1.0 + premium), digits)
    mark = np.round(index * (1.0 + interval_premium), digits)
    arrays = (open_, high, low, close, volume, index, mark)
    for array in arrays:
        array.flags.writeable = False  # shared through the cache
    return DayBars(*arrays)
