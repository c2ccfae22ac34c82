"""Idempotent order submission with fault handling.

For each accepted intent:

1. the ledger: an order that is already acknowledged or finished is left alone;
2. the kill switch (only reduce-only intents pass while it is on) and the circuit breaker;
3. the venue: an order with this client order id already there is recorded, not resent;
4. ``intent`` and ``submitted`` are written *before* the request (write-ahead), then the
   order is sent with the client order id;
5. the answer: an acknowledgement (and any fill) is recorded; a duplicate-id rejection
   (Binance -4116) means "already submitted", so the order is fetched and recorded; a
   timeout or network error is resolved by fetching the order by its client id, never by
   sending it again; a refusal is recorded as ``rejected`` with the venue's message.

Venue errors feed the circuit breaker; when repeated errors open it, the kill switch trips.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from qbtc.execution.brokers import Broker
from qbtc.execution.circuit import CircuitBreaker, Fault, classify, counts_as_venue_error
from qbtc.execution.intents import OrderIntent
from qbtc.execution.ledger import BLOCKED, Ledger, OrderEvent, OrderState
from qbtc.execution.tracking import observe_order

log = logging.getLogger(__name__)

#: Test seam: called with (point, client_order_id) at "before_submit" and "after_ack" (the
#: venue has acknowledged, the ledger does not know yet). Tests use it to crash the process.
fault_hook: Callable[[str, str], None] | None = None


class KillSwitchLike(Protocol):
    """The part of :class:`qbtc.risk.killswitch.KillSwitch` execution uses."""

    def status(self) -> Any: ...

    def trip(self, reason: str) -> Any: ...


@dataclass(frozen=True)
class SubmissionResult:
    """What happened to one intent in this cycle (``action``) and where its order stands."""

    client_order_id: str
    symbol: str
    side: str
    quantity: float
    action: str
    status: str
    filled_quantity: float
    average_price: float | None
    venue_order_id: str | None
    reason: str | None


def _hook(point: str, client_order_id: str) -> None:
    if fault_hook is not None:
        fault_hook(point, client_order_id)


class Submitter:
    """Submits intents through ``broker`` and records everything in ``ledger``.

    ``hold`` (a reason) blocks every submission of the cycle, e.g. a failed quality gate:
    each intent gets a ``rejected`` event with ``blocked: <reason>`` and stays pending.
    """

    def __init__(
        self,
        broker: Broker,
        ledger: Ledger,
        circuit: CircuitBreaker,
        kill_switch: KillSwitchLike,
        *,
        run_id: str,
        hold: str | None = None,
    ) -> None:
        self.broker = broker
        self.ledger = ledger
        self.circuit = circuit
        self.kill_switch = kill_switch
        self.run_id = run_id
        self.hold = hold

    def submit(self, intent: OrderIntent) -> SubmissionResult:
        """Bring one intent to the venue exactly once; never raises for venue errors."""
        state = self.ledger.order_state(intent.client_order_id)
        if state is not None and state.status not in ("pending", "submitted"):
            return self._result(intent, "none", "already on the venue per the ledger")
        blocked = self._blocked_reason(intent)
        if blocked is not None:
            self._record([self._event(intent, "rejected", reason=BLOCKED + blocked)])
            return self._result(intent, "blocked", blocked)
        if state is None:
            self._record([self._event(intent, "intent", reason=intent.reason)])
        try:
            existing = self.broker.fetch_by_client_id(intent.symbol, intent.client_order_id)
        except Exception as exc:
            why = f"could not check the venue before submitting: {_short(exc)}"
            self._venue_error(exc, why)
            return self._result(intent, "deferred", why)
        self.circuit.record_success()
        if existing is not None:
            self._observe(existing, "already on the venue (found by client order id)")
            return self._result(intent, "found", "already on the venue")
        return self._send(intent)

    def _send(self, intent: OrderIntent) -> SubmissionResult:
        self._record([self._event(intent, "submitted", reason=self.broker.name)])
        _hook("before_submit", intent.client_order_id)
        try:
            order = self.broker.place(intent)
        except Exception as exc:
            return self._failed(intent, exc)
        _hook("after_ack", intent.client_order_id)
        self.circuit.record_success()
        self._observe(order, None)
        return self._result(intent, "submitted", None)

    def _failed(self, intent: OrderIntent, exc: Exception) -> SubmissionResult:
        fault = classify(exc)
        message = _short(exc)
        if fault is Fault.DUPLICATE:
            return self._resolve(
                intent, f"duplicate client order id: already submitted ({message})"
            )
        if fault in (Fault.REJECTED, Fault.NOT_FOUND):
            self.circuit.record_success()
            self._record([self._event(intent, "rejected", reason=f"venue refused: {message}")])
            return self._result(intent, "rejected", message)
        self._venue_error(exc, message)
        if fault is Fault.AMBIGUOUS and self.circuit.allows():
            return self._resolve(intent, f"no answer to the order ({message}); resolved by fetch")
        reason = f"venue error ({fault.value}): {message}; the next cycle reconciles it"
        return self._result(intent, "unknown", reason)

    def _resolve(self, intent: OrderIntent, reason: str) -> SubmissionResult:
        """Find out by fetching what the venue did with an order we may have sent."""
        try:
            order = self.broker.fetch_by_client_id(intent.symbol, intent.client_order_id)
        except Exception as exc:
            self._venue_error(exc, _short(exc))
            why = f"{reason}; fetch failed too ({_short(exc)}): the next cycle reconciles it"
            return self._result(intent, "unknown", why)
        self.circuit.record_success()
        if order is None:
            why = f"{reason}; the venue has no such order: a re-run may submit it"
            return self._result(intent, "unknown", why)
        self._observe(order, reason)
        return self._result(intent, "found", reason)

    def _blocked_reason(self, intent: OrderIntent) -> str | None:
        if self.hold is not None:
            return self.hold
        switch = self.kill_switch.status()
        if getattr(switch, "on", False) and not intent.reduce_only:
            return (
                f"kill switch on ({getattr(switch, 'reason', None)}): only reduce-only orders pass"
            )
        circuit = self.circuit.state()
        if not self.circuit.allows():
            return (
                f"circuit open until {circuit.open_until:%Y-%m-%d %H:%M:%S} UTC ({circuit.reason})"
            )
        return None

    def _venue_error(self, exc: BaseException, reason: str) -> None:
        fault = classify(exc)
        if not counts_as_venue_error(fault):
            return
        opened = self.circuit.record_error(reason, banned=fault is Fault.BANNED)
        if opened:
            log.error("circuit opened: %s", self.circuit.state().reason)
            if fault is not Fault.BANNED:
                self.kill_switch.trip(f"venue circuit opened: {self.circuit.state().reason}")

    def _observe(self, order: dict[str, Any], reason: str | None) -> None:
        cid = str(order.get("clientOrderId") or "")
        state = self.ledger.order_state(cid)
        events, fills = observe_order(
            order,
            state,
            run_id=self.run_id,
            portfolio_id=self.ledger.portfolio_id,
            taker_fee=self.broker.taker_fee,
            reason=reason,
        )
        self.ledger.record(events, fills)

    def _event(self, intent: OrderIntent, event: Any, *, reason: str | None = None) -> OrderEvent:
        return OrderEvent(
            client_order_id=intent.client_order_id,
            run_id=self.run_id,
            event=event,
            symbol=intent.symbol,
            side=intent.side,
            quantity=intent.quantity,
            price=intent.limit_price,
            reason=reason,
        )

    def _record(self, events: list[OrderEvent]) -> None:
        self.ledger.record(events)

    def _result(self, intent: OrderIntent, action: str, reason: str | None) -> SubmissionResult:
        state: OrderState | None = self.ledger.order_state(intent.client_order_id)
        return SubmissionResult(
            client_order_id=intent.client_order_id,
            symbol=intent.symbol,
            side=intent.side,
            quantity=intent.quantity,
            action=action,
            status=state.status if state else "pending",
            filled_quantity=state.filled_quantity if state else 0.0,
            average_price=state.average_price if state else None,
            venue_order_id=state.venue_order_id if state else None,
            reason=reason,
        )


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text[:240]}"
