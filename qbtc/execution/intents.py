"""Order intents and their idempotent client order ids.

An intent is what the risk stage decided to trade at a decision bar. Its client order id is
derived from the decision itself (strategy, symbol, decision bar, leg), so replaying the same
decision (a task retry, a flow re-run, a restart) always yields the same id and a venue that
already has it refuses a second order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import polars as pl

from qbtc.lake import scan_dataset
from qbtc.schemas import ORDER_INTENTS

Side = Literal["buy", "sell"]
OrderType = Literal["market", "limit"]

#: Binance allows at most 36 characters (``^[.A-Z:/a-z0-9_-]{1,36}$``).
MAX_CLIENT_ORDER_ID = 36
_PREFIX = "qb"


def client_order_id(strategy: str, symbol: str, decision_bar: datetime, leg: str) -> str:
    """Deterministic client order id of a decision: ``qb`` + 32 hex chars of a SHA-256.

    The same (strategy, symbol, decision bar, leg) always gives the same id; anything else
    gives a different one (with 128-bit collision resistance). Fits Binance, Bybit, OKX and
    Deribit limits (alphanumeric, at most 36 characters).
    """
    key = "\x1f".join((strategy, symbol, _bar_stamp(decision_bar), leg)).encode()
    return _PREFIX + hashlib.sha256(key).hexdigest()[:32]


@lru_cache(maxsize=256)
def _bar_stamp(decision_bar: datetime) -> str:
    """The decision bar in a client order id (UTC), written once per bar: a cycle's intents
    share it."""
    if decision_bar.tzinfo is None:
        raise ValueError("decision_bar must be timezone-aware (UTC)")
    return decision_bar.astimezone(UTC).strftime("%Y%m%dT%H%M%S")


@dataclass(frozen=True)
class OrderIntent:
    """One order the book wants, before pre-trade checks (``status`` is set by them).

    ``quantity`` is positive, in contracts/coins of ``symbol``; ``notional`` in USDT (for an
    option, quantity x limit price: the premium). ``structure_id`` names the option structure
    an option leg belongs to (None for perps).
    """

    run_id: str
    portfolio_id: str
    strategy: str
    symbol: str
    leg: str
    decision_bar: datetime
    side: Side
    quantity: float
    notional: float
    order_type: OrderType = "market"
    limit_price: float | None = None
    reduce_only: bool = False
    status: Literal["accepted", "refused", "pending"] = "pending"
    reason: str | None = None
    client_order_id: str = field(default="")
    structure_id: str | None = None

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError(f"intent quantity must be positive, got {self.quantity}")
        if not self.client_order_id:
            cid = client_order_id(self.strategy, self.symbol, self.decision_bar, self.leg)
            object.__setattr__(self, "client_order_id", cid)

    def evolve(self, **changes: Any) -> OrderIntent:
        """A copy with ``changes``, as :func:`dataclasses.replace` makes it (checked by
        ``__post_init__`` the same way) at a seventh of its cost: the venue rules and the
        pre-trade checks copy every intent of every cycle, a backtest's thousands included."""
        unknown = changes.keys() - _INTENT_FIELDS
        if unknown:
            raise TypeError(f"OrderIntent has no field(s) {sorted(unknown)}")
        copy = object.__new__(OrderIntent)
        copy.__dict__.update(self.__dict__, **changes)  # a frozen dataclass keeps its fields there
        copy.__post_init__()
        return copy


_INTENT_FIELDS = frozenset(f.name for f in fields(OrderIntent))


def plan_order_key(intent: OrderIntent) -> tuple[bool, str, str, int]:
    """Sort key of the order intents are planned and sent in.

    Reduce-only legs come first (so a ``close`` always reaches the venue before the ``open``
    of the same flip, and risk-reducing orders go first when a limit bites), then by symbol
    and leg; the child orders of a sliced leg (``close-1``, ``close-2``, ... ``close-10``)
    in their numeric order.
    """
    base, _, suffix = intent.leg.rpartition("-")
    if base and suffix.isdigit():
        return (not intent.reduce_only, intent.symbol, base, int(suffix))
    return (not intent.reduce_only, intent.symbol, intent.leg, 0)


def in_plan_order(intents: Iterable[OrderIntent]) -> list[OrderIntent]:
    """``intents`` sorted by :func:`plan_order_key`, whatever order they were stored or read in."""
    return sorted(intents, key=plan_order_key)


def intents_frame(intents: Iterable[OrderIntent]) -> pl.DataFrame:
    """Intents as ``order_intents`` rows (``timestamp`` is the decision bar)."""
    rows = [
        {
            "client_order_id": i.client_order_id,
            "run_id": i.run_id,
            "portfolio_id": i.portfolio_id,
            "strategy": i.strategy,
            "symbol": i.symbol,
            "leg": i.leg,
            "timestamp": i.decision_bar,
            "side": i.side,
            "quantity": i.quantity,
            "order_type": i.order_type,
            "limit_price": i.limit_price,
            "reduce_only": i.reduce_only,
            "notional": i.notional,
            "status": i.status,
            "reason": i.reason,
            "structure_id": i.structure_id,
        }
        for i in intents
    ]
    return pl.DataFrame(rows, schema=ORDER_INTENTS.schema)


def latest_intents_run(lake_dir: Path) -> str | None:
    """The run id of the newest decision bar in ``order_intents`` (None when there is none)."""
    frame = scan_dataset(lake_dir, ORDER_INTENTS).select("run_id", "timestamp").collect()
    if frame.is_empty():
        return None
    return str(frame.sort("timestamp", "run_id")["run_id"][-1])


def load_intents(lake_dir: Path, run_id: str, *, status: str = "accepted") -> list[OrderIntent]:
    """The intents of ``run_id`` with ``status`` (accepted by default), in a stable order."""
    frame = (
        scan_dataset(lake_dir, ORDER_INTENTS)
        .filter((pl.col("run_id") == run_id) & (pl.col("status") == status))
        .collect()
    )
    return intents_from_rows(frame)


def decided_intents(
    lake_dir: Path, *, portfolio_id: str, strategy: str, decision_bar: datetime
) -> list[OrderIntent]:
    """Every intent (accepted or refused) already decided for this book and decision bar.

    A re-run of a cycle reuses them instead of planning again on a book its first run
    already traded, so the same decision always has the same orders.
    """
    frame = (
        scan_dataset(lake_dir, ORDER_INTENTS, start=decision_bar, end=decision_bar)
        .filter(
            (pl.col("portfolio_id") == portfolio_id)
            & (pl.col("strategy") == strategy)
            & (pl.col("timestamp") == decision_bar)
        )
        .collect()
    )
    return intents_from_rows(frame)


def intents_from_rows(frame: pl.DataFrame) -> list[OrderIntent]:
    """``order_intents`` rows as intents, by decision bar and then in plan order."""
    frame = frame.sort("timestamp", "client_order_id")
    intents = [
        OrderIntent(
            run_id=row["run_id"],
            portfolio_id=row["portfolio_id"],
            strategy=row["strategy"],
            symbol=row["symbol"],
            leg=row["leg"],
            decision_bar=row["timestamp"],
            side=row["side"],
            quantity=row["quantity"],
            notional=row["notional"],
            order_type=row["order_type"],
            limit_price=row["limit_price"],
            reduce_only=row["reduce_only"],
            status=row["status"],
            reason=row["reason"],
            client_order_id=row["client_order_id"],
            structure_id=row.get("structure_id"),
        )
        for row in frame.iter_rows(named=True)
    ]
    return sorted(intents, key=lambda i: (i.decision_bar, plan_order_key(i)))
