"""ccxt tickers and funding-rate history of the simulated venue, at the venue clock."""

from __future__ import annotations

import copy
import functools
import math
from typing import Any

from qbtc.market.contracts import OptionContract
from qbtc.market.sim.chain import option_quote
from qbtc.market.sim.daily import funding_from_premium, symbol_paths
from qbtc.market.sim.intraday import minute_bars
from qbtc.market.sim.rng import unit_hash
from qbtc.market.sim.snapshot import (
    PerpSnapshot,
    day_and_minute,
    iso8601,
    minute_window,
    perp_snapshot,
)
from qbtc.market.sim.universe import (
    BY_SYMBOL,
    DAY_MS,
    EPOCH_MS,
    FUNDING_INTERVAL_MS,
    MINUTE_MS,
)

OPEN_INTEREST_DAYS = 0.3
"""Open interest as a multiple of the last 24 hours' base volume."""


def _text(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"


def _top_of_book(seed: int, symbol: str, last: float, now_ms: int) -> dict[str, float]:
    """Bid and ask around ``last`` (the symbol's spread, on the tick grid) and their sizes."""
    spec = BY_SYMBOL[symbol]
    digits = spec.price_decimals
    tick = 10.0**-digits
    half_spread = max(tick, last * spec.spread_bps / 2e4)
    depth = spec.daily_notional / last / 20_000
    return {
        "bid": round(math.floor((last - half_spread) / tick) * tick, digits),
        "bidVolume": round(
            depth * (0.5 + unit_hash(seed, symbol, now_ms, "bid")), spec.amount_decimals
        ),
        "ask": round(math.ceil((last + half_spread) / tick) * tick, digits),
        "askVolume": round(
            depth * (0.5 + unit_hash(seed, symbol, now_ms, "ask")), spec.amount_decimals
        ),
    }


def _perp_info(
    seed: int, snapshot: PerpSnapshot, base_volume: float, now_ms: int
) -> dict[str, Any]:
    """Binance-style raw fields: mark, index, funding, open interest, plus the current vol."""
    spec = BY_SYMBOL[snapshot.symbol]
    interval = (snapshot.bar_ms - EPOCH_MS) // FUNDING_INTERVAL_MS
    paths, row = symbol_paths(seed, snapshot.symbol, interval // 3 + 1)
    premium = paths.premium[row, interval]
    open_interest = round(OPEN_INTEREST_DAYS * base_volume, spec.amount_decimals)
    digits = spec.price_decimals
    return {
        "symbol": spec.market_id,
        "lastPrice": _text(snapshot.last, digits),
        "markPrice": _text(snapshot.mark, digits),
        "indexPrice": _text(snapshot.index, digits),
        "lastFundingRate": f"{float(funding_from_premium(premium)):.8f}",
        "nextFundingTime": EPOCH_MS + (interval + 1) * FUNDING_INTERVAL_MS,
        "openInterest": _text(open_interest, spec.amount_decimals),
        "volatility": round(snapshot.vol, 6),
        "time": now_ms,
    }


def perp_ticker(seed: int, symbol: str, now_ms: int) -> dict[str, Any]:
    """24-hour rolling statistics, top of book, mark and index of a perp at ``now_ms``.

    A pure function of its arguments, remembered: margin checks ask for the mark of every
    held perp at each order, and a day of minute bars stands behind each answer. Every call
    gets its own copy.
    """
    return copy.deepcopy(_perp_ticker(seed, symbol, now_ms))


@functools.lru_cache(maxsize=4096)
def _perp_ticker(seed: int, symbol: str, now_ms: int) -> dict[str, Any]:
    snapshot = perp_snapshot(seed, symbol, now_ms)
    stop = snapshot.bar_ms + MINUTE_MS
    window = minute_window(seed, symbol, max(stop - DAY_MS, EPOCH_MS), stop)
    base_volume = float(window["volume"].sum())
    quote_volume = float((window["volume"] * window["close"]).sum())
    last, open_price = snapshot.last, float(window["open"][0])
    return {
        "symbol": symbol,
        "timestamp": now_ms,
        "datetime": iso8601(now_ms),
        "high": float(window["high"].max()),
        "low": float(window["low"].min()),
        **_top_of_book(seed, symbol, last, now_ms),
        "vwap": quote_volume / base_volume if base_volume > 0 else None,
        "open": open_price,
        "close": last,
        "last": last,
        "previousClose": None,
        "change": last - open_price,
        "percentage": 100.0 * (last / open_price - 1.0),
        "average": (last + open_price) / 2,
        "baseVolume": base_volume,
        "quoteVolume": quote_volume,
        "markPrice": snapshot.mark,
        "indexPrice": snapshot.index,
        "info": _perp_info(seed, snapshot, base_volume, now_ms),
    }


def _size(text: str | None) -> float | None:
    return None if text is None else float(text)


def option_ticker(seed: int, contract: OptionContract, now_ms: int) -> dict[str, Any]:
    """ccxt ticker of one option: bid, ask and mark in USDT, their sizes in contracts, IVs in
    ``info``."""
    quote = option_quote(seed, contract, now_ms)
    return {
        "symbol": contract.symbol,
        "timestamp": now_ms,
        "datetime": iso8601(now_ms),
        "high": None,
        "low": None,
        "bid": quote["bidPrice"],
        "bidVolume": _size(quote["info"]["bidQty"]),
        "ask": quote["askPrice"],
        "askVolume": _size(quote["info"]["askQty"]),
        "vwap": None,
        "open": None,
        "close": quote["markPrice"],
        "last": quote["markPrice"],
        "previousClose": None,
        "change": None,
        "percentage": None,
        "average": None,
        "baseVolume": None,
        "quoteVolume": None,
        "markPrice": quote["markPrice"],
        "indexPrice": float(quote["info"]["indexPrice"]),
        "info": quote["info"],
    }


def _settlement_range(now_ms: int, since: int | None, limit: int) -> range:
    """Funding intervals whose settlement (interval end) is at or before ``now_ms``."""
    last = (now_ms - EPOCH_MS) // FUNDING_INTERVAL_MS - 1
    if since is None:
        first = max(last - limit + 1, 0)
    else:
        first = max(-(-(int(since) - EPOCH_MS) // FUNDING_INTERVAL_MS) - 1, 0)
    return range(first, min(first + limit, last + 1))


def funding_history(
    seed: int, symbol: str, now_ms: int, since: int | None, limit: int
) -> list[dict[str, Any]]:
    """Funding settlements of ``symbol`` settled by ``now_ms``: rate, mark and index."""
    intervals = _settlement_range(now_ms, since, limit)
    if not intervals:
        return []
    spec = BY_SYMBOL[symbol]
    paths, row = symbol_paths(seed, symbol, intervals[-1] // 3 + 1)
    rates = funding_from_premium(paths.premium[row, intervals.start : intervals.stop])
    out = []
    for interval, rate in zip(intervals, rates.tolist(), strict=True):
        settled = EPOCH_MS + (interval + 1) * FUNDING_INTERVAL_MS
        day, minute = day_and_minute(settled - MINUTE_MS)
        bars = minute_bars(seed, symbol, day)
        mark, index = float(bars.mark[minute]), float(bars.index[minute])
        out.append(
            {
                "info": {
                    "symbol": spec.market_id,
                    "fundingTime": settled,
                    "fundingRate": f"{rate:.8f}",
                    "markPrice": _text(mark, spec.price_decimals),
                    "indexPrice": _text(index, spec.price_decimals),
                },
                "symbol": symbol,
                "fundingRate": rate,
                "timestamp": settled,
                "datetime": iso8601(settled),
            }
        )
    return out
