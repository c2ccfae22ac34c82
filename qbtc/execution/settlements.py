"""Option settlements read back from the venue into the ledger.

At expiry the venue settles each open option position at its delivery price; that is a
ledger event of its own (the ``settlements`` dataset), never a fill of an order. At the start
of each cycle, reconciliation asks the venue (ccxt ``fetchMySettlementHistory``) about every
option the ledger still holds past its expiry and records what it answers; positions and PnL
are then derived from fills and settlements together (:func:`qbtc.execution.pnl.compute_positions`).

The venue's settlement structure is ccxt's (``symbol``, ``price`` = delivery price,
``timestamp``) with Binance's options exercise record in ``info`` (``quantity``,
``positionSide``, ``fee``, ``id``). Like fills after the broker, a settlement is stored in the
book's units: the value per contract in USD (:func:`qbtc.market.settlement.expiry_value`) and
a coin fee converted to USD at the delivery price (:func:`qbtc.market.contract_spec.coin_to_usd`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from qbtc.execution.ledger import Settlement
from qbtc.market.contract_spec import coin_to_usd, is_stablecoin
from qbtc.market.contracts import is_option_symbol, parse_option_symbol
from qbtc.market.protocol import Exchange, SettlementHistory
from qbtc.market.settlement import expiry_value


def settlement_from_venue(row: Mapping[str, Any], *, portfolio_id: str, source: str) -> Settlement:
    """A ledger settlement from a ccxt settlement structure of the account."""
    symbol = str(row["symbol"])
    contract = parse_option_symbol(symbol)
    info = row.get("info") or {}
    stamp = int(row.get("timestamp") or contract.expiry.timestamp() * 1000)
    delivery = float(row["price"])
    quantity = abs(float(info.get("quantity") or 0.0))
    if str(info.get("positionSide", "LONG")).upper() == "SHORT":
        quantity = -quantity
    fee = float(info.get("fee") or 0.0)
    currency = str(info.get("currency") or contract.settle)
    if not is_stablecoin(currency):
        fee, currency = coin_to_usd(fee, delivery), "USD"
    return Settlement(
        settlement_id=str(info.get("id") or f"{symbol}:{stamp}"),
        portfolio_id=portfolio_id,
        symbol=symbol,
        timestamp=datetime.fromtimestamp(stamp / 1000, tz=UTC),
        quantity=quantity,
        delivery_price=delivery,
        settlement_price=expiry_value(contract, delivery),
        fee=fee,
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
        for row in exchange.fetch_my_settlement_history(symbol):
            if row.get("symbol") == symbol:
                out.append(
                    settlement_from_venue(row, portfolio_id=portfolio_id, source=exchange.id)
                )
    return out
