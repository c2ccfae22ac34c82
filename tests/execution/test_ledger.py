"""The append-only ledger: deterministic ids, idempotent records, derived order states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from qbtc.execution.ledger import BLOCKED, Fill, Ledger, OrderEvent

T = datetime(2026, 1, 5, 12, tzinfo=UTC)


def event(name: str, *, filled: float = 0.0, minutes: int = 0, **kwargs: object) -> OrderEvent:
    return OrderEvent(
        client_order_id="qb1",
        run_id=str(kwargs.pop("run_id", "run-1")),
        event=name,  # type: ignore[arg-type]
        symbol="BTC/USDT:USDT",
        side="buy",
        quantity=2.0,
        filled_quantity=filled,
        timestamp=T + timedelta(minutes=minutes),
        **kwargs,  # type: ignore[arg-type]
    )


def fill(filled: float, quantity: float, price: float) -> Fill:
    return Fill(
        fill_id=f"qb1:{filled:g}",
        client_order_id="qb1",
        venue_order_id="7",
        portfolio_id="main",
        symbol="BTC/USDT:USDT",
        timestamp=T,
        side="buy",
        quantity=quantity,
        price=price,
        fee=quantity * price * 0.0005,
    )


def test_recording_the_same_events_twice_stores_them_once(lake_dir: Path) -> None:
    ledger = Ledger(lake_dir, "main")
    batch = [event("intent"), event("submitted"), event("acknowledged", venue_order_id="7")]
    ledger.record(batch, [fill(1.0, 1.0, 100.0)])
    ledger.record(
        [event("intent", minutes=5), event("submitted", minutes=5)], [fill(1.0, 1.0, 100.0)]
    )
    assert ledger.events().height == 3
    assert ledger.fills().height == 1


def test_a_resubmission_in_another_run_is_a_new_event(lake_dir: Path) -> None:
    ledger = Ledger(lake_dir, "main")
    ledger.record([event("submitted", run_id="a"), event("submitted", run_id="b")])
    assert ledger.events().height == 2


def test_the_state_is_the_most_advanced_event_with_fills_summed(lake_dir: Path) -> None:
    ledger = Ledger(lake_dir, "main")
    ledger.record(
        [
            event("intent"),
            event("submitted", minutes=1),
            event("acknowledged", minutes=2, venue_order_id="7"),
            event("partially_filled", filled=1.0, minutes=3, venue_order_id="7"),
            event("filled", filled=2.0, minutes=4, venue_order_id="7"),
            # A late reconciliation note does not move a filled order back.
            event("reconciled", filled=2.0, minutes=5, reason="venue: closed"),
        ],
        [fill(1.0, 1.0, 100.0), fill(2.0, 1.0, 110.0)],
    )
    state = ledger.order_state("qb1")
    assert state is not None
    assert (state.status, state.venue_order_id, state.reason) == ("filled", "7", "venue: closed")
    assert state.filled_quantity == 2.0
    assert state.average_price == pytest.approx(105.0)
    assert state.fees == pytest.approx(0.105)
    assert state.created_at == T
    assert state.is_terminal


def test_a_blocked_rejection_leaves_the_order_pending(lake_dir: Path) -> None:
    ledger = Ledger(lake_dir, "main")
    ledger.record([event("intent"), event("rejected", reason=BLOCKED + "circuit open")])
    state = ledger.order_state("qb1")
    assert state is not None
    assert state.status == "pending"
    assert not state.is_terminal
    ledger.record([event("rejected", minutes=1, reason="venue refused: margin")])
    assert ledger.order_state("qb1").status == "rejected"  # type: ignore[union-attr]


def test_a_fill_needs_an_id() -> None:
    with pytest.raises(ValueError, match="fill_id"):
        Fill("qb1", "7", "main", "BTC/USDT:USDT", T, "buy", 1.0, 100.0, 0.0)
