"""ccxt option chains -> ``option_quotes`` frames, for linear (USDT) and inverse (coin) options.

IVs are annualised fractions. They are read from the venue where it gives them (Binance and
the simulated venue: ``info.bidIV/askIV/markIV`` as fractions; Deribit: ``info.bid_iv`` etc.
in percent; ccxt's ``impliedVolatility``) and otherwise implied from the price with Black-76
on the quoted underlying (forward) price. Inverse prices are converted to USDT at that
price for the inversion only; stored prices stay in the premium currency.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl

from qbtc.market.contracts import is_option_symbol, parse_option_symbol
from qbtc.pricing import implied_vol
from qbtc.schemas import OPTION_QUOTES, TS

YEAR_SECONDS = 365.0 * 86_400.0
_IV_KEYS = {
    "bid_iv": (("bidIV", 1.0), ("bid_iv", 0.01)),
    "ask_iv": (("askIV", 1.0), ("ask_iv", 0.01)),
    "mark_iv": (("markIV", 1.0), ("mark_iv", 0.01)),
}
_PRICE_FOR_IV = {"bid_iv": "bid", "ask_iv": "ask", "mark_iv": "mark"}


def _number(value: Any) -> float:
    """A float, NaN where the venue gave nothing."""
    if value is None or value == "":
        return float("nan")
    return float(value)


def _venue_iv(option: Mapping[str, Any], column: str) -> float:
    info = option.get("info") or {}
    for key, scale in _IV_KEYS[column]:
        if info.get(key) not in (None, ""):
            return float(info[key]) * scale
    if column == "mark_iv":
        return _number(option.get("impliedVolatility"))
    return float("nan")


#: Where venues put the contracts quoted at the touch (simulator and Binance: ``bidQty`` /
#: ``askQty``; Deribit tickers: ``best_bid_amount`` / ``best_ask_amount``).
_SIZE_KEYS = {"bid_size": ("bidQty", "best_bid_amount"), "ask_size": ("askQty", "best_ask_amount")}


def _size(info: Mapping[str, Any], column: str) -> float:
    for key in _SIZE_KEYS[column]:
        if info.get(key) not in (None, ""):
            return float(info[key])
    return float("nan")


def _row(option: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    contract = parse_option_symbol(option["symbol"])
    info = option.get("info") or {}
    underlying_price = option.get("underlyingPrice") or info.get("underlyingPrice")
    return {
        "symbol": contract.symbol,
        "expiry": contract.expiry,
        "strike": contract.strike,
        "option_type": contract.option_type,
        "settlement": contract.settlement,
        "bid": _number(option.get("bidPrice")),
        "ask": _number(option.get("askPrice")),
        "mark": _number(option.get("markPrice")),
        **{column: _venue_iv(option, column) for column in _IV_KEYS},
        "underlying_price": _number(underlying_price or info.get("indexPrice")),
        "open_interest": _number(option.get("openInterest")),
        **{column: _size(info, column) for column in _SIZE_KEYS},
        "years": (contract.expiry - now).total_seconds() / YEAR_SECONDS,
    }


def _fill_missing_ivs(columns: dict[str, np.ndarray]) -> None:
    """Imply IVs the venue did not quote from the matching price (in place)."""
    forward, strike, years = columns["underlying_price"], columns["strike"], columns["years"]
    is_call = columns["option_type"] == "call"
    usdt_per_premium = np.where(columns["settlement"] == "inverse", forward, 1.0)
    for iv_column, price_column in _PRICE_FOR_IV.items():
        missing = np.isnan(columns[iv_column]) & ~np.isnan(columns[price_column])
        missing &= (years > 0) & (forward > 0)
        if missing.any():
            implied = implied_vol(
                (columns[price_column] * usdt_per_premium)[missing],
                forward[missing],
                strike[missing],
                years[missing],
                is_call[missing],
            )
            columns[iv_column][missing] = implied


def option_chain_to_frame(
    chain: Mapping[str, Mapping[str, Any]], *, underlying: str, now: datetime, source: str
) -> pl.DataFrame:
    """A ccxt option chain (symbol -> option structure) -> an ``option_quotes`` frame at ``now``.

    Entries whose symbol is not a ccxt option symbol are skipped. Missing prices, IVs and open
    interest are null (``mark``, ``mark_iv`` and ``underlying_price`` should always be there:
    the quality gate quarantines rows where they are not).
    """
    moment = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    rows = [
        _row(option, moment) for symbol, option in sorted(chain.items()) if is_option_symbol(symbol)
    ]
    if not rows:
        return OPTION_QUOTES.empty()
    columns = {name: np.array([row[name] for row in rows]) for name in rows[0]}
    _fill_missing_ivs(columns)
    columns.pop("years")
    frame = pl.DataFrame(
        {
            name: values if values.dtype.kind == "f" else values.tolist()
            for name, values in columns.items()
        },
        schema={name: OPTION_QUOTES.columns[name] for name in columns},
        nan_to_null=True,
    )
    return frame.with_columns(
        pl.lit(underlying, pl.String).alias("underlying"),
        pl.lit(moment).cast(TS).alias("timestamp"),
        pl.lit(source, pl.String).alias("source"),
    ).select(list(OPTION_QUOTES.columns))
