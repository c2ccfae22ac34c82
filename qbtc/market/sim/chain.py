"""ccxt-shaped option chains, option tickers and option markets of the simulated venue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from qbtc.market.contracts import OptionContract, format_strike, option_symbol
from qbtc.market.sim.listing import day_of, listed_strikes
from qbtc.market.sim.options import (
    PRICE_TICK,
    YEAR_MS,
    ChainDepth,
    Surface,
    build_surface,
    list_expiries,
)
from qbtc.market.sim.rng import unit_hash
from qbtc.market.sim.snapshot import iso8601, perp_snapshot
from qbtc.pricing import black76_price, implied_vol

OPEN_INTEREST_SCALE = {"BTC": 150.0, "ETH": 1500.0}
SETTLE = "USDT"
QUOTE_LOT = 0.01


@dataclass(frozen=True)
class Quotes:
    """Prices (USDT, per 1 unit of underlying) and IVs (annualised fractions) of options.

    ``bid``/``bid_iv`` are NaN where the bid would be below one tick or under the option's
    intrinsic value (no bid quoted).
    """

    years: np.ndarray
    forward: np.ndarray
    mark: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    mark_iv: np.ndarray
    bid_iv: np.ndarray
    ask_iv: np.ndarray


def price_quotes(
    surface: Surface, expiry_ms: np.ndarray, strike: np.ndarray, is_call: np.ndarray
) -> Quotes:
    """Mark, bid and ask of options from the surface; quotes on the price tick grid."""
    years = (expiry_ms - surface.timestamp_ms) / YEAR_MS
    if np.any(years <= 0):
        raise ValueError("cannot quote an option at or after its expiry")
    forward = surface.forward(years)
    mark_iv = surface.implied_vol(strike, years)
    spread = surface.half_spread(strike, years)
    tick = PRICE_TICK[surface.underlying]
    mark = np.round(black76_price(forward, strike, years, mark_iv, is_call), 4)
    raw_bid = black76_price(forward, strike, years, np.maximum(mark_iv - spread, 0.01), is_call)
    raw_ask = black76_price(forward, strike, years, mark_iv + spread, is_call)
    bid = np.floor(raw_bid / tick) * tick
    bid = np.where(bid >= tick, bid, np.nan)
    ask = np.maximum(np.ceil(raw_ask / tick) * tick, tick)
    with np.errstate(invalid="ignore"):
        bid_iv = implied_vol(np.nan_to_num(bid), forward, strike, years, is_call)
    # deep in the money, rounding down to the tick can put the bid under intrinsic value,
    # where no vol prices it: such a bid is not quoted
    bid = np.where(np.isnan(bid_iv), np.nan, bid)
    ask_iv = implied_vol(ask, forward, strike, years, is_call)
    return Quotes(years, forward, mark, bid, ask, mark_iv, bid_iv, ask_iv)


def _number(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def _text(value: float) -> str | None:
    return None if np.isnan(value) else f"{value:.8f}".rstrip("0").rstrip(".")


def _structure(
    contract: OptionContract, quotes: Quotes, i: int, surface: Surface, kind: str, seed: int
) -> dict[str, Any]:
    market_id = contract.symbol.split(":", 1)[1].replace(f"{SETTLE}-", f"{contract.base}-", 1)
    moneyness = np.log(contract.strike / quotes.forward[i]) / (
        quotes.mark_iv[i] * np.sqrt(quotes.years[i])
    )
    open_interest = OPEN_INTEREST_SCALE[contract.base] * np.exp(-0.5 * moneyness**2)
    open_interest *= 0.5 + unit_hash(seed, contract.symbol, "open-interest")
    bid, ask, mark = _number(quotes.bid[i]), float(quotes.ask[i]), float(quotes.mark[i])
    minute = surface.timestamp_ms // 60_000
    bid_size = None if bid is None else quoted_size(seed, contract, minute, "bid", open_interest)
    ask_size = quoted_size(seed, contract, minute, "ask", open_interest)
    info = {
        "symbol": market_id,
        "markPrice": _text(mark),
        "bidPrice": _text(quotes.bid[i]),
        "askPrice": _text(ask),
        "bidIV": _text(quotes.bid_iv[i]),
        "askIV": _text(quotes.ask_iv[i]),
        "markIV": _text(quotes.mark_iv[i]),
        "indexPrice": _text(surface.spot),
        "forwardPrice": _text(quotes.forward[i]),
        "strikePrice": format_strike(contract.strike),
        "expiryDate": int(contract.expiry.timestamp() * 1000),
        "expiryKind": kind,
        "side": "CALL" if contract.is_call else "PUT",
        "openInterest": _text(round(float(open_interest), 2)),
        "bidQty": None if bid_size is None else _text(bid_size),
        "askQty": _text(ask_size),
    }
    return {
        "info": info,
        "currency": contract.base,
        "symbol": contract.symbol,
        "timestamp": surface.timestamp_ms,
        "datetime": iso8601(surface.timestamp_ms),
        "impliedVolatility": float(quotes.mark_iv[i]),
        "openInterest": round(float(open_interest), 2),
        "bidPrice": bid,
        "askPrice": ask,
        "midPrice": None if bid is None else (bid + ask) / 2,
        "markPrice": mark,
        "lastPrice": None,
        "underlyingPrice": float(quotes.forward[i]),
        "change": None,
        "percentage": None,
        "baseVolume": None,
        "quoteVolume": None,
    }


def quoted_size(
    seed: int, contract: OptionContract, minute: int, side: str, open_interest: float
) -> float:
    """Contracts quoted at the touch (refreshed every minute): 0.5-4% of the open interest,
    on the 0.01 lot, at least one lot."""
    share = 0.005 + 0.035 * unit_hash(seed, contract.symbol, minute, f"{side}-size")
    return max(round(float(open_interest) * share, 2), QUOTE_LOT)


def surface_at(seed: int, underlying: str, now_ms: int) -> Surface:
    """The volatility surface of ``underlying`` at the venue clock."""
    return build_surface(perp_snapshot(seed, f"{underlying}/{SETTLE}:{SETTLE}", now_ms), now_ms)


def listed_contracts(
    seed: int, underlying: str, now_ms: int, depth: ChainDepth = "standard"
) -> list[tuple[OptionContract, str]]:
    """The options of ``underlying`` listed at ``now_ms`` and their expiry bucket. Strikes
    are listed at each day's open and stay listed until expiry (:mod:`.listing`)."""
    perp, today = f"{underlying}/{SETTLE}:{SETTLE}", day_of(now_ms)
    contracts: list[tuple[OptionContract, str]] = []
    for expiry in list_expiries(now_ms):
        for strike in listed_strikes(seed, perp, expiry.ms, today, depth):
            for is_call in (True, False):
                symbol = option_symbol(underlying, SETTLE, expiry.when, float(strike), is_call)
                kind = "call" if is_call else "put"
                contract = OptionContract(
                    symbol, underlying, SETTLE, SETTLE, expiry.when, float(strike), kind
                )
                contracts.append((contract, expiry.kind))
    return contracts


