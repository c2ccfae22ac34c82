"""Option settlements as each venue reports them, in one shape.

ccxt's settlement structure (``symbol``, ``price`` = the delivery price, ``timestamp``,
``info``) leaves the account's side of it in each venue's own ``info``. qbtc reads it into
three more keys, the same for every venue and for the simulator:

- ``id``: the venue's id of the record, or ``<instrument>:<timestamp>`` where it has none
  (stable across re-reads, so recording a settlement twice stores it once);
- ``amount``: the signed position settled, in contracts as the book counts them (coins of
  the underlying for options; long > 0);
- ``fee``: ``{"cost", "currency"}``, the delivery fee in the currency it was paid in.

Venues: Binance's options exercise record (``quantity``, ``positionSide``, ``fee``, ``id``;
the simulator reports that shape), Deribit's ``private/get_settlement_history_by_currency``
record (``instrument_name``, signed ``position``, ``index_price`` = delivery price,
``mark_price`` = value per contract in coin; no fee: Deribit's delivery fee shows only in the
account balance) and Bybit's ``/v5/asset/delivery-record`` (``side``, ``position``, ``fee``
in the settle coin, ``deliveryPrice``).

Expired options are no longer listed, so ccxt names them by rebuilding a symbol from the
venue's id (``createExpiredOptionMarket``), which may differ from the symbol the option was
traded under (Bybit: ``BTC/USDC:USDC-...`` for ``BTC/USD:USDC-...``). Records are therefore
matched to held options by :func:`option_key` (underlying, settle currency, expiry, strike,
kind), never by symbol text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from qbtc.market.contracts import is_option_symbol, parse_option_symbol

OptionKey = tuple[str, str, datetime, float, str]


def option_key(symbol: str) -> OptionKey | None:
    """(base, settle, expiry, strike, kind) of an option symbol; None for anything else."""
    if not is_option_symbol(symbol):
        return None
    contract = parse_option_symbol(symbol)
    return (contract.base, contract.settle, contract.expiry, contract.strike, contract.option_type)


def settlement_row(
    *,
    symbol: str,
    delivery_price: float,
    timestamp: int,
    settlement_id: str,
    amount: float,
    fee: float,
    fee_currency: str,
    info: Mapping[str, Any],
) -> dict[str, Any]:
    """A settlement in qbtc's shape (see the module docstring)."""
    moment = datetime.fromtimestamp(timestamp / 1000, tz=UTC)
    return {
        "info": dict(info),
        "symbol": symbol,
        "price": float(delivery_price),
        "timestamp": int(timestamp),
        "datetime": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "id": settlement_id,
        "amount": float(amount),
        "fee": {"cost": float(fee), "currency": fee_currency},
    }


def binance_settlement(row: Mapping[str, Any]) -> dict[str, Any]:
    """A ccxt settlement whose ``info`` is Binance's options exercise record."""
    info = row.get("info") or {}
    symbol = str(row["symbol"])
    stamp = int(row.get("timestamp") or parse_option_symbol(symbol).expiry.timestamp() * 1000)
    quantity = abs(float(info.get("quantity") or 0.0))
    short = str(info.get("positionSide", "LONG")).upper() == "SHORT"
    return settlement_row(
        symbol=symbol,
        delivery_price=float(row["price"]),
        timestamp=stamp,
        settlement_id=str(info.get("id") or f"{symbol}:{stamp}"),
        amount=-quantity if short else quantity,
        fee=float(info.get("fee") or 0.0),
        fee_currency=str(info.get("currency") or parse_option_symbol(symbol).settle),
        info=info,
    )


def deribit_settlement(record: Mapping[str, Any], symbol: str) -> dict[str, Any]:
    """A Deribit delivery record of the account (``symbol``: the held option it settles)."""
    stamp = int(record["timestamp"])
    return settlement_row(
        symbol=symbol,
        delivery_price=float(record["index_price"]),
        timestamp=stamp,
        settlement_id=f"{record['instrument_name']}:{stamp}",
        amount=float(record["position"]),
        fee=0.0,
        fee_currency=parse_option_symbol(symbol).settle,
        info=record,
    )


def bybit_settlement(row: Mapping[str, Any], symbol: str) -> dict[str, Any]:
    """A ccxt-parsed Bybit delivery record (``symbol``: the held option it settles)."""
    info = row.get("info") or {}
    stamp = int(row["timestamp"])
    size = abs(float(info.get("position") or 0.0))
    return settlement_row(
        symbol=symbol,
        delivery_price=float(row["price"]),
        timestamp=stamp,
        settlement_id=f"{info.get('symbol')}:{stamp}",
        amount=-size if str(info.get("side")).lower() == "sell" else size,
        fee=float(info.get("fee") or 0.0),
        fee_currency=parse_option_symbol(symbol).settle,
        info=info,
    )
