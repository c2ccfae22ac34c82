"""Which strikes the simulated venue lists for each expiry: once listed, until expiry.

A real venue lists new strikes as the underlying moves and never delists one before its
expiry (a position in it must stay quotable and closable). The simulated venue does the same,
deterministically: every day at its open (00:00 UTC) it lists, for each expiry listed that
day, the strike grid around the expiry's forward at the day's opening price
(:func:`~qbtc.market.sim.options.strikes_around`); an expiry's strikes at any clock are the
union of those daily listings from the day it was first listed to today. The opening prices
come from the daily paths alone (no minute bars), so the union over months of listings costs
milliseconds and is the same whatever clock, process or order asks for it.
"""

from __future__ import annotations

import math
import threading
from functools import lru_cache

import numpy as np

from qbtc.market.sim.daily import symbol_paths
from qbtc.market.sim.options import (
    YEAR_MS,
    ChainDepth,
    Surface,
    build_surface,
    list_expiries,
    strikes_around,
)
from qbtc.market.sim.snapshot import PerpSnapshot
from qbtc.market.sim.universe import BY_SYMBOL, DAY_MS, EPOCH_MS

LISTING_INSTANTS_MS = (0, 7 * 3_600_000 + 30 * 60_000)
"""Offsets in a day at which the listed expiries change: the calendar day turns at 00:00,
and at 07:30 the day's expiry leaves the list (30 minutes before 08:00) and the next enters."""


def day_of(timestamp_ms: int) -> int:
    """Days since the venue's epoch of ``timestamp_ms``."""
    return (timestamp_ms - EPOCH_MS) // DAY_MS


def opening_surface(seed: int, perp: str, day: int) -> Surface:
    """The volatility surface of ``perp``'s underlying at 00:00 UTC of ``day`` (its opening
    price, the day's vol and the first funding interval's premium)."""
    spec = BY_SYMBOL[perp]
    paths, row = symbol_paths(seed, perp, day + 1)
    log_open = paths.log_open(row, day)
    last = math.exp(log_open)
    premium = float(paths.premium[row, 3 * day])
    index = last / (1.0 + premium)
    snapshot = PerpSnapshot(
        symbol=perp,
        bar_ms=EPOCH_MS + day * DAY_MS,
        last=last,
        index=index,
        mark=index * (1.0 + premium),
        vol=math.hypot(spec.beta * float(paths.factor_vol[day]), float(paths.idio_vol[row, day])),
        premium=premium,
        last_return=log_open - paths.log_open(row, day - 1) if day >= 1 else 0.0,
    )
    return build_surface(snapshot, EPOCH_MS + day * DAY_MS)


@lru_cache(maxsize=4096)
def expiries_listed_during(day: int) -> frozenset[int]:
    """Expiries (ms) the venue lists at some moment of ``day``."""
    start = EPOCH_MS + day * DAY_MS
    return frozenset(e.ms for offset in LISTING_INSTANTS_MS for e in list_expiries(start + offset))


def first_listing_day(expiry_ms: int, day: int) -> int:
    """The first day ``expiry_ms`` was listed, going back from ``day`` (when it is listed)."""
    first = day
    while first > 0 and expiry_ms in expiries_listed_during(first - 1):
        first -= 1
    return first


_UNIONS: dict[tuple[int, str, int, str], tuple[int, np.ndarray]] = {}
_UNIONS_MAX = 512
_UNIONS_LOCK = threading.Lock()


def listed_strikes(seed: int, perp: str, expiry_ms: int, day: int, depth: ChainDepth) -> np.ndarray:
    """Strikes (USDT, ascending) of ``expiry_ms`` listed on ``day``: the union of each day's
    opening grid since the expiry was first listed (read-only: shared through a cache that
    extends a later day's union from an earlier one)."""
    key = (seed, perp, expiry_ms, depth)
    first = first_listing_day(expiry_ms, day)
    with _UNIONS_LOCK:
        cached = _UNIONS.get(key)
    if cached is not None and first <= cached[0] <= day:
        start, grids = cached[0] + 1, [cached[1]]
    else:
        start, grids = first, []
    for listing_day in range(start, day + 1):
        surface = opening_surface(seed, perp, listing_day)
        years = (expiry_ms - surface.timestamp_ms) / YEAR_MS
        atm = float(surface.atm_vol(np.array(years)))
        forward = float(surface.forward(np.array(years)))
        grids.append(strikes_around(surface.underlying, forward, atm, years, depth))
    strikes = np.unique(np.concatenate(grids))
    strikes.flags.writeable = False
    with _UNIONS_LOCK:
        if cached is None or cached[0] < day:
            if len(_UNIONS) >= _UNIONS_MAX:
                _UNIONS.pop(min(_UNIONS, key=lambda k: k[2]))  # the soonest expiry
            _UNIONS[key] = (day, strikes)
    return strikes
