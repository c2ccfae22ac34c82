"""Order intents and their idempotent client order ids.

An intent is what the risk stage decided to trade at a decision bar. Its client order id is
derived from the decision itself (strategy, symbol, decision bar, leg), so replaying the same
decision (a task retry, a flow re-run, a restart) always yields the same id and a venue that
already has it refuses a second order.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

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
    if decision_bar.tzinfo is None:
        raise ValueError("decision_bar must be timezone-aware (UTC)")
    stamp = decision_bar.astimezone(UTC).strftime("%Y%m%dT%H%M%S")
    key = "\x1f".join((strategy, symbol, stamp, leg)).encode()
    return _PREFIX + hashlib.sha256(key).hexdigest()[:32]


@dataclass(frozen=True)
class OrderIntent:
    """One order the book wants, before pre-trade checks (``status`` is set by them).

    ``quantity`` is positive, in contracts/coins of ``symbol``; ``notional`` in USDT.
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

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError(f"intent quantity must be positive, got {self.quantity}")
        if not self.client_order_id:
            cid = client_order_id(self.strategy, self.symbol, self.decision_bar, self.leg)
            object.__setattr__(self, "client_order_id", cid)
