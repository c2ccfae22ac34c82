from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from qbtc.risk import KillSwitch


def test_switch_is_off_until_tripped(tmp_path: Path):
    assert KillSwitch(tmp_path / "state").status().on is False


def test_trip_persists_reason_and_time_atomically(tmp_path: Path):
    switch = KillSwitch(tmp_path / "state")
    now = datetime(2026, 1, 5, 12, tzinfo=UTC)
    state = switch.trip("reconciliation mismatch on BTC/USDT:USDT", now=now)
    assert (state.on, state.reason, state.since) == (True, state.reason, now)
    stored = json.loads((tmp_path / "state" / "kill_switch.json").read_text())
    assert stored == {
        "on": True,
        "reason": "reconciliation mismatch on BTC/USDT:USDT",
        "since": now.isoformat(),
    }
    # another process (a new object) sees it; no temp file is left behind
    assert KillSwitch(tmp_path / "state").status() == state
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == [
        "kill_switch.json",
        "kill_switch.json.lock",
    ]


def test_tripping_twice_keeps_the_first_cause(tmp_path: Path):
    switch = KillSwitch(tmp_path)
    first = switch.trip("drawdown 16% beyond 15%")
    assert switch.trip("5 venue errors in a row") == first


def test_reset_turns_it_off(tmp_path: Path):
    switch = KillSwitch(tmp_path)
    switch.trip("by hand")
    assert switch.reset().on is False
    assert switch.status().on is False
    assert switch.trip("again").reason == "again"


def test_a_reason_is_required(tmp_path: Path):
    with pytest.raises(ValueError, match="reason"):
        KillSwitch(tmp_path).trip("  ")


def test_an_unreadable_state_file_fails_safe(tmp_path: Path):
    (tmp_path / "kill_switch.json").write_text("{not json")
    state = KillSwitch(tmp_path).status()
    assert state.on is True
    assert "unreadable" in (state.reason or "")


def test_concurrent_trips_leave_one_consistent_state(tmp_path: Path):
    switch = KillSwitch(tmp_path)
    with ThreadPoolExecutor(8) as pool:
        states = list(pool.map(lambda i: switch.trip(f"venue error {i}"), range(32)))
    assert len({s.reason for s in states}) == 1
    assert switch.status() == states[0]


@pytest.mark.parametrize(
    "content",
    [
        "[]",
        '{"on": null}',
        '{"on": null, "reason": null, "since": null}',
        '{"on": "false", "reason": null, "since": null}',
        '{"on": 0, "reason": null, "since": null}',
        '{"on": false, "reason": null, "since": "yesterday"}',
        '{"on": fals',
        "",
    ],
)
def test_a_malformed_state_file_fails_closed_and_names_itself(tmp_path: Path, content: str):
    path = tmp_path / "state" / "kill_switch.json"
    path.parent.mkdir()
    path.write_text(content)
    state = KillSwitch(tmp_path / "state").status()
    assert state.on is True
    assert str(path) in (state.reason or "")


def test_a_malformed_state_file_can_be_tripped_and_reset(tmp_path: Path):
    path = tmp_path / "state" / "kill_switch.json"
    path.parent.mkdir()
    path.write_text("[]")
    switch = KillSwitch(tmp_path / "state")
    assert switch.trip("drawdown").reason == "drawdown"
    assert switch.reset().on is False
    assert switch.status().on is False
