"""Option chains of the simulated venue: Binance-style linear USDT-settled European options.

Expiries at 08:00 UTC: the next 3 days (daily), the next 3 Fridays (weekly), the last
Friday of the next 3 months (monthly) and of the next 2 quarter-end months (quarterly).
Strikes on a grid around each expiry's forward, listed at each day's open and kept until
expiry (:mod:`qbtc.market.sim.listing`). Implied vols come from a smile with skew and
term structure; premiums are undiscounted Black-76 in USDT on the forward
``F = index * exp(basis * T)``, where ``basis`` annualises the current funding premium.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np

from qbtc.market.contracts import EXPIRY_HOUR_UTC
from qbtc.market.sim.snapshot import PerpSnapshot
from qbtc.market.sim.universe import BY_SYMBOL, DAYS_PER_YEAR

YEAR_MS = DAYS_PER_YEAR * 86_400_000
MIN_LIFETIME_MS = 30 * 60_000
TERM_REVERSION = 12.0
"""Speed (per year) at which the ATM vol term structure reverts to the long-run vol."""
BASE_SKEW = -0.06
SMILE_CURVATURE = 0.04
STRIKE_STEPS = {
    "BTC": ((2, 500.0), (10, 1000.0), (40, 2000.0), (10_000, 5000.0)),
    "ETH": ((2, 25.0), (10, 50.0), (40, 100.0), (10_000, 200.0)),
}
PRICE_TICK = {"BTC": 5.0, "ETH": 0.1}
MAX_STRIKES = 61
ChainDepth = Literal["standard", "full"]
CHAIN_DEPTHS: dict[str, tuple[float, float, int]] = {
    "standard": (2.5, 0.04, MAX_STRIKES),
    "full": (5.0, 0.25, 81),
}
"""Strike range per expiry: (standard deviations, least log-width, most strikes).

One day's grid at ``standard`` depth is about 200 BTC and 360 ETH options, ``full`` about
500 and 900 (deep wings included); with the strikes of earlier days kept until expiry the
chains list about 450 BTC and 650 ETH options (``full``: a Deribit-sized 1,000 and 1,400).
"""
PRIORITY = {"daily": 0, "weekly": 1, "monthly": 2, "quarterly": 3}


@dataclass(frozen=True)
class Expiry:
    """A listed expiry (08:00 UTC) and its bucket: daily, weekly, monthly or quarterly."""

    when: datetime
    kind: str

    @property
    def ms(self) -> int:
        return int(self.when.timestamp() * 1000)


def _at_expiry_hour(day: datetime) -> datetime:
    return datetime(day.year, day.month, day.day, EXPIRY_HOUR_UTC, tzinfo=UTC)


def _last_friday(year: int, month: int) -> datetime:
    last = calendar.monthrange(year, month)[1]
    day = datetime(year, month, last, EXPIRY_HOUR_UTC, tzinfo=UTC)
    return day - timedelta(days=(day.weekday() - 4) % 7)


def _month_ends(start: datetime, months: int) -> list[datetime]:
    out = []
    for offset in range(months):
        year, month = divmod(start.month - 1 + offset, 12)
        out.append(_last_friday(start.year + year, month + 1))
    return out


def list_expiries(now_ms: int) -> list[Expiry]:
    """Expiries listed at ``now_ms`` (more than 30 minutes away), soonest first."""
    now = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
    cutoff = now + timedelta(milliseconds=MIN_LIFETIME_MS)
    today = _at_expiry_hour(now)
    days = [today + timedelta(days=k) for k in range(5)]
    fridays = [today + timedelta(days=(4 - today.weekday()) % 7 + 7 * k) for k in range(4)]
    months = _month_ends(now, 5)
    quarters = [m for m in _month_ends(now, 8) if m.month % 3 == 0]
    buckets: dict[datetime, str] = {}
    for kind, dates, count in (
        ("daily", days, 3),
        ("weekly", fridays, 3),
        ("monthly", months, 3),
        ("quarterly", quarters, 2),
    ):
        for when in [d for d in dates if d > cutoff][:count]:
            if PRIORITY[kind] >= PRIORITY[buckets.get(when, "daily")]:
                buckets[when] = kind
    return [Expiry(when, buckets[when]) for when in sorted(buckets)]


@dataclass(frozen=True)
class Surface:
    """Volatility surface of one underlying at one instant.

    ``spot`` is the index price (USDT); ``basis`` the annualised carry of the forward;
    ``vol`` the current annualised vol; ``long_run_vol`` its long-run level; ``skew`` the
    slope of IV in standardised moneyness ``ln(K/F) / (atm sqrt(T))``.
    """

    underlying: str
    timestamp_ms: int
    spot: float
    basis: float
    vol: float
    long_run_vol: float
    skew: float

    def forward(self, expiry_years: np.ndarray) -> np.ndarray:
        return self.spot * np.exp(self.basis * expiry_years)

    def atm_vol(self, expiry_years: np.ndarray) -> np.ndarray:
        """ATM vol term structure: today's vol decaying to the long-run vol."""
        decay = TERM_REVERSION * expiry_years
        weight = (1.0 - np.exp(-decay)) / decay
        return self.long_run_vol + (self.vol - self.long_run_vol) * weight

    def implied_vol(self, strike: np.ndarray, expiry_years: np.ndarray) -> np.ndarray:
        """Mark IV of strikes (USDT) at expiries (years): skewed, convex smile."""
        atm = self.atm_vol(expiry_years)
        moneyness = np.log(strike / self.forward(expiry_years)) / (atm * np.sqrt(expiry_years))
        smile = 1.0 + self.skew * moneyness + SMILE_CURVATURE * moneyness**2
        return atm * np.clip(smile, 0.6, 3.0)

    def half_spread(self, strike: np.ndarray, expiry_years: np.ndarray) -> np.ndarray:
        """Half the bid-ask spread in IV (annualised fraction): wider in wings and short tenors."""
        atm = self.atm_vol(expiry_years)
        moneyness = np.log(strike / self.forward(expiry_years)) / (atm * np.sqrt(expiry_years))
        return 0.005 + 0.004 * np.abs(moneyness) + 0.01 / np.sqrt(1.0 + expiry_years * 365.0)


