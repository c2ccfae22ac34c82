"""Turn what the venue says about an order into ledger events and fills.

The venue reports cumulative figures (filled quantity, average price, fees so far); the
ledger stores increments. Comparing the venue's order with the ledger's state gives the new
fill (quantity, its own average price, its fee) and the events that move the order forward.
Fill ids are the client order id plus the cumulative filled quantity, so observing the same
venue state twice stores nothing new.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from qbtc.execution.ledger import EventName, Fill, Ledger, OrderEvent, OrderState

if TYPE_CHECKING:
    from qbtc.execution.brokers import Broker

_DONE_EVENTS = {"canceled": "cancelled", "cancelled": "cancelled", "expired": "cancelled"}


def _venue_time(order: dict[str, Any]) -> datetime:
    stamp = order.get("lastTradeTimestamp") or order.get("timestamp")
    if stamp is None:
        return datetime.now(UTC)
    return datetime.fromtimestamp(int(stamp) / 1000, tz=UTC)


def _fee_so_far(order: dict[str, Any]) -> float | None:
    fee = order.get("fee")
    if isinstance(fee, dict) and fee.get("cost") is not None:
        return float(fee["cost"])
    return None


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _fee_currency(order: dict[str, Any]) -> str:
    fee = order.get("fee")
    return str(fee.get("currency") or "USDT") if isinstance(fee, dict) else "USDT"


def observe_order(
    order: dict[str, Any],
    state: OrderState | None,
    *,
    run_id: str,
    portfolio_id: str,
    taker_fee: float,
    reason: str | None = None,
) -> tuple[list[OrderEvent], list[Fill]]:
    """Events and fills that bring the ledger's ``state`` up to the venue's ``order``.

    ``reason`` adds a ``reconciled`` event first (the state came from a venue look-up rather
    than from the answer to our own request). Fees missing from the venue's order structure
    are estimated at ``taker_fee`` times the fill's notional.
    """
    cid = str(order.get("clientOrderId") or (state.client_order_id if state else ""))
    venue_id = str(order["id"])
    symbol, side = str(order["symbol"]), str(order["side"])
    amount = float(order.get("amount") or (state.quantity if state else 0.0))
    filled = float(order.get("filled") or 0.0)
    average = order.get("average") or (order.get("price") if filled else None)

    def event(name: EventName, **fields: Any) -> OrderEvent:
        return OrderEvent(
            client_order_id=cid,
            run_id=run_id,
            event=name,
            symbol=symbol,
            side=side,
            quantity=amount,
            venue_order_id=venue_id,
            **fields,
        )

    events: list[OrderEvent] = []
    if reason:
        events.append(event("reconciled", reason=reason, filled_quantity=filled))
    if state is None or state.status in ("pending", "submitted"):
        events.append(event("acknowledged"))
    fills: list[Fill] = []
    previous = state.filled_quantity if state else 0.0
    delta = filled - previous
    if delta > 1e-9 * max(amount, 1e-9) and average is not None:
        cost = filled * float(average) - (state.filled_cost if state else 0.0)
        price = cost / delta
        fee_total = _fee_so_far(order)
        fee = (
            fee_total - (state.fees if state else 0.0)
            if fee_total is not None
            else delta * price * taker_fee
        )
        fills.append(
            Fill(
                fill_id=f"{cid}:{filled:.12g}",
                client_order_id=cid,
                venue_order_id=venue_id,
                portfolio_id=portfolio_id,
                symbol=symbol,
                timestamp=_venue_time(order),
                side=side,
                quantity=delta,
                price=price,
                fee=fee,
                fee_currency=_fee_currency(order) if fee_total is not None else "USDT",
                liquidity="taker" if fee_total is None else "venue",
                underlying_price=_number(order.get("underlyingPrice")),
            )
        )
        partial = str(order.get("status")) == "open"
        name: EventName = "partially_filled" if partial else "filled"
        events.append(event(name, filled_quantity=filled, price=float(average)))
    status = str(order.get("status"))
    already = state.status if state else "pending"
    if status == "closed" and already != "filled" and not any(e.event == "filled" for e in events):
        events.append(event("filled", filled_quantity=filled, price=average))
    if status in _DONE_EVENTS and already != "cancelled":
        why = f"venue status {status}; filled {filled:g} of {amount:g}"
        events.append(event("cancelled", filled_quantity=filled, reason=why))
    if status == "rejected" and already != "rejected":
        events.append(event("rejected", reason="venue status rejected"))
    return events, fills


class LedgerBatch:
    """Events and fills a pass over the venue gathers, written to the ledger in one batch.

    The base of :class:`~qbtc.execution.submit.Submitter` and
    :class:`~qbtc.execution.reconcile.Reconciler`.
    """

    def __init__(self, broker: Broker, ledger: Ledger, run_id: str) -> None:
        self.broker = broker
        self.ledger = ledger
        self.run_id = run_id
        self._events: list[OrderEvent] = []
        self._fills: list[Fill] = []

    def _observe(self, order: dict[str, Any], state: OrderState | None, reason: str | None) -> None:
        """Gather what the venue's ``order`` adds to the ledger's ``state``."""
        events, fills = observe_order(
            order,
            state,
            run_id=self.run_id,
            portfolio_id=self.ledger.portfolio_id,
            taker_fee=self.broker.taker_fee,
            reason=reason,
        )
        self._events += events
        self._fills += fills

    def _flush(self) -> None:
        self.ledger.record(self._events, self._fills)
        self._events, self._fills = [], []
