"""The simulated venue's own state: orders, netted positions and the wallet, as records.

Kept apart from qbtc's ledger as a real venue's would be; how the state is stored (the
account file, the published book, the client id index) is :mod:`qbtc.market.sim.venue_store`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from qbtc.market.contracts import OptionContract
from qbtc.market.venue_settlements import binance_settlement


@dataclass
class OrderRecord:
    """One order in the venue's book (mutable venue state, never shared with the ledger)."""

    order_id: str
    client_order_id: str
    symbol: str
    side: str
    type: str
    amount: float
    price: float | None
    reduce_only: bool
    created_ms: int
    updated_ms: int
    status: str = "open"
    filled: float = 0.0
    cost: float = 0.0
    fee: float = 0.0

    @property
    def remaining(self) -> float:
        return max(self.amount - self.filled, 0.0)

    def add_fill(self, quantity: float, price: float, fee: float, now_ms: int) -> None:
        self.filled += quantity
        self.cost += quantity * price
        self.fee += fee
        self.updated_ms = now_ms
        if self.remaining <= 1e-12 * self.amount:
            self.filled = self.amount
            self.status = "closed"


@dataclass
class PositionRecord:
    """A netted position: signed quantity, average entry, realised PnL and funding (USDT)."""

    quantity: float = 0.0
    entry_price: float = 0.0
    realized: float = 0.0
    funding: float = 0.0

    def unrealised(self, mark: float) -> float:
        return self.quantity * (mark - self.entry_price)


@dataclass
class AccountState:
    """Wallet balance (USDT, realised PnL, fees and funding included), positions and orders."""

    balance: float
    positions: dict[str, PositionRecord] = field(default_factory=dict)
    orders: dict[str, OrderRecord] = field(default_factory=dict)
    order_counter: int = 0
    last_funding_ms: int | None = None
    pending_sync: list[str] = field(default_factory=list)
    settlements: list[dict[str, Any]] = field(default_factory=list)

    def touch(self, order: OrderRecord) -> None:
        self.orders[order.order_id] = order
        if order.order_id not in self.pending_sync:
            self.pending_sync.append(order.order_id)

    def apply_fill(self, symbol: str, side: str, quantity: float, price: float, fee: float) -> None:
        pos = self.positions.setdefault(symbol, PositionRecord())
        signed = quantity if side == "buy" else -quantity
        old = pos.quantity
        if old == 0 or old * signed > 0:
            pos.entry_price = (old * pos.entry_price + signed * price) / (old + signed)
        else:
            closing = min(abs(signed), abs(old))
            pnl = closing * (price - pos.entry_price) * math.copysign(1.0, old)
            pos.realized += pnl
            self.balance += pnl
            if abs(signed) > abs(old):
                pos.entry_price = price
        pos.quantity = old + signed
        if abs(pos.quantity) < 1e-12:
            pos.quantity, pos.entry_price = 0.0, 0.0
        self.balance -= fee

    def settle(
        self,
        symbol: str,
        contract: OptionContract,
        expiry_ms: int,
        delivery_price: float,
        value: float,
        fee: float,
    ) -> None:
        """Close an option position at its expiry value (USDT per contract), realising PnL."""
        pos = self.positions[symbol]
        pnl = pos.quantity * (value - pos.entry_price)
        pos.realized += pnl
        self.balance += pnl - fee
        self.settlements.append(
            {
                "id": f"{symbol}:{expiry_ms}",
                "symbol": symbol,
                "strike": contract.strike,
                "option_type": contract.option_type,
                "timestamp": expiry_ms,
                "quantity": pos.quantity,
                "entry_price": pos.entry_price,
                "delivery_price": delivery_price,
                "value": value,
                "realized": pnl,
                "fee": fee,
            }
        )
        pos.quantity, pos.entry_price = 0.0, 0.0

    def apply_funding(self, symbol: str, amount: float) -> None:
        self.positions[symbol].funding += amount
        self.balance += amount

    def to_json(self) -> str:
        raw = {
            "balance": self.balance,
            "positions": {k: vars(p) for k, p in self.positions.items()},
            "orders": {k: vars(o) for k, o in self.orders.items()},
            "order_counter": self.order_counter,
            "last_funding_ms": self.last_funding_ms,
            "pending_sync": self.pending_sync,
            "settlements": self.settlements,
        }
        return json.dumps(raw, sort_keys=True)


def ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def order_row(order: OrderRecord) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "timestamp": ms_to_datetime(order.created_ms),
        "updated_at": ms_to_datetime(order.updated_ms),
        "side": order.side,
        "type": order.type,
        "status": order.status,
        "amount": order.amount,
        "filled": order.filled,
        "price": order.price,
        "average": order.cost / order.filled if order.filled > 0 else None,
        "fee": order.fee,
        "fee_currency": "USDT",
        "reduce_only": order.reduce_only,
    }


def order_structure(order: OrderRecord) -> dict[str, Any]:
    """A venue order as a ccxt order structure."""
    average = order.cost / order.filled if order.filled > 0 else None
    return {
        "id": order.order_id,
        "clientOrderId": order.client_order_id,
        "timestamp": order.created_ms,
        "datetime": ms_to_datetime(order.created_ms).isoformat(),
        "lastTradeTimestamp": order.updated_ms if order.filled > 0 else None,
        "symbol": order.symbol,
        "type": order.type,
        "side": order.side,
        "price": order.price if order.price is not None else average,
        "amount": order.amount,
        "filled": order.filled,
        "remaining": order.remaining if order.status == "open" else 0.0,
        "cost": order.cost,
        "average": average,
        "status": order.status,
        "reduceOnly": order.reduce_only,
        "fee": {"cost": order.fee, "currency": "USDT"},
        "trades": [],
        "info": order_row(order) | {"timestamp": order.created_ms, "updated_at": order.updated_ms},
    }


def settlement_structure(settlement: dict[str, Any]) -> dict[str, Any]:
    """A settlement of the account as ccxt's ``fetchMySettlementHistory`` returns it (the
    ``info`` of Binance's options exercise record, ``/eapi/v1/exerciseHistory``), read into
    qbtc's settlement shape (:mod:`qbtc.market.venue_settlements`)."""
    stamp = int(settlement["timestamp"])
    market_id = settlement["symbol"].split(":", 1)[1].replace("USDT-", "", 1)
    base = settlement["symbol"].split("/", 1)[0]
    info = {
        "id": settlement["id"],
        "currency": "USDT",
        "symbol": f"{base}-{market_id}",
        "exercisePrice": f"{settlement['strike']:.8f}",
        "markPrice": f"{settlement['delivery_price']:.8f}",
        "quantity": f"{abs(settlement['quantity']):.8f}",
        "amount": f"{settlement['realized']:.8f}",
        "fee": f"{settlement['fee']:.8f}",
        "createDate": stamp,
        "optionSide": "CALL" if settlement["option_type"] == "call" else "PUT",
        "positionSide": "LONG" if settlement["quantity"] > 0 else "SHORT",
        "quoteAsset": "USDT",
        # the sim's own extras: what the position was and what one contract paid
        "entryPrice": f"{settlement['entry_price']:.8f}",
        "settlementValue": f"{settlement['value']:.8f}",
    }
    structure = {"info": info, "symbol": settlement["symbol"]}
    return binance_settlement(
        structure | {"price": settlement["delivery_price"], "timestamp": stamp}
    )
