"""Position snapshots of the book (the ``positions`` dataset) from fills, funding and marks.

One row per symbol the book ever traded (``id = portfolio_id:symbol``; a closed position has
quantity 0, so the latest snapshot is never stale). Options carry their contract terms and
position Greeks under Black-76 at the venue's mark IV and forward (linear, USDT premium):

- ``delta`` in coins of the underlying (quantity x dV/dF),
- ``gamma`` in coins per USDT move of the forward (quantity x d2V/dF2),
- ``vega`` in USDT per vol point (quantity x dV/dvol x 0.01),
- ``theta`` in USDT per calendar day (quantity x dV/dt / 365).

Every position carries its net PnL in USD (``pnl_usd``); a coin-settled (inverse) option
also in its coin (``pnl_coin``, ``pnl_coin_currency``: :func:`qbtc.execution.pnl.coin_pnl`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from qbtc.execution.pnl import PositionPnl, coin_currency, coin_pnl
from qbtc.market.contract_spec import mark_iv_from_ticker, underlying_price_from_ticker
from qbtc.market.contracts import is_option_symbol, parse_option_symbol
from qbtc.schemas import POSITIONS

#: Built once: a schema costs ~20 us to build, and a backtest writes a book at every decision.
_SCHEMA = POSITIONS.schema


@dataclass(frozen=True)
class OptionMark:
    """What values an option position: forward (USDT) and mark IV (annualised fraction)."""

    forward: float
    mark_iv: float


def option_mark_from_ticker(ticker: Mapping[str, Any]) -> OptionMark | None:
    """Forward (USD) and mark IV (fraction) from a venue's option ticker, in either shape
    (Binance and the simulated venue, or Deribit: see
    :func:`qbtc.market.contract_spec.underlying_price_from_ticker` and
    :func:`~qbtc.market.contract_spec.mark_iv_from_ticker`); None without either."""
    forward, iv = underlying_price_from_ticker(ticker), mark_iv_from_ticker(ticker)
    if forward is None or iv is None:
        return None
    return OptionMark(forward, iv)


def _option_columns(
    symbol: str, quantity: float, mark: OptionMark | None, at: datetime
) -> dict[str, Any]:
    contract = parse_option_symbol(symbol)
    columns: dict[str, Any] = {
        "underlying": contract.base,
        "expiry": contract.expiry,
        "strike": contract.strike,
        "option_type": contract.option_type,
        "delta": None,
        "gamma": None,
        "vega": None,
        "theta": None,
    }
    if mark is None:
        return columns
    from qbtc.pricing import greeks, year_fraction  # scipy: only when options are held

    years = max(float(year_fraction(at, contract.expiry)), 0.0)
    g = greeks(mark.forward, contract.strike, years, mark.mark_iv, contract.is_call)
    columns |= {
        "delta": quantity * float(g.delta),
        "gamma": quantity * float(g.gamma),
        "vega": quantity * float(g.vega_per_vol_point),
        "theta": quantity * float(g.theta_per_day),
    }
    return columns


def position_rows(
    positions: Mapping[str, PositionPnl],
    *,
    portfolio_id: str,
    timestamp: datetime,
    option_marks: Mapping[str, OptionMark] | None = None,
) -> pl.DataFrame:
    """The ``positions`` rows of the book at ``timestamp`` (one per symbol)."""
    rows = []
    for symbol, pnl in sorted(positions.items()):
        option = is_option_symbol(symbol)
        side = "long" if pnl.quantity > 0 else "short" if pnl.quantity < 0 else "flat"
        row: dict[str, Any] = {
            "id": f"{portfolio_id}:{symbol}",
            "portfolio_id": portfolio_id,
            "symbol": symbol,
            "type": "option" if option else "perp",
            "side": side,
            "quantity": pnl.quantity,
            "entry_price": pnl.entry_price,
            "mark_price": pnl.mark_price if pnl.mark_price is not None else pnl.entry_price,
            "unrealized_pnl": pnl.unrealized_pnl,
            "realized_pnl": pnl.realized_pnl,
            "fees": pnl.fees,
            "funding": pnl.funding,
            "underlying": symbol.split("/", 1)[0],
            "expiry": None,
            "strike": None,
            "option_type": None,
            "delta": pnl.quantity if not option else None,
            "gamma": None if option else 0.0,
            "vega": None if option else 0.0,
            "theta": None if option else 0.0,
            "timestamp": timestamp,
            "pnl_usd": pnl.net_pnl,
            "pnl_coin": None,
            "pnl_coin_currency": coin_currency(symbol),
        }
        if option:
            mark = (option_marks or {}).get(symbol)
            row |= _option_columns(symbol, pnl.quantity, mark, timestamp)
            row["pnl_coin"] = coin_pnl(pnl, None if mark is None else mark.forward)
        rows.append(row)
    return pl.DataFrame(rows, schema=_SCHEMA)
