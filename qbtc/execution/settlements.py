"""Option settlements read back from the venue into the ledger.

At expiry the venue settles each open option position at its delivery price; that is a
ledger event of its own (the ``settlements`` dataset), never a fill of an order. At the start
of each cycle, reconciliation asks the venue about every option the ledger still holds past
its expiry (``fetch_my_settlement_history``: the simulator's, or a real venue's through
:mod:`qbtc.market.venue_lookups`) and records what it answers; positions and PnL are then
derived from fills and settlements together (:func:`qbtc.execution.pnl.compute_positions`).

The venue's answer is in qbtc's settlement shape (:mod:`qbtc.market.venue_settlements`:
ccxt's ``symbol``, ``price`` = delivery price, ``timestamp``, plus ``id``, signed ``amount``
and ``fee``). Like fills after the broker, a settlement is stored in the book's units: the
value per contract in USD (:func:`qbtc.market.settlement.expiry_value`) and a coin fee
converted to USD at the delivery price (:func:`qbtc.market.contract_spec.coin_to_usd`).
Its id is the venue's, so a settlement read twice (a re-run, a crash before the positions
step) is stored once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import ccxt

from qbtc.execution.ledger import Settlement
from qbtc.market.contract_spec import coin_to_usd, is_stablecoin
from qbtc.market.contracts import is_option_symbol, parse_option_symbol
from qbtc.market.protocol import Exchange, SettlementHistory
from qbtc.market.settlement import expiry_value


def settlement_from_venue(row: Mapping[str, Any], *, portfolio_id: str, source: str) -> Settlement:
    """A ledger settlement from a venue's settlement in qbtc's shape."""
    symbol = str(row["symbol"])
    contract = parse_option_symbol(symbol)
    delivery = float(row["price"])
    fee = row.get("fee") or {}
    cost, currency = float(fee.get("cost") or 0.0), str(fee.get("currency") or contract.settle)
    if not is_stablecoin(currency):
        cost, currency = coin_to_usd(cost, delivery), "USD"
    return Settlement(
        settlement_id=str(row["id"]),
        portfolio_id=portfolio_id,
        symbol=symbol,
        timestamp=datetime.fromtimestamp(int(row["timestamp"]) / 1000, tz=UTC),
        quantity=float(row["amount"]),
        delivery_price=delivery,
        settlement_price=expiry_value(contract, delivery),
        fee=cost,
        fee_currency=currency,
        source=source,
    )


def expired_holdings(holdings: Mapping[str, float], now_ms: int) -> list[str]:
    """Options held (non-zero) whose expiry is at or before ``now_ms``."""
    return sorted(
        s
        for s, q in holdings.items()
        if q != 0
        and is_option_symbol(s)
        and parse_option_symbol(s).expiry.timestamp() * 1000 <= now_ms
    )


def fetch_settlements(
    exchange: Exchange, symbols: Iterable[str], *, portfolio_id: str
) -> list[Settlement]:
    """The venue's settlements of ``symbols`` (none when it cannot report them)."""
    if not isinstance(exchange, SettlementHistory):
        return []
    out = []
    for symbol in symbols:
        try:
            rows = exchange.fetch_my_settlement_history(symbol)
        except ccxt.NotSupported:
            return []  # the position check then repairs the expired position from the venue
        for row in rows:
            if row.get("symbol") == symbol:
                out.append(
                    settlement_from_venue(row, portfolio_id=portfolio_id, source=exchange.id)
                )
    return out
