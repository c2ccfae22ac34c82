"""The append-only order ledger: ``order_events`` and ``fills`` in the lake.

Nothing stored is ever changed: an order's state is derived from its events. Event and fill
ids are deterministic (client order id, event, cumulative filled quantity or run), so
recording what was already recorded (a retried task, a re-run, a reconciliation seeing the
same venue state twice) stores nothing new.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import polars as pl

from qbtc.execution.pnl import PositionPnl, compute_positions
from qbtc.lake import read_dataset, write_dataset
from qbtc.market.contracts import is_option_symbol
from qbtc.schemas import FILLS, FUNDING_RATES, ORDER_EVENTS, SETTLEMENTS

EventName = Literal[
    "intent",
    "submitted",
    "acknowledged",
    "partially_filled",
    "filled",
    "cancelled",
    "rejected",
    "reconciled",
]
OrderStatus = Literal["pending", "submitted", "open", "filled", "cancelled", "rejected"]

#: A rejection whose reason starts with this never reached the venue (circuit open, kill
#: switch on, venue unreachable): the order stays pending and a re-run may submit it.
BLOCKED = "blocked: "
#: The client order id of equity adjustments (USD) reconciliation records.
BALANCE_ID = "balance:USDT"
TERMINAL: frozenset[str] = frozenset({"filled", "cancelled", "rejected"})
_RANK: dict[str, int] = {
    "pending": 0,
    "submitted": 1,
    "open": 2,
    "filled": 3,
    "cancelled": 3,
    "rejected": 3,
}
_STATUS_OF_EVENT: dict[str, OrderStatus] = {
    "intent": "pending",
    "submitted": "submitted",
    "acknowledged": "open",
    "partially_filled": "open",
    "filled": "filled",
    "cancelled": "cancelled",
    "rejected": "rejected",
}


def _quantity_key(value: float) -> str:
    return f"{value:.12g}"


@dataclass(frozen=True)
class OrderEvent:
    """One ledger event of one order; ``event_id`` derived when not given (idempotent)."""

    client_order_id: str
    run_id: str
    event: EventName
    symbol: str
    side: str
    quantity: float
    filled_quantity: float = 0.0
    price: float | None = None
    venue_order_id: str | None = None
    reason: str | None = None
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))
    event_id: str = ""

    def __post_init__(self) -> None:
        if not self.event_id:
            object.__setattr__(self, "event_id", self._derive_id())

    def _derive_id(self) -> str:
        cid, event = self.client_order_id, self.event
        if event == "partially_filled":
            return f"{cid}:{event}:{_quantity_key(self.filled_quantity)}"
        if event in ("submitted", "reconciled") or (event == "rejected" and self.is_blocked):
            digest = hashlib.sha256(f"{self.run_id}|{self.reason}".encode()).hexdigest()[:12]
            return f"{cid}:{event}:{digest}"
        return f"{cid}:{event}"

    @property
    def is_blocked(self) -> bool:
        return self.event == "rejected" and (self.reason or "").startswith(BLOCKED)


@dataclass(frozen=True)
class Fill:
    """An execution: ``fee`` in ``fee_currency`` (positive = paid); quantity positive."""

    client_order_id: str
    venue_order_id: str
    portfolio_id: str
    symbol: str
    timestamp: datetime
    side: str
    quantity: float
    price: float
    fee: float
    fee_currency: str = "USDT"
    liquidity: str = "taker"
    fill_id: str = ""
    underlying_price: float | None = None

    def __post_init__(self) -> None:
        if not self.fill_id:
            raise ValueError("a fill needs a deterministic fill_id")


@dataclass(frozen=True)
class Settlement:
    """An option position settled by the venue at expiry: a ledger event, not a fill.

    ``quantity`` is the signed position settled (coins, long > 0); ``delivery_price`` the
    underlying's delivery price (USD); ``settlement_price`` what one contract was worth at
    expiry in USD per coin (the book's units, as fills are); ``fee`` the delivery fee in
    ``fee_currency`` (positive = paid).
    ``settlement_id`` is the venue's (or symbol and expiry), so recording it twice stores it
    once.
    """

    settlement_id: str
    portfolio_id: str
    symbol: str
    timestamp: datetime
    quantity: float
    delivery_price: float
    settlement_price: float
    fee: float
    fee_currency: str = "USDT"
    source: str = "venue"


@dataclass(frozen=True)
class OrderState:
    """What the ledger knows of one order, derived from its events and fills."""

    client_order_id: str
    run_id: str
    symbol: str
    side: str
    quantity: float
    status: OrderStatus
    filled_quantity: float
    filled_cost: float
    fees: float
    venue_order_id: str | None
    reason: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def average_price(self) -> float | None:
        return self.filled_cost / self.filled_quantity if self.filled_quantity > 0 else None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL


def events_frame(events: Iterable[OrderEvent]) -> pl.DataFrame:
    rows = [{name: getattr(event, name) for name in ORDER_EVENTS.columns} for event in events]
    return pl.DataFrame(rows, schema=ORDER_EVENTS.schema)


def fills_frame(fills: Iterable[Fill]) -> pl.DataFrame:
    rows = [{name: getattr(fill, name) for name in FILLS.columns} for fill in fills]
    return pl.DataFrame(rows, schema=FILLS.schema)


def settlements_frame(settlements: Iterable[Settlement]) -> pl.DataFrame:
    rows = [{name: getattr(s, name) for name in SETTLEMENTS.columns} for s in settlements]
    return pl.DataFrame(rows, schema=SETTLEMENTS.schema)


class Ledger:
    """The order ledger of one portfolio in the lake at ``lake_dir``.

    With ``cached``, the instance reads the events and fills once and then keeps them,
    adding what it records itself: for one unit of work under the execution lock (a stage of
    a cycle, :meth:`qbtc.execution.cycle.ExecutionConfig.ledger`), never across cycles, so
    another process's writes are always seen by the next one. Without it every read is fresh.
    """

    def __init__(self, lake_dir: Path, portfolio_id: str, *, cached: bool = False) -> None:
        self.lake_dir = lake_dir
        self.portfolio_id = portfolio_id
        self.cached = cached
        self._events: pl.DataFrame | None = None
        self._fills: pl.DataFrame | None = None

    def record(self, events: Sequence[OrderEvent], fills: Sequence[Fill] = ()) -> None:
        """Append fills, then events (a crash in between leaves fills the next look repairs)."""
        if fills:
            frame = fills_frame(fills)
            write_dataset(self.lake_dir, FILLS, frame)
            if self._fills is not None:
                mine = frame.filter(pl.col("portfolio_id") == self.portfolio_id)
                self._fills = _merged(self._fills, mine, "fill_id")
        if events:
            frame = events_frame(events)
            write_dataset(self.lake_dir, ORDER_EVENTS, frame)
            if self._events is not None:
                self._events = _merged(self._events, frame, "event_id")

    def record_settlements(self, settlements: Sequence[Settlement]) -> None:
        """Append settlements not recorded yet (ids already stored are skipped)."""
        known = set(self.settlements()["settlement_id"].to_list())
        new = [s for s in settlements if s.settlement_id not in known]
        if new:
            write_dataset(self.lake_dir, SETTLEMENTS, settlements_frame(new))

    def settlements(self) -> pl.DataFrame:
        """Every settlement of this portfolio, oldest first."""
        frame = read_dataset(self.lake_dir, SETTLEMENTS)
        return frame.filter(pl.col("portfolio_id") == self.portfolio_id).sort(
            "timestamp", "settlement_id"
        )

    def events(self) -> pl.DataFrame:
        """Every event, oldest first (read once per instance)."""
        if self._events is None or not self.cached:
            self._events = read_dataset(self.lake_dir, ORDER_EVENTS).sort("timestamp", "event_id")
        return self._events

    def fills(self) -> pl.DataFrame:
        """Every fill of this portfolio, oldest first (read once per instance)."""
        if self._fills is None or not self.cached:
            frame = read_dataset(self.lake_dir, FILLS)
            self._fills = frame.filter(pl.col("portfolio_id") == self.portfolio_id).sort(
                "timestamp", "fill_id"
            )
        return self._fills

    def open_order_states(self) -> dict[str, OrderState]:
        """States of the orders that can still be open (no terminal event yet).

        The terminal ones are told apart in one vectorised pass, so the per-order work does
        not grow with the ledger's history.
        """
        events = self.events()
        terminal = events.filter(
            pl.col("event").is_in(["filled", "cancelled"])
            | (
                (pl.col("event") == "rejected")
                & ~pl.col("reason").fill_null("").str.starts_with(BLOCKED)
            )
        )["client_order_id"].unique()
        live = events.filter(~pl.col("client_order_id").is_in(terminal.implode()))
        wanted = live["client_order_id"].unique().implode()
        return derive_states(live, self.fills().filter(pl.col("client_order_id").is_in(wanted)))

    def client_order_ids(self) -> set[str]:
        """Every client order id the ledger has an event of."""
        return set(self.events()["client_order_id"].unique().to_list())

    def has_order(self, client_order_id: str) -> bool:
        """True when the ledger has an event of ``client_order_id``."""
        return client_order_id in self.client_order_ids()

    def balance_adjustments(self) -> tuple[float, int]:
        """Sum (USD) and count of the equity adjustments reconciliation recorded."""
        events = self.events().filter(pl.col("client_order_id") == BALANCE_ID)
        return (float(events["quantity"].sum()) if events.height else 0.0), events.height

    def positions(self, *, until: datetime | None = None) -> dict[str, PositionPnl]:
        """The book from every fill, settlement and funding payment at or before ``until``
        (unmarked: see :func:`qbtc.execution.pnl.compute_positions`)."""
        fills, settlements = self.fills(), self.settlements()
        perps = [s for s in fills["symbol"].unique().to_list() if not is_option_symbol(s)]
        funding = read_dataset(self.lake_dir, FUNDING_RATES, symbols=perps) if perps else None
        return compute_positions(fills, funding_rates=funding, until=until, settlements=settlements)

    def save_checkpoint(self) -> None:
        """Store what a later read can start from (nothing here: see
        :class:`~qbtc.execution.ledger_view.CheckpointedLedger`)."""

    def usd_size(self, symbol: str) -> float:
        """The USD size the fills of ``symbol`` opened: signed sum of quantity x price."""
        mine = self.fills().filter(pl.col("symbol") == symbol)
        if mine.is_empty():
            return 0.0
        return float(mine.select(signed_usd_size()).item())

    def traded_symbols(self) -> set[str]:
        """Symbols of every order the ledger has (the balance row's ``USDT`` left out)."""
        symbols = self.events()["symbol"].unique()
        return {s for s in symbols.to_list() if "/" in s}

    def order_states(self, client_order_ids: Iterable[str] | None = None) -> dict[str, OrderState]:
        """The derived state of every order (or of the given ids) that has events."""
        events = self.events()
        fills = self.fills()
        if client_order_ids is not None:
            wanted = list(client_order_ids)
            events = events.filter(pl.col("client_order_id").is_in(wanted))
            fills = fills.filter(pl.col("client_order_id").is_in(wanted))
        return derive_states(events, fills)

    def order_state(self, client_order_id: str) -> OrderState | None:
        return self.order_states([client_order_id]).get(client_order_id)


def signed_usd_size() -> pl.Expr:
    """Sum of quantity x price of fills, buys positive (the USD size they opened)."""
    sign = pl.when(pl.col("side") == "buy").then(1.0).otherwise(-1.0)
    return (sign * pl.col("quantity") * pl.col("price")).sum()


def _merged(stored: pl.DataFrame, new: pl.DataFrame, key: str) -> pl.DataFrame:
    """``stored`` plus ``new`` rows, the newer version of a key winning, oldest first."""
    both = pl.concat([stored, new.select(stored.columns)], how="vertical_relaxed")
    return both.unique(subset=[key], keep="last", maintain_order=True).sort("timestamp", key)


def derive_states(events: pl.DataFrame, fills: pl.DataFrame) -> dict[str, OrderState]:
    """Order states from events (the most advanced status wins) and fills (quantities, fees)."""
    totals = {
        row["client_order_id"]: row
        for row in fills.group_by("client_order_id")
        .agg(
            pl.col("quantity").sum().alias("q"),
            (pl.col("quantity") * pl.col("price")).sum().alias("cost"),
            pl.col("fee").sum().alias("fee"),
        )
        .iter_rows(named=True)
    }
    states: dict[str, OrderState] = {}
    for row in events.sort("timestamp", "event_id").iter_rows(named=True):
        cid = row["client_order_id"]
        previous = states.get(cid)
        status: OrderStatus = previous.status if previous else "pending"
        reason = previous.reason if previous else None
        new_status = _STATUS_OF_EVENT.get(row["event"])
        blocked = row["event"] == "rejected" and (row["reason"] or "").startswith(BLOCKED)
        if new_status is not None and not blocked and _RANK[new_status] >= _RANK[status]:
            status = new_status
        if row["reason"]:
            reason = row["reason"]
        total = totals.get(cid)
        states[cid] = OrderState(
            client_order_id=cid,
            run_id=previous.run_id if previous else row["run_id"],
            symbol=row["symbol"],
            side=row["side"],
            quantity=row["quantity"]
            if row["event"] == "intent" or not previous
            else previous.quantity,
            status=status,
            filled_quantity=float(total["q"]) if total else 0.0,
            filled_cost=float(total["cost"]) if total else 0.0,
            fees=float(total["fee"]) if total else 0.0,
            venue_order_id=row["venue_order_id"] or (previous.venue_order_id if previous else None),
            reason=reason,
            created_at=previous.created_at if previous else row["timestamp"],
            updated_at=row["timestamp"],
        )
    return states
