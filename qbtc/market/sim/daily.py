"""The daily-level process of the simulated venue, generated from :data:`EPOCH_MS`.

One row of draws per day per stream (a market factor and each perp), so a horizon of a few
thousand days costs milliseconds. Rows are prefix-stable: day ``d`` gets the same numbers
whatever horizon is generated, so every window is reproducible in any request order.

Model (day ``d``, 365-day year)
-------------------------------
- stochastic volatility: log vol follows an AR(1) around its long-run level (persistence 0.97
  a day), with a leverage effect (vol shocks correlate -0.3 with the factor's returns);
- returns: ``r_i = beta_i * f + idio_i + J_i`` with a market factor ``f`` (its own stochastic
  vol and rare downward-biased jumps, shared by every perp at the same minute) and compound
  Poisson idiosyncratic jumps;
- log prices are a random walk pinned to the reference price at 2026-01-01T00:00Z, so
  levels around today look like today's market whatever the seed;
- premium of perp over index per 8-hour funding interval: AR(1) plus a drive from the
  previous day's return, so funding follows momentum (Binance's formula maps it to funding).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from qbtc.market.sim.rng import generator
from qbtc.market.sim.universe import DAYS_PER_YEAR, FACTOR_VOL, PerpSpec, block_specs, locate

VOL_PERSISTENCE = 0.97
VOL_OF_LOG_VOL = 0.30
LEVERAGE_CORRELATION = -0.3
FACTOR_JUMP_RATE = 0.01
FACTOR_JUMP_MEAN = -0.01
FACTOR_JUMP_SIZE = 0.05
ANCHOR_DAY = 2192
"""Day index of 2026-01-01: every perp trades at its reference price at that midnight."""
INTEREST_PER_INTERVAL = 0.0001
PREMIUM_PERSISTENCE = 0.8
PREMIUM_SD = 0.0004
PREMIUM_MOMENTUM = 0.01
FUNDING_CAP = 0.003
_BLOCK_DAYS = 512


@dataclass(frozen=True)
class DailyPaths:
    """Daily anchors of one block of perps for one seed (rows follow the block's specs).

    ``log_close[i, d]`` is the log price at the end of day ``d``; vols are annualised; jump
    minutes are minute-of-day indices; ``premium[i, b]`` is the perp premium over the index in
    8-hour interval ``b`` (``b = 3 d + k``), a fraction.
    """

    days: int
    log_start: np.ndarray
    log_close: np.ndarray
    factor_vol: np.ndarray
    idio_vol: np.ndarray
    factor_jump: np.ndarray
    factor_jump_minute: np.ndarray
    idio_jump: np.ndarray
    idio_jump_minute: np.ndarray
    premium: np.ndarray

    def log_open(self, row: int, day: int) -> float:
        """Log price at the start of ``day`` (the previous day's close)."""
        if day == 0:
            return float(self.log_start[row])
        return float(self.log_close[row, day - 1])


def _ar1(shocks: np.ndarray, persistence: float) -> np.ndarray:
    """``y_t = persistence * y_{t-1} + shocks_t`` along the last axis, from ``y_{-1} = 0``.

    A loop over time steps (a few thousand days), vectorised across series; sequential, so
    a longer horizon leaves every earlier value bit-identical.
    """
    steps = np.moveaxis(np.asarray(shocks, dtype=float), -1, 0)
    out = np.empty_like(steps)
    level = np.zeros(steps.shape[1:])
    for t in range(steps.shape[0]):
        level = persistence * level + steps[t]
        out[t] = level
    return np.moveaxis(out, 0, -1)


def _log_vol(long_run: np.ndarray, shocks: np.ndarray) -> np.ndarray:
    innovation = VOL_OF_LOG_VOL * math.sqrt(1.0 - VOL_PERSISTENCE**2)
    mean = np.log(long_run)[..., None] - 0.5 * VOL_OF_LOG_VOL**2
    return np.exp(mean + _ar1(innovation * shocks, VOL_PERSISTENCE))


def _jumps(
    uniform: np.ndarray,
    normal: np.ndarray,
    rate: float | np.ndarray,
    mean: float,
    size: float | np.ndarray,
) -> np.ndarray:
    """Jump log sizes: a jump happens with probability ``rate``; its size is normal."""
    return np.where(uniform < rate, mean + size * normal, 0.0)


def _minute_of(uniform: np.ndarray) -> np.ndarray:
    return np.minimum((uniform * 1440).astype(np.int64), 1439)


def _annual_to_daily(vol: np.ndarray, shocks: np.ndarray) -> np.ndarray:
    """Daily log return with annualised ``vol``: ``vol z / sqrt(365) - vol^2 / (2 * 365)``."""
    return vol * shocks / math.sqrt(DAYS_PER_YEAR) - 0.5 * vol**2 / DAYS_PER_YEAR


def _factor(seed: int, days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Market factor: annualised vol, diffusive daily return, jump log size, jump minute."""
    draws = generator(seed, "factor", "daily").standard_normal((days, 3))
    uniform = generator(seed, "factor", "daily-uniform").random((days, 2))
    vol = _log_vol(np.array(FACTOR_VOL), draws[:, 1])
    rho = LEVERAGE_CORRELATION
    shocks = rho * draws[:, 1] + math.sqrt(1 - rho**2) * draws[:, 0]
    jump = _jumps(uniform[:, 0], draws[:, 2], FACTOR_JUMP_RATE, FACTOR_JUMP_MEAN, FACTOR_JUMP_SIZE)
    return vol, _annual_to_daily(vol, shocks), jump, _minute_of(uniform[:, 1])


def generate_daily(seed: int, days: int, specs: tuple[PerpSpec, ...] | None = None) -> DailyPaths:
    """Generate ``days`` days (at least up to the anchor day) for ``specs`` (default: block 0).

    Arrays are computed for the whole block at once; a block always holds the same specs,
    so a perp's numbers never depend on how many perps the venue lists.
    """
    block = specs if specs is not None else block_specs(0)
    if days <= ANCHOR_DAY:
        raise ValueError(f"generate at least {ANCHOR_DAY + 1} days (up to the anchor day)")
    factor_vol, factor_ret, factor_jump, factor_minute = _factor(seed, days)
    idio = np.stack([generator(seed, s.symbol, "daily").standard_normal((days, 6)) for s in block])
    idio_u = np.stack([generator(seed, s.symbol, "daily-uniform").random((days, 2)) for s in block])
    idio_vol = _log_vol(np.array([s.idio_vol for s in block]), idio[..., 1])
    rate, size = (
        np.array([[getattr(s, name)] for s in block]) for name in ("jump_rate", "jump_size")
    )
    idio_jump = _jumps(idio_u[..., 0], idio[..., 2], rate, 0.0, size)
    beta = np.array([[s.beta] for s in block])
    returns = (
        beta * (factor_ret + factor_jump) + _annual_to_daily(idio_vol, idio[..., 0]) + idio_jump
    )
    walk = np.cumsum(returns, axis=1)
    level = np.log(np.array([s.price for s in block])) - walk[:, ANCHOR_DAY - 1]
    previous_return = np.concatenate([np.zeros((len(block), 1)), returns[:, :-1]], axis=1)
    innovation = PREMIUM_SD * math.sqrt(1 - PREMIUM_PERSISTENCE**2)
    premium = (
        INTEREST_PER_INTERVAL
        + _ar1(innovation * idio[..., 3:6].reshape(len(block), days * 3), PREMIUM_PERSISTENCE)
        + PREMIUM_MOMENTUM * np.repeat(previous_return, 3, axis=1)
    )
    return DailyPaths(
        days=days,
        log_start=level,
        log_close=level[:, None] + walk,
        factor_vol=factor_vol,
        idio_vol=idio_vol,
        factor_jump=factor_jump,
        factor_jump_minute=factor_minute,
        idio_jump=idio_jump,
        idio_jump_minute=_minute_of(idio_u[..., 1]),
        premium=premium,
    )


def funding_from_premium(premium: np.ndarray) -> np.ndarray:
    """Binance's funding formula: ``F = P + clamp(I - P, -0.05%, 0.05%)``, capped.

    ``premium`` and the interest rate ``I`` (0.01%) are per 8-hour interval; the result is a
    fraction of notional paid by longs to shorts at the end of the interval.
    """
    gap = INTEREST_PER_INTERVAL - premium
    rate = np.where(
        np.abs(gap) <= 0.0005, INTEREST_PER_INTERVAL, premium + np.clip(gap, -0.0005, 0.0005)
    )
    return np.round(np.clip(rate, -FUNDING_CAP, FUNDING_CAP), 8)


_CACHE: dict[tuple[int, int], DailyPaths] = {}
_LOCK = threading.Lock()


def daily_paths(seed: int, days: int, block: int = 0) -> DailyPaths:
    """Daily paths of one block covering at least ``days`` days (cached per seed and block)."""
    with _LOCK:
        cached = _CACHE.get((seed, block))
        if cached is not None and cached.days >= days:
            return cached
        horizon = -(-max(days, ANCHOR_DAY + 1) // _BLOCK_DAYS) * _BLOCK_DAYS
        paths = generate_daily(seed, horizon, block_specs(block))
        _CACHE[seed, block] = paths
        return paths


def symbol_paths(seed: int, symbol: str, days: int) -> tuple[DailyPaths, int]:
    """The daily paths holding ``symbol`` (at least ``days`` days) and its row in them."""
    block, row = locate(symbol)
    return daily_paths(seed, days, block), row