def option_chain(
    seed: int, underlying: str, now_ms: int, depth: ChainDepth = "standard"
) -> dict[str, dict[str, Any]]:
    """Every listed option of ``underlying`` at ``now_ms`` (:func:`listed_contracts`):
    symbol -> ccxt option structure.

    ``depth`` picks the strike range (:data:`~qbtc.market.sim.options.CHAIN_DEPTHS`); a
    contract's quote is the same at either depth.
    """
    surface = surface_at(seed, underlying, now_ms)
    contracts = listed_contracts(seed, underlying, now_ms, depth)
    quotes = price_quotes(
        surface,
        np.array([c.expiry.timestamp() * 1000 for c, _ in contracts]),
        np.array([c.strike for c, _ in contracts]),
        np.array([c.is_call for c, _ in contracts]),
    )
    return {
        c.symbol: _structure(c, quotes, i, surface, kind, seed)
        for i, (c, kind) in enumerate(contracts)
    }


def option_quote(seed: int, contract: OptionContract, now_ms: int) -> dict[str, Any]:
    """The option structure of one contract (any strike) at ``now_ms``."""
    surface = surface_at(seed, contract.base, now_ms)
    expiry_ms = contract.expiry.timestamp() * 1000
    quotes = price_quotes(
        surface, np.array([expiry_ms]), np.array([contract.strike]), np.array([contract.is_call])
    )
    return _structure(contract, quotes, 0, surface, "listed", seed)
