"""Heartbeats of a cycle run from ``qbtc run``: sent by qbtc, stopped at once at the end."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from prefect import flow
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, get_current_settings
from prefect.settings.context import temporary_settings

import flows.heartbeat as heartbeat
from flows.heartbeat import HEARTBEAT_EVENT, engine_heartbeats_off, flow_run_heartbeats


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    monkeypatch.setattr(heartbeat, "emit_event", lambda **kw: events.append(kw))
    return events


#: Set by a test that needs the run to last until its heartbeats were seen.
HOLD: dict[str, threading.Event] = {}


@flow(name="heartbeat-probe")
def probe() -> tuple[threading.Thread | None, str]:
    from prefect.runtime import flow_run

    with flow_run_heartbeats() as thread:
        if "until" in HOLD:
            assert HOLD["until"].wait(30), "the heartbeats never came"
        return thread, str(flow_run.id)


def test_engine_heartbeat_off_only_inside_and_interval_kept(prefect_harness):
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 45}):
        with engine_heartbeats_off():
            assert get_current_settings().flows.heartbeat_frequency is None
            assert heartbeat._INTERVAL.get() == 45
        assert get_current_settings().flows.heartbeat_frequency == 45
        assert heartbeat._INTERVAL.get() is None


def test_cycle_sends_flow_run_heartbeats_and_stops_with_the_run(prefect_harness, sent):
    with engine_heartbeats_off():
        thread, run_id = probe()
    assert thread is not None
    assert not thread.is_alive()
    assert len(sent) == 1  # one at the start; the next would be due after the interval
    event = sent[0]
    assert event["event"] == HEARTBEAT_EVENT
    assert event["resource"]["prefect.resource.id"] == f"prefect.flow-run.{run_id}"
    roles = {r["prefect.resource.role"]: r["prefect.resource.id"] for r in event["related"]}
    assert roles["flow"].startswith("prefect.flow.")


def test_nothing_extra_when_the_engine_sends_heartbeats(prefect_harness, sent):
    thread, _ = probe()
    assert thread is None
    assert sent == []


def test_a_failed_heartbeat_never_fails_the_run(prefect_harness, monkeypatch):
    def broken(**_: Any) -> None:
        raise ConnectionError("events endpoint down")

    monkeypatch.setattr(heartbeat, "emit_event", broken)
    with engine_heartbeats_off():
        state = probe(return_state=True)
    assert state.is_completed()


def test_heartbeats_repeat_at_the_interval(prefect_harness, sent, monkeypatch):
    waits: list[float | None] = []
    real_wait = threading.Event.wait
    three_sent = threading.Event()

    def counting_wait(self: threading.Event, timeout: float | None = None) -> bool:
        if threading.current_thread().name != "qbtc-heartbeat":
            return real_wait(self, timeout)
        waits.append(timeout)
        if len(waits) < 3:
            return False  # a full interval passed without the run ending
        three_sent.set()
        return real_wait(self, timeout)  # until the run ends

    monkeypatch.setattr(threading.Event, "wait", counting_wait)
    monkeypatch.setitem(HOLD, "until", three_sent)
    with (
        temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 60}),
        engine_heartbeats_off(),
    ):
        _, run_id = probe()
    assert waits == [60, 60, 60]
    assert len(sent) == 3
    assert {e["resource"]["prefect.resource.id"] for e in sent} == {f"prefect.flow-run.{run_id}"}
