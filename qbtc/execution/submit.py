"""Idempotent order submission with fault handling.

For the accepted intents of a cycle:

1. the ledger: an order already acknowledged or finished is left alone;
2. the hold (a failed quality gate), the decision's age, the kill switch (only reduce-only intents pass while it
   is on) and the circuit breaker: a blocked intent is recorded and stays pending;
3. the venue: an order with this client order id already there is recorded, not resent;
4. ``intent`` and ``submitted`` of every order about to be sent are written *before* any is
   sent (one write-ahead batch), then each order goes out with its client order id;
5. the answers: an acknowledgement (and any fill) is recorded; a duplicate-id rejection
   (Binance -4116) means "already submitted", so the order is fetched and recorded; a
   timeout or network error is resolved by fetching the order by its client id, never by
   sending it again; a refusal is recorded as ``rejected`` with the venue's message.

Answers are recorded in one batch at the end: a crash before that leaves orders the venue
has and the ledger calls ``submitted``, which the next look (a re-run, or reconciliation at
the start of the next cycle) fetches by client id and records. Venue errors feed the circuit
breaker; when repeated errors open it, the kill switch trips.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from qbtc.execution.brokers import Broker
from qbtc.execution.circuit import CircuitBreaker, Fault, classify, counts_as_venue_error
from qbtc.execution.intents import OrderIntent, in_plan_order
from qbtc.execution.ledger import BLOCKED, EventName, Ledger, OrderEvent, OrderState
from qbtc.execution.tracking import LedgerBatch

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
    """What happened to one intent in this cycle (``action``) and where its order stands.

    ``action``: ``submitted`` (sent now), ``found`` (the venue already had it), ``none``
    (the ledger already had it), ``blocked`` (hold, kill switch or circuit), ``rejected``
    (the venue refused it), ``deferred`` (the venue could not be checked), ``unknown`` (sent,
    no usable answer: the next look resolves it).
    """

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


class Submitter(LedgerBatch):
    """Submits intents through ``broker`` and records everything in ``ledger``.

    ``hold`` (a reason) blocks every risk-adding submission of the cycle (reduce-only orders
    still pass), e.g. a failed quality gate:
    each intent gets a ``rejected`` event with ``blocked: <reason>`` and stays pending.
    ``max_decision_age_s`` blocks intents whose decision bar is older than that at the
    venue clock, so a late re-run never trades on a stale decision.
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
        max_decision_age_s: float | None = None,
    ) -> None:
        super().__init__(broker, ledger, run_id)
        self.circuit = circuit
        self.kill_switch = kill_switch
        self.hold = hold
        self.max_decision_age_s = max_decision_age_s
        self._outcomes: dict[str, tuple[str, str | None]] = {}

    def submit(self, intent: OrderIntent) -> SubmissionResult:
        """Bring one intent to the venue exactly once (see :meth:`submit_all`)."""
        return self.submit_all([intent])[0]

    def submit_all(self, intents: Sequence[OrderIntent]) -> list[SubmissionResult]:
        """Bring each intent to the venue exactly once; never raises for venue errors.

        Orders go out in plan order (:func:`~qbtc.execution.intents.plan_order_key`), however
        ``intents`` are ordered: the reduce-only ``close`` of a flip must reach the venue before
        its ``open``, or the venue refuses the close and the flip ends on the wrong side.
        Results come back in the order of ``intents``.
        """
        unique = in_plan_order({i.client_order_id: i for i in intents}.values())
        states = self.ledger.order_states([i.client_order_id for i in unique])
        to_send = [i for i in unique if self._prepare(i, states.get(i.client_order_id))]
        self._events += [
            self._event(i, "submitted", f"sent to {self.broker.name}") for i in to_send
        ]
        self._flush()  # write-ahead: the ledger knows before the venue does
        for intent in to_send:
            self._send(intent)
        self._flush()
        final = self.ledger.order_states([i.client_order_id for i in unique])
        by_id = {i.client_order_id: self._result(i, final.get(i.client_order_id)) for i in unique}
        return [by_id[i.client_order_id] for i in intents]

    def _prepare(self, intent: OrderIntent, state: OrderState | None) -> bool:
        """Record what can be decided before sending; True when the intent must be sent."""
        cid = intent.client_order_id
        if state is not None and state.status not in ("pending", "submitted"):
            self._outcomes[cid] = ("none", "already on the venue per the ledger")
            return False
        if state is None:
            self._events.append(self._event(intent, "intent", intent.reason))
        if self._block(intent):
            return False
        try:
            existing = self.broker.fetch_by_client_id(intent.symbol, cid)
        except Exception as exc:
            why = f"could not check the venue before submitting: {_short(exc)}"
            self._venue_error(exc, why)
            self._outcomes[cid] = ("deferred", why)
            return False
        self.circuit.record_success()
        if existing is None:
            return True
        self._observe(existing, state, "already on the venue (found by client order id)")
        self._outcomes[cid] = ("found", "already on the venue")
        return False

    def _block(self, intent: OrderIntent) -> bool:
        """Record a blocked rejection (the order stays pending) when it may not be sent now."""
        reason = self._blocked_reason(intent)
        if reason is None:
            return False
        self._events.append(self._event(intent, "rejected", BLOCKED + reason))
        self._outcomes[intent.client_order_id] = ("blocked", reason)
        return True

    def _send(self, intent: OrderIntent) -> None:
        if self._block(intent):  # the circuit may have opened on an earlier order
            return
        _hook("before_submit", intent.client_order_id)
        try:
            order = self.broker.place(intent)
        except Exception as exc:
            self._failed(intent, exc)
            return
        _hook("after_ack", intent.client_order_id)
        self.circuit.record_success()
        self._observe(order, None, None)
        self._outcomes[intent.client_order_id] = ("submitted", None)

    def _failed(self, intent: OrderIntent, exc: Exception) -> None:
        fault = classify(exc)
        message = _short(exc)
        cid = intent.client_order_id
        if fault is Fault.DUPLICATE:
            self._resolve(intent, f"duplicate client order id: already submitted ({message})")
        elif fault in (Fault.REJECTED, Fault.NOT_FOUND):
            self.circuit.record_success()
            self._events.append(self._event(intent, "rejected", f"venue refused: {message}"))
            self._outcomes[cid] = ("rejected", message)
        else:
            self._venue_error(exc, message)
            if fault is Fault.AMBIGUOUS and self.circuit.allows():
                self._resolve(intent, f"no answer to the order ({message}); resolved by fetch")
            else:
                why = f"venue error ({fault.value}): {message}; the next cycle reconciles it"
                self._outcomes[cid] = ("unknown", why)

    def _resolve(self, intent: OrderIntent, reason: str) -> None:
        """Find out by fetching what the venue did with an order we may have sent."""
        cid = intent.client_order_id
        try:
            order = self.broker.fetch_by_client_id(intent.symbol, cid)
        except Exception as exc:
            self._venue_error(exc, _short(exc))
            why = f"{reason}; fetch failed too ({_short(exc)}): the next cycle reconciles it"
            self._outcomes[cid] = ("unknown", why)
            return
        self.circuit.record_success()
        if order is None:
            self._outcomes[cid] = (
                "unknown",
                f"{reason}; the venue has no such order: a re-run may submit it",
            )
            return
        self._observe(order, None, reason)
        self._outcomes[cid] = ("found", reason)

    def _blocked_reason(self, intent: OrderIntent) -> str | None:
        # A hold (failed quality gate) stops new risk, never the closing of it: a flatten
        # must go through exactly when the data looks wrong.
        if self.hold is not None and not intent.reduce_only:
            return self.hold
        if self.max_decision_age_s is not None:
            now = datetime.fromtimestamp(self.broker.exchange.milliseconds() / 1000, tz=UTC)
            age = (now - intent.decision_bar).total_seconds()
            if age > self.max_decision_age_s:
                return (
                    f"stale decision: bar {intent.decision_bar:%Y-%m-%d %H:%M} UTC is {age:.0f} s "
                    f"old at the venue clock (limit {self.max_decision_age_s:.0f} s)"
                )
        switch = self.kill_switch.status()
        if getattr(switch, "on", False) and not intent.reduce_only:
            why = getattr(switch, "reason", None)
            return f"kill switch on ({why}): only reduce-only orders pass"
        circuit = self.circuit.state()
        if not self.circuit.allows():
            until = f"{circuit.open_until:%Y-%m-%d %H:%M:%S}"
            return f"circuit open until {until} UTC ({circuit.reason})"
        return None

    def _venue_error(self, exc: BaseException, reason: str) -> None:
        fault = classify(exc)
        if not counts_as_venue_error(fault):
            return
        if self.circuit.record_error(reason, banned=fault is Fault.BANNED):
            log.error("circuit opened: %s", self.circuit.state().reason)
            if fault is not Fault.BANNED:
                self.kill_switch.trip(f"venue circuit opened: {self.circuit.state().reason}")

    def _event(self, intent: OrderIntent, event: EventName, reason: str | None) -> OrderEvent:
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

    def _result(self, intent: OrderIntent, state: OrderState | None) -> SubmissionResult:
        action, reason = self._outcomes.get(intent.client_order_id, ("unknown", None))
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
