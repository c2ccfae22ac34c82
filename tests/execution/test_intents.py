"""Client order ids from decisions, and intents through the lake."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbtc.execution.intents import (
    client_order_id,
    decided_intents,
    intents_frame,
    latest_intents_run,
    load_intents,
)
from qbtc.lake import write_dataset
from tests.execution.conftest import BAR, make_intent

BINANCE_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")

texts = st.text(min_size=1, max_size=80)
bars = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)


@given(texts, texts, bars, texts)
def test_a_client_order_id_is_stable_and_fits_binance(
    strategy: str, symbol: str, bar: datetime, leg: str
) -> None:
    cid = client_order_id(strategy, symbol, bar, leg)
    assert cid == client_order_id(strategy, symbol, bar, leg)
    assert BINANCE_ID.match(cid)
    assert len(cid) <= 36


def test_any_part_of_the_decision_changes_the_id() -> None:
    base = client_order_id("trend", "BTC/USDT:USDT", BAR, "perp")
    others = {
        client_order_id("carry", "BTC/USDT:USDT", BAR, "perp"),
        client_order_id("trend", "ETH/USDT:USDT", BAR, "perp"),
        client_order_id("trend", "BTC/USDT:USDT", BAR + timedelta(minutes=1), "perp"),
        client_order_id("trend", "BTC/USDT:USDT", BAR, "hedge"),
    }
    assert base not in others
    assert len(others) == 4


def test_a_naive_decision_bar_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        client_order_id("trend", "BTC/USDT:USDT", datetime(2026, 1, 5), "perp")


def test_accepted_intents_of_a_run_round_trip_through_the_lake(lake_dir: Path) -> None:
    accepted = [make_intent(leg="a"), make_intent("ETH/USDT:USDT", "sell", 3.0, leg="b")]
    refused = make_intent(leg="c")
    refused = type(refused)(**{**refused.__dict__, "status": "refused", "reason": "notional"})
    later = make_intent(leg="d", bar=BAR + timedelta(minutes=5), run_id="risk-run-2")
    write_dataset(lake_dir, "order_intents", intents_frame([*accepted, refused, later]))
    assert latest_intents_run(lake_dir) == "risk-run-2"
    loaded = load_intents(lake_dir, "risk-run-1")
    assert sorted(loaded, key=lambda i: i.leg) == accepted
    assert load_intents(lake_dir, "nope") == []


def test_no_intents_means_no_run(lake_dir: Path) -> None:
    assert latest_intents_run(lake_dir) is None


def test_decided_intents_are_those_of_the_book_and_bar_whatever_their_status(
    lake_dir: Path,
) -> None:
    accepted = make_intent(leg="a")
    refused = type(accepted)(**{**make_intent(leg="b").__dict__, "status": "refused"})
    other_bar = make_intent(leg="c", bar=BAR + timedelta(minutes=1))
    write_dataset(lake_dir, "order_intents", intents_frame([accepted, refused, other_bar]))
    found = decided_intents(lake_dir, portfolio_id="main", strategy="trend", decision_bar=BAR)
    assert [i.client_order_id for i in found] == sorted(
        [accepted.client_order_id, refused.client_order_id]
    )
    assert decided_intents(lake_dir, portfolio_id="other", strategy="trend", decision_bar=BAR) == []


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "accepted", "reason": None},
        {"status": "refused", "reason": "venue rules: below one lot"},
        {"quantity": 0.25, "notional": 12_500.0, "limit_price": 50_000.0},
        {"symbol": "ETH/USDT:USDT"},  # keeps the client order id, as dataclasses.replace does
        {},
    ],
)
def test_evolve_is_dataclasses_replace(changes):
    import dataclasses

    intent = make_intent()
    evolved = intent.evolve(**changes)
    assert evolved == dataclasses.replace(intent, **changes)
    assert evolved is not intent
    assert intent == make_intent()  # the original is untouched


def test_evolve_checks_as_the_constructor_does():
    with pytest.raises(ValueError, match="quantity must be positive"):
        make_intent().evolve(quantity=0.0)
    with pytest.raises(TypeError, match="no field"):
        make_intent().evolve(staus="accepted")
