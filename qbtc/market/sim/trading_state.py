"""The simulated venue's own state: orders, netted positions, the wallet, and their storage.

Kept apart from qbtc's ledger as a real venue's would be: the account (wallet balance,
positions, open and recent orders, funding clock) lives in ``<data_dir>/venue/account.json``
(written atomically) and every order version is mirrored to the lake dataset
``sim_venue_orders``, the venue's published book (brought up to date by every call except
order placement, and by :meth:`SimTrading.publish`). Closed orders older than an hour leave the
account file and are looked up in the book.

A venue keeps its accounts: when ``account.json`` is missing but the venue has taken orders
before (its client id index or its book exist), or the file is malformed, every call raises
:class:`~qbtc.market.errors.VenueStateError` naming the file, never a fresh account.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from qbtc.lake import scan_dataset, write_dataset
from qbtc.lake.layout import has_files
from qbtc.market.contracts import OptionContract
from qbtc.market.errors import VenueStateError
from qbtc.schemas import SIM_VENUE_ORDERS
from qbtc.statefile import StateFileError, exclusive_lock, read_state, write_json_atomic

_KEEP_CLOSED_MS = 3_600_000
_MAX_PENDING = 50


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


def utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _row(order: OrderRecord) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "timestamp": utc(order.created_ms),
        "updated_at": utc(order.updated_ms),
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


def _from_row(row: dict[str, Any]) -> OrderRecord:
    filled = float(row["filled"])
    return OrderRecord(
        order_id=row["order_id"],
        client_order_id=row["client_order_id"],
        symbol=row["symbol"],
        side=row["side"],
        type=row["type"],
        amount=float(row["amount"]),
        price=row["price"],
        reduce_only=bool(row["reduce_only"]),
        created_ms=int(row["timestamp"].timestamp() * 1000),
        updated_ms=int(row["updated_at"].timestamp() * 1000),
        status=row["status"],
        filled=filled,
        cost=filled * float(row["average"] or 0.0),
        fee=float(row["fee"]),
    )


class VenueStore:
    """Persistence of the venue: ``account.json`` (atomic) plus the ``sim_venue_orders`` book.

    ``client_ids.txt`` lists every client order id ever accepted (appended, fsynced), so a
    new id is known to be new without reading the book.
    """

    def __init__(self, data_dir: Path, *, starting_balance: float) -> None:
        self.lake_dir = data_dir / "lake"
        self.venue_dir = data_dir / "venue"
        self.path = self.venue_dir / "account.json"
        self.ids_path = self.venue_dir / "client_ids.txt"
        self.starting_balance = starting_balance
        self._ids: set[str] = set()
        self._ids_read = 0
        self._saved = ""

    def remember(self, client_order_id: str) -> None:
        """Add an accepted client order id to the index (before the order is saved)."""
        with open(self.ids_path, "a", encoding="utf-8") as handle:
            handle.write(client_order_id + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._ids.add(client_order_id)

    def _read_ids(self) -> None:
        """Read ids other processes appended since the last look (under the lock)."""
        if not self.ids_path.is_file():
            return
        with open(self.ids_path, "rb") as handle:
            handle.seek(self._ids_read)
            tail = handle.read()
        complete = tail[: tail.rfind(b"\n") + 1]
        self._ids.update(line for line in complete.decode().split("\n") if line)
        self._ids_read += len(complete)

    @contextmanager
    def locked(self, *, publish: bool = True) -> Iterator[AccountState]:
        """Hold the venue lock; the yielded account is saved when the block succeeds.

        With ``publish`` (every call but order placement) changed orders are mirrored to the
        book; placements leave them pending (at most ``_MAX_PENDING``), so a burst of orders
        costs one book write, not one each.
        """
        with exclusive_lock(self.venue_dir / "venue.lock"):
            self._read_ids()
            account = self._load()
            yield account
            self._save(account)
            if publish or len(account.pending_sync) >= _MAX_PENDING:
                self._sync(account)

    def find(
        self,
        account: AccountState,
        *,
        order_id: str | None = None,
        client_order_id: str | None = None,
    ) -> OrderRecord | None:
        """An order by venue id or client id: recent ones from the account, older from the book."""
        for order in account.orders.values():
            if order.order_id == order_id or (
                client_order_id is not None and order.client_order_id == client_order_id
            ):
                return order
        if order_id is None and client_order_id not in self._ids:
            return None
        column, value = ("order_id", order_id) if order_id else ("client_order_id", client_order_id)
        found = scan_dataset(self.lake_dir, SIM_VENUE_ORDERS).filter(pl.col(column) == value)
        rows = found.collect().to_dicts()
        return _from_row(rows[0]) if rows else None

    def _upgrade(self) -> None:
        """An account saved before the venue settled options has no ``settlements``: add the
        empty list (atomically), so it reads as the same account, not as a corrupt one."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # absent or unreadable: read_state says so
        if isinstance(raw, dict) and "settlements" not in raw and "balance" in raw:
            write_json_atomic(self.path, {**raw, "settlements": []})

    def _load(self) -> AccountState:
        self._upgrade()
        try:
            account = read_state(self.path, AccountState)
        except StateFileError as exc:
            raise VenueStateError(
                f"the simulated venue's account is unreadable: {exc}; restore "
                f"{self.path} from a backup (a fresh account would not match the orders the "
                "venue has filled)"
            ) from None
        if account is None:
            self._refuse_fresh_account()
            self._saved = ""
            return AccountState(balance=self.starting_balance)
        self._saved = account.to_json()
        return account

    def _refuse_fresh_account(self) -> None:
        """A missing account is new only when the venue has never taken an order."""
        ids = self.ids_path.is_file() and self.ids_path.stat().st_size > 0
        if ids or has_files(self.lake_dir, SIM_VENUE_ORDERS):
            raise VenueStateError(
                f"the simulated venue's account {self.path} is missing, but the venue has "
                "taken orders before (its order book is in the lake): restore the file from a "
                "backup, or start over with a fresh QBTC_DATA_DIR; no fresh account is invented "
                "over existing fills"
            )

    def _save(self, account: AccountState) -> None:
        """Write the account atomically (temp file, fsync, rename) when it changed."""
        text = account.to_json()
        if text == self._saved:
            return
        tmp = self.path.with_suffix(".json.tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        self._saved = text

    def _sync(self, account: AccountState) -> None:
        """Mirror changed orders to the book, then forget closed orders older than an hour."""
        if not account.pending_sync:
            return
        rows = [_row(account.orders[i]) for i in account.pending_sync if i in account.orders]
        write_dataset(
            self.lake_dir, SIM_VENUE_ORDERS, pl.DataFrame(rows, schema=SIM_VENUE_ORDERS.schema)
        )
        newest = max(o.updated_ms for o in account.orders.values())
        account.pending_sync = []
        account.orders = {
            k: o
            for k, o in account.orders.items()
            if o.status == "open" or newest - o.updated_ms < _KEEP_CLOSED_MS
        }
        self._save(account)


def order_structure(order: OrderRecord) -> dict[str, Any]:
    """A venue order as a ccxt order structure."""
    average = order.cost / order.filled if order.filled > 0 else None
    return {
        "id": order.order_id,
        "clientOrderId": order.client_order_id,
        "timestamp": order.created_ms,
        "datetime": utc(order.created_ms).isoformat(),
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
        "info": _row(order) | {"timestamp": order.created_ms, "updated_at": order.updated_ms},
    }


def settlement_structure(settlement: dict[str, Any]) -> dict[str, Any]:
    """A settlement of the account as ccxt's ``fetchMySettlementHistory`` returns it (the
    ``info`` of Binance's options exercise record, ``/eapi/v1/exerciseHistory``)."""
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
    return {
        "info": info,
        "symbol": settlement["symbol"],
        "price": float(settlement["delivery_price"]),
        "timestamp": stamp,
        "datetime": utc(stamp).isoformat(),
    }
