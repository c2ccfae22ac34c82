"""Storage of the simulated venue: the account file, the published book, the client id index.

The account (wallet balance, positions, open and recent orders, funding clock) lives in
``<data_dir>/venue/account.json`` (written atomically) and every order version is mirrored to
the lake dataset ``sim_venue_orders``, the venue's published book (brought up to date by every
call except order placement, and by :meth:`qbtc.market.sim.trading.SimTrading.publish`).
The account keeps open orders and at most ``KEEP_CLOSED_ORDERS`` closed ones of the last hour,
so its size (read and written by every call) does not grow with history; an older order is
looked up in the book. ``venue/client_ids/`` indexes every client order id ever accepted
(:class:`~qbtc.idindex.IdIndex`): a new id is known to be new from one small file, and only
an id the venue has seen leads to the book.

A venue keeps its accounts: when ``account.json`` is missing but the venue has taken orders
before (its client id index or its book exist), or the file is malformed, every call raises
:class:`~qbtc.market.errors.VenueStateError` naming the file, never a fresh account.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl

from qbtc.idindex import IdIndex
from qbtc.lake import scan_dataset, write_dataset
from qbtc.lake.layout import has_files
from qbtc.market.errors import VenueStateError
from qbtc.market.sim.trading_state import AccountState, OrderRecord, order_row
from qbtc.schemas import SIM_VENUE_ORDERS
from qbtc.statefile import StateFileError, exclusive_lock, read_state, write_json_atomic

#: Closed orders stay in the account for an hour after their last change, at most this many.
KEEP_CLOSED_MS = 3_600_000
KEEP_CLOSED_ORDERS = 200
_MAX_PENDING = 50
#: The single index file of earlier versions, moved into ``client_ids/`` on first use.
_LEGACY_IDS = "client_ids.txt"


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


def recent_orders(orders: dict[str, OrderRecord]) -> dict[str, OrderRecord]:
    """The orders an account keeps: every open one, and the newest ``KEEP_CLOSED_ORDERS``
    closed ones changed within ``KEEP_CLOSED_MS`` of the latest change."""
    if not orders:
        return {}
    newest = max(o.updated_ms for o in orders.values())
    closed = sorted(
        (o for o in orders.values() if o.status != "open"),
        key=lambda o: (o.updated_ms, o.order_id),
        reverse=True,
    )
    kept = {
        o.order_id for o in closed[:KEEP_CLOSED_ORDERS] if newest - o.updated_ms < KEEP_CLOSED_MS
    }
    return {k: o for k, o in orders.items() if o.status == "open" or k in kept}


class VenueStore:
    """Persistence of the venue (see the module docstring)."""

    def __init__(self, data_dir: Path, *, starting_balance: float) -> None:
        self.lake_dir = data_dir / "lake"
        self.venue_dir = data_dir / "venue"
        self.path = self.venue_dir / "account.json"
        self.ids = IdIndex(self.venue_dir / "client_ids")
        self.starting_balance = starting_balance
        self._saved = ""
        # The account as last read or written (its text is ``_saved``): a call that finds
        # the file unchanged (no other process wrote it) skips parsing it again.
        self._held: AccountState | None = None

    def remember(self, client_order_id: str) -> None:
        """Add an accepted client order id to the index (before the order is saved)."""
        self.ids.add([client_order_id])

    def _migrate_ids(self) -> None:
        """Move the single index file of earlier versions into the index (under the lock).

        Adding is idempotent, so a crash half-way is finished by the next call.
        """
        legacy = self.venue_dir / _LEGACY_IDS
        if not legacy.is_file():
            return
        text = legacy.read_text(encoding="utf-8")
        self.ids.add(line for line in text[: text.rfind("\n") + 1].split("\n") if line)
        legacy.unlink()

    @contextmanager
    def locked(self, *, publish: bool = True) -> Iterator[AccountState]:
        """Hold the venue lock; the yielded account is saved when the block succeeds.

        With ``publish`` (every call but order placement) changed orders are mirrored to the
        book; placements leave them pending (at most ``_MAX_PENDING``), so a burst of orders
        costs one book write, not one each.
        """
        with exclusive_lock(self.venue_dir / "venue.lock"):
            self._migrate_ids()
            account = self._load()
            try:
                yield account
                self._save(account)
                if publish or len(account.pending_sync) >= _MAX_PENDING:
                    self._sync(account)
            except BaseException:
                self._held = None  # maybe changed in memory, not saved: read the file next
                raise

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
        if order_id is None and client_order_id not in self.ids:
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
        if self._held is not None and self._unchanged():
            return self._held
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
        self._held = account
        return account

    def _unchanged(self) -> bool:
        """Whether the file still holds the text this store last read or wrote (reading it
        costs far less than validating it)."""
        try:
            return self.path.read_text(encoding="utf-8") == self._saved
        except (OSError, UnicodeDecodeError):
            return False

    def _refuse_fresh_account(self) -> None:
        """A missing account is new only when the venue has never taken an order."""
        if self.ids.exists() or has_files(self.lake_dir, SIM_VENUE_ORDERS):
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
        self._held = account

    def _sync(self, account: AccountState) -> None:
        """Mirror changed orders to the book, then forget closed orders the account no longer
        keeps (:func:`recent_orders`): they are in the book."""
        if not account.pending_sync:
            return
        rows = [order_row(account.orders[i]) for i in account.pending_sync if i in account.orders]
        write_dataset(
            self.lake_dir, SIM_VENUE_ORDERS, pl.DataFrame(rows, schema=SIM_VENUE_ORDERS.schema)
        )
        account.pending_sync = []
        account.orders = recent_orders(account.orders)
        self._save(account)