def build_surface(snapshot: PerpSnapshot, timestamp_ms: int) -> Surface:
    """The surface implied by a perp snapshot (its vol regime, funding and last return)."""
    spec = BY_SYMBOL[snapshot.symbol]
    return Surface(
        underlying=spec.base,
        timestamp_ms=timestamp_ms,
        spot=snapshot.index,
        basis=float(np.clip(snapshot.premium * 3 * DAYS_PER_YEAR, -0.1, 0.25)),
        vol=snapshot.vol,
        long_run_vol=spec.total_vol,
        skew=BASE_SKEW + float(np.clip(0.5 * snapshot.last_return, -0.04, 0.04)),
    )


def strike_grid(
    surface: Surface, expiry_years: float, depth: ChainDepth = "standard"
) -> np.ndarray:
    """Strikes around the forward: ±2.5 standard deviations (at least ±4%) for the
    ``standard`` depth, ±5 (at least ±25%) for ``full`` (see :data:`CHAIN_DEPTHS`)."""
    years = np.array(expiry_years)
    return strikes_around(
        surface.underlying,
        float(surface.forward(years)),
        float(surface.atm_vol(years)),
        expiry_years,
        depth,
    )


def strikes_around(
    underlying: str, forward: float, atm_vol: float, expiry_years: float, depth: ChainDepth
) -> np.ndarray:
    """The strike grid of one expiry around ``forward`` (USDT) at ATM vol ``atm_vol``."""
    if depth not in CHAIN_DEPTHS:
        raise ValueError(f"chain depth must be one of {sorted(CHAIN_DEPTHS)}, got {depth!r}")
    deviations, least_width, most_strikes = CHAIN_DEPTHS[depth]
    days = expiry_years * DAYS_PER_YEAR
    step = next(s for limit, s in STRIKE_STEPS[underlying] if days <= limit)
    width = max(deviations * atm_vol * math.sqrt(expiry_years), least_width)
    low, high = forward * math.exp(-width), forward * math.exp(width)
    while (high - low) / step > most_strikes:
        step *= 2
    first = max(math.ceil(low / step), 1)
    return step * np.arange(first, math.floor(high / step) + 1, dtype=float)
